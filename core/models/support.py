"""The support desk: departments, tickets and their messages, canned replies, channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, _created, _id


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str | None] = mapped_column(String(100))  # None: the Spanish name
    email: Mapped[str | None] = mapped_column(String(254))
    client_visible: Mapped[bool] = mapped_column(Boolean, default=True)
    staff_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_status_sla", "status", "sla_due_at"),
        # The triage queue's order and the desk's counts, read from the index alone.
        Index(
            "ix_ticket_queue", "status", "sla_due_at", "breached", "last_reply_at", "assignee_id"
        ),
    )
    id: Mapped[int] = _id()
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    subject: Mapped[str] = mapped_column(String(200))
    # open | answered | customer_reply | in_progress | on_hold | closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(8), default="medium")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The SLA clock's start (None: created_at; a reopened ticket starts a new clock); the
    # resolution deadline; whether a deadline was missed. sla_due_at is the next deadline.
    sla_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_reply_at: Mapped[datetime] = _created()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created()


class TicketMessage(Base):
    __tablename__ = "ticket_message"
    id: Mapped[int] = _id()
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # staff-only note
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = _created()


class CannedReply(Base):
    __tablename__ = "canned_reply"
    id: Mapped[int] = _id()
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="es")


class SupportChannel(Base):
    __tablename__ = "support_channel"
    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(String(20))  # whatsapp|phone|email|chat|status
    label: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str | None] = mapped_column(String(100))  # None: the Spanish label
    target: Mapped[str] = mapped_column(String(300))
    hours: Mapped[str] = mapped_column(String(100), default="24/7")
    # kb (knowledge base) is a kind too; hours: core.rules.sla.parse_hours; prefill: WhatsApp
    # text.
    prefill: Mapped[str | None] = mapped_column(String(300))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
