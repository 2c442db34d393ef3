"""Invoices: creation with lines and IVA, numbering, issue, cancellation, refund to credit.

The billing area is split by job, and this module is its front door (everything public is
importable from ``core.billing``):

* ``core.billing`` (here) — the invoice lifecycle: draft → unpaid → paid, or cancelled, or
  (once paid) refunded to credit;
* ``core.billing.payments`` — payments: full, partial, several invoices at once, overpayment to
credit;
* ``core.billing.credit`` — the credit ledger: staff add/remove with a reason, applying credit;
* ``core.billing.receipts`` — bank-transfer receipts: upload, approve (applies the payment), reject;
* ``core.billing.views`` — the reads the billing page shows (lists in SQL pages, per role);
* ``core.billing.invoice_view`` — one invoice's detail (lines, taxes, payments, receipts);
* ``core.billing.ledger`` — the shared money primitives and locks;
* ``core.billing.hooks`` — the one list of what reacts to a paid invoice.

Tax (billing-rules §5.1, §5.4): the IVA rate is the one in force on the issue date
(``money.iva_rate``), stored on each line; bases are grouped by rate and taxed once per rate.
Line amounts exclude IVA unless the ``prices_include_tax`` setting is on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, parse_id, require
from core.billing.ledger import (
    AUTO_APPLY_CREDIT,
    LINE_KINDS,
    PRICES_INCLUDE_TAX,
    STATUSES,
    apply_credit_to,
    clean_text,
    lock_client,
    lock_invoice,
    mark_paid,
    move_credit,
    parse_amount,
)
from core.catalog.taxes import tax_rates
from core.models import Client, Invoice, InvoiceItem, Service
from core.platform import audit, settings
from core.platform.clock import now, to_local
from core.platform.config import get_settings
from core.platform.db import transaction
from core.platform.errors import Conflict, NotFound, ValidationError
from core.platform.sequences import next_number
from core.rules.money import ZERO, invoice_totals, iva_rate, q2

MAX_LINES = 100


@dataclass(frozen=True)
class LineInput:
    """One line of a new invoice. ``amount`` is the line price (Decimal, int or text)."""

    description: str
    amount: Decimal | int | str
    kind: str = "manual"
    service_id: int | None = None
    period_start: date | None = None
    period_end: date | None = None


def _check_lines(session: Session, client_id: int, lines: Sequence[LineInput]) -> list[Decimal]:
    if not lines:
        raise ValidationError("error.billing_no_lines")
    if len(lines) > MAX_LINES:
        raise ValidationError("error.billing_too_many_lines", n=MAX_LINES)
    amounts: list[Decimal] = []
    for line in lines:
        if not clean_text(line.description, 300):
            raise ValidationError("error.billing_line_description")
        if line.kind not in LINE_KINDS:
            raise ValidationError("error.billing_line_kind")
        amounts.append(parse_amount(line.amount, allow_zero=True))
        if line.service_id is not None:
            service = session.get(Service, line.service_id)
            if service is None or service.client_id != client_id:
                raise NotFound()
            if line.period_start is not None:
                taken = session.scalars(
                    select(InvoiceItem.id).where(
                        InvoiceItem.service_id == line.service_id,
                        InvoiceItem.kind == line.kind,
                        InvoiceItem.period_start == line.period_start,
                    )
                ).first()
                if taken is not None:  # billing-rules §3.1: one line per service and period
                    raise Conflict("error.billing_duplicate_line")
    return amounts


def _price(session: Session, invoice: Invoice, issued_on: date, *, gross: bool) -> None:
    """(Re)compute line taxes and totals at the IVA rate of ``issued_on``. ``gross``: the
    line amounts include IVA (they are split into base and IVA, and the base is stored)."""
    rate = iva_rate(issued_on, tax_rates(session=session))
    items = list(invoice.items)
    totals = invoice_totals([(item.amount, rate) for item in items], prices_include_tax=gross)
    for item, line in zip(items, totals.lines, strict=True):
        item.amount = line.base
        item.tax_rate = rate
        item.tax_amount = line.tax
    invoice.issued_on = issued_on
    invoice.subtotal = totals.subtotal
    invoice.tax_total = totals.tax
    invoice.total = totals.total
    invoice.balance = q2(totals.total - invoice.amount_paid - invoice.credit_applied)


def _issue(
    session: Session, actor: Actor, invoice: Invoice, client: Client | None = None, *, at: datetime
) -> None:
    """Number an invoice, make it payable, apply credit (§3.2), settle a zero total.
    ``client``: the invoice's client, already locked in this transaction; ``at``: the moment
    of the action (a settled invoice's ``paid_at``)."""
    invoice.number = next_number(session, "invoice")
    invoice.status = "unpaid"
    session.flush()
    if client is None or client.id != invoice.client_id:
        client = lock_client(session, invoice.client_id)
    if invoice.balance > 0 and settings.get_bool(AUTO_APPLY_CREDIT, session=session):
        apply_credit_to(session, actor, client, [invoice], at=at)
    if invoice.status == "unpaid" and invoice.balance == ZERO:
        mark_paid(session, actor, invoice, at)


def create_invoice(
    actor: Actor,
    client_id: int,
    lines: Sequence[LineInput],
    *,
    issued_on: date | None = None,
    due_on: date | None = None,
    draft: bool = False,
    notes: str | None = None,
    session: Session | None = None,
    at: datetime | None = None,
) -> int:
    """A new invoice for ``client_id``; returns its id.

    Not a draft: it gets the next number, is unpaid, and the client's credit is applied when
    the ``auto_apply_credit`` setting is on (default). A draft has no number and no credit
    until :func:`issue_invoice`. Staff with billing rights and the owner only. ``at``: the
    moment of the action (default now; its business date is the default issue date).
    """
    at = at or now()
    require(actor, "billing")
    issued = issued_on or to_local(at, get_settings().tz).date()
    due = due_on or issued
    if due < issued:
        raise ValidationError("error.billing_due_before_issue")
    with transaction(session) as s:
        client = lock_client(s, client_id)
        amounts = _check_lines(s, client_id, lines)
        # The invoice and its lines, priced, in one flush (no re-read, no UPDATE after the
        # INSERT); the lines collection is the one built here, in id order.
        invoice = Invoice(
            client_id=client_id,
            issued_on=issued,
            due_on=due,
            status="draft",
            notes=clean_text(notes, 2000) or None,
            amount_paid=ZERO,
            credit_applied=ZERO,
            items=[
                InvoiceItem(
                    service_id=line.service_id,
                    kind=line.kind,
                    period_start=line.period_start,
                    period_end=line.period_end,
                    description=clean_text(line.description, 300),
                    amount=amount,
                )
                for line, amount in zip(lines, amounts, strict=True)
            ],
        )
        gross = settings.get_bool(PRICES_INCLUDE_TAX, session=s)
        _price(s, invoice, issued, gross=gross)
        s.add(invoice)
        s.flush()
        if not draft:
            _issue(s, actor, invoice, client, at=at)
        s.flush()
        audit.record(
            s,
            actor,
            "invoice.created",
            target_type="invoice",
            target_id=invoice.id,
            client_id=client_id,
            number=invoice.number,
            status=invoice.status,
            total=invoice.total,
            tax_rate=iva_rate(issued, tax_rates(session=s)),
        )
        return invoice.id


def issue_invoice(
    actor: Actor,
    invoice_id: int,
    *,
    issued_on: date | None = None,
    due_on: date | None = None,
    session: Session | None = None,
    at: datetime | None = None,
) -> str:
    """Draft → unpaid: number it, re-tax it at the issue date's rate; returns the number.
    ``at``: the moment of the action (default now; its business date is the default issue
    date)."""
    at = at or now()
    require(actor, "billing")
    with transaction(session) as s:
        found = s.get(Invoice, parse_id(invoice_id))
        if found is None:
            raise NotFound()
        lock_client(s, found.client_id)
        invoice = lock_invoice(s, found.id)
        if invoice.status != "draft":
            raise Conflict("error.billing_not_draft")
        issued = issued_on or to_local(at, get_settings().tz).date()
        due = due_on or max(invoice.due_on, issued)
        if due < issued:
            raise ValidationError("error.billing_due_before_issue")
        invoice.due_on = due
        rates = tax_rates(session=s)  # the owner's dated IVA table (core.catalog)
        if iva_rate(issued, rates) != iva_rate(invoice.issued_on, rates):
            # The stored amounts are bases now: re-tax them at the issue date's rate.
            _price(s, invoice, issued, gross=False)
        invoice.issued_on = issued
        _issue(s, actor, invoice, at=at)
        audit.record(
            s,
            actor,
            "invoice.issued",
            target_type="invoice",
            target_id=invoice.id,
            client_id=invoice.client_id,
            number=invoice.number,
            total=invoice.total,
        )
        return invoice.number or ""


def cancel_invoice(
    actor: Actor, invoice_id: int, *, reason: str = "", session: Session | None = None
) -> Decimal:
    """Cancel a draft or unpaid invoice. Whatever was already paid on it (money or credit)
    goes back to the client's credit; returns that amount. A paid invoice is refunded
    instead (:func:`refund_invoice`)."""
    require(actor, "billing")
    with transaction(session) as s:
        found = s.get(Invoice, parse_id(invoice_id))
        if found is None:
            raise NotFound()
        client = lock_client(s, found.client_id)
        invoice = lock_invoice(s, found.id)
        if invoice.status not in ("draft", "unpaid"):
            raise Conflict("error.billing_not_cancellable")
        returned = q2(invoice.amount_paid + invoice.credit_applied)
        invoice.status = "cancelled"
        invoice.balance = ZERO
        if returned > 0:
            move_credit(
                s, actor, client, returned, kind="refund", reason=reason, invoice_id=invoice.id
            )
        audit.record(
            s,
            actor,
            "invoice.cancelled",
            target_type="invoice",
            target_id=invoice.id,
            client_id=invoice.client_id,
            number=invoice.number,
            reason=clean_text(reason, 300),
            credited=returned,
        )
        return returned


def refund_invoice(
    actor: Actor,
    invoice_id: int,
    *,
    reason: str = "",
    session: Session | None = None,
    at: datetime | None = None,
) -> Decimal:
    """Paid → refunded: everything paid on it becomes the client's credit (never cash);
    returns the amount credited. Its SRI factura, if it has one, gets a nota de crédito
    (issue 17). ``at``: the moment of the refund (default now)."""
    require(actor, "billing")
    at = at or now()
    # Imported here: core.einvoice reads the business details, which import this package.
    from core.einvoice.triggers import credit_note_on_refund

    with transaction(session) as s:
        found = s.get(Invoice, parse_id(invoice_id))
        if found is None:
            raise NotFound()
        client = lock_client(s, found.client_id)
        invoice = lock_invoice(s, found.id)
        if invoice.status != "paid":
            raise Conflict("error.billing_not_refundable")
        credited = q2(invoice.amount_paid + invoice.credit_applied)
        invoice.status = "refunded"
        if credited > 0:
            move_credit(
                s, actor, client, credited, kind="refund", reason=reason, invoice_id=invoice.id
            )
        audit.record(
            s,
            actor,
            "invoice.refunded",
            target_type="invoice",
            target_id=invoice.id,
            client_id=invoice.client_id,
            number=invoice.number,
            reason=clean_text(reason, 300),
            credited=credited,
        )
        credit_note_on_refund(s, actor, invoice, reason=clean_text(reason, 300), at=at)
        return credited


# The rest of the billing area, importable from here (see the module docstring).
from core.billing.credit import add_credit, apply_credit, credit_history, remove_credit  # noqa: E402
from core.billing.invoice_view import InvoiceDetail, invoice_detail  # noqa: E402
from core.billing.payments import PaymentResult, record_payment, record_payment_by_numbers  # noqa: E402
from core.billing.receipts import (  # noqa: E402
    approve_receipt,
    receipt_file,
    reject_receipt,
    sniff_receipt_type,
    upload_receipt,
)
from core.billing.views import (  # noqa: E402
    ClientBillingView,
    InvoicePage,
    InvoiceRow,
    StaffBillingView,
    client_billing_view,
    list_invoices,
    staff_billing_view,
)

__all__ = [
    "STATUSES",
    "ClientBillingView",
    "InvoiceDetail",
    "InvoicePage",
    "InvoiceRow",
    "LineInput",
    "PaymentResult",
    "StaffBillingView",
    "add_credit",
    "apply_credit",
    "approve_receipt",
    "cancel_invoice",
    "client_billing_view",
    "create_invoice",
    "credit_history",
    "invoice_detail",
    "issue_invoice",
    "list_invoices",
    "receipt_file",
    "record_payment",
    "record_payment_by_numbers",
    "refund_invoice",
    "reject_receipt",
    "remove_credit",
    "sniff_receipt_type",
    "staff_billing_view",
    "upload_receipt",
]
