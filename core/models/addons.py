"""Add-ons: extras ordered on a hosting service (SSL, dedicated IP, backups, ...), billed and
renewed with it. The add-on products themselves are catalogue products of kind ``addon``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Money, _created, _id

if TYPE_CHECKING:
    from core.models.catalog import Product
    from core.models.services import Service


class ServiceAddon(Base):
    __tablename__ = "service_addon"
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    # pending (first invoice unpaid) | active | suspended | cancelled | terminated
    status: Mapped[str] = mapped_column(String(12), default="pending")
    recurring_amount: Mapped[Decimal] = mapped_column(Money)
    # First day not yet paid for; always one of the parent's due dates.
    next_due_date: Mapped[date | None] = mapped_column(Date)
    cancel_at: Mapped[date | None] = mapped_column(Date)  # ends then (the client asked)
    ended_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)  # why it ended (e.g. no longer fits)
    # A disk-quota add-on that started or ended while its parent's quota on the panel was not
    # yet set to match: set after commit, else by the daily run (core.addons.quota).
    panel_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = _created()
    service: Mapped[Service] = relationship()
    product: Mapped[Product] = relationship()


class AddonCharge(Base):
    """Which invoice line paid which period of an add-on: one per add-on and period."""

    __tablename__ = "addon_charge"
    __table_args__ = (UniqueConstraint("addon_id", "period_start"),)
    id: Mapped[int] = _id()
    addon_id: Mapped[int] = mapped_column(ForeignKey("service_addon.id"), index=True)
    invoice_item_id: Mapped[int] = mapped_column(ForeignKey("invoice_item.id"), unique=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    first: Mapped[bool] = mapped_column(Boolean, default=False)  # the prorated first period
