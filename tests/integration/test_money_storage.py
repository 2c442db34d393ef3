# ruff: noqa: S608 - table and column names come from the models, never from input
"""Money is stored exactly on every engine (ARCHITECTURE §2 rule 4), and migration 0031 turns
an older SQLite database's float amounts into integer cents without losing one.

Every money column is found by walking ``Base.metadata`` for the ExactDecimal type, so a
column added later is covered without touching this file.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal

import pytest
from alembic import command
from sqlalchemy import Numeric, case, func, insert, inspect, select, text
from sqlalchemy.orm import Session

from core.models import Base, Client, CreditEntry, Invoice, money_type
from core.models.money_type import ExactDecimal
from core.platform import db
from core.platform.migrate import alembic_config, upgrade

PREVIOUS = "0030"  # the head before money became exact
TODAY = date(2026, 11, 26)
AMOUNTS = ["0.10", "19.99", "1234.56", "-0.30", "0.20", "9999999999.99"]
RATES = ["15.000", "12.000", "0.125", "5.500", "0.000", "100.000"]
ROWS = 5


def money_columns() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        names = [c.name for c in table.columns if isinstance(c.type, ExactDecimal)]
        if names:
            found[table.name] = names
    return found


def _needed_tables() -> list:
    """The tables with money columns and the ones their non-null foreign keys need."""
    names = set(money_columns())
    grew = True
    while grew:
        before = len(names)
        for table in Base.metadata.tables.values():
            if table.name in names:
                for col in table.columns:
                    if not col.nullable:
                        names |= {fk.column.table.name for fk in col.foreign_keys}
        grew = len(names) > before
    return [t for t in Base.metadata.sorted_tables if t.name in names]


def _value(col, i: int):
    """A value for row ``i`` (1..ROWS): ids and unique columns differ row by row."""
    if col.primary_key:
        return i
    if col.foreign_keys:
        return None if col.nullable else 1
    kind = col.type
    if isinstance(kind, ExactDecimal):
        pool = RATES if kind.scale == 3 else AMOUNTS
        offset = sorted(c.name for c in col.table.columns).index(col.name)
        return Decimal(pool[(i + offset) % len(pool)])
    name = type(kind).__name__
    if name == "Integer":
        return i
    if name == "String":
        return str(i)
    if name == "Text":
        return "t"
    if name == "DateTime":
        return datetime(2026, 1, i, 12)
    if name == "Date":
        return date(2026, 1, i)
    if name == "Boolean":
        return False
    if name == "JSON":
        return {}
    if name == "LargeBinary":
        return b"x"
    raise AssertionError(f"no test value for {col.table.name}.{col.name} ({name})")


def fill_every_money_table(conn, *, old_types: bool) -> dict[tuple[str, int, str], Decimal]:
    """ROWS rows in every table holding money; returns the amounts written. With
    ``old_types`` the money columns are bound as the plain NUMERIC of before 0031 (a float
    on SQLite)."""
    written: dict[tuple[str, int, str], Decimal] = {}
    present = set(inspect(conn).get_table_names())
    for table in _needed_tables():
        if table.name not in present:  # added after the revision being filled (0036 on)
            continue
        rows = []
        for i in range(1, ROWS + 1):
            row = {c.name: _value(c, i) for c in table.columns}
            for name in money_columns().get(table.name, []):
                written[(table.name, i, name)] = row[name]
            rows.append(row)
        if old_types:
            values = [
                {
                    k: (float(v) if isinstance(v, Decimal) and conn.dialect.name == "sqlite" else v)
                    for k, v in row.items()
                }
                for row in rows
            ]
            plain = table.to_metadata(type(Base.metadata)())
            for col in plain.columns:
                if isinstance(col.type, ExactDecimal):
                    col.type = Numeric(col.type.precision, col.type.scale, asdecimal=True)
            conn.execute(insert(plain), values)
        else:
            conn.execute(insert(table), rows)
    return written


def read_amounts(conn) -> dict[tuple[str, int, str], Decimal]:
    got = {}
    for name, columns in money_columns().items():
        table = Base.metadata.tables[name]
        for row in conn.execute(select(table.c.id, *(table.c[c] for c in columns))):
            for col, value in zip(columns, row[1:], strict=True):
                assert isinstance(value, Decimal), (name, col, value)
                got[(name, row[0], col)] = value
    return got


def assert_stored_as_integers(conn) -> None:
    for name, columns in money_columns().items():
        for col in columns:
            kinds = {k for (k,) in conn.execute(text(f"SELECT DISTINCT typeof({col}) FROM {name}"))}
            assert kinds <= {"integer"}, f"{name}.{col} stored as {kinds}"
            declared = {r[1]: r[2] for r in conn.execute(text(f"PRAGMA table_info({name})"))}
            assert declared[col] == "INTEGER", f"{name}.{col} declared {declared[col]}"


# ------------------------------------------------------------------- fresh database
def test_a_fresh_database_stores_every_amount_exactly(database):
    engine = db.get_engine(database)
    with engine.begin() as conn:
        written = fill_every_money_table(conn, old_types=False)
        assert set(t for t, _i, _c in written) == set(money_columns())
        if engine.dialect.name == "sqlite":
            assert_stored_as_integers(conn)
        assert read_amounts(conn) == written


def test_a_sql_sum_of_point_one_point_two_minus_point_three_is_zero(database):
    engine = db.get_engine(database)
    with db.unit_of_work(engine) as s:
        client = Client(name="Suma", email="suma@example.ec")
        s.add(client)
        s.flush()
        for n, amount in enumerate(["0.10", "0.20", "-0.30"]):
            s.add(CreditEntry(client_id=client.id, amount=Decimal(amount), kind="manual"))
            s.add(
                Invoice(
                    client_id=client.id,
                    number=f"S-{n}",
                    issued_on=TODAY,
                    due_on=TODAY,
                    total=abs(Decimal(amount)),
                    balance=abs(Decimal(amount)),
                )
            )
    with db.read_session(engine) as s:
        ledger = s.execute(select(func.sum(CreditEntry.amount))).scalar_one()
        assert ledger == Decimal("0.00") and isinstance(ledger, Decimal)
        assert s.execute(select(func.sum(CreditEntry.amount) > 0)).scalar_one() in (False, 0)
        assert (
            s.scalars(
                select(CreditEntry.client_id)
                .group_by(CreditEntry.client_id)
                .having(func.sum(CreditEntry.amount) > 0)
            ).all()
            == []
        )
        signed = case((Invoice.number == "S-2", -Invoice.total), else_=Invoice.total)
        assert s.execute(select(func.sum(signed))).scalar_one() == Decimal("0.00")
        assert s.execute(select(func.sum(signed) > 0)).scalar_one() in (False, 0)
        owed = s.execute(select(func.coalesce(func.sum(Invoice.balance), 0))).scalar_one()
        assert owed == Decimal("0.60") and isinstance(owed, Decimal)
        assert s.scalars(select(Invoice.number).where(Invoice.balance > Decimal("0.15"))).all()
        paid = s.execute(select(func.sum(Invoice.total - Invoice.balance))).scalar_one()
        assert paid == Decimal("0.00") and isinstance(paid, Decimal)


# -------------------------------------------------------------- migrated database
def _alembic(url: str, action: str, rev: str) -> None:
    getattr(command, action)(alembic_config(url), rev)


@pytest.fixture
def old_database(database, tmp_path):
    """An empty database at the revision before 0031: a new SQLite file built from empty, or
    the test PostgreSQL database taken back (0031 does nothing there)."""
    if database.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'old.db'}"
        upgrade(url, PREVIOUS)
        yield url
        db.get_engine(url).dispose()
        return
    _alembic(database, "downgrade", PREVIOUS)
    try:
        yield database
    finally:
        upgrade(database)


def test_the_migration_keeps_every_amount_of_every_money_column(old_database):
    engine = db.make_engine(old_database)
    try:
        with engine.begin() as conn:
            written = fill_every_money_table(conn, old_types=True)
            if engine.dialect.name == "sqlite":
                kinds = conn.execute(text("SELECT DISTINCT typeof(total) FROM invoice")).all()
                assert kinds == [("real",)]  # what 0031 is there to fix
    finally:
        engine.dispose()
    upgrade(old_database)
    engine = db.make_engine(old_database)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                assert_stored_as_integers(conn)
            assert read_amounts(conn) == written
    finally:
        engine.dispose()
    # And back: the downgrade gives the old NUMERIC columns their amounts again.
    _alembic(old_database, "downgrade", PREVIOUS)
    raw = _raw_amounts(old_database) if old_database.startswith("sqlite") else None
    if raw is not None:
        assert raw == written
    upgrade(old_database)


def _raw_amounts(url: str) -> dict[tuple[str, int, str], Decimal]:
    """Every stored amount as the float SQLite holds, printed shortest (no rounding here)."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        got = {}
        present = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        for name, columns in money_columns().items():
            if name not in present:  # a table added after this revision holds nothing yet
                continue
            for row in conn.execute(f"SELECT id, {', '.join(columns)} FROM {name}"):
                for col, value in zip(columns, row[1:], strict=True):
                    assert isinstance(value, float | int), (name, col, value)
                    got[(name, row[0], col)] = Decimal(repr(value))
        return got
    finally:
        conn.close()


