"""The desk's whole-book counts (home: clients, services by status, unpaid invoices and what
they owe, open tickets), kept a short while in this process.

Those counts read index entries in proportion to the book: at ten times scale L (400,000
services, 4.8 million invoices, a million tickets) they alone would take the owner's home
past 1.5 times its time at L, and the home reruns on every click. So each process keeps the
last counts for ``FRESH_FOR`` seconds, and drops them as soon as it commits a change to a
client, a service, an invoice or a ticket through an ORM session (every core action does).

What a reader can see stale: a change committed by *another* process (the daily run, a second
app replica, the command line, a raw SQL write) shows on the home within ``FRESH_FOR``
seconds. A change made in this process shows on the next rerun. A count being read while such
a change commits is not kept (the generation check below), so it cannot outlive the change.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from core.models import Client, Invoice, Service, Ticket

FRESH_FOR = 30.0  # seconds
WATCHED = (Client, Service, Invoice, Ticket)
_TABLES = frozenset(m.__tablename__ for m in WATCHED)
_TOUCHED = "desk_memo_touched"

T = TypeVar("T")

_lock = threading.Lock()
_generation = 0
_kept: dict[Hashable, tuple[float, int, Any]] = {}


def remembered(
    key: Hashable, compute: Callable[[], T], *, clock: Callable[[], float] = time.monotonic
) -> T:
    """``compute()``'s value for ``key``, reused while fresh and nothing watched has changed."""
    now = clock()
    with _lock:
        found = _kept.get(key)
        if found is not None and found[1] == _generation and now - found[0] < FRESH_FOR:
            return found[2]
        started_in = _generation
    value = compute()
    with _lock:
        # Kept only if no watched change committed while it was read: otherwise the value may
        # predate that change, and the next reader counts again.
        if _generation == started_in:
            _kept[key] = (now, started_in, value)
    return value


def forget() -> None:
    """Drop every kept count (a watched change committed in this process)."""
    global _generation
    with _lock:
        _generation += 1
        _kept.clear()


def _watched_objects(session: Session) -> bool:
    return any(isinstance(o, WATCHED) for o in (*session.new, *session.dirty, *session.deleted))


@event.listens_for(Session, "before_flush")
def _note_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    if _watched_objects(session):
        session.info[_TOUCHED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_statement(state: ORMExecuteState) -> None:
    # Bulk UPDATE/DELETE/INSERT statements (the daily run's, a bulk close) skip the flush.
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in _TABLES:
            state.session.info[_TOUCHED] = True


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.info.pop(_TOUCHED, False):
        forget()


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, _previous: object) -> None:
    session.info.pop(_TOUCHED, None)
