"""When documents are issued: the reactions of billing and plan changes, in their transaction.

* **Full payment** → a factura (:func:`issue_factura_on_payment`, in
  ``core.billing.hooks.PAID_HOOKS``). Unpaid invoices are proformas and get none.
* **Refund of a paid invoice** (``core.billing.refund_invoice``) → a nota de crédito for
  whatever its factura has not had credited yet (:func:`credit_note_on_refund`).
* **Downgrade credit paid back** (``core.plan_changes.apply``) → a nota de crédito for the
  credited amount against the service's latest factura (:func:`credit_note_on_downgrade`).

Cancelling a service or an invoice touches only unpaid invoices (``core.services.
leaving_invoices``, ``core.billing.cancel_invoice``), which have no factura; undoing what was
already invoiced is the refund above.

Electronic invoicing is on when the owner has stored a certificate; without one nothing
here runs. A document that cannot be issued (a client's cédula fails its check, say) never
undoes the payment or the refund: its savepoint is rolled back — no secuencial used — and the
refusal is audited (``einvoice.not_issued``) with its reason for the owner to fix and issue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.einvoice.certificates import is_configured
from core.einvoice.codes import FACTURA
from core.einvoice.issue import credited_so_far, factura_of, issue_credit_note, issue_factura
from core.models import ElectronicDocument, Invoice, InvoiceItem
from core.platform import audit
from core.platform.errors import DomainError
from core.rules.money import q2

log = logging.getLogger("anfitrion.einvoice")


def issue_or_audit(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    doc_type: str,
    work: Callable[[], ElectronicDocument],
) -> ElectronicDocument | None:
    """``work()`` inside a savepoint; a refusal is rolled back and audited, never raised."""
    try:
        with session.begin_nested():
            doc = work()
    except (DomainError, ValueError, OverflowError) as exc:
        reason = exc.key if isinstance(exc, DomainError) else str(exc)[:300]
        # The message's own values ({client}, {limit}) kept as text, to show it again later.
        params = (
            {k: str(v)[:200] for k, v in exc.params.items()} if isinstance(exc, DomainError) else {}
        )
        log.warning("invoice %s: %s not issued (%s)", invoice.id, doc_type, reason)
        audit.record(
            session,
            actor,
            "einvoice.not_issued",
            target_type="invoice",
            target_id=invoice.id,
            client_id=invoice.client_id,
            doc_type=doc_type,
            reason=reason,
            params=params,
        )
        return None
    audit.record(
        session,
        actor,
        "einvoice.issued",
        target_type="invoice",
        target_id=invoice.id,
        client_id=invoice.client_id,
        doc_type=doc.doc_type,
        number=doc.number,
        access_code=doc.access_key,
        total=doc.total,
    )
    return doc


def issue_factura_on_payment(session: Session, invoice: Invoice, actor: Actor) -> None:
    """Paid hook: the factura of an invoice paid in full (at its paying moment)."""
    if not is_configured(session) or invoice.total <= 0:
        return
    at = invoice.paid_at
    assert at is not None  # mark_paid stamps it before the hooks run
    issue_or_audit(session, actor, invoice, "01", lambda: issue_factura(session, invoice, at))


def credit_note_on_refund(
    session: Session, actor: Actor, invoice: Invoice, *, reason: str, at: datetime
) -> ElectronicDocument | None:
    """A refunded invoice's factura gets a credit note for all it has left uncredited."""
    if not is_configured(session):
        return None
    factura = factura_of(session, invoice.id)
    if factura is None or credited_so_far(session, factura) >= factura.total:
        return None
    motive = reason.strip() or "Devolución"
    return issue_or_audit(
        session,
        actor,
        invoice,
        "04",
        lambda: issue_credit_note(session, factura, reason=motive, at=at),
    )


def latest_factura_of_service(session: Session, service_id: int) -> ElectronicDocument | None:
    return session.scalars(
        select(ElectronicDocument)
        .join(InvoiceItem, InvoiceItem.invoice_id == ElectronicDocument.invoice_id)
        .where(InvoiceItem.service_id == service_id, ElectronicDocument.doc_type == FACTURA)
        .order_by(ElectronicDocument.issued_on.desc(), ElectronicDocument.id.desc())
    ).first()


def credit_note_on_downgrade(
    session: Session,
    actor: Actor,
    service_id: int,
    amount: Decimal,
    *,
    reason: str,
    at: datetime,
) -> ElectronicDocument | None:
    """A downgrade's credit (IVA included) given back against the factura that billed the
    period, capped at what that factura has left."""
    if not is_configured(session) or amount <= 0:
        return None
    factura = latest_factura_of_service(session, service_id)
    if factura is None:
        return None
    credit = min(q2(amount), q2(factura.total - credited_so_far(session, factura)))
    if credit <= 0:
        return None
    invoice = session.get_one(Invoice, factura.invoice_id)
    return issue_or_audit(
        session,
        actor,
        invoice,
        "04",
        lambda: issue_credit_note(
            session, factura, lines_or_amount=credit, reason=reason or "Cambio de plan", at=at
        ),
    )
