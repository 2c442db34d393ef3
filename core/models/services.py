"""Hosting: panel servers, services, plan changes and cancellation requests."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Money, _created, _id

if TYPE_CHECKING:
    from core.models.catalog import Product
    from core.models.clients import Client


class Server(Base):
    __tablename__ = "server"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    hostname: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer, default=2087)
    scheme: Mapped[str] = mapped_column(String(5), default="https")
    username: Mapped[str] = mapped_column(String(64), default="root")
    # The API token is a secret: either the name of an environment variable holding it, or
    # the token encrypted with SECRET_KEY. Never stored or shown in clear.
    token_env: Mapped[str | None] = mapped_column(String(100))
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    verify_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    max_accounts: Mapped[int] = mapped_column(Integer, default=500)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (
        Index("ix_service_status_due", "status", "next_due_date"),
        # The orders list: pending services newest first, a page at a time (0045).
        Index("ix_service_status_registered", "status", "registration_date", "id"),
    )
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    server_id: Mapped[int | None] = mapped_column(ForeignKey("server.id"))
    domain: Mapped[str] = mapped_column(String(253), index=True)
    panel_username: Mapped[str | None] = mapped_column(String(16))
    # pending | active | suspended | cancelled | terminated | fraud
    status: Mapped[str] = mapped_column(String(12), default="pending")
    billing_cycle: Mapped[str] = mapped_column(String(20))
    recurring_amount: Mapped[Decimal] = mapped_column(Money)
    first_payment_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    anchor_day: Mapped[int] = mapped_column(Integer)
    registration_date: Mapped[date] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date)
    next_invoice_date: Mapped[date | None] = mapped_column(Date)
    suspend_reason: Mapped[str | None] = mapped_column(String(200))
    hold_until: Mapped[date | None] = mapped_column(Date)  # no automatic suspension until
    terminated_on: Mapped[date | None] = mapped_column(Date)
    panel_error: Mapped[str | None] = mapped_column(Text)  # last failed panel call, for retry
    created_at: Mapped[datetime] = _created()
    client: Mapped[Client] = relationship()
    product: Mapped[Product] = relationship()
    server: Mapped[Server | None] = relationship()


class PlanChange(Base):
    __tablename__ = "plan_change"
    id: Mapped[int] = _id()
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    from_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    to_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    from_cycle: Mapped[str] = mapped_column(String(20))
    to_cycle: Mapped[str] = mapped_column(String(20))
    quote: Mapped[dict] = mapped_column(JSON)  # frozen at request time, amounts as strings
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|applied|...
    requested_at: Mapped[datetime] = _created()
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)


class CancellationRequest(Base):
    __tablename__ = "cancellation_request"
    id: Mapped[int] = _id()
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    type: Mapped[str] = mapped_column(String(25))  # immediate | end_of_billing_period
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = _created()
    effective_date: Mapped[date] = mapped_column(Date)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
