"""Freeing a service's open invoices when it leaves (billing-rules §3.5, §3.6, §5.4).

* An invoice that bills only the service (plus invoice-level lines such as a late fee) is
  cancelled; on an invoice that also bills other services only its lines are removed and the
  rest re-totalled (:func:`release_service_invoices`). A cancellation request does this at once
  (setting ``cancel_invoice_on_cancellation``) and again when carried out, keeping the periods
  already begun due (billing-rules rule 8); the daily run does it when it terminates an overdue
  service (§3.5: everything open goes).
* :func:`reprice` re-totals an invoice from its stored lines; the run's late fee uses it too.

Kept apart from ``core.services.cancellations`` because this is ledger work (client and invoice
locks,
credit refunds, marking paid) shared by every way a service ends, not only by a request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import billing
from core.access import Actor
from core.billing.ledger import lock_client, lock_invoice, mark_paid, move_credit
from core.models import Client, Invoice, InvoiceItem
from core.platform import audit
from core.rules.money import ZERO, invoice_totals, q2

OPEN_INVOICES = ("draft", "unpaid")


def reprice(invoice: Invoice) -> None:
    """Recompute an invoice's lines and totals from its stored bases and rates (§5.4:
    grouped by rate, taxed once per rate). The lines keep the rate they were issued with."""
    items = list(invoice.items)
    totals = invoice_totals([(item.amount, item.tax_rate) for item in items])
    for item, line in zip(items, totals.lines, strict=True):
        item.tax_amount = line.tax
    invoice.subtotal, invoice.tax_total, invoice.total = totals.subtotal, totals.tax, totals.total
    invoice.balance = q2(totals.total - invoice.amount_paid - invoice.credit_applied)


@dataclass(frozen=True)
class Released:
    """What :func:`release_service_invoices` did, by invoice id."""

    cancelled: list[int] = field(default_factory=list)
    trimmed: list[int] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)  # still due: they bill periods already begun


def _begun(item: InvoiceItem, effective: date | None) -> bool:
    """A line the client owes whatever happens next (billing-rules rule 8): a period that
    started before the cancellation takes effect, or a charge with no period at all (a setup
    fee, a manual line). ``effective`` None means nothing is kept (the owner's void setting,
    or a termination, §3.5)."""
    if effective is None:
        return False
    return item.period_start is None or item.period_start < effective


def release_service_invoices(
    session: Session,
    actor: Actor,
    service_id: int,
    *,
    reason: str,
    at: datetime,
    keep_begun_before: date | None = None,
    note: str | None = None,
) -> Released:
    """Take a service off its open invoices, inside the caller's transaction.

    An invoice that bills only this service (plus invoice-level lines such as a late fee,
    billing-rules §8.7) is cancelled; what was paid on it goes back to the client's credit.
    On an invoice that also bills other services, this service's lines are removed and the
    rest re-totalled; one left with nothing to pay is paid at ``at`` (the action's moment).

    ``keep_begun_before``: the day a cancellation takes effect. Lines for periods that began
    before it stay due (rule 8: cancelling is not a way out of a debt), and so does every
    invoice holding one; only the later periods' lines go. ``note``: said on each cancelled
    invoice (its notes), so a voided invoice tells why.
    """
    ids = session.scalars(
        select(InvoiceItem.invoice_id)
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(InvoiceItem.service_id == service_id, Invoice.status.in_(OPEN_INVOICES))
        .distinct()
    ).all()
    done = Released()
    for invoice_id in sorted(ids):
        lines = session.scalars(
            select(InvoiceItem).where(InvoiceItem.invoice_id == invoice_id)
        ).all()
        mine = [item for item in lines if item.service_id == service_id]
        owed = [item for item in mine if _begun(item, keep_begun_before)]
        others = [
            item for item in lines if item.service_id is not None and item.service_id != service_id
        ]
        if len(owed) == len(mine):
            done.kept.append(invoice_id)
            continue
        if not others and not owed:
            billing.cancel_invoice(actor, invoice_id, reason=reason, session=session)
            if note:
                invoice = session.get_one(Invoice, invoice_id)
                invoice.notes = "\n".join(x for x in (invoice.notes, note) if x)[:2000]
            done.cancelled.append(invoice_id)
        elif _remove_lines(
            session, actor, invoice_id, service_id, reason, at, keep=[item.id for item in owed]
        ):
            done.trimmed.append(invoice_id)
    return done


def _remove_lines(
    session: Session,
    actor: Actor,
    invoice_id: int,
    service_id: int,
    reason: str,
    at: datetime,
    *,
    keep: list[int] | None = None,
) -> bool:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        return False
    lock_client(session, invoice.client_id)
    invoice = lock_invoice(session, invoice_id)
    session.refresh(invoice, ["items"])
    staying = set(keep or [])
    gone = [
        item for item in invoice.items if item.service_id == service_id and item.id not in staying
    ]
    kept = [item for item in invoice.items if item not in gone]
    new_total = invoice_totals([(item.amount, item.tax_rate) for item in kept]).total
    if invoice.amount_paid > new_total:
        # Money already received exceeds what would remain: leave it for staff (audited).
        audit.record(
            session,
            actor,
            "invoice.line_kept",
            target_type="invoice",
            target_id=invoice.id,
            client_id=invoice.client_id,
            service_id=service_id,
            reason=reason,
        )
        return False
    removed = ", ".join(f"{item.description} {item.amount}" for item in gone)
    session.execute(delete(InvoiceItem).where(InvoiceItem.id.in_([item.id for item in gone])))
    session.flush()
    session.refresh(invoice, ["items"])
    reprice(invoice)
    if invoice.balance < 0:  # paid partly with credit: the excess credit goes back
        excess = -invoice.balance
        invoice.credit_applied = q2(invoice.credit_applied - excess)
        invoice.balance = ZERO
        client = session.get_one(Client, invoice.client_id)
        move_credit(
            session, actor, client, excess, kind="refund", reason=reason, invoice_id=invoice.id
        )
    audit.record(
        session,
        actor,
        "invoice.line_removed",
        target_type="invoice",
        target_id=invoice.id,
        client_id=invoice.client_id,
        service_id=service_id,
        lines=removed[:500],
        reason=reason,
        total=invoice.total,
    )
    if invoice.status == "unpaid" and invoice.balance == ZERO:
        mark_paid(session, actor, invoice, at)
    return True
