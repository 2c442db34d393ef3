"""``python -m bench.whmcs_book NAME TODAY``: a WHMCS 8.4.0 book of 5,000 clients, 20,000
services and 200,000 invoices (with their items and payments, and tickets) in a MariaDB
database NAME, built from the real schema file, for the import bench (issue 18, acc. 3).

Each service has ten monthly invoices up to its next due date: nine paid, the last one paid
for nine services in ten. Random but seeded, so two runs build the same book."""

from __future__ import annotations

import os
import random
import re
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pymysql

SCHEMA = Path(os.environ.get("IMPORT_SCHEMAS", "/work/shared/design/import")) / "whmcs-8.4.0.sql"
HOST = os.environ.get("MARIADB_HOST", "127.0.0.1")
PORT = int(os.environ.get("MARIADB_PORT", "3306"))
CLIENTS, SERVICES, INVOICES_PER_SERVICE, TICKETS = 5_000, 20_000, 10, 2_000
CHUNK = 5_000
HASH = "$2y$10$" + "N9qo8uLOickgx2ZMRZoMye" + "IjZAgcfl7p92ldGxad68LJZdL17lhWy"


def connect(database: str | None = None) -> Any:
    conn = pymysql.connect(
        host=HOST,
        port=PORT,
        user="root",
        password="",
        database=database,
        charset="utf8mb4",
        autocommit=True,
    )
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
    return conn


