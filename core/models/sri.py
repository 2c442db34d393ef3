"""Every request made to the SRI's web services and its raw answer, kept as sent and received.

The research's rule (§4.8): persist the request bytes, the raw response, the parsed outcome and
the time, so a disputed document can be shown exactly as the SRI answered it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, _id
from core.platform.clock import now


class SriExchange(Base):
    __tablename__ = "sri_exchange"
    id: Mapped[int] = _id()
    document_id: Mapped[int] = mapped_column(ForeignKey("electronic_document.id"), index=True)
    service: Mapped[str] = mapped_column(String(12))  # "recepcion" | "autorizacion"
    request: Mapped[str] = mapped_column(Text)  # the SOAP envelope as posted
    response: Mapped[str | None] = mapped_column(Text)  # the raw body; None when none came
    http_status: Mapped[int | None] = mapped_column(Integer)
    # RECIBIDA, DEVUELTA, AUTORIZADO, NO AUTORIZADO, EN PROCESO, NOT_FOUND, or an error kind:
    # timeout, connection, fault, unexpected.
    outcome: Mapped[str] = mapped_column(String(20))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)


class MailAttachment(Base):
    """A file sent with one outbox message (the RIDE and the authorised XML of a document)."""

    __tablename__ = "mail_attachment"
    id: Mapped[int] = _id()
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail_outbox.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)
