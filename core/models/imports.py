"""Imports from another billing system: which source row became which of our rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, _created, _id


class ImportLink(Base):
    """One source row brought over. A second run looks here first, so it imports nothing
    twice and picks up only what is new (a business imports on Friday and again on Monday)."""

    __tablename__ = "import_link"
    __table_args__ = (UniqueConstraint("system", "kind", "source_id"),)
    id: Mapped[int] = _id()
    system: Mapped[str] = mapped_column(String(80))  # whmcs | fossbilling | whm:<server name>
    kind: Mapped[str] = mapped_column(String(20))  # clients, services, invoices, ...
    source_id: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = _created()
