"""The XL book: ten times L, on PostgreSQL, loaded with ``COPY``.

100,000 clients, 400,000 services, 4.8 million invoices (one line each, a payment for each
paid one) and 1 million tickets with 4 million messages: the same book as ``bench.book``
makes at L (its row builders, the same personas and password, the same mix of statuses,
dates relative to the business today), ten times over. At L the generator inserts through
SQLAlchemy; ten times that would take most of an hour, so here each table is streamed with
psycopg's ``COPY ... FROM STDIN`` while its rows are built (Python builds, the server parses,
on two cores at once), with explicit ids so a row's line and payment are written in the
same pass on connections of their own.

For the load the bulk tables' plain indexes are dropped and built again after it (one sort
each instead of 4.8 million inserts into each b-tree), and foreign-key triggers are off
(``session_replication_role = replica``: the rows are consistent by construction, and the
local PostgreSQL's user is a superuser); primary keys and unique constraints stay. Then the
id sequences continue after the rows, and ``VACUUM ANALYZE`` leaves the tables as a
long-running database would have them (statistics, and the visibility map that lets an
index-only scan skip the table).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, datetime

import psycopg
from psycopg import sql
from sqlalchemy import Engine, make_url

from bench import book

SIZES = book.SCALES["XL"]
# Tables loaded in bulk: their plain indexes are dropped for the load and built after it.
BULK_TABLES = (
    "client",
    "service",
    "invoice",
    "invoice_item",
    "payment",
    "ticket",
    "ticket_message",
    "user_account",
)


def conninfo(engine: Engine) -> str:
    """The engine's database as a libpq URL (no SQLAlchemy driver name)."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def generate(
    engine: Engine,
    today: date,
    sizes: dict[str, int] | None = None,
    seed: int = 7,
    log=print,
) -> book.BenchUsers:
    """Fill an empty, migrated PostgreSQL database with the XL book (or one of ``sizes``,
    with the keys of ``book.SCALES``' entries: the tests build a tiny one)."""
    if engine.dialect.name != "postgresql":
        raise ValueError("the XL book is generated into PostgreSQL only")
    size = sizes or SIZES
    rng = random.Random(seed)
    at = datetime.combine(today, datetime.min.time())
    server_id, dept_id, product_ids, staff_id = book.desk(engine, at)
    info = conninfo(engine)
    cols = _columns(today, at)
    started = time.perf_counter()

    def step(what: str) -> None:
        log(f"  XL {what}: {time.perf_counter() - started:.0f} s", flush=True)

    with psycopg.connect(info, autocommit=True) as admin:
        dropped = _drop_indexes(admin)
        base = {table: _next_id(admin, table) for table in BULK_TABLES}

    with _loading(info) as main:
        client_ids = list(range(base["client"], base["client"] + size["clients"]))
        with _copy(main, "client", cols["client"]) as write:
            for i, cid in enumerate(client_ids):
                write(cid, book.client_row(i, rng, at))
        # (id, client id, amount, status, cycle, anchor day, next due date, the order's
        # date when pending)
        services: list[tuple] = []
        with _copy(main, "service", cols["service"]) as write:
            for i in range(size["services"]):
                row = book.service_row(
                    i, rng, today, at, client_ids[i % len(client_ids)], product_ids, server_id
                )
                sid = base["service"] + i
                write(sid, row)
                services.append(
                    (
                        sid,
                        row["client_id"],
                        row["recurring_amount"],
                        row["status"],
                        row["billing_cycle"],
                        row["anchor_day"],
                        row["next_due_date"],
                        row["registration_date"] if row["status"] == "pending" else None,
                    )
                )
        main.commit()
        step("clients and services")

        moves = _invoices(info, cols, services, size["invoices"], base, rng, today, at)
        step("invoices, lines and payments")
        svc = [(sid, cid, amount) for sid, cid, amount, *_ in services]
        del services
        with main.cursor() as cur:
            # The paid periods have moved their services' next due dates on (book's
            # _renewed_when_paid): one UPDATE from a temporary table of the moves.
            cur.execute("CREATE TEMP TABLE due_move (id integer, due date)")
            with cur.copy("COPY due_move (id, due) FROM STDIN") as copy:
                for move in moves:
                    copy.write_row(move)
            cur.execute(
                "UPDATE service SET next_due_date = due_move.due FROM due_move"
                " WHERE service.id = due_move.id"
            )
            cur.execute("DROP TABLE due_move")
            cur.execute(
                "INSERT INTO counter (name, value) VALUES ('invoice', %s), ('ticket', %s)",
                (size["invoices"] // len(svc) * len(svc), size["tickets"]),
            )
        main.commit()
        _tickets(info, cols, svc, size, base, dept_id, staff_id, rng, at)
        step("tickets and messages")

    sample = client_ids[len(client_ids) // 2]
    password_hash = book.measured_client(engine, sample, at)
    with _loading(info) as main:
        uid = _next_id(main, "user_account")
        with _copy(main, "user_account", cols["user_account"]) as write:
            for i, cid in enumerate(client_ids):
                if cid != sample:
                    write(uid, book.client_user_row(i, cid, password_hash, at))
                    uid += 1
        main.commit()

    with psycopg.connect(info, autocommit=True) as admin:
        admin.execute("SET maintenance_work_mem = '512MB'")
        for definition in dropped:
            admin.execute(definition)
        step("indexes built again")
        for table in BULK_TABLES:
            admin.execute(
                sql.SQL(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'),"
                    " (SELECT COALESCE(MAX(id), 0) + 1 FROM {}), false)"
                ).format(sql.Identifier(table)),
                (table,),
            )
    book.vacuumed(engine)
    step("vacuumed and analysed")
    return book.BenchUsers(book.OWNER, book.STAFF, book.CLIENT, sample)


def _invoices(info, cols, services, count, base, rng, today, at) -> list[tuple[int, date]]:
    """Each service's monthly history (``book.invoice_row``), with its lines and payments on
    connections of their own, in one pass; the services' next due dates moved past their
    paid periods."""
    per = max(count // len(services), 1)
    moves = []
    iid, pid = base["invoice"], base["payment"]
    item_id = base["invoice_item"]
    with ExitStack() as stack:
        conns = [stack.enter_context(_loading(info)) for _ in range(3)]
        invoices = stack.enter_context(_copy(conns[0], "invoice", cols["invoice"]))
        items = stack.enter_context(_copy(conns[1], "invoice_item", cols["invoice_item"]))
        payments = stack.enter_context(_copy(conns[2], "payment", cols["payment"]))
        number = 0
        for sid, cid, amount, status, cycle, anchor, due, ordered in services:
            paid = set()
            for k in range(per):
                number += 1
                row = book.invoice_row(
                    number, cid, amount, k, per, status == "suspended", rng, today, at, ordered
                )
                invoices(iid, row)
                items(item_id, book.item_row(iid, sid, row))
                item_id += 1
                if row["status"] == "paid":
                    payments(pid, book.payment_row(iid, row, at))
                    pid += 1
                    paid.add(row["due_on"])
                iid += 1
            new = book.renewed_due(due, cycle, anchor, paid)
            if new != due:
                moves.append((sid, new))
        stack.close()  # the COPYs end, then their transactions commit
    return moves


def _tickets(info, cols, svc, size, base, dept_id, staff_id, rng, at) -> None:
    with _loading(info) as tconn, _loading(info) as mconn:
        with (
            _copy(tconn, "ticket", cols["ticket"]) as tickets,
            _copy(mconn, "ticket_message", cols["ticket_message"]) as messages,
        ):
            mid = base["ticket_message"]
            for i in range(size["tickets"]):
                tid = base["ticket"] + i
                row = book.ticket_row(i, rng, svc, dept_id, staff_id, at)
                tickets(tid, row)
                for m in range(size["messages"]):
                    messages(mid, book.message_row(tid, m, staff_id, row["created_at"]))
                    mid += 1


@contextmanager
def _loading(info: str) -> Iterator[psycopg.Connection]:
    """A connection for the load: foreign-key triggers off (the rows are consistent by
    construction), committed when the block ends without error."""
    with psycopg.connect(info) as conn:
        conn.execute("SET session_replication_role = replica")
        yield conn
        conn.commit()


@contextmanager
def _copy(conn: psycopg.Connection, table: str, columns: list[str]) -> Iterator:
    """``write(id, row)`` for the rows of ``table`` (dicts of ``columns``, in that order, as
    a row builder makes them), streamed with COPY. A list (a JSON column) is written as its
    JSON text."""
    names = ", ".join(["id", *columns])
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        write_row = copy.write_row

        def write(row_id: int, row: dict) -> None:
            write_row([row_id, *(json.dumps(v) if type(v) is list else v for v in row.values())])

        yield write


def _columns(today: date, at: datetime) -> dict[str, list[str]]:
    """Each bulk table's columns, in the order its row builder writes them (built once on a
    throwaway random generator, so the book's own draws are not moved)."""
    rng = random.Random(0)
    invoice = book.invoice_row(1, 1, book.IVA, 0, 1, False, rng, today, at)
    ticket = book.ticket_row(0, rng, [(1, 1, book.IVA)], 1, 1, at)
    rows = {
        "client": book.client_row(0, rng, at),
        "service": book.service_row(0, rng, today, at, 1, [1, 2, 3], 1),
        "invoice": invoice,
        "invoice_item": book.item_row(1, 1, invoice),
        "payment": book.payment_row(1, invoice, at),
        "ticket": ticket,
        "ticket_message": book.message_row(1, 0, 1, at),
        "user_account": book.client_user_row(0, 1, "", at),
    }
    return {table: list(row) for table, row in rows.items()}


def _drop_indexes(conn: psycopg.Connection) -> list[str]:
    """Drop the bulk tables' plain indexes (not those of a primary key or a unique
    constraint); their definitions, to build them again."""
    rows = conn.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """,
        (list(BULK_TABLES),),
    ).fetchall()
    for name, _definition in rows:
        conn.execute(f'DROP INDEX "{name}"')
    return [definition for _name, definition in rows]


def _next_id(conn: psycopg.Connection, table: str) -> int:
    query = sql.SQL("SELECT COALESCE(MAX(id), 0) + 1 FROM {}").format(sql.Identifier(table))
    row = conn.execute(query).fetchone()
    assert row is not None
    return int(row[0])


if __name__ == "__main__":
    import sys

    from core.platform.db import get_engine

    sizes = (
        dict(zip(SIZES, map(int, sys.argv[2].split(",")), strict=True))
        if len(sys.argv) > 2
        else None
    )
    generate(get_engine(), date.fromisoformat(sys.argv[1]), sizes)
