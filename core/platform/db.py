"""The engine and the unit of work.

One engine per database URL and process. Every user action runs in exactly one transaction
(``unit_of_work``): it commits when the block ends and rolls back on any error, so nothing is
half-written. SQLite gets WAL (readers do not block the writer) and foreign keys (off by
default in SQLite); PostgreSQL runs the same code.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from threading import Lock
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from core.platform.config import PRIVATE_FILE, get_settings, private_dir

_engines: dict[str, Engine] = {}
_lock = Lock()
_mmap_bytes = 0  # SQLite's memory map, for the connections opened from now on (see below)


def map_sqlite_file(size: int) -> None:
    """Let SQLite read the book through a memory map of up to ``size`` bytes, for the
    connections this process opens from now on. For a short-lived process that reads much of
    the book once (the daily run from cron: a fresh page cache every start, and a second run
    the same day reads ~50,000 index pages to find nothing; ~0.06 s less at L). Not for the
    app: the pages it maps count in its resident memory, which the benchmark bounds."""
    global _mmap_bytes
    _mmap_bytes = size


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA synchronous=NORMAL")
    if _mmap_bytes:
        cur.execute(f"PRAGMA mmap_size={int(_mmap_bytes)}")
    cur.close()


WRITE = "anfitrion_write"


def _sqlite_begin(conn: Any) -> None:
    write = conn.get_execution_options().get(WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file owner-only (0600) before SQLite does, under the umask, and
    tighten one made earlier; SQLite gives its -wal and -shm files the database's mode."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():  # an existing folder elsewhere (/srv, /tmp) is left as it is
        private_dir(path.parent)
    if not path.exists():
        # Only a file no connection has open: closing a descriptor of an open book would drop
        # every POSIX lock SQLite holds on it in this process (a "disk I/O error" follows).
        with suppress(FileExistsError):  # another process made it meanwhile: tightened below
            os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if part.exists() and part.stat().st_mode & 0o777 != PRIVATE_FILE:
            part.chmod(PRIVATE_FILE)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own BEGIN handling defers locking. A unit of work takes the write lock
        # at BEGIN so two writers serialise instead of failing half-way with "database is
        # locked"; reads begin deferred, so under WAL they never wait for each other.
        event.listen(engine, "connect", lambda c, r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for ``url`` (default: the configured DATABASE_URL)."""
    url = url or get_settings().database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = _engines[url] = make_engine(url)
        return engine


def dispose_all() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def refresh_statistics(engine: Engine | None = None) -> None:
    """After bulk changes (a daily run that wrote, a bulk load): on SQLite, ANALYZE, so the
    query planner knows the tables' sizes and its indexes' selectivity. Without statistics
    SQLite guesses, and after a daily run added ~18,000 unpaid invoices it read a client's
    invoices through the status index (all the unpaid invoices of the book) instead of the
    client's own. A full ANALYZE (~0.65 s at 480,000 invoices): a sampled one
    (``analysis_limit``) took a status column's few values for a thousand each and sent the
    daily run's catch-up of paid renewals through every paid invoice (0.1 s -> 2.6 s).
    PostgreSQL's autovacuum analyses by itself."""
    engine = engine or get_engine()
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def after_commit(session: Session, hook: Callable[[], object]) -> None:
    """Run ``hook`` once this session's unit of work has committed (never if it rolls back).

    Used for work that must not happen inside the transaction, such as sending queued mail.
    """
    hooks = session.info.setdefault("after_commit", [])
    if hook not in hooks:
        hooks.append(hook)


@contextmanager
def unit_of_work(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error, then run after-commit hooks."""
    engine = engine or get_engine()
    factory = sessionmaker(bind=engine.execution_options(**{WRITE: True}), expire_on_commit=False)
    with factory() as session:
        with session.begin():
            yield session
        hooks = session.info.pop("after_commit", [])
    for hook in hooks:
        hook()


@contextmanager
def transaction(session: Session | None = None) -> Iterator[Session]:
    """Join the caller's unit of work when given one, else open a new one.

    Core actions take ``session=None`` last, so a page calls them alone (one action, one
    transaction) while core and tests can compose several inside one transaction.
    """
    if session is not None:
        yield session
        return
    with unit_of_work() as own:
        yield own


@contextmanager
def reading(session: Session | None = None) -> Iterator[Session]:
    """Like ``transaction`` for reads: nothing is committed by a new session."""
    if session is not None:
        yield session
        return
    with read_session() as own:
        yield own


@contextmanager
def read_session(engine: Engine | None = None) -> Iterator[Session]:
    """A session for reads only; nothing it does is committed. Closing it (not rolling back)
    leaves the loaded rows usable, detached, after the block."""
    engine = engine or get_engine()
    with Session(engine, expire_on_commit=False) as session:
        yield session
