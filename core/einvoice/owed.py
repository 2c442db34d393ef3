"""Facturas still owed: invoices paid in full while electronic invoicing was on whose factura
could not be issued at the time (a client's cédula failing its check, a consumidor final
above the limit, the business's RUC not set yet).

The payment always stands (``triggers``): the refusal is audited as ``einvoice.not_issued``
with its reason. This is where the owner sees those invoices with the reason in their
language, fixes the cause (the client's identification, the business details) and issues
them. A late factura is dated the day it is issued: the SRI refuses a fechaEmision outside
its window (code 65), and the law asks for the document when it is made, not backdated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require
from core.einvoice import transmission
from core.einvoice.certificates import is_configured
from core.einvoice.codes import FACTURA
from core.einvoice.issue import issue_factura
from core.einvoice.triggers import issue_or_audit
from core.models import AuditEntry, Client, ElectronicDocument, Invoice
from core.platform import settings
from core.platform.clock import now
from core.platform.db import reading, unit_of_work
from core.platform.errors import Conflict

NOT_ISSUED = "einvoice.not_issued"


@dataclass(frozen=True)
class Owed:
    invoice_id: int
    number: str
    client: str
    total: Decimal
    paid_at: datetime | None
    reason: str  # an i18n key (or the text of an unexpected error)
    params: dict[str, str]


def _owed(s: Session) -> list[Owed]:
    """Paid invoices with a refused factura and none issued since, oldest first; the latest
    refusal is the reason shown."""
    has_factura = (
        select(ElectronicDocument.id)
        .where(
            ElectronicDocument.invoice_id == Invoice.id,
            ElectronicDocument.doc_type == FACTURA,
        )
        .exists()
    )
    rows = s.execute(
        select(Invoice, Client.name, AuditEntry.details)
        .join(AuditEntry, (AuditEntry.target_id == Invoice.id))
        .join(Client, Client.id == Invoice.client_id)
        .where(
            AuditEntry.action == NOT_ISSUED,
            AuditEntry.target_type == "invoice",
            Invoice.status == "paid",
            Invoice.total > 0,
            ~has_factura,
        )
        .order_by(Invoice.id, AuditEntry.id)
    ).all()
    latest: dict[int, Owed] = {}
    for invoice, client, details in rows:
        if (details or {}).get("doc_type") != FACTURA:
            continue  # a refused nota de crédito is the refund screen's, not a factura owed
        latest[invoice.id] = Owed(
            invoice.id,
            invoice.number or f"#{invoice.id}",
            client,
            invoice.total,
            invoice.paid_at,
            str(details.get("reason", "")),
            {k: str(v) for k, v in (details.get("params") or {}).items()},
        )
    return list(latest.values())


def owed(actor: Actor) -> list[Owed]:
    """What the billing staff sees: the facturas still to issue and why each was refused."""
    require(actor, "billing")
    with reading() as s:
        return _owed(s)


@dataclass(frozen=True)
class Issued:
    issued: int
    refused: int


def issue_owed(actor: Actor, *, at: datetime | None = None) -> Issued:
    """Issue every factura still owed, each in its own savepoint: one still refused (its
    cause not fixed yet) is audited again and never stops the others. Issued ones go to the
    SRI right after the commit when the business is connected."""
    require(actor, "billing")
    at = at or now()
    with unit_of_work() as s:
        if not is_configured(s):
            raise Conflict("einvoice.error.no_certificate")
        ids = [o.invoice_id for o in _owed(s)]
        done: list[int] = []
        for invoice in s.scalars(select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.id)):
            doc = issue_or_audit(s, actor, invoice, FACTURA, partial(issue_factura, s, invoice, at))
            if doc is not None:
                done.append(doc.id)
        if done and settings.get_bool(transmission.TRANSMIT, session=s):
            transmission.send_after_commit(s, done, at)
    return Issued(len(done), len(ids) - len(done))
