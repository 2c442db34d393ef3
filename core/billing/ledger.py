"""The money primitives every billing action shares (billing-rules §3.2).

Nothing here opens a transaction: callers (``core.billing``, ``core.billing.payments``,
``core.billing.credit``, ``core.billing.receipts``) open exactly one per user action and call these
inside it.

Locking: every money movement first locks the client row, then the invoice rows it touches
(ascending id), then any receipt row. One order everywhere means two actions on the same
client queue behind each other instead of deadlocking, and the second one re-reads what the
first committed (``populate_existing``), so an invoice is never over-applied and credit is
never spent twice. SQLite has one writer at a time (``BEGIN IMMEDIATE`` in ``core.platform.db``);
PostgreSQL gets ``SELECT ... FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.models import Client, CreditEntry, Invoice
from core.platform import audit
from core.platform.errors import Conflict, NotFound, ValidationError
from core.rules.money import ZERO, D, q2

# Invoice statuses (billing-rules §7). Only "unpaid" invoices take payments and credit.
STATUSES = ("draft", "unpaid", "paid", "cancelled", "refunded")
PAYABLE = ("unpaid",)
LINE_KINDS = ("renewal", "setup", "upgrade", "late_fee", "prorata", "manual", "addon")
METHODS = ("transfer", "cash", "card", "deposit", "other")

# Settings read by billing, with their defaults (every one of them is used and tested).
AUTO_APPLY_CREDIT = "auto_apply_credit"  # billing-rules §3.2: apply credit at generation
PRICES_INCLUDE_TAX = "prices_include_tax"  # line amounts are gross (IVA included)
RECEIPT_MAX_MB = "billing.receipt_max_mb"  # transfer-receipt size limit
TRANSFER_INSTRUCTIONS = "billing.transfer_instructions"  # shown to clients

MAX_AMOUNT = Decimal("9999999999.99")  # what Numeric(12, 2) holds

# A reaction to a paid invoice: ``hook(session, invoice, actor)``, called once per invoice inside
# the transaction that made it paid. The list of them is ``core.billing.hooks.PAID_HOOKS``.
PaidHook = Callable[[Session, Invoice, Actor], None]


# --------------------------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------------------------


def parse_amount(value: Any, *, allow_zero: bool = False) -> Decimal:
    """A money amount typed by a person or passed by code, as an exact 2-decimal Decimal.

    Accepts ``Decimal``, ``int`` and text such as ``"11.50"``, ``"11,50"``, ``"$ 1.234,50"``
    or ``"1,234.50"``. Refuses floats, more than two decimals, zero (unless ``allow_zero``)
    and negative amounts, with a translated ``ValidationError``.
    """
    if isinstance(value, str):
        text = value.strip().replace("$", "").replace(" ", "").replace("\u00a0", "")
        if "," in text and "." in text:
            # The last separator is the decimal one: 1.234,50 (es) or 1,234.50 (en).
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif "," in text:
            text = text.replace(",", ".")
        value = text
    if value is None or value == "":
        raise ValidationError("error.billing_amount_invalid")
    try:
        amount = D(value)
    except TypeError:
        raise ValidationError("error.billing_amount_invalid") from None
    except ValueError:
        raise ValidationError("error.billing_amount_invalid") from None
    if q2(amount) != amount:
        raise ValidationError("error.billing_amount_cents")
    if amount < 0 or (amount == 0 and not allow_zero):
        raise ValidationError("error.billing_amount_positive")
    if amount > MAX_AMOUNT:
        raise ValidationError("error.billing_amount_invalid")
    return q2(amount)


def clean_text(value: str | None, limit: int) -> str:
    """Trimmed text cut to ``limit`` characters (what the column holds)."""
    return (value or "").strip()[:limit]


# --------------------------------------------------------------------------------------------
# Locks
# --------------------------------------------------------------------------------------------


def lock_client(session: Session, client_id: int | None) -> Client:
    """The client row, locked for the rest of the transaction and freshly read."""
    if client_id is None:
        raise NotFound()
    client = session.scalars(
        select(Client)
        .where(Client.id == client_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if client is None:
        raise NotFound()
    return client


def lock_clients(session: Session, client_ids: Iterable[int]) -> list[Client]:
    """Client rows, locked in ascending id order (the order every ledger write takes them,
    so two writers never wait on each other crosswise) and freshly read."""
    ids = sorted(set(client_ids))
    if not ids:
        return []
    return list(
        session.scalars(
            select(Client)
            .where(Client.id.in_(ids))
            .order_by(Client.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def lock_invoices(
    session: Session, invoice_ids: Iterable[int], *options: Any
) -> dict[int, Invoice]:
    """Invoice rows by id, locked in ascending id order and freshly read; ``options`` load
    more with them (their lines, say) in the same read."""
    ids = sorted(set(invoice_ids))
    if not ids:
        return {}
    rows = session.scalars(
        select(Invoice)
        .where(Invoice.id.in_(ids))
        .order_by(Invoice.id)
        .options(*options)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    return {row.id: row for row in rows}


def lock_invoice(session: Session, invoice_id: int) -> Invoice:
    found = lock_invoices(session, [invoice_id]).get(invoice_id)
    if found is None:
        raise NotFound()
    return found


# --------------------------------------------------------------------------------------------
# Applying money to invoices, and the credit ledger
# --------------------------------------------------------------------------------------------


def require_payable(invoice: Invoice) -> None:
    """Only unpaid invoices take money; the refusal names the invoice and why."""
    if invoice.status not in PAYABLE:
        raise Conflict(
            f"error.billing_invoice_{invoice.status}", number=invoice.number or f"#{invoice.id}"
        )


def apply_to_invoice(
    session: Session,
    actor: Actor,
    invoice: Invoice,
    amount: Decimal,
    *,
    from_credit: bool,
    at: datetime,
) -> bool:
    """Lower a locked, payable invoice's balance by ``amount`` (≤ balance).

    Returns True when this made it paid (at ``at``, the action's moment). The caller books
    the money (a payment row or a credit-ledger entry) in the same transaction.
    """
    require_payable(invoice)
    if amount <= 0:
        return False
    if amount > invoice.balance:  # callers allocate first; this is the last line of defence
        raise Conflict("error.billing_over_applied", number=invoice.number or "")
    if from_credit:
        invoice.credit_applied = q2(invoice.credit_applied + amount)
    else:
        invoice.amount_paid = q2(invoice.amount_paid + amount)
    invoice.balance = q2(invoice.balance - amount)
    if invoice.balance == ZERO:
        mark_paid(session, actor, invoice, at)
        return True
    return False


def mark_paid(session: Session, actor: Actor, invoice: Invoice, at: datetime) -> None:
    """unpaid → paid at ``at`` (the paying action's moment, read by its entry point), exactly
    once per invoice; then every hook in ``PAID_HOOKS`` runs."""
    require_payable(invoice)
    invoice.status = "paid"
    invoice.balance = ZERO
    invoice.paid_at = at
    session.flush()
    audit.record(
        session,
        actor,
        "invoice.paid",
        target_type="invoice",
        target_id=invoice.id,
        client_id=invoice.client_id,
        number=invoice.number,
        total=invoice.total,
    )
    # Imported here, not at the top: the hooks' modules import this one (lock_client,
    # move_credit), so a top-level import would be a cycle.
    from core.billing import hooks

    for hook in hooks.PAID_HOOKS:
        hook(session, invoice, actor)


def move_credit(
    session: Session,
    actor: Actor,
    client: Client,
    amount: Decimal,
    *,
    kind: str,
    reason: str | None = None,
    invoice_id: int | None = None,
) -> CreditEntry:
    """One credit-ledger entry on a locked client; the balance never goes below zero."""
    new_balance = q2(client.credit_balance + amount)
    if new_balance < 0:
        raise ValidationError("error.billing_credit_insufficient", available=client.credit_balance)
    client.credit_balance = new_balance
    entry = CreditEntry(
        client_id=client.id,
        amount=q2(amount),
        kind=kind,
        reason=clean_text(reason, 300) or None,
        invoice_id=invoice_id,
        actor_id=actor.user_id or None,
    )
    session.add(entry)
    session.flush()
    return entry


def apply_credit_to(
    session: Session, actor: Actor, client: Client, invoices: Iterable[Invoice], *, at: datetime
) -> Decimal:
    """Spend the locked client's credit on locked invoices in the order given (partially if
    need be, billing-rules vector #17). Returns the amount applied."""
    spent = ZERO
    for invoice in invoices:
        if client.credit_balance <= 0:
            break
        if invoice.status not in PAYABLE or invoice.balance <= 0:
            continue
        take = min(client.credit_balance, invoice.balance)
        move_credit(session, actor, client, -take, kind="applied", invoice_id=invoice.id)
        audit.record(
            session,
            actor,
            "credit.applied",
            target_type="invoice",
            target_id=invoice.id,
            client_id=client.id,
            amount=take,
        )
        apply_to_invoice(session, actor, invoice, take, from_credit=True, at=at)
        spent += take
    return spent