# ------------------------------------------------------------------ the two books
def _per_client(amounts: dict[tuple[str, int, str], Decimal], url: str) -> dict:
    """Per client: Σ invoice total, Σ balance, Σ payments, Σ credit ledger, credit balance."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        owner = {
            table: dict(conn.execute(f"SELECT id, client_id FROM {table}"))
            for table in ("invoice", "payment", "credit_ledger")
        }
    finally:
        conn.close()
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for (table, row_id, col), value in amounts.items():
        if table == "client" and col == "credit_balance":
            sums[row_id]["credit_balance"] += value
        elif table == "invoice" and col in ("total", "balance"):
            sums[owner[table][row_id]][f"invoice_{col}"] += value
        elif table in ("payment", "credit_ledger"):
            sums[owner[table][row_id]][table] += value
    return {client: dict(figures) for client, figures in sums.items()}


def _build_old_book(url: str, build) -> None:
    """``build(engine)`` at the revision before 0031, with money bound as it was then: the
    book generators use today's models, so the type is told SQLite has exact NUMERIC."""
    upgrade(url, PREVIOUS)
    saved = money_type.SCALED_INTEGER_DIALECTS
    money_type.SCALED_INTEGER_DIALECTS = frozenset()
    engine = db.make_engine(url)
    try:
        build(engine)
    finally:
        engine.dispose()
        money_type.SCALED_INTEGER_DIALECTS = saved


