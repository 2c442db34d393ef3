"""Alembic environment: the URL comes from core.platform.config, the target from core.models."""

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy import Connection

from core.models import Base
from core.platform.config import get_settings
from core.platform.db import make_engine

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or get_settings().database_url


def run_offline() -> None:
    context.configure(
        url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


@contextmanager
def _sqlite_foreign_keys_off(conn: Connection) -> Iterator[None]:
    """Batch mode rebuilds a SQLite table (copy, drop, rename); dropping a table other rows
    point at fails while foreign keys are enforced, and SQLite ignores the pragma inside a
    transaction. So it is switched off around the migrations, and the references are checked
    before it is switched back on."""
    if conn.dialect.name != "sqlite" or conn.in_transaction():
        yield
        return
    raw = conn.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        broken = raw.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left rows pointing at nothing: {broken[:5]}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _migrate(conn: Connection) -> None:
    with _sqlite_foreign_keys_off(conn):
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _migrate(conn)
    engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
