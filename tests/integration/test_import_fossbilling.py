"""Issue 18, acceptance 1 for FOSSBilling: the 0.8.5 schema with its §7 edge cases
(tests/integration/foss_fixture.py) imported into our book, on the machine's MariaDB."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import accounts, imports
from core.models import (
    Client,
    CreditEntry,
    ImportLink,
    Invoice,
    InvoiceItem,
    Payment,
    Product,
    Service,
    Ticket,
    TicketMessage,
)
from core.platform.db import read_session
from tests import mariadb
from tests.integration import foss_fixture as fx

pytestmark = pytest.mark.skipif(not mariadb.available(), reason="MariaDB is not running")
AT = datetime(2026, 12, 4, 15, 0)


@pytest.fixture(scope="module")
def source():
    name = f"imp_foss_{os.getpid()}"
    url = mariadb.create(name, "fossbilling-0.8.5.sql")
    conn = mariadb.connect(name)
    fx.build(conn)
    conn.close()
    yield url
    mariadb.drop(name)


def _target(s, model, kind: str, sid: str):
    link = s.scalars(
        select(ImportLink).where(
            ImportLink.system == "fossbilling", ImportLink.kind == kind, ImportLink.source_id == sid
        )
    ).one()
    return s.get_one(model, link.target_id)


def _counts(s) -> dict:
    models = (Client, Product, Service, Invoice, InvoiceItem, Payment, Ticket, TicketMessage)
    return {m.__tablename__: s.scalar(select(func.count()).select_from(m)) for m in models}


def test_import_matches_the_fixture_and_a_rerun_changes_nothing(database, source):
    dry = imports.run("fossbilling", source=source, dry_run=True, at=AT).as_json()
    with read_session() as s:
        assert all(n == 0 for n in _counts(s).values())
    report = imports.run("fossbilling", source=source, at=AT)
    out = report.as_json()
    assert {k: out["created"][k] for k in fx.EXPECTED_CREATED} == fx.EXPECTED_CREATED
    assert dry["created"] == out["created"] and dry["problems"] == out["problems"]
    reasons = {(p["kind"], p["source_id"], p["reason"]) for p in out["problems"]}
    assert {
        ("clients", "3", "currency_not_usd"),
        ("users", "2", "password_reset"),
        ("products", "1", "zero_price_enabled"),
        ("products", "1", "cycle_not_supported"),  # the weekly price
        ("services", "3", "cycle_not_supported"),  # '45D'
        ("invoices", "6", "currency_not_usd"),
        ("payments", "2", "not_a_number"),
        ("payments", "3", "not_processed"),
        ("servers", "1", "token_not_imported"),
    } <= reasons
    assert out["balance_mismatches"] == 0
    with read_session() as s:
        lucia = _target(s, Client, "clients", "1")
        assert (lucia.name, lucia.company, lucia.phone) == (
            "Lucía Mora",
            "Mora & Hijos",
            "+593 42123456",
        )
        assert lucia.credit_balance == Decimal("7.25")  # the ledger's net sum (§7.11)
        assert s.scalars(select(CreditEntry.amount)).all() == [Decimal("7.25")]
        user = accounts.user_by_email(s, "lucia@cliente.test")
        assert user is not None and accounts.verify_password("secreto-123", user.password_hash)
        pedro = accounts.user_by_email(s, "pedro@cliente.test")
        assert pedro is not None and pedro.password_hash is None
        starter = _target(s, Product, "products", "1")
        assert starter.whm_package == "starter"
        assert {p.cycle: (p.price, p.setup_fee) for p in starter.prices} == {
            "monthly": (Decimal("3.50"), Decimal("0.00")),
            "annually": (Decimal("35.00"), Decimal("5.00")),
        }
        once = _target(s, Product, "products", "2")
        assert [(p.cycle, p.price) for p in once.prices] == [("onetime", Decimal("20.00"))]
        want = {
            "1": ("active", "monthly", fx.TODAY + timedelta(days=20), Decimal("3.10"), "lucia.com"),
            "2": (
                "suspended",
                "annually",
                fx.TODAY - timedelta(days=10),
                Decimal("35.00"),
                "pedro.ec",
            ),
            "4": ("cancelled", "onetime", None, Decimal("20.00"), ""),
            "5": ("pending", "free", None, Decimal("0.00"), ""),
        }
        for sid, expected in want.items():
            svc = _target(s, Service, "services", sid)
            got = (
                svc.status,
                svc.billing_cycle,
                svc.next_due_date,
                svc.recurring_amount,
                svc.domain,
            )
            assert got == expected, sid
        assert _target(s, Service, "services", "1").panel_username == "lucia"
        assert _target(s, Service, "services", "2").suspend_reason == "Falta de pago"
        inv1 = _target(s, Invoice, "invoices", "1")
        assert (inv1.number, inv1.status, inv1.subtotal, inv1.tax_total, inv1.total) == (
            "FOSS00001",
            "paid",
            Decimal("30.00"),
            Decimal("2.40"),
            Decimal("32.40"),
        )
        assert (inv1.amount_paid, inv1.credit_applied) == (Decimal("20.00"), Decimal("12.40"))
        inv2 = _target(s, Invoice, "invoices", "2")
        assert (inv2.status, inv2.balance, inv2.number) == ("unpaid", Decimal("3.10"), "PRO00002")
        line = s.scalars(select(InvoiceItem).where(InvoiceItem.invoice_id == inv2.id)).one()
        assert (line.kind, line.period_start) == ("renewal", fx.TODAY + timedelta(days=20))
        inv3 = _target(s, Invoice, "invoices", "3")
        assert (inv3.status, inv3.number) == ("draft", None)
        assert _target(s, Invoice, "invoices", "4").status == "cancelled"
        assert _target(s, Invoice, "invoices", "5").status == "refunded"
        assert s.scalars(select(Payment.amount)).all() == [Decimal("20.00")]
        # Money per client: Lucía owes 3.10 (invoice 2) and has 7.25 credit; Pedro owes nothing.
        for sid, open_, credit in (("1", "3.10", "7.25"), ("2", "0", "0.00")):
            client = _target(s, Client, "clients", sid)
            owed = s.scalar(
                select(func.coalesce(func.sum(Invoice.balance), 0)).where(
                    Invoice.client_id == client.id, Invoice.status == "unpaid"
                )
            )
            assert (Decimal(owed), client.credit_balance) == (Decimal(open_), Decimal(credit)), sid
        t1 = _target(s, Ticket, "tickets", "1")
        assert (t1.subject, t1.status, t1.priority) == ("Correo <caído>", "on_hold", "medium")
        authors = s.scalars(
            select(TicketMessage.author_id)
            .where(TicketMessage.ticket_id == t1.id)
            .order_by(TicketMessage.id)
        ).all()
        admin = accounts.user_by_email(s, "root@hosting.test")
        assert admin is not None and authors == [user.id, admin.id]
        t2 = _target(s, Ticket, "tickets", "2")
        assert s.get_one(Client, t2.client_id).email == "guest@fb.test"
        before = _counts(s)
    again = imports.run("fossbilling", source=source, at=AT).as_json()
    assert all(n == 0 for n in again["created"].values())
    with read_session() as s:
        assert _counts(s) == before


def test_the_source_is_never_written(database, source):
    """The session is READ ONLY on the server: a write through it is refused."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from core.imports.source import Source

    with Source(source) as src:
        with pytest.raises(OperationalError):
            src.conn.execute(text("UPDATE client SET first_name = 'X' WHERE id = 1"))
