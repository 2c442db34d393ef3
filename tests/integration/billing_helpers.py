"""Shared helpers for the billing integration tests (a real database per engine)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select

from core import billing
from core.access import Actor
from core.models import AuditEntry, Client, CreditEntry, Invoice, Payment, TransferReceipt, Upload
from core.platform import settings
from core.platform.db import read_session, unit_of_work

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def gross_prices(owner: Actor) -> None:
    """Line amounts include IVA, so an invoice's total is exactly the amount given."""
    settings.put(owner, "prices_include_tax", True)


def bill(
    owner: Actor,
    client_id: int,
    amount: str,
    *,
    issued: date | None = None,
    due: date | None = None,
    draft: bool = False,
) -> int:
    return billing.create_invoice(
        owner,
        client_id,
        [billing.LineInput(description="Hosting", amount=amount)],
        issued_on=issued,
        due_on=due,
        draft=draft,
    )


def invoice(invoice_id: int) -> Invoice:
    with read_session() as s:
        row = s.get(Invoice, invoice_id)
        assert row is not None
        s.expunge(row)
        return row


def credit(client_id: int) -> Decimal:
    with read_session() as s:
        return s.execute(select(Client.credit_balance).where(Client.id == client_id)).scalar_one()


def counts() -> dict[str, int]:
    """Rows of every money table, to prove that a refused action changed nothing."""
    with read_session() as s:
        return {
            model.__tablename__: s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Invoice, Payment, CreditEntry, TransferReceipt, Upload)
        }


def money_state(client_id: int) -> tuple:
    with read_session() as s:
        invoices = s.execute(
            select(Invoice.id, Invoice.status, Invoice.balance, Invoice.amount_paid)
            .where(Invoice.client_id == client_id)
            .order_by(Invoice.id)
        ).all()
        balance = s.execute(
            select(Client.credit_balance).where(Client.id == client_id)
        ).scalar_one()
    return (balance, tuple(tuple(r) for r in invoices), counts())


def audit_actions() -> list[str]:
    with read_session() as s:
        return list(s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def check_ledger(client_id: int) -> None:
    """The books balance: credit = sum of its ledger; each invoice's balance is its total
    less what was paid and credited; payments on an invoice add up to what it records."""
    with read_session() as s:
        client = s.get(Client, client_id)
        ledger = s.execute(
            select(func.coalesce(func.sum(CreditEntry.amount), 0)).where(
                CreditEntry.client_id == client_id
            )
        ).scalar_one()
        assert client.credit_balance == Decimal(ledger)
        assert client.credit_balance >= 0
        for inv in s.scalars(select(Invoice).where(Invoice.client_id == client_id)):
            paid = s.execute(
                select(func.coalesce(func.sum(Payment.amount), 0)).where(
                    Payment.invoice_id == inv.id
                )
            ).scalar_one()
            assert inv.amount_paid == Decimal(paid), inv.number
            assert inv.balance >= 0, inv.number
            if inv.status in ("unpaid", "paid"):
                assert inv.balance == inv.total - inv.amount_paid - inv.credit_applied
            if inv.status == "paid":
                assert inv.balance == 0


def new_client(name: str, **fields) -> int:
    with unit_of_work() as s:
        client = Client(name=name, email=f"{name.lower().replace(' ', '')}@test.ec", **fields)
        s.add(client)
        s.flush()
        return client.id


def pdf_text(data: bytes) -> str:
    """The text a reader gets from a PDF (pypdf's extraction: the embedded font's glyphs
    mapped back to characters)."""
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
