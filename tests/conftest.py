"""Shared fixtures: a real database per engine, the four personas, and AppTest helpers.

SQLite always runs; PostgreSQL runs too when TEST_DATABASE_URL is set (CI sets it). Each
engine is migrated once per session from empty to head; each test starts from empty tables.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_DATA = Path(tempfile.mkdtemp(prefix="anfitrion-test-"))
# Settings are read from the environment: point them at a throwaway data folder before any
# core module is imported, so tests never touch data/ of a developer's install.
os.environ["ANFITRION_DATA_DIR"] = str(_DATA)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_DATA / 'test.db'}")
os.environ["PUBLIC_URL"] = "http://127.0.0.1:8501"
os.environ["BCRYPT_ROUNDS"] = "4"  # fast hashes in tests; production keeps 12
os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] = "full"  # tracebacks in test failures
os.environ["MAIL_DELIVERY"] = "cron"  # tests deliver explicitly; one test covers background
for var in ("SMTP_HOST", "COOKIE_KEY", "SECRET_KEY", "BUSINESS_TZ", "DEFAULT_LANGUAGE"):
    os.environ.pop(var, None)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from core.insights import desk_memo  # noqa: E402
from core.models import Base  # noqa: E402
from core.platform import config, db  # noqa: E402
from core.platform.migrate import upgrade  # noqa: E402
from tests.personas import Personas, build_personas  # noqa: E402

_migrated: set[str] = set()


def _engine_params() -> list:
    params = [pytest.param(f"sqlite:///{_DATA / 'integration.db'}", id="sqlite")]
    pg = os.environ.get("TEST_DATABASE_URL")
    if pg:
        params.append(pytest.param(pg, id="postgresql", marks=pytest.mark.postgres))
    return params


_private_pg: dict[str, str] = {}


def _private_postgres(url: str) -> str:
    """A database of this test process's own beside ``url``'s, so two test runs on one
    server (a developer's and a helper's, say) never drop each other's tables."""
    if url not in _private_pg:
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        base = make_url(config.load({**os.environ, "DATABASE_URL": url}).database_url)
        name = f"{base.database}_w{os.getpid()}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        _private_pg[url] = base.set(database=name).render_as_string(hide_password=False)
    return _private_pg[url]


def _drop_private_databases() -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    db.dispose_all()
    for private in _private_pg.values():
        target = make_url(private)
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        admin.dispose()


def pytest_sessionfinish(session, exitstatus):
    _drop_private_databases()


def use_database(url: str) -> str:
    """Point the process (core.platform.config, core.platform.db) at ``url``, migrated and
    emptied."""
    if url.startswith("postgres"):
        url = _private_postgres(url)
    settings = config.load({**os.environ, "DATABASE_URL": url})
    os.environ["DATABASE_URL"] = url
    config.get_settings.cache_clear()
    real = settings.database_url
    if real not in _migrated:
        engine = db.get_engine(real)
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
            else:
                Base.metadata.drop_all(conn)
                conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade(real)
        _migrated.add(real)
    empty_tables(real)
    # Emptied by raw SQL, which no session sees: counts kept from an earlier test must go.
    desk_memo.forget()
    return real


def empty_tables(url: str) -> None:
    engine = db.get_engine(url)
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
            # The knowledge base's FTS5 index is no model table (migration 0038).
            conn.execute(text("DELETE FROM kb_search"))


@pytest.fixture(params=_engine_params())
def database(request) -> str:
    """A migrated, empty database on each engine under test (integration tier)."""
    return use_database(request.param)


@pytest.fixture
def sqlite_database() -> str:
    """The embedded default only (page tier: AppTest runs in this process)."""
    return use_database(f"sqlite:///{_DATA / 'pages.db'}")


@pytest.fixture
def personas(database) -> Personas:
    return build_personas()


@pytest.fixture
def page_personas(sqlite_database) -> Personas:
    return build_personas()


@pytest.fixture
def smtp(monkeypatch):
    """A real SMTP server (aiosmtpd) on loopback, configured as the app's mail server."""
    from tests.fakes.smtp import FakeSmtp

    server = FakeSmtp().start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    monkeypatch.setenv("SMTP_SECURITY", "none")
    config.get_settings.cache_clear()
    yield server
    server.stop()
    monkeypatch.delenv("SMTP_HOST")
    config.get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    yield
    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()


@pytest.fixture(params=["holder", "invited"])
def client_b_as(request, personas: Personas):
    """Client B as its holder, or as a person B's holder invited with every permission: the
    isolation tests of client B against client A run for both (issue 19, acceptance 4)."""
    b = personas.client_b
    if request.param == "holder":
        return b
    from dataclasses import replace

    from core import accounts
    from core.access import CLIENT_PERMISSIONS
    from core.accounts import client_users
    from core.platform.clock import now
    from core.platform.db import read_session

    client_users.invite(
        b.actor,
        email="ayudante-b@test.ec",
        name="Ayudante de B",
        permissions=list(CLIENT_PERMISSIONS),
        language="en",
        at=now(),
    )
    with read_session() as s:
        user = accounts.user_by_email(s, "ayudante-b@test.ec")
        assert user is not None
        invited = accounts.actor_from_user(user)
    assert invited.client_id == b.actor.client_id and not invited.is_account_holder
    return replace(b, email=invited.email, actor=invited)
