"""The client's credit (saldo a favor): a ledger whose sum is ``client.credit_balance``.

Credit comes from overpayments, refunds, downgrades and staff adjustments, and is spent on
invoices: automatically when an invoice is issued (``auto_apply_credit``, billing-rules §3.2),
or on request, oldest invoice first. Credit is never paid out as cash.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, get_scoped, of_client, require, require_permission, scoped
from core.billing.ledger import (
    PAYABLE,
    apply_credit_to,
    clean_text,
    lock_client,
    lock_invoices,
    move_credit,
    parse_amount,
    require_payable,
)
from core.models import CreditEntry, Invoice
from core.platform import audit
from core.platform.clock import now
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError

MAX_REASON = 300


@dataclass(frozen=True)
class CreditLine:
    id: int
    at: datetime
    amount: Decimal
    kind: str
    reason: str | None
    invoice_id: int | None


def _adjust(
    actor: Actor, client_id: int, delta: Decimal, reason: str, session: Session | None
) -> Decimal:
    require(actor, "billing")
    why = clean_text(reason, MAX_REASON)
    if not why:
        raise ValidationError("error.billing_reason_required")
    with transaction(session) as s:
        client = lock_client(s, client_id)
        move_credit(s, actor, client, delta, kind="manual", reason=why)
        audit.record(
            s,
            actor,
            "credit.added" if delta > 0 else "credit.removed",
            target_type="client",
            target_id=client.id,
            client_id=client.id,
            amount=delta,
            reason=why,
            balance=client.credit_balance,
        )
        return client.credit_balance


def add_credit(
    actor: Actor,
    client_id: int,
    amount: Decimal | int | str,
    reason: str,
    *,
    session: Session | None = None,
) -> Decimal:
    """Staff add credit with a reason; returns the new balance."""
    require(actor, "billing")
    return _adjust(actor, client_id, parse_amount(amount), reason, session)


def remove_credit(
    actor: Actor,
    client_id: int,
    amount: Decimal | int | str,
    reason: str,
    *,
    session: Session | None = None,
) -> Decimal:
    """Staff remove credit with a reason (never below zero); returns the new balance."""
    require(actor, "billing")
    return _adjust(actor, client_id, -parse_amount(amount), reason, session)


def apply_credit(
    actor: Actor,
    *,
    invoice_id: int | None = None,
    client_id: int | None = None,
    session: Session | None = None,
    at: datetime | None = None,
) -> Decimal:
    """Spend available credit on one invoice, or on all unpaid ones oldest first.

    A client may do it for their own invoices; staff need billing rights. Returns the
    amount applied. ``at``: the moment of the action (default now).
    """
    require_permission(actor, "billing")
    at = at or now()
    if actor.is_client:
        client_id = actor.client_id
    else:
        require(actor, "billing")
    with transaction(session) as s:
        if invoice_id is not None:
            target = get_scoped(s, actor, Invoice, invoice_id, "billing")
            if actor.is_client and target.status == "draft":
                raise NotFound()
            client_id = target.client_id
            ids = [target.id]
        elif client_id is None:
            raise ValidationError("error.billing_no_target")
        else:
            ids = list(
                s.scalars(
                    select(Invoice.id)
                    .where(of_client(Invoice, client_id), Invoice.status.in_(PAYABLE))
                    .order_by(Invoice.due_on, Invoice.id)
                )
            )
        client = lock_client(s, client_id)
        locked = lock_invoices(s, ids)
        invoices = [locked[i] for i in ids if i in locked]
        if invoice_id is not None:
            require_payable(invoices[0])
        if client.credit_balance <= 0:
            raise ValidationError("error.billing_no_credit")
        invoices.sort(key=lambda inv: (inv.due_on, inv.id))
        return apply_credit_to(s, actor, client, invoices, at=at)


def credit_history(
    actor: Actor,
    client_id: int | None = None,
    *,
    limit: int = 50,
    session: Session | None = None,
) -> list[CreditLine]:
    """A client's credit ledger, newest first (a client: their own only)."""
    require_permission(actor, "billing")
    with reading(session) as s:
        stmt = scoped(actor, CreditEntry, "billing")
        if not actor.is_client:
            if client_id is None:
                raise ValidationError("error.billing_no_target")
            stmt = stmt.where(of_client(CreditEntry, client_id))
        rows = s.scalars(
            stmt.order_by(CreditEntry.created_at.desc(), CreditEntry.id.desc()).limit(
                max(1, min(limit, 500))
            )
        )
        return [
            CreditLine(r.id, r.created_at, r.amount, r.kind, r.reason, r.invoice_id) for r in rows
        ]
