"""Payments: full, partial, several invoices at once; what is left over becomes credit.

billing-rules §3.2 (WHMCS semantics) and vectors #16 and #18: a payment is applied to the
invoices in the order listed, partial payments leave a balance, an excess is booked as the
client's credit. Money received is one ``payment`` row per invoice it went to, plus one row
without an invoice for the part that went to credit, so the payment rows of one receipt of
money always add up to the amount received.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require
from core.billing.ledger import (
    METHODS,
    apply_to_invoice,
    clean_text,
    lock_client,
    lock_invoices,
    move_credit,
    parse_amount,
    require_payable,
)
from core.billing.voided import VOIDED, ask_for_choice, check_choice, reopen
from core.models import Client, Invoice, Payment
from core.platform import audit
from core.platform.clock import now, to_local
from core.platform.config import get_settings
from core.platform.db import transaction
from core.platform.errors import NotFound, ValidationError
from core.rules.money import allocate

MAX_INVOICES = 50


@dataclass(frozen=True)
class PaymentResult:
    """What one payment did: rows written, what each invoice got, what became credit."""

    payment_ids: tuple[int, ...]
    applied: tuple[tuple[int, Decimal], ...]  # (invoice id, amount) in the order given
    credited: Decimal
    paid_invoice_ids: tuple[int, ...]


def _ids(values: Sequence[int | str]) -> list[int]:
    ids: list[int] = []
    for value in values:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise NotFound() from None
    if len(set(ids)) != len(ids):
        raise ValidationError("error.billing_duplicate_invoice")
    if len(ids) > MAX_INVOICES:
        raise ValidationError("error.billing_too_many_invoices", n=MAX_INVOICES)
    return ids


def apply_payment(
    session: Session,
    actor: Actor,
    client: Client,
    invoices: Sequence[Invoice],
    amount: Decimal,
    *,
    method: str,
    reference: str | None,
    received_on: date,
    at: datetime,
) -> PaymentResult:
    """Book ``amount`` received from a locked client against locked, payable invoices;
    ``at`` is the moment of the action (a settled invoice's ``paid_at``)."""
    for invoice in invoices:
        require_payable(invoice)
    split = allocate(amount, [invoice.balance for invoice in invoices])
    ref = clean_text(reference, 100) or None
    by = actor.user_id or None
    payment_ids: list[int] = []
    applied: list[tuple[int, Decimal]] = []
    paid: list[int] = []
    for invoice, part in zip(invoices, split.applied, strict=True):
        applied.append((invoice.id, part))
        if part <= 0:
            continue
        row = Payment(
            client_id=client.id,
            invoice_id=invoice.id,
            amount=part,
            method=method,
            reference=ref,
            received_on=received_on,
            recorded_by=by,
        )
        session.add(row)
        session.flush()
        payment_ids.append(row.id)
        if apply_to_invoice(session, actor, invoice, part, from_credit=False, at=at):
            paid.append(invoice.id)
    if split.unapplied > 0:
        row = Payment(
            client_id=client.id,
            invoice_id=None,
            amount=split.unapplied,
            method=method,
            reference=ref,
            received_on=received_on,
            recorded_by=by,
        )
        session.add(row)
        session.flush()
        payment_ids.append(row.id)
        move_credit(session, actor, client, split.unapplied, kind="overpayment", reason=ref)
    result = PaymentResult(
        payment_ids=tuple(payment_ids),
        applied=tuple(applied),
        credited=split.unapplied,
        paid_invoice_ids=tuple(paid),
    )
    audit.record(
        session,
        actor,
        "payment.recorded",
        target_type="client",
        target_id=client.id,
        client_id=client.id,
        amount=amount,
        method=method,
        reference=ref,
        invoices=",".join(f"{i}:{a}" for i, a in applied),
        credited=split.unapplied,
        payments=",".join(str(p) for p in payment_ids),
    )
    return result


def record_payment(
    actor: Actor,
    invoice_ids: Sequence[int | str],
    amount: Decimal | int | str,
    *,
    client_id: int | None = None,
    method: str = "transfer",
    reference: str | None = None,
    received_on: date | None = None,
    voided: str | None = None,
    session: Session | None = None,
    at: datetime | None = None,
) -> PaymentResult:
    """Money received from a client, applied to ``invoice_ids`` in that order.

    A voided (cancelled) invoice among them needs ``voided`` (billing-rules rule 8):
    "reopen" makes it due again and the money settles it, "credit" leaves it voided and its
    share becomes credit; without a choice the payment is refused with a message that asks.

    With no invoices (give ``client_id``) the whole amount becomes credit. Zero, negative
    or malformed amounts, an invoice that is not unpaid (paid, cancelled, draft, refunded)
    and invoices of two clients are refused before anything changes. Staff with billing
    rights and the owner only. ``at``: the moment of the action (default now; its business
    date is the default ``received_on``).
    """
    at = at or now()
    require(actor, "billing")
    value = parse_amount(amount)
    if method not in METHODS:
        raise ValidationError("error.billing_method_invalid")
    check_choice(voided)
    ids = _ids(invoice_ids)
    if not ids and client_id is None:
        raise ValidationError("error.billing_no_target")
    received = received_on or to_local(at, get_settings().tz).date()
    with transaction(session) as s:
        owner_id = client_id
        if ids:
            first = s.get(Invoice, ids[0])
            if first is None or (client_id is not None and first.client_id != client_id):
                raise NotFound()
            owner_id = first.client_id
        client = lock_client(s, owner_id)
        locked = lock_invoices(s, ids)
        invoices: list[Invoice] = []
        for invoice_id in ids:
            invoice = locked.get(invoice_id)
            if invoice is None:
                raise NotFound()
            if invoice.client_id != client.id:
                raise ValidationError("error.billing_mixed_clients")
            if invoice.status == VOIDED:
                if voided is None:
                    ask_for_choice(invoice)
                if voided == "credit":
                    continue  # its share is not applied: it ends up as credit
                reopen(s, actor, client, invoice, at)
            invoices.append(invoice)
        return apply_payment(
            s,
            actor,
            client,
            invoices,
            value,
            method=method,
            reference=reference,
            received_on=received,
            at=at,
        )


_SPLIT = re.compile(r"[\s,;]+")
_NUMBER = re.compile(r"[A-Z0-9-]{1,30}")


def record_payment_by_numbers(
    actor: Actor,
    numbers: str | Sequence[str],
    amount: Decimal | int | str,
    *,
    method: str = "transfer",
    reference: str | None = None,
    received_on: date | None = None,
    voided: str | None = None,
    session: Session | None = None,
    at: datetime | None = None,
) -> PaymentResult:
    """:func:`record_payment` for invoices given by number ("F0000001, F0000002")."""
    at = at or now()
    require(actor, "billing")
    parse_amount(amount)  # a bad amount is reported before an unknown number
    wanted = _SPLIT.split(numbers.strip()) if isinstance(numbers, str) else list(numbers)
    wanted = [n.strip().upper() for n in wanted if n and n.strip()]
    if not wanted:
        raise ValidationError("error.billing_no_target")
    if len(wanted) > MAX_INVOICES:
        raise ValidationError("error.billing_too_many_invoices", n=MAX_INVOICES)
    with transaction(session) as s:
        # Numbers are upper-case by construction, so the unique index answers this.
        found = dict(
            s.execute(select(Invoice.number, Invoice.id).where(Invoice.number.in_(wanted))).all()
        )
        for number in wanted:
            if number not in found:
                if _NUMBER.fullmatch(number):  # echo it back only when it looks like one
                    raise NotFound("error.billing_invoice_number_unknown", number=number)
                raise NotFound()
        return record_payment(
            actor,
            [found[n] for n in wanted],
            amount,
            method=method,
            reference=reference,
            received_on=received_on,
            voided=voided,
            session=s,
            at=at,
        )
