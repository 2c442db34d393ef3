"""Money: invoices and their lines, payments, transfer receipts and the credit ledger."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Money, Rate, _created, _id

if TYPE_CHECKING:
    from core.models.clients import Client


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_client_status", "client_id", "status"),
        Index("ix_invoice_status_due_balance", "status", "due_on", "balance"),
        Index("ix_invoice_status_issued", "status", "issued_on"),
        Index("ix_invoice_client_issued", "client_id", "issued_on", "id"),
        Index("ix_invoice_status_due_issued", "status", "due_on", "issued_on", "id"),
    )
    id: Mapped[int] = _id()
    number: Mapped[str | None] = mapped_column(String(30), unique=True)  # None while draft
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    due_on: Mapped[date] = mapped_column(Date)
    # draft | unpaid | paid | cancelled | refunded
    status: Mapped[str] = mapped_column(String(12), default="unpaid")
    subtotal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    credit_applied: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    late_fee_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    fiscal_document_id: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    client: Mapped[Client] = relationship()
    items: Mapped[list[InvoiceItem]] = relationship(
        back_populates="invoice", order_by="InvoiceItem.id"
    )


class InvoiceItem(Base):
    __tablename__ = "invoice_item"
    # One renewal (or upgrade, or late fee) per service and period, whatever runs twice.
    __table_args__ = (UniqueConstraint("service_id", "kind", "period_start"),)
    id: Mapped[int] = _id()
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    # renewal | setup | upgrade | late_fee | prorata | manual
    kind: Mapped[str] = mapped_column(String(12))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money)
    tax_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    invoice: Mapped[Invoice] = relationship(back_populates="items")


class Payment(Base):
    __tablename__ = "payment"
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(30))  # transfer | cash | card | credit | other
    reference: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[date] = mapped_column(Date, index=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = _created()


class TransferReceipt(Base):
    __tablename__ = "transfer_receipt"
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("upload.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(300))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    created_at: Mapped[datetime] = _created()


class CreditEntry(Base):
    __tablename__ = "credit_ledger"
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # + adds credit, - uses it
    kind: Mapped[str] = mapped_column(String(20))  # manual|overpayment|refund|applied|downgrade
    reason: Mapped[str | None] = mapped_column(String(300))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = _created()
