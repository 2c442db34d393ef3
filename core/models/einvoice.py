"""SRI electronic documents: each factura (01) and nota de crédito (04) issued, as signed.

A row is written in the same transaction that takes its secuencial, so a number is never
skipped or reused; the signed XML is kept byte for byte (what the SRI receives), and the SRI
side of issue 17 moves ``status`` on from ``signed`` (``core.einvoice.states``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, Money, _created, _id

if TYPE_CHECKING:
    from core.models.billing import Invoice


class ElectronicDocument(Base):
    __tablename__ = "electronic_document"
    # The SRI refuses a secuencial used twice (error 45) per type and series.
    __table_args__ = (
        UniqueConstraint("doc_type", "establishment", "emission_point", "sequential"),
    )
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(2))  # "01" factura, "04" nota de crédito
    environment: Mapped[int] = mapped_column(Integer)  # 1 pruebas, 2 producción
    establishment: Mapped[str] = mapped_column(String(3))
    emission_point: Mapped[str] = mapped_column(String(3))
    sequential: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(17))  # "001-001-000000123"
    access_key: Mapped[str] = mapped_column(String(49), unique=True)
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    xml_signed: Mapped[str] = mapped_column(Text)
    xml_authorised: Mapped[str | None] = mapped_column(Text)
    authorisation_number: Mapped[str | None] = mapped_column(String(49))
    authorised_at: Mapped[datetime | None] = mapped_column(DateTime)
    # JSON list of {identificador, mensaje, informacionAdicional, tipo} from the SRI.
    messages: Mapped[str] = mapped_column(Text, default="[]")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The factura a nota de crédito modifies.
    modified_document_id: Mapped[int | None] = mapped_column(
        ForeignKey("electronic_document.id"), index=True
    )
    reason: Mapped[str | None] = mapped_column(Text)  # the credit note's motivo
    total: Mapped[Decimal] = mapped_column(Money)
    created_at: Mapped[datetime] = _created()
    invoice: Mapped[Invoice] = relationship()
    modified_document: Mapped[ElectronicDocument | None] = relationship(remote_side=[id])
