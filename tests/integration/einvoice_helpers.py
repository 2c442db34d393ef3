"""Shared set-up for the electronic-invoicing tests: the business, its certificate, a payment."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import cache

from lxml import etree
from sqlalchemy import select

from core import billing
from core.access import Actor
from core.einvoice import certificates
from core.models import Client, ElectronicDocument
from core.platform import settings
from core.platform.db import read_session, unit_of_work
from sandbox.demo_certificate import make_p12

BUSINESS_RUC = "1790011674001"
P12_PASSWORD = "clave-del-certificado"
AT = datetime(2026, 11, 26, 15, 0)  # naive UTC: 10:00 in Ecuador
CEDULA = "1710034065"
RUC_CLIENT = "1760013210001"


@cache
def p12(
    ruc: str = BUSINESS_RUC, *, start: datetime = datetime(2026, 1, 1), days: int = 730
) -> bytes:
    return make_p12(
        ruc=ruc, holder="HOSTING EJEMPLO S.A.", password=P12_PASSWORD, not_before=start, days=days
    )


def set_up_business(owner: Actor, *, certificate: bool = True) -> None:
    settings.put(owner, "business.ruc", BUSINESS_RUC)
    settings.put(owner, "business.address", "Av. Amazonas N00-00, Quito")
    settings.put(owner, "business.name", "Hosting Ejemplo S.A.")
    if certificate:
        certificates.upload(owner, p12(), P12_PASSWORD, at=AT)


def identify(client_id: int, tax_id_type: str, tax_id: str | None) -> None:
    with unit_of_work() as s:
        client = s.get_one(Client, client_id)
        client.tax_id_type, client.tax_id = tax_id_type, tax_id


def pay(owner: Actor, invoice_id: int, amount: str = "11.50", method: str = "transfer") -> None:
    billing.record_payment(
        owner, [invoice_id], Decimal(amount), method=method, reference="T1", at=AT
    )


def documents(invoice_id: int | None = None) -> list[ElectronicDocument]:
    with read_session() as s:
        stmt = select(ElectronicDocument).order_by(ElectronicDocument.id)
        if invoice_id is not None:
            stmt = stmt.where(ElectronicDocument.invoice_id == invoice_id)
        rows = list(s.scalars(stmt))
        for row in rows:
            s.expunge(row)
        return rows


def tree(doc: ElectronicDocument) -> etree._Element:
    return etree.fromstring(doc.xml_signed.encode("utf-8"))
