"""The secuencial of each document: per document type and series (estab-ptoEmi), gap-free.

Research §6 rule 1: taken when the XML is generated, inside the transaction that stores the
document row, under a row lock on the counter (``core.platform.sequences``: SELECT … FOR
UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite). If the transaction rolls back — the XML
failed its schema, the signature failed — the increment rolls back with it, so a number is
never skipped; the table's unique (doc_type, estab, ptoEmi, secuencial) makes a repeat
impossible even if a caller bypassed the lock.
"""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.models import Counter
from core.platform.sequences import reserve

MAX_SEQUENTIAL = 999_999_999  # nine digits in the key and the XML


def counter_name(doc_type: str, establishment: str, emission_point: str) -> str:
    return f"sri.{doc_type}.{establishment}-{emission_point}"


def _ensure_counter(session: Session, name: str) -> None:
    """Create the series' counter row if it is missing, without a race: two first documents
    of a new series at once would otherwise both insert it (PostgreSQL refuses the second
    with a duplicate key). ON CONFLICT DO NOTHING lets one win and the other lock it."""
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    session.execute(
        module.insert(Counter)
        .values(name=name, value=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )


def next_sequential(
    session: Session, doc_type: str, establishment: str, emission_point: str
) -> int:
    return next_sequentials(session, doc_type, establishment, emission_point, 1)


def next_sequentials(
    session: Session, doc_type: str, establishment: str, emission_point: str, count: int
) -> int:
    """The first of ``count`` consecutive secuenciales, taken as one block."""
    name = counter_name(doc_type, establishment, emission_point)
    _ensure_counter(session, name)
    first = reserve(session, name, count)
    if first + count - 1 > MAX_SEQUENTIAL:
        raise OverflowError(f"the {doc_type} series {establishment}-{emission_point} is full")
    return first
