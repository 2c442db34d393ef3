"""Every business setting, declared once: key, type, default and what it does (ARCHITECTURE §2.9).

:mod:`core.platform.settings` answers an unset key with the default declared here and
refuses a key declared nowhere, so a typo fails in the first test that reads it. Areas keep
the constants that name their keys; the value those constants name is declared only here.
``tests/unit/test_settings_registry.py`` checks that each key is read in ``core/`` and
exercised by a test. The meaning is for developers; the owner's labels stay in ``i18n``.

A *family* is a key prefix: every key that starts with it is that setting (one per language
and template, one per billing cycle).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.rules.cycles import DEFAULT_INVOICE_DAYS_BEFORE


@dataclass(frozen=True)
class Setting:
    key: str  # the key itself, or the prefix of a family
    type: Any  # what a value is (``isinstance`` accepts it): bool, int, str, ``list | None`` ...
    default: Any  # what an unset key reads as
    meaning: str  # one sentence: what changes when the owner changes it
    family: bool = False


class UnknownSetting(LookupError):
    """A key no :class:`Setting` declares (a typo, or a setting not declared yet)."""


SETTINGS: tuple[Setting, ...] = (
    # Accounts and security
    Setting("accounts.self_registration", bool, False,
            "Visitors may create their own client account from the sign-in page."),
    Setting("accounts.require_verified_email", bool, False,
            "A client's actions are refused until the address of the account is verified."),
    Setting("security.require_2fa_staff", bool, True,
            "Staff and the owner must set up two-factor sign-in before using the back office."),
    # The business, on invoices, PDFs and the payment page
    Setting("business.name", str, "Anfitrión",
            "The business name on invoices, PDFs and mail; blank reads as the default."),
    Setting("business.ruc", str, "",
            "The business's tax number (RUC) printed on invoices and PDFs."),
    Setting("business.address", str, "",
            "The business's address printed on invoices and PDFs."),
    Setting("business.logo_upload_id", int, 0,
            "The upload holding the logo on PDFs and pages; 0 or unset means no logo."),
    Setting("billing.transfer_instructions", str, "",
            "The bank-transfer instructions shown to a client with an unpaid invoice."),
    # Billing
    Setting("billing.receipt_max_mb", int, 5,
            "The largest transfer receipt, in MB, a client may upload (at least 1)."),
    Setting("billing.iva_rates", list | None, None,
            "The owner's IVA table [[from date, percent], ...]; unset uses the built-in one."),
    Setting("auto_apply_credit", bool, True,
            "A client's credit balance pays a new invoice as it is generated (§3.2)."),
    Setting("prices_include_tax", bool, False,
            "Prices are gross (IVA included) and invoices split the tax out of them."),
    Setting("catalog.repricing", list, [],
            "Scheduled price changes, applied to a service's renewal from their date on."),
    Setting("orders.cancel_unpaid_days", int, 7,
            "Days an unpaid order waits before the daily run cancels it; 0 keeps it."),
    # SRI electronic invoicing (issue 17; research sri-einvoice.md)
    Setting("einvoice.environment", int, 1,
            "The SRI ambiente documents are issued for: 1 pruebas, 2 producción."),
    Setting("einvoice.establishment", str, "001",
            "The SRI establishment code (3 digits) in every document number and access key."),
    Setting("einvoice.emission_point", str, "001",
            "The SRI emission point code (3 digits) in every document number and access key."),
    Setting("einvoice.accounting_required", bool, False,
            "Documents say the business is obligado a llevar contabilidad (SI instead of NO)."),
    Setting("einvoice.special_taxpayer", str, "",
            "The contribuyente especial resolution number printed on documents; empty = none."),
    Setting("einvoice.rimpe", bool, False,
            "Documents carry the legend CONTRIBUYENTE RÉGIMEN RIMPE."),
    Setting("einvoice.digest", str, "sha1",
            "The signature's algorithm: 'sha1' (RSA-SHA1, the proven profile) or 'sha256'."),
    Setting("einvoice.final_consumer_limit", Decimal, Decimal("50.00"),
            "The largest factura issued to 'consumidor final'; above it an ID is required."),
    Setting("einvoice.certificate_secret", str, "",
            "The business's .p12 signing certificate, encrypted with the vault; empty = "
            "electronic invoicing is off."),
    Setting("einvoice.certificate_password", str, "",
            "The .p12's password, encrypted with the vault."),
    # Plan and cycle changes (billing-rules §0.6, §2.3)
    Setting("credit_on_downgrade", bool, False,
            "A downgrade credits the unused difference to the client's balance."),
    Setting("plan_change.downgrade_policy", str, "now",
            "When a downgrade takes effect: 'now' or 'at_renewal'."),
    Setting("cycle_change_mode", str, "switch_now",
            "A billing-cycle change: 'switch_now' (prorated) or 'keep_due_date'."),
    # Support desk
    Setting("tickets.autoclose_days", int, 5,
            "Days a ticket waiting on the client stays open before the run closes it; 0 = never."),
    Setting("tickets.attachment_types", list, ["pdf", "jpg", "png", "gif", "txt", "zip"],
            "The file types a ticket may carry; an empty or unknown list reads as the default."),
    Setting("tickets.attachment_max_mb", int, 5,
            "The largest ticket attachment, in MB."),
    Setting("tickets.sla_hours", dict | None, None,
            "First-reply and resolution targets per priority, over the built-in targets."),
    Setting("tickets.business_hours", str, "",
            "The desk's office hours the SLA clock counts; empty means calendar time."),
    # Knowledge base
    Setting("knowledge.public_help", bool, True,
            "Visitors who are not signed in may read the public articles at /help."),
    Setting("knowledge.anonymous_votes_per_hour", int, 30,
            "New votes a visitor who is not signed in may cast per hour from one address."),
    Setting("tickets.new_per_hour", int, 10,
            "How many tickets one client may open in any hour; 0 = no limit."),
    Setting("tickets.replies_per_hour", int, 60,
            "Replies one client may post in any hour, all its tickets together; 0 = no limit."),
    Setting("tickets.posts_per_minute", int, 6,
            "Tickets and replies together one client may post in any minute; 0 = no limit."),
    # The SRI's web services (issue 17; the demo points them at the sandbox SRI)
    Setting("sri.transmit", bool, False,
            "Signed documents go to the SRI by themselves: after a payment and in the daily run."),
    Setting("sri.reception_url_test", str,
            "https://celcer.sri.gob.ec/comprobantes-electronicos-ws/RecepcionComprobantesOffline",
            "Where documents of ambiente 1 (pruebas) are sent (recepción)."),
    Setting("sri.authorisation_url_test", str,
            "https://celcer.sri.gob.ec/comprobantes-electronicos-ws/AutorizacionComprobantesOffline",
            "Where the authorisation of documents of ambiente 1 (pruebas) is asked."),
    Setting("sri.reception_url_production", str,
            "https://cel.sri.gob.ec/comprobantes-electronicos-ws/RecepcionComprobantesOffline",
            "Where documents of ambiente 2 (producción) are sent (recepción)."),
    Setting("sri.authorisation_url_production", str,
            "https://cel.sri.gob.ec/comprobantes-electronicos-ws/AutorizacionComprobantesOffline",
            "Where the authorisation of documents of ambiente 2 (producción) is asked."),
    Setting("sri.timeout_seconds", int, 20,
            "How long one call to the SRI may take before the document is left for a retry."),
    Setting("sri.authorisation_polls", int, 3,
            "Times the authorisation is asked after RECIBIDA before the daily run takes over."),
    Setting("sri.poll_wait_ms", int, 1000,
            "The pause between those asks, in milliseconds."),
    # Mail
    Setting("mail.template.", str, "",
            "mail.template.<lang>.<name>: the owner's wording of a mail; empty uses the file.",
            family=True),
    # The daily run (billing-rules §7; names mirror WHMCS's)
    Setting("invoice_days_before", int, DEFAULT_INVOICE_DAYS_BEFORE,
            "Days before the due date a renewal invoice is generated."),
    Setting("invoice_days_before.", int, -1,
            "invoice_days_before.<cycle>: that cycle's own lead time; negative or unset uses "
            "the general one.",
            family=True),
    Setting("continuous_invoicing", bool, False,
            "Renewals keep being invoiced, one unbilled period per run, for unpaid or suspended "
            "services too."),
    Setting("unpaid_reminder_days", int, 7,
            "Days before the due date the unpaid-invoice reminder goes out; 0 = off."),
    Setting("overdue_reminder_1_days", int, 1,
            "Days after the due date of the first overdue reminder; 0 = off."),
    Setting("overdue_reminder_2_days", int, 7,
            "Days after the due date of the second overdue reminder; 0 = off."),
    Setting("overdue_reminder_3_days", int, 14,
            "Days after the due date of the third overdue reminder; 0 = off."),
    Setting("late_fee_days", int, 5,
            "Days after the due date a late fee is added."),
    Setting("late_fee_type", str, "percentage",
            "Whether late_fee_amount is a 'percentage' of the invoice or a 'fixed' amount."),
    Setting("late_fee_amount", Decimal, Decimal("10.00"),
            "The late fee, in percent or dollars; 0 = no late fee."),
    Setting("late_fee_minimum", Decimal, Decimal("0.00"),
            "A computed late fee below it is raised to it (unless the fee is off)."),
    Setting("tax_late_fee", bool, True,
            "The late fee carries IVA (it is taxable income in Ecuador, §3.4)."),
    Setting("suspend_enabled", bool, True,
            "The daily run suspends services whose invoice is overdue."),
    Setting("suspend_days", int, 5,
            "Days after the due date an unpaid service is suspended."),
    Setting("unsuspend_enabled", bool, True,
            "Paying the overdue invoice unsuspends the service."),
    Setting("terminate_enabled", bool, False,
            "The daily run terminates services left unpaid long enough."),
    Setting("terminate_days", int, 30,
            "Days after the due date an unpaid service is terminated."),
    Setting("terminate_requires_approval", bool, False,
            "A termination waits for staff approval instead of running at once."),
    Setting("auto_cancellation_requests", bool, True,
            "The daily run carries out clients' cancellation requests when they fall due."),
    Setting("cancel_invoice_on_cancellation", bool, True,
            "Cancelling a service cancels its unpaid invoices for periods after it takes effect."),
    Setting("void_begun_invoices_on_cancellation", bool, False,
            "Cancelling also voids unpaid invoices for periods already begun (WHMCS's way); "
            "off keeps them due (billing-rules rule 8)."),
    Setting("reanchor_on_late_payment", bool, False,
            "Paying a suspended service re-anchors its due dates on the payment date (§1.4)."),
)  # fmt: skip

BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS if not s.family}
# Longest prefix first, so a family inside another (none yet) would still win.
FAMILIES: tuple[Setting, ...] = tuple(
    sorted((s for s in SETTINGS if s.family), key=lambda s: len(s.key), reverse=True)
)


def lookup(key: str) -> Setting:
    """The declaration of ``key`` (a key of a family finds the family)."""
    found = BY_KEY.get(key)
    if found is not None:
        return found
    for family in FAMILIES:
        if key.startswith(family.key) and len(key) > len(family.key):
            return family
    raise UnknownSetting(f"setting {key!r} is not declared in core/platform/settings_registry.py")


def default(key: str) -> Any:
    """What ``key`` reads as while unset (a fresh copy: callers may change a list)."""
    return copy.deepcopy(lookup(key).default)