def create(name: str) -> str:
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{name}`")
        sql = SCHEMA.read_text(encoding="utf-8")
        for stmt in re.findall(r"^CREATE TABLE .*?^\) ENGINE=[^;]*;", sql, flags=re.S | re.M):
            cur.execute(stmt)
    conn.close()
    return f"mysql+pymysql://root@{HOST}:{PORT}/{name}"


def drop(name: str) -> None:
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def _insert(conn: Any, table: str, cols: list[str], rows: list[tuple]) -> None:
    names = ", ".join(f"`{c}`" for c in cols)
    marks = ", ".join(["%s"] * len(cols))
    sql = f"INSERT INTO `{table}` ({names}) VALUES ({marks})"  # noqa: S608 - our own names
    with conn.cursor() as cur:
        for start in range(0, len(rows), CHUNK):
            cur.executemany(sql, rows[start : start + CHUNK])


def build(name: str, today: date) -> dict[str, int]:
    rnd = random.Random(18)
    conn = connect(name)
    _insert(
        conn,
        "tblcurrencies",
        ["id", "code", "prefix", "suffix", "format", "rate", "default"],
        [(1, "USD", "$", " USD", 2, 1, 1)],
    )
    _insert(
        conn,
        "tbladmins",
        ["id", "username", "firstname", "lastname", "email", "passwordhash", "disabled"],
        [(i, f"admin{i}", "Admin", str(i), f"admin{i}@bench.test", HASH, 0) for i in (1, 2, 3)],
    )
    _insert(
        conn,
        "tblticketdepartments",
        ["id", "name", "email", "hidden"],
        [(1, "Soporte", "s@b.test", "")],
    )
    _insert(
        conn,
        "tblservers",
        ["id", "name", "hostname", "type", "username", "secure", "disabled"],
        [(i, f"srv{i}", f"srv{i}.bench.test", "cpanel", "root", "on", 0) for i in range(1, 6)],
    )
    plans = [
        (1, "Básico", "basico", 5.00),
        (2, "Pro", "pro", 12.00),
        (3, "Negocio", "negocio", 25.00),
    ]
    _insert(
        conn,
        "tblproducts",
        ["id", "gid", "type", "name", "paytype", "servertype", "configoption1"],
        [(pid, 1, "hostingaccount", n, "recurring", "cpanel", pkg) for pid, n, pkg, _ in plans],
    )
    _insert(
        conn,
        "tblpricing",
        ["type", "currency", "relid", "msetupfee", "qsetupfee", "ssetupfee", "asetupfee"]
        + ["bsetupfee", "tsetupfee", "monthly", "quarterly", "semiannually", "annually"]
        + ["biennially", "triennially"],
        [
            ("product", 1, pid, 0, 0, 0, 0, 0, 0, m, m * 3, m * 6, m * 10, -1, -1)
            for pid, _n, _p, m in plans
        ],
    )
    _insert(
        conn,
        "tblclients",
        ["id", "firstname", "lastname", "companyname", "email", "address1", "city", "state"]
        + ["country", "phonenumber", "currency", "credit", "datecreated", "status"],
        [
            (
                c,
                f"Cliente{c}",
                "Apellido &amp; Cía",
                "",
                f"cliente{c}@bench.test",
                "Av. 1",
                "Quito",
                "Pichincha",
                "EC",
                "0990000000",
                1,
                5.00 if c % 10 == 0 else 0,
                "2020-01-01",
                "Active",
            )
            for c in range(1, CLIENTS + 1)
        ],
    )
    _insert(
        conn,
        "tblusers",
        ["id", "first_name", "last_name", "email", "password"],
        [(c, f"Cliente{c}", "X", f"cliente{c}@bench.test", HASH) for c in range(1, CLIENTS + 1)],
    )
    _insert(
        conn,
        "tblusers_clients",
        ["auth_user_id", "client_id", "owner"],
        [(c, c, 1) for c in range(1, CLIENTS + 1)],
    )
    services, invoices, items, payments = [], [], [], []
    invoice_id = payment_id = 0
    for sid in range(1, SERVICES + 1):
        client = (sid - 1) % CLIENTS + 1
        pid, _n, _p, price = plans[sid % 3]
        due = today + timedelta(days=rnd.randint(-5, 30))
        services.append(
            (sid, client, pid, sid % 5 + 1, "2020-01-01", f"sitio{sid}.bench.test", price, price)
            + ("Monthly", due.isoformat(), due.isoformat(), "0000-00-00", "Active", f"u{sid}")
        )
        open_last = rnd.random() < 0.1
        for k in range(INVOICES_PER_SERVICE, 0, -1):
            period = _months_back(due, k - 1)
            invoice_id += 1
            paid = not (k == 1 and open_last)
            invoices.append(
                (
                    invoice_id,
                    client,
                    "",
                    (period - timedelta(days=14)).isoformat(),
                    period.isoformat(),
                )
                + ((period.isoformat() + " 10:00:00") if paid else "0000-00-00 00:00:00",)
                + (price, 0, 0, 0, price, 0, 0, "Paid" if paid else "Unpaid")
            )
            items.append(
                (invoice_id, client, "Hosting", sid, f"sitio{sid}", price, 0, period.isoformat())
            )
            if paid:
                payment_id += 1
                payments.append(
                    (payment_id, client, 1, "banktransfer", period.isoformat() + " 10:00:00")
                    + (price, 0, 0, f"T{payment_id}", invoice_id, 0)
                )
    _insert(
        conn,
        "tblhosting",
        ["id", "userid", "packageid", "server", "regdate", "domain", "firstpaymentamount"]
        + ["amount", "billingcycle", "nextduedate", "nextinvoicedate", "termination_date"]
        + ["domainstatus", "username"],
        services,
    )
    _insert(
        conn,
        "tblinvoices",
        ["id", "userid", "invoicenum", "date", "duedate", "datepaid", "subtotal", "credit"]
        + ["tax", "tax2", "total", "taxrate", "taxrate2", "status"],
        invoices,
    )
    _insert(
        conn,
        "tblinvoiceitems",
        ["invoiceid", "userid", "type", "relid", "description", "amount", "taxed", "duedate"],
        items,
    )
    _insert(
        conn,
        "tblaccounts",
        ["id", "userid", "currency", "gateway", "date", "amountin", "fees", "amountout"]
        + ["transid", "invoiceid", "refundid"],
        payments,
    )
    tickets, replies = [], []
    for tid in range(1, TICKETS + 1):
        client = rnd.randint(1, CLIENTS)
        when = (today - timedelta(days=rnd.randint(0, 300))).isoformat() + " 09:00:00"
        tickets.append(
            (tid, f"BEN-{tid:06d}", 1, client, when, "Consulta &quot;web&quot;", "Hola", "Closed")
            + ("Medium", "", when, "plain")
        )
        replies.append((tid, when, "Respuesta", "Admin 1"))
        replies.append((tid, when, "Gracias", ""))
    _insert(
        conn,
        "tbltickets",
        ["id", "tid", "did", "userid", "date", "title", "message", "status", "urgency", "admin"]
        + ["lastreply", "editor"],
        tickets,
    )
    _insert(conn, "tblticketreplies", ["tid", "date", "message", "admin"], replies)
    conn.close()
    return {
        "clients": CLIENTS,
        "services": SERVICES,
        "invoices": len(invoices),
        "payments": len(payments),
        "tickets": TICKETS,
    }


def _months_back(day: date, months: int) -> date:
    if months == 0:
        return day  # the period due now is the service's own next due date
    month = day.month - 1 - months
    year = day.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(day.day, 28))


if __name__ == "__main__":
    name, today = sys.argv[1], date.fromisoformat(sys.argv[2])
    create(name)
    print(build(name, today))
