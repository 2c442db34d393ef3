"""Money that arrives for a voided (cancelled) invoice (billing-rules §0 rule 8).

A cancellation may void an invoice the client still owed (the owner's WHMCS-style setting) and
a late transfer receipt or payment may then arrive for it. Turning that money silently into
credit would let the debt vanish while the client believes they paid it, so staff choose:

* ``"reopen"`` — the invoice is unpaid again, with what was already paid on it taken back from
  the credit its cancellation returned, and the money settles it;
* ``"credit"`` — the invoice stays voided and the money becomes the client's credit.

With no choice, the payment or the approval is refused with a message that asks for one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.access import Actor, parse_id, require
from core.billing.ledger import lock_client, lock_invoice, mark_paid, move_credit
from core.models import Client, Invoice
from core.platform import audit
from core.platform.clock import now
from core.platform.db import transaction
from core.platform.errors import Conflict, NotFound, ValidationError
from core.rules.money import ZERO, q2

CHOICES = ("reopen", "credit")
VOIDED = "cancelled"


def check_choice(choice: str | None) -> None:
    if choice is not None and choice not in CHOICES:
        raise ValidationError("error.billing_voided_choice_invalid")


def ask_for_choice(invoice: Invoice) -> None:
    """Refuse money for a voided invoice until staff said what to do with it."""
    raise Conflict("error.billing_voided_needs_choice", number=invoice.number or f"#{invoice.id}")


def reopen(session: Session, actor: Actor, client: Client, invoice: Invoice, at: datetime) -> None:
    """A locked, voided invoice of a locked client becomes unpaid again.

    What its cancellation returned to credit (money or credit paid on it) is taken back, so the
    invoice's paid amounts and the credit ledger agree again; when that credit has been spent
    meanwhile the reopening is refused (staff can credit instead). ``at``: the action's moment.
    """
    if invoice.status != VOIDED:
        raise Conflict("error.billing_not_voided", number=invoice.number or f"#{invoice.id}")
    returned = q2(invoice.amount_paid + invoice.credit_applied)
    if returned > 0:
        if client.credit_balance < returned:
            raise Conflict("error.billing_reopen_credit_spent", amount=str(returned))
        move_credit(
            session,
            actor,
            client,
            -returned,
            kind="applied",
            reason="reopened",
            invoice_id=invoice.id,
        )
    invoice.status = "unpaid"
    invoice.balance = q2(invoice.total - invoice.amount_paid - invoice.credit_applied)
    audit.record(
        session,
        actor,
        "invoice.reopened",
        target_type="invoice",
        target_id=invoice.id,
        client_id=invoice.client_id,
        number=invoice.number,
        balance=invoice.balance,
    )
    if invoice.balance <= ZERO:
        invoice.balance = ZERO
        mark_paid(session, actor, invoice, at)


def reopen_invoice(
    actor: Actor, invoice_id: int, *, session: Session | None = None, at: datetime | None = None
) -> None:
    """Reopen a voided invoice on its own (staff with billing): it is due again."""
    at = at or now()
    require(actor, "billing")
    with transaction(session) as s:
        found = s.get(Invoice, parse_id(invoice_id))
        if found is None:
            raise NotFound()
        client = lock_client(s, found.client_id)
        reopen(s, actor, client, lock_invoice(s, found.id), at)
