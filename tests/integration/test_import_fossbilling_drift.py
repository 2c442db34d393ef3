"""§7.25: FOSSBilling's shape differs by version; the importer asks the schema, not the
version. 0.7.2 keeps guest tickets in support_p_ticket; main keeps prices as rows in
product_payment_period and allows period codes such as '12M' (§7.26)."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import imports
from core.models import Client, ImportLink, Product, Ticket, TicketMessage
from core.platform.db import read_session
from tests import mariadb

pytestmark = pytest.mark.skipif(not mariadb.available(), reason="MariaDB is not running")


def _book(schema: str, fill) -> str:
    name = f"imp_drift_{os.getpid()}"
    mariadb.create(name, schema)
    conn = mariadb.connect(name)
    fill(conn)
    conn.close()
    return name


def test_072_guest_tickets_in_their_own_tables(database):
    def fill(conn):
        mariadb.put(conn, "currency", [{"id": 1, "code": "USD", "is_default": 1}])
        mariadb.put(
            conn,
            "admin",
            [
                {
                    "id": 1,
                    "role": "admin",
                    "email": "root@fb.test",
                    "name": "Root",
                    "pass": "x",
                    "status": "active",
                }
            ],
        )
        mariadb.put(conn, "support_helpdesk", [{"id": 1, "name": "General"}])
        mariadb.put(
            conn,
            "support_p_ticket",
            [
                {
                    "id": 1,
                    "hash": "h",
                    "author_name": "Visita",
                    "author_email": "visita@fb.test",
                    "subject": "Hola &amp; chao",
                    "status": "open",
                    "created_at": "2026-11-01 10:00:00",
                    "updated_at": "2026-11-02 10:00:00",
                }
            ],
        )
        mariadb.put(
            conn,
            "support_p_ticket_message",
            [
                {"support_p_ticket_id": 1, "admin_id": None, "content": "¿Hay planes?"},
                {"support_p_ticket_id": 1, "admin_id": 1, "content": "Sí"},
            ],
        )

    name = _book("fossbilling-0.7.2.sql", fill)
    try:
        url = f"mysql+pymysql://root@{mariadb.HOST}:{mariadb.PORT}/{name}"
        out = imports.run("fossbilling", source=url).as_json()
    finally:
        mariadb.drop(name)
    assert out["created"]["tickets"] == 1
    with read_session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.subject == "Hola & chao" and ticket.number == "FB-p1"
        assert s.get_one(Client, ticket.client_id).email == "visita@fb.test"
        bodies = s.scalars(select(TicketMessage.body).order_by(TicketMessage.id)).all()
        assert bodies == ["¿Hay planes?", "Sí"]


def test_main_prices_as_rows(database):
    def fill(conn):
        mariadb.put(conn, "currency", [{"id": 1, "code": "USD", "is_default": 1}])
        mariadb.put(conn, "product_payment", [{"id": 1, "type": "recurrent"}])
        mariadb.put(
            conn,
            "product_payment_period",
            [
                {"product_payment_id": 1, "code": "1M", "price": 4, "setup_price": 0, "enabled": 1},
                {
                    "product_payment_id": 1,
                    "code": "12M",
                    "price": 40,
                    "setup_price": 0,
                    "enabled": 1,
                },
                {
                    "product_payment_id": 1,
                    "code": "45D",
                    "price": 6,
                    "setup_price": 0,
                    "enabled": 1,
                },
                {
                    "product_payment_id": 1,
                    "code": "3M",
                    "price": 11,
                    "setup_price": 0,
                    "enabled": 0,
                },
            ],
        )
        mariadb.put(
            conn,
            "product",
            [{"id": 1, "title": "Main plan", "type": "hosting", "product_payment_id": 1}],
        )

    name = _book("fossbilling-main-56a0871.sql", fill)
    try:
        url = f"mysql+pymysql://root@{mariadb.HOST}:{mariadb.PORT}/{name}"
        out = imports.run("fossbilling", source=url).as_json()
    finally:
        mariadb.drop(name)
    assert ("products", "1", "cycle_not_supported") in {
        (p["kind"], p["source_id"], p["reason"]) for p in out["problems"]
    }
    with read_session() as s:
        link = s.scalars(select(ImportLink).where(ImportLink.kind == "products")).one()
        product = s.get_one(Product, link.target_id)
        assert {p.cycle: p.price for p in product.prices} == {
            "monthly": Decimal("4.00"),
            "annually": Decimal("40.00"),
        }