def _demo(engine) -> None:
    from sandbox import demo

    with Session(engine) as s, s.begin():
        demo.load(s, TODAY, einvoicing=False)  # revision 0030 has no electronic_document


def _bench_s(engine) -> None:
    from bench import book

    book.generate(engine, "S", TODAY)


@pytest.mark.parametrize("build", [_demo, _bench_s], ids=["demo", "bench-S"])
def test_the_migration_keeps_every_amount_of_a_whole_book(build, tmp_path, sqlite_database):
    url = f"sqlite:///{tmp_path / 'book.db'}"
    _build_old_book(url, build)
    before = _raw_amounts(url)
    assert len(before) > 500 and all(v == v.quantize(Decimal("0.001")) for v in before.values())
    totals = _per_client(before, url)
    upgrade(url)
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            assert_stored_as_integers(conn)
            after = read_amounts(conn)
            assert after == before
            assert _per_client(after, url) == totals
            # SQL sums over the migrated integers agree with the Python Decimal sums.
            owed = dict(
                conn.execute(
                    select(Invoice.client_id, func.sum(Invoice.balance)).group_by(Invoice.client_id)
                ).all()
            )
            assert owed == {
                c: f["invoice_balance"]
                for c, f in totals.items()
                if f.get("invoice_balance") is not None
            }
    finally:
        engine.dispose()
