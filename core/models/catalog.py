"""What the business sells: products and their prices per cycle."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Money, _id


class Product(Base):
    __tablename__ = "product"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(120), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(120))  # None: the Spanish name
    description: Mapped[str | None] = mapped_column(Text)
    whm_package: Mapped[str] = mapped_column(String(64))
    disk_mb: Mapped[int] = mapped_column(Integer, default=1024)
    max_mailboxes: Mapped[int] = mapped_column(Integer, default=10)
    mailbox_quota_mb: Mapped[int] = mapped_column(Integer, default=1024)
    prorata_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    prorata_day: Mapped[int | None] = mapped_column(Integer)
    prorata_next_month_after_day: Mapped[int | None] = mapped_column(Integer)
    credit_on_downgrade: Mapped[bool | None] = mapped_column(Boolean)  # None: the setting
    upgrade_targets: Mapped[list[int]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # hosting | addon. An add-on is ordered on a hosting service and renews with it.
    kind: Mapped[str] = mapped_column(String(10), default="hosting", server_default="hosting")
    addon_fits: Mapped[list[int] | None] = mapped_column(JSON)  # hosting products it fits
    addon_action: Mapped[str | None] = mapped_column(String(10))  # none | staff | quota
    # quota: the MB the add-on adds to its parent's cPanel disk quota while it runs.
    addon_quota_mb: Mapped[int | None] = mapped_column(Integer)
    prices: Mapped[list[ProductPrice]] = relationship(back_populates="product")


class ProductPrice(Base):
    __tablename__ = "product_price"
    __table_args__ = (UniqueConstraint("product_id", "cycle"),)
    id: Mapped[int] = _id()
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    cycle: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(Money)
    setup_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    product: Mapped[Product] = relationship(back_populates="prices")
