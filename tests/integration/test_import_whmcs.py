"""Issue 18, acceptance 1, 2 and 4 for WHMCS: the 8.4.0 schema with every §7 edge case
(tests/integration/whmcs_fixture.py) imported into our book, on the machine's MariaDB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import accounts, automation, imports
from core.models import (
    AuditEntry,
    Client,
    CreditEntry,
    ImportLink,
    Invoice,
    InvoiceItem,
    MailOutbox,
    Payment,
    Product,
    ProductPrice,
    Server,
    Service,
    Ticket,
    TicketMessage,
    User,
)
from core.platform.db import read_session
from tests import mariadb
from tests.integration import whmcs_fixture as fx

pytestmark = pytest.mark.skipif(not mariadb.available(), reason="MariaDB is not running")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def source():
    name = f"imp_whmcs_{os.getpid()}"
    url = mariadb.create(name, "whmcs-8.4.0.sql")
    conn = mariadb.connect(name)
    fx.build(conn)
    conn.close()
    yield url
    mariadb.drop(name)


AT = datetime(2026, 12, 4, 15, 0)


def _snapshot(s) -> dict:
    tables = (Client, User, Product, ProductPrice, Server, Service, Invoice, InvoiceItem)
    tables += (Payment, Ticket, TicketMessage, CreditEntry, ImportLink)
    return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in tables}


def _client(s, sid: str) -> Client:
    link = s.scalars(
        select(ImportLink).where(ImportLink.kind == "clients", ImportLink.source_id == sid)
    ).one()
    return s.get_one(Client, link.target_id)


def _service(s, sid: str) -> Service:
    link = s.scalars(
        select(ImportLink).where(ImportLink.kind == "services", ImportLink.source_id == sid)
    ).one()
    return s.get_one(Service, link.target_id)


def _invoice(s, sid: str) -> Invoice:
    link = s.scalars(
        select(ImportLink).where(ImportLink.kind == "invoices", ImportLink.source_id == sid)
    ).one()
    return s.get_one(Invoice, link.target_id)


def test_dry_run_writes_nothing_and_reports(database, source):
    report = imports.run("whmcs", source=source, dry_run=True, at=AT)
    with read_session() as s:
        assert all(n == 0 for n in _snapshot(s).values())
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == 0
    out = report.as_json()
    assert out["dry_run"] is True
    assert {k: out["created"][k] for k in fx.EXPECTED_CREATED} == fx.EXPECTED_CREATED
    reasons = {(p["kind"], p["source_id"], p["reason"]) for p in out["problems"]}
    assert ("clients", "3", "currency_not_usd") in reasons
    assert ("invoices", "105", "impossible_date") in reasons
    assert ("services", "7", "unknown_product") in reasons
    assert out["balance_mismatches"] == 1


def test_import_matches_the_fixture(database, source):
    report = imports.run("whmcs", source=source, at=AT)
    out = report.as_json()
    assert {k: out["created"][k] for k in fx.EXPECTED_CREATED} == fx.EXPECTED_CREATED
    reasons = {(p["kind"], p["source_id"], p["reason"]) for p in out["problems"]}
    expected = {
        ("clients", "3", "currency_not_usd"),  # §7.24
        ("clients", "2", "truncated"),  # §7.17
        ("users", "10", "owns_several_accounts"),  # §7.12
        ("users", "11", "password_reset"),  # §7.18 md5:salt
        ("users", "staff:2", "password_reset"),
        ("servers", "2", "not_cpanel_server"),  # §7.21
        ("servers", "1", "token_not_imported"),  # §7.19
        ("products", "5", "no_usd_price"),  # §7.3
        ("services", "4", "unknown_server"),  # §7.21: imported without a server
        ("services", "5", "cycle_not_offered"),  # §7.4
        ("services", "5", "truncated"),
        ("services", "9", "no_due_date"),  # §7.2
        ("invoices", "103", "duplicate_number"),  # §7.6
        ("invoices", "103", "paid_not_balanced"),  # §7.7
        ("payments", "5", "refund"),  # §7.8
        ("tickets", "2", "unknown_ticket_status"),  # §7.15
        ("tickets", "1", "unknown_admin"),  # §7.13
    }
    assert expected <= reasons
    with read_session() as s:
        # Clients: entities and mojibake undone, credit exact, one opening credit entry.
        c1, c2 = _client(s, "1"), _client(s, "2")
        assert c1.name == "Seán O'Brien" and c1.company == "Smith & Sons"
        assert c1.credit_balance == Decimal("12.50")
        assert s.scalars(
            select(CreditEntry.amount).where(CreditEntry.client_id == c1.id)
        ).all() == [Decimal("12.50")]
        assert c2.name == "José Pérez" and len(c2.company or "") == 200
        assert c2.email == c1.email == "sean@cliente.test"  # §7.12: both accounts come over
        # Logins: bcrypt kept (signs in as before), md5 → set-password later, nothing sent.
        sean = accounts.user_by_email(s, "sean@cliente.test")
        assert sean is not None and sean.client_id == c1.id
        assert accounts.verify_password("secreto-123", sean.password_hash)
        maria = accounts.user_by_email(s, "maria@cliente.test")
        assert maria is not None and maria.password_hash is None
        assert s.scalar(select(func.count()).select_from(MailOutbox)) == 0
        staff = accounts.user_by_email(s, "luis@hosting.test")
        assert staff is not None and staff.role == "staff" and not staff.active
        # Products: -1.00 off, 0.00 a real free price, one-time in `monthly`.
        basic = s.scalars(select(Product).where(Product.name == "Plan Básico")).one()
        assert {p.cycle: p.price for p in basic.prices} == {
            "monthly": Decimal("5.00"),
            "quarterly": Decimal("14.25"),
            "semiannually": Decimal("27.00"),
            "annually": Decimal("50.00"),
        }
        pro = s.scalars(select(Product).where(Product.name == "Plan Pro")).one()
        assert {p.cycle: p.price for p in pro.prices}["quarterly"] == Decimal("0.00")
        assert pro.whm_package == "pro"
        once = s.scalars(select(Product).where(Product.name == "Instalación")).one()
        assert [(p.cycle, p.price) for p in once.prices] == [("onetime", Decimal("30.00"))]
        # Servers: no secrets, inactive until the owner enters the token.
        server = s.scalars(select(Server)).one()
        assert server.name == "uio1" and server.token_encrypted is None and not server.active
        # Services: statuses, cycles, next due dates, amounts as the fixture says.
        want = {
            "1": ("active", "monthly", fx.RENEWAL_DUE, Decimal("4.00")),
            "2": ("active", "semiannually", date.fromisoformat(fx.d(10)), Decimal("27.00")),
            "3": ("active", "free", None, Decimal("0.00")),
            "4": ("cancelled", "onetime", None, Decimal("30.00")),
            "5": ("suspended", "biennially", date.fromisoformat(fx.d(-40)), Decimal("200.00")),
            "6": ("active", "monthly", date.fromisoformat(fx.d(20)), Decimal("12.00")),
            "9": ("active", "quarterly", None, Decimal("14.25")),
        }
        for sid, (status, cycle, due, amount) in want.items():
            svc = _service(s, sid)
            assert (svc.status, svc.billing_cycle, svc.next_due_date, svc.recurring_amount) == (
                status,
                cycle,
                due,
                amount,
            ), sid
        # Addons: services of their own, on the parent's domain, own cycle and status (§7.22).
        ip, backup = _service(s, "addon:1"), _service(s, "addon:2")
        assert (ip.product.name, ip.status, ip.billing_cycle, ip.recurring_amount) == (
            "IP dedicada",
            "active",
            "monthly",
            Decimal("3.00"),
        )
        assert ip.domain == "sean.test" and ip.next_due_date == date.fromisoformat(fx.d(12))
        assert (backup.product.name, backup.status, backup.billing_cycle) == (
            "Backup extra",
            "suspended",
            "annually",
        )
        assert _service(s, "1").panel_username == "seantest"
        assert _service(s, "2").domain == "shop.sean.test"
        assert _service(s, "3").server_id is None and _service(s, "3").domain == ""
        assert _service(s, "5").panel_username == "averyveryverylon"
        # Invoices: statuses, numbers, money.
        i101 = _invoice(s, "101")
        assert (i101.number, i101.status, i101.subtotal, i101.tax_total, i101.total) == (
            "2024-0001",
            "paid",
            Decimal("4.00"),
            Decimal("0.60"),
            Decimal("4.60"),
        )
        assert (i101.amount_paid, i101.credit_applied, i101.balance) == (
            Decimal("2.60"),
            Decimal("2.00"),
            Decimal("0.00"),
        )
        i102 = _invoice(s, "102")
        assert (i102.number, i102.status, i102.balance) == ("102", "unpaid", Decimal("27.00"))
        assert _invoice(s, "103").number == "2024-0001-103"
        i104 = _invoice(s, "104")
        assert (i104.status, i104.amount_paid, i104.balance) == (
            "unpaid",
            Decimal("5.00"),
            Decimal("7.00"),
        )
        assert _invoice(s, "106").status == "cancelled"
        i107 = _invoice(s, "107")
        assert (i107.status, i107.number) == ("draft", None)
        assert _invoice(s, "108").status == "refunded"
        # Payments: the refund nets out; add-funds has no invoice.
        amounts = sorted(s.scalars(select(Payment.amount)))
        assert amounts == sorted(
            Decimal(x) for x in ("2.60", "199.00", "5.00", "4.00", "-4.00", "12.50")
        )
        assert s.scalar(select(func.count()).where(Payment.invoice_id.is_(None))) == 1
        # Money per client, as the fixture says: open balance and credit.
        for sid, open_, credit in (
            ("1", "27.00", "12.50"),
            ("4", "0", "0.00"),
            ("5", "7.00", "0.00"),
        ):
            client = _client(s, sid)
            owed = s.scalar(
                select(func.coalesce(func.sum(Invoice.balance), 0)).where(
                    Invoice.client_id == client.id, Invoice.status == "unpaid"
                )
            )
            assert (Decimal(owed), client.credit_balance) == (Decimal(open_), Decimal(credit)), sid
        # Ours against the source; client 5 differs by the skipped 9.99.
        assert [(m.client, m.source_open, m.our_open) for m in report.mismatches] == [
            ("5", "16.99", "7.00")
        ]
        # Tickets: first message from tbltickets.message, replies, guest, statuses.
        t1 = s.scalars(select(Ticket).where(Ticket.number == "ABC-123456")).one()
        assert t1.subject == 'No carga "mi web"' and t1.status == "answered"
        assert t1.priority == "high" and t1.client_id == c1.id
        bodies = s.scalars(
            select(TicketMessage.body)
            .where(TicketMessage.ticket_id == t1.id)
            .order_by(TicketMessage.id)
        ).all()
        assert bodies[0] == "Hola, la web da error 500 <ayuda>"
        assert bodies[2].startswith("[Old Name]")
        assert len(bodies) == 4
        t2 = s.scalars(select(Ticket).where(Ticket.number == "XYZ-654321")).one()
        assert t2.status == "open" and t2.priority == "low"
        assert s.get_one(Client, t2.client_id).email == "guest@otro.test"
        assert accounts.user_by_email(s, "guest@otro.test") is None
        # Imported, not provisioned: no panel call, no job, one audit entry.
        assert s.scalar(select(func.count()).where(Service.panel_error.is_not(None))) == 0
        assert s.scalars(select(AuditEntry.action)).all() == ["import.run"]


def test_second_run_changes_nothing(database, source):
    imports.run("whmcs", source=source, at=AT)
    with read_session() as s:
        before = _snapshot(s)
    again = imports.run("whmcs", source=source, at=AT).as_json()
    assert all(n == 0 for n in again["created"].values())
    with read_session() as s:
        assert _snapshot(s) == before


def test_a_later_run_picks_up_what_is_new(database, source):
    """Friday's import, then Monday's: a new client, and invoice 102 paid meanwhile in WHMCS
    (its service's due date moved on six months) come over; nothing else changes."""
    imports.run("whmcs", source=source, at=AT)
    conn = mariadb.connect(source.rsplit("/", 1)[1])
    moved = date(2027, 6, 14)  # d(10), 2026-12-14, six months on
    try:
        mariadb.put(
            conn,
            "tblclients",
            [
                {
                    "id": 6,
                    "firstname": "Nuevo",
                    "lastname": "Lunes",
                    "email": "nuevo@cliente.test",
                    "currency": 1,
                    "credit": 0,
                    "datecreated": fx.d(0),
                    "status": "Active",
                }
            ],
        )
        mariadb.put(
            conn,
            "tblaccounts",
            [
                {
                    "id": 7,
                    "userid": 1,
                    "currency": 1,
                    "gateway": "banktransfer",
                    "date": fx.d(1) + " 09:00:00",
                    "amountin": 27.00,
                    "fees": 0,
                    "amountout": 0,
                    "transid": "TRX-7",
                    "invoiceid": 102,
                    "refundid": 0,
                }
            ],
        )
        with conn.cursor() as cur:
            cur.execute(
                "UPDATE tblinvoices SET status = 'Paid', datepaid = %s WHERE id = 102",
                (fx.d(1) + " 09:00:00",),
            )
            cur.execute("UPDATE tblhosting SET nextduedate = %s WHERE id = 2", (moved,))
        again = imports.run("whmcs", source=source, at=AT)
    finally:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM tblclients WHERE id = 6")
            cur.execute("DELETE FROM tblaccounts WHERE id = 7")
            cur.execute(
                "UPDATE tblinvoices SET status = 'Unpaid', datepaid = '0000-00-00 00:00:00' "
                "WHERE id = 102"
            )
            cur.execute("UPDATE tblhosting SET nextduedate = %s WHERE id = 2", (fx.d(10),))
        conn.close()
    out = again.as_json()
    assert out["created"]["clients"] == 1 and out["created"]["payments"] == 1
    assert out["created"]["invoices"] == 0
    assert dict(again.updated) == {"invoices": 1, "services": 1}
    with read_session() as s:
        i102 = _invoice(s, "102")
        assert (i102.status, i102.amount_paid, i102.balance) == (
            "paid",
            Decimal("27.00"),
            Decimal("0.00"),
        )
        assert _service(s, "2").next_due_date == moved


def test_next_days_run_neither_duplicates_nor_misses_a_renewal(database, source):
    """Acceptance 4: service 2's renewal is on imported invoice 102 (not billed again);
    service 1 falls due for invoicing on NEXT_DAY (billed, once)."""
    imports.run("whmcs", source=source, at=AT)
    automation.run(fx.NEXT_DAY, at=datetime.combine(fx.NEXT_DAY, datetime.min.time()))
    with read_session() as s:
        svc1, svc2 = _service(s, "1"), _service(s, "2")
        renewals = s.execute(
            select(InvoiceItem.service_id, InvoiceItem.period_start).where(
                InvoiceItem.kind == "renewal", InvoiceItem.service_id.in_([svc1.id, svc2.id])
            )
        ).all()
        assert sorted(r for r in renewals if r[1] >= fx.TODAY) == sorted(
            [(svc1.id, fx.RENEWAL_DUE), (svc2.id, date.fromisoformat(fx.d(10)))]
        )
        line = s.scalars(
            select(InvoiceItem).where(
                InvoiceItem.service_id == svc1.id, InvoiceItem.period_start == fx.RENEWAL_DUE
            )
        ).one()
        assert line.amount == Decimal("4.00")  # the service's own price, not the catalogue's
        assert s.get_one(Invoice, line.invoice_id).issued_on == fx.NEXT_DAY
        # The addon, due in 12 days, is billed by that run too, once.
        addon = _service(s, "addon:1")
        assert (
            s.scalar(
                select(func.count()).where(
                    InvoiceItem.service_id == addon.id, InvoiceItem.kind == "renewal"
                )
            )
            == 1
        )


def test_cli_json_is_one_object(database, source):
    """Acceptance 2: the shape of ``--json``."""
    env = dict(os.environ)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.cli",
            "import",
            "whmcs",
            "--source",
            source,
            "--dry-run",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
        timeout=120,
    ).stdout
    data = json.loads(out)
    assert set(data) == {"dry_run", "created", "skipped", "problems", "balance_mismatches"}
    assert data["dry_run"] is True
    kinds = {"clients", "products", "services", "invoices", "payments", "tickets", "users"}
    assert kinds <= set(data["created"]) and kinds <= set(data["skipped"])
    assert all(set(p) == {"kind", "source_id", "reason"} for p in data["problems"])
    assert isinstance(data["balance_mismatches"], int)


def test_bad_source_url_is_a_clear_error(database):
    from core.platform.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        imports.run("whmcs", source="sqlite:///nope.db")
    assert err.value.key == "imports.error.bad_url"


def test_an_imported_client_sees_only_its_own(database, source):
    """Client B never sees client A's things: imported invoices and tickets are scoped to
    the imported client that owns them (sean: client 1; carla: client 5)."""
    from core.billing.views import list_invoices
    from core.support.views import client_tickets

    imports.run("whmcs", source=source, at=AT)
    with read_session() as s:
        sean = accounts.actor_from_user(accounts.user_by_email(s, "sean@cliente.test"))
        carla = accounts.actor_from_user(accounts.user_by_email(s, "carla@cliente.test"))
        own = {_invoice(s, sid).id for sid in ("101", "102", "106", "108")}
        carlas = {_invoice(s, "104").id}
    seen = {row.id for row in list_invoices(sean, per_page=100).rows}
    assert own <= seen and not (seen & carlas)
    assert {row.id for row in list_invoices(carla, per_page=100).rows} == carlas
    assert [t.subject for t in client_tickets(sean, at=AT).tickets.rows] == ['No carga "mi web"']
    assert client_tickets(carla, at=AT).tickets.rows == []
