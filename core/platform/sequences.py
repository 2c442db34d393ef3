"""Gap-free numbering (invoices, tickets) under a row lock, inside the caller's transaction.

If the transaction rolls back, so does the increment: numbers are never skipped or reused.
SQLite serialises writers with BEGIN IMMEDIATE (core.platform.db); PostgreSQL takes FOR UPDATE.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import Counter

FORMATS = {"invoice": "F{:07d}", "ticket": "T{:06d}"}


def next_value(session: Session, name: str) -> int:
    return reserve(session, name, 1)


def reserve(session: Session, name: str, count: int) -> int:
    """Take ``count`` consecutive values; returns the first (the last is first + count - 1)."""
    counter = session.scalars(select(Counter).where(Counter.name == name).with_for_update()).first()
    if counter is None:
        counter = Counter(name=name, value=0)
        session.add(counter)
    first = counter.value + 1
    counter.value += count
    session.flush()
    return first


def number(name: str, value: int) -> str:
    return FORMATS[name].format(value)


def next_number(session: Session, name: str) -> str:
    return number(name, next_value(session, name))
