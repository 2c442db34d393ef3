"""The owner's register of electronic documents: every document, its state and the SRI's
messages (translated where the code is known, the SRI's own text always kept beside it), the
exchanges with the SRI, and a month's export for the accountant (the XMLs in a zip and a CSV
summary). Also what ``python -m core.cli einvoice`` prints.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from core.access import Actor, get_scoped, scoped
from core.einvoice.delivery import xml_of
from core.models import Client, ElectronicDocument, Invoice, SriExchange
from core.platform import i18n
from core.platform.db import reading
from core.platform.errors import ValidationError


@dataclass(frozen=True)
class Row:
    id: int
    access_key: str
    doc_type: str
    number: str
    invoice_id: int
    invoice: str  # the internal invoice number
    client_id: int
    client: str
    issued_on: date
    total: Decimal
    status: str
    authorisation_number: str | None
    authorised_at: datetime | None
    attempts: int
    next_attempt_at: datetime | None
    messages: list[dict[str, str]]
    modifies: str  # the number of the factura a credit note modifies


@dataclass(frozen=True)
class Message:
    code: str
    text: str  # ours, in the reader's language, when we know the code
    original: str  # the SRI's mensaje and informacionAdicional, verbatim
    kind: str  # ERROR | ADVERTENCIA | INFORMATIVO


def translate(message: dict[str, str], lang: str) -> Message:
    code = (message.get("identificador") or "").strip()
    key = f"sri.code.{code}"
    text = i18n.t(key, lang) if i18n.has(key) else i18n.t("sri.code.unknown", lang)
    original = " — ".join(
        part
        for part in (message.get("mensaje", ""), message.get("informacionAdicional", ""))
        if part
    )
    return Message(code, text, original, message.get("tipo", ""))


def month_bounds(month: str) -> tuple[date, date]:
    """``YYYY-MM`` as [first day, first day of the next month)."""
    try:
        first = datetime.strptime(month.strip(), "%Y-%m").date()
    except ValueError:
        raise ValidationError("sri.error_month") from None
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def documents(
    actor: Actor, *, status: str | None = None, month: str | None = None, limit: int | None = None
) -> list[Row]:
    """The register, newest first, optionally one state or one month (of issue)."""
    with reading() as s:
        stmt = scoped(actor, ElectronicDocument, "billing").order_by(
            ElectronicDocument.issued_on.desc(), ElectronicDocument.id.desc()
        )
        if status:
            stmt = stmt.where(ElectronicDocument.status == status)
        if month:
            first, nxt = month_bounds(month)
            stmt = stmt.where(
                ElectronicDocument.issued_on >= first, ElectronicDocument.issued_on < nxt
            )
        if limit:
            stmt = stmt.limit(limit)
        docs = list(s.scalars(stmt))
        invoices = (
            dict(
                s.execute(
                    select(Invoice.id, Invoice.number).where(
                        Invoice.id.in_({d.invoice_id for d in docs})
                    )
                )
                .tuples()
                .all()
            )
            if docs
            else {}
        )
        clients = (
            dict(
                s.execute(
                    select(Client.id, Client.name).where(Client.id.in_({d.client_id for d in docs}))
                )
                .tuples()
                .all()
            )
            if docs
            else {}
        )
        modified = {d.modified_document_id for d in docs if d.modified_document_id}
        numbers = (
            dict(
                s.execute(
                    select(ElectronicDocument.id, ElectronicDocument.number).where(
                        ElectronicDocument.id.in_(modified)
                    )
                )
                .tuples()
                .all()
            )
            if modified
            else {}
        )
        return [
            Row(
                d.id,
                d.access_key,
                d.doc_type,
                d.number,
                d.invoice_id,
                str(invoices.get(d.invoice_id, d.invoice_id)),
                d.client_id,
                clients.get(d.client_id, ""),
                d.issued_on,
                d.total,
                d.status,
                d.authorisation_number,
                d.authorised_at,
                d.attempts,
                d.next_attempt_at,
                json.loads(d.messages or "[]"),
                numbers.get(d.modified_document_id or 0, ""),
            )
            for d in docs
        ]


def exchanges(actor: Actor, document_id: int) -> list[SriExchange]:
    with reading() as s:
        get_scoped(s, actor, ElectronicDocument, document_id, "billing")
        return list(
            s.scalars(
                select(SriExchange)
                .where(SriExchange.document_id == document_id)
                .order_by(SriExchange.id)
            )
        )


def by_access_key(actor: Actor, access_key: str) -> ElectronicDocument | None:
    with reading() as s:
        return s.scalars(
            scoped(actor, ElectronicDocument, "billing").where(
                ElectronicDocument.access_key == access_key.strip()
            )
        ).first()


CSV_COLUMNS = (
    "tipo",
    "numero",
    "fecha_emision",
    "clave_acceso",
    "estado",
    "numero_autorizacion",
    "fecha_autorizacion",
    "cliente",
    "factura_interna",
    "modifica",
    "total",
)


def export_month(actor: Actor, month: str) -> tuple[bytes, bytes]:
    """The month's documents for the accountant: a zip of their XMLs (authorised where the SRI
    authorised them) and a CSV summary, both in issue order."""
    first, _ = month_bounds(month)
    rows = sorted(documents(actor, month=month), key=lambda r: (r.issued_on, r.id))
    buffer = io.BytesIO()
    with reading() as s, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            doc = s.get_one(ElectronicDocument, row.id)
            file = xml_of(doc)
            archive.writestr(f"{first:%Y-%m}/{file.filename}", file.data)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.doc_type,
                row.number,
                row.issued_on.isoformat(),
                row.access_key,
                row.status,
                row.authorisation_number or "",
                row.authorised_at.isoformat(sep=" ") if row.authorised_at else "",
                row.client,
                row.invoice,
                row.modifies,
                f"{row.total:.2f}",
            ]
        )
    return buffer.getvalue(), text.getvalue().encode("utf-8")
