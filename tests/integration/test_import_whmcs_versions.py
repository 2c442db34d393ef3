"""WHMCS 7.x books come over too (import-sources.md §2.1): 7.x has no tblusers (the client
account is the login), 7.0.2 no tax_id, 7.8.3 no addon first payment. A missing column
reads as nothing instead of failing the import."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import select

from core import accounts, imports
from core.models import Client, Service
from core.platform.db import read_session
from tests import mariadb
from tests.integration.whmcs_fixture import CLIENT_HASH

pytestmark = pytest.mark.skipif(not mariadb.available(), reason="MariaDB is not running")


@pytest.mark.parametrize("schema", ["whmcs-7.0.2.sql", "whmcs-7.8.3.sql"])
def test_a_whmcs_7_book(database, schema):
    name = f"imp_w7_{os.getpid()}"
    url = mariadb.create(name, schema)
    conn = mariadb.connect(name)
    try:
        mariadb.put(conn, "tblcurrencies", [{"id": 1, "code": "USD", "default": 1}])
        mariadb.put(
            conn,
            "tblclients",
            [
                {
                    "id": 1,
                    "firstname": "Ana",
                    "lastname": "Siete",
                    "email": "ana7@cliente.test",
                    "password": CLIENT_HASH,
                    "currency": 1,
                    "credit": 2.5,
                    "datecreated": "2019-01-01",
                    "status": "Active",
                }
            ],
        )
        mariadb.put(
            conn,
            "tblproducts",
            [{"id": 1, "name": "Plan 7", "paytype": "recurring", "servertype": "cpanel"}],
        )
        mariadb.put(
            conn,
            "tblhosting",
            [
                {
                    "id": 1,
                    "userid": 1,
                    "packageid": 1,
                    "server": 0,
                    "regdate": "2019-01-01",
                    "domain": "siete.test",
                    "amount": 8.0,
                    "billingcycle": "Annually",
                    "nextduedate": "2027-01-01",
                    "domainstatus": "Active",
                    "username": "siete",
                }
            ],
        )
        mariadb.put(
            conn,
            "tblhostingaddons",
            [
                {
                    "id": 1,
                    "hostingid": 1,
                    "addonid": 0,
                    "name": "Extra",
                    "recurring": 1.0,
                    "billingcycle": "Monthly",
                    "status": "Active",
                    "nextduedate": "2027-01-01",
                }
            ],
        )
        conn.close()
        out = imports.run("whmcs", source=url).as_json()
    finally:
        mariadb.drop(name)
    assert out["created"]["clients"] == 1 and out["created"]["services"] == 2
    with read_session() as s:
        user = accounts.user_by_email(s, "ana7@cliente.test")  # 7.x: the account is the login
        assert user is not None and accounts.verify_password("secreto-123", user.password_hash)
        client = s.scalars(select(Client)).one()
        assert client.name == "Ana Siete" and client.tax_id is None
        domains = sorted(s.scalars(select(Service.domain)))
        assert domains == ["siete.test", "siete.test"]
