"""The daily run: each run and every action it took, under unique keys."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, _created, _id


class AutomationRun(Base):
    __tablename__ = "automation_run"
    id: Mapped[int] = _id()
    run_date: Mapped[date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="running")


class AutomationAction(Base):
    __tablename__ = "automation_action"
    id: Mapped[int] = _id()
    run_id: Mapped[int] = mapped_column(ForeignKey("automation_run.id"), index=True)
    # e.g. "reminder:first:invoice:42" — the same effect can only ever be recorded once.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    status: Mapped[str] = mapped_column(String(10), default="done")  # done | failed
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
