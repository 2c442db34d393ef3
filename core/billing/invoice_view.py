"""One invoice as the billing page shows it: its lines, IVA grouped by rate, payments and
transfer receipts, with the client's details and the transfer instructions. Split from
``core.billing.views`` (the lists and the per-role pages) to keep modules near the house size;
behaviour is unchanged, and ``core.billing`` still re-exports ``invoice_detail`` and
``InvoiceDetail``. The PDF (``core.billing.pdf``) is drawn from this same read.

Scoped like every billing read: the invoice is fetched through the actor's scope, a client
never sees a draft (staff work), and a foreign or malformed id is ``NotFound``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, get_scoped
from core.billing.ledger import (
    PAYABLE,
    RECEIPT_MAX_MB,
    TRANSFER_INSTRUCTIONS,
)
from core.models import Client, Invoice, InvoiceItem, Payment, TransferReceipt, Upload
from core.platform import settings
from core.platform.clock import today as business_day
from core.platform.config import get_settings
from core.platform.db import reading
from core.platform.errors import NotFound
from core.rules.money import ZERO, invoice_totals


@dataclass(frozen=True)
class LineView:
    description: str
    kind: str
    period_start: date | None
    period_end: date | None
    amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal


@dataclass(frozen=True)
class TaxGroup:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class PaymentView:
    received_on: date
    amount: Decimal
    method: str
    reference: str | None


@dataclass(frozen=True)
class ReceiptView:
    id: int
    created_at: datetime
    amount: Decimal
    reference: str | None
    status: str
    reject_reason: str | None
    filename: str


@dataclass(frozen=True)
class InvoiceDetail:
    id: int
    number: str | None
    status: str
    issued_on: date
    due_on: date
    overdue: bool
    client_id: int
    client_name: str
    client_tax_id_type: str
    client_tax_id: str | None
    client_address: str | None
    client_email: str
    credit_balance: Decimal
    lines: list[LineView]
    taxes: list[TaxGroup]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal
    credit_applied: Decimal
    balance: Decimal
    paid_at: datetime | None
    notes: str | None
    payments: list[PaymentView]
    receipts: list[ReceiptView]
    transfer_instructions: str
    receipt_max_mb: int  # at least 1, as receipts.max_receipt_bytes checks it

    @property
    def payable(self) -> bool:
        return self.status in PAYABLE


def _taxes(invoice: Invoice, items: list[InvoiceItem]) -> list[TaxGroup]:
    rates = sorted({item.tax_rate for item in items})
    if len(rates) <= 1:  # one issue date, one rate: the stored totals are authoritative
        rate = rates[0] if rates else ZERO
        return [TaxGroup(rate, invoice.subtotal, invoice.tax_total)]
    totals = invoice_totals([(item.amount, item.tax_rate) for item in items])
    return [TaxGroup(g.rate, g.base, g.tax) for g in totals.by_rate]


def invoice_detail(
    actor: Actor,
    invoice_id: int,
    *,
    today: date | None = None,
    session: Session | None = None,
) -> InvoiceDetail:
    """One invoice with its lines, taxes, payments and receipts (NotFound if not the
    actor's to see)."""
    day = today or business_day(get_settings().tz)
    with reading(session) as s:
        invoice = get_scoped(s, actor, Invoice, invoice_id, "billing")
        if actor.is_client and invoice.status == "draft":
            raise NotFound()
        client = s.get(Client, invoice.client_id)
        if client is None:
            raise NotFound()
        items = list(
            s.scalars(
                select(InvoiceItem)
                .where(InvoiceItem.invoice_id == invoice.id)
                .order_by(InvoiceItem.id)
            )
        )
        payments = s.scalars(
            select(Payment)
            .where(Payment.invoice_id == invoice.id)
            .order_by(Payment.received_on, Payment.id)
        ).all()
        receipts = s.execute(
            select(TransferReceipt, Upload.filename)
            .join(Upload, Upload.id == TransferReceipt.upload_id)
            .where(TransferReceipt.invoice_id == invoice.id)
            .order_by(TransferReceipt.created_at.desc(), TransferReceipt.id.desc())
        ).all()
        return InvoiceDetail(
            id=invoice.id,
            number=invoice.number,
            status=invoice.status,
            issued_on=invoice.issued_on,
            due_on=invoice.due_on,
            overdue=invoice.status in PAYABLE and invoice.due_on < day,
            client_id=client.id,
            client_name=client.company or client.name,
            client_tax_id_type=client.tax_id_type,
            client_tax_id=client.tax_id,
            client_address=", ".join(p for p in (client.address, client.city, client.province) if p)
            or None,
            client_email=client.email,
            credit_balance=client.credit_balance,
            lines=[
                LineView(
                    i.description,
                    i.kind,
                    i.period_start,
                    i.period_end,
                    i.amount,
                    i.tax_rate,
                    i.tax_amount,
                )
                for i in items
            ],
            taxes=_taxes(invoice, items),
            subtotal=invoice.subtotal,
            tax_total=invoice.tax_total,
            total=invoice.total,
            amount_paid=invoice.amount_paid,
            credit_applied=invoice.credit_applied,
            balance=invoice.balance,
            paid_at=invoice.paid_at,
            notes=invoice.notes,
            payments=[
                PaymentView(p.received_on, p.amount, p.method, p.reference) for p in payments
            ],
            receipts=[
                ReceiptView(r.id, r.created_at, r.amount, r.reference, r.status, r.reject_reason, f)
                for r, f in receipts
            ],
            transfer_instructions=settings.get_text(TRANSFER_INSTRUCTIONS, session=s),
            receipt_max_mb=max(1, settings.get_int(RECEIPT_MAX_MB, session=s)),
        )
