"""The secuencial of each document: per document type and series (estab-ptoEmi), gap-free.

Research §6 rule 1: taken when the XML is generated, inside the transaction that stores the
document row, under a row lock on the counter (``core.platform.sequences``: SELECT … FOR
UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite). If the transaction rolls back — the XML
failed its schema, the signature failed — the increment rolls back with it, so a number is
never skipped; the table's unique (doc_type, estab, ptoEmi, secuencial) makes a repeat
impossible even if a caller bypassed the lock.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.platform.sequences import next_value

MAX_SEQUENTIAL = 999_999_999  # nine digits in the key and the XML


def counter_name(doc_type: str, establishment: str, emission_point: str) -> str:
    return f"sri.{doc_type}.{establishment}-{emission_point}"


def next_sequential(
    session: Session, doc_type: str, establishment: str, emission_point: str
) -> int:
    value = next_value(session, counter_name(doc_type, establishment, emission_point))
    if value > MAX_SEQUENTIAL:
        raise OverflowError(f"the {doc_type} series {establishment}-{emission_point} is full")
    return value
