"""Issue 20: the XL book (bench.book_xl), loaded into PostgreSQL with COPY, at a tiny size.

The full XL book takes minutes; its loader is the same at any size. Built here with a few
hundred clients, it must be a book the app works on as it works on L's: every row there,
the personas signing in with the bench's password, a page per role rendering, the daily run
succeeding, and the database left as it was found (its indexes built again, its id sequences
continuing after the loaded rows).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest
from sqlalchemy import func, select, text

from tests.conftest import ROOT, use_database

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"), reason="the XL book is PostgreSQL only"
    ),
]

SIZES = {"clients": 40, "services": 160, "invoices": 1_920, "tickets": 200, "messages": 4}
TODAY = date(2026, 12, 5)


@pytest.fixture
def xl_book():
    from bench import book_xl
    from core.platform.db import get_engine

    url = use_database(os.environ["TEST_DATABASE_URL"])
    engine = get_engine(url)
    with engine.connect() as conn:
        indexes = set(conn.execute(text("SELECT indexdef FROM pg_indexes")).scalars())
    users = book_xl.generate(engine, TODAY, SIZES, log=lambda *a, **k: None)
    return url, engine, users, indexes


def test_every_row_of_the_sizes_asked_for(xl_book):
    from bench import book
    from core.models import Invoice, InvoiceItem, Payment

    _url, engine, _users, _indexes = xl_book
    counts = book.counts(engine)
    assert counts["client"] == 40
    assert counts["service"] == 160
    assert counts["invoice"] == 1_920
    assert counts["ticket"] == 200
    assert counts["ticket_message"] == 800
    assert counts["user_account"] == 40 + 2  # each client's sign-in, the owner, the staff
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(InvoiceItem)) == 1_920
        paid = conn.scalar(select(func.count()).where(Invoice.status == "paid"))
        assert paid and conn.scalar(select(func.count()).select_from(Payment)) == paid
        # The mix of an L book: most invoices paid, some owed.
        assert conn.scalar(select(func.count()).where(Invoice.status == "unpaid")) > 0


def test_each_pending_service_is_an_order_awaiting_its_invoice(xl_book):
    """A pending service is a new order: the orders list finds its unpaid invoice (an
    order with none would make the list walk every pending service to fill a page)."""
    from core.models import Invoice, Service
    from core.orders.fulfilment import order_invoice_of

    _url, engine, _users, _indexes = xl_book
    with engine.connect() as conn:
        rows = conn.execute(
            select(Service.registration_date, Invoice.status, Invoice.due_on)
            .outerjoin(Invoice, Invoice.id == order_invoice_of())
            .where(Service.status == "pending")
        ).all()
    assert rows
    assert all(status == "unpaid" and due == ordered for ordered, status, due in rows)
    # Days old, short of the seven after which an unpaid order is cancelled.
    assert all((TODAY - ordered).days <= 5 for ordered, _status, _due in rows)


def test_the_database_is_left_as_it_was_found(xl_book):
    from bench.book import PASSWORD
    from core.accounts import create_user
    from core.models import Client
    from core.platform.clock import now
    from core.platform.db import unit_of_work

    _url, engine, _users, indexes = xl_book
    with engine.connect() as conn:
        assert set(conn.execute(text("SELECT indexdef FROM pg_indexes")).scalars()) == indexes
        assert conn.execute(text("SHOW session_replication_role")).scalar() == "origin"
    # New rows take the ids after the loaded ones.
    with unit_of_work(engine) as s:
        client = Client(name="Nuevo", email="nuevo@bench.ec")
        s.add(client)
        s.flush()
        assert client.id == 41
        user = create_user(
            s, role="client", email="nuevo@bench.ec", name="Nuevo", password=PASSWORD, at=now()
        )
        s.flush()
        assert user.id == 40 + 2 + 1


def test_the_personas_sign_in_with_the_bench_password(xl_book):
    from bench import book
    from core.accounts import sign_in_entry, verify_password
    from core.platform.clock import now
    from core.platform.db import read_session

    _url, _engine, users, _indexes = xl_book
    with read_session() as s:
        for email in (users.owner, users.staff, users.client, "cliente3@bench.ec"):
            entry = sign_in_entry(s, email, now())
            assert entry is not None, email
            assert verify_password(book.PASSWORD, entry["password"]), email
            assert not verify_password("otra-clave-2026", entry["password"])


def test_a_page_renders_for_each_role(xl_book):
    from bench.measure import _signed_in, as_a_server
    from core.models import Invoice
    from tests.pages.apptest import texts

    _url, engine, users, _indexes = xl_book
    with engine.connect() as conn:
        newest = conn.scalar(
            select(Invoice.number)
            .where(Invoice.client_id == users.client_id)
            .order_by(Invoice.due_on.desc())
            .limit(1)
        )
    with as_a_server():
        for email, page in (
            (users.owner, "clients"),
            (users.staff, "tickets"),
            (users.client, "billing"),
        ):
            at = _signed_in(email)
            at.switch_page(f"pages/{page}.py").run()
            assert not at.exception, (email, at.exception[0].value if at.exception else "")
            if email == users.client:
                assert newest in texts(at)  # the client sees its own invoices


def test_the_daily_run_succeeds_on_it(xl_book):
    import json

    url, _engine, _users, _indexes = xl_book
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "automation", "run"]
        + ["--date", TODAY.isoformat(), "--json"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    counts = json.loads(done.stdout.strip().splitlines()[-1])
    assert counts["failures"] == 0
