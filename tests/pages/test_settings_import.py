"""Settings → Import (issue 18): the owner runs a dry run of a WHMCS database (the §7
fixture on MariaDB), sees its report, then imports with the progress bar and sees the report
and the panel check. Staff never see the tab (Settings is the owner's page)."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import func, select

from core.models import Client, MailOutbox
from core.platform.db import read_session
from tests import mariadb
from tests.integration import whmcs_fixture
from tests.pages.apptest import app_as, texts, tr, tr_part

pytestmark = pytest.mark.skipif(not mariadb.available(), reason="MariaDB is not running")


@pytest.fixture(scope="module")
def source():
    name = f"imp_page_{os.getpid()}"
    url = mariadb.create(name, "whmcs-8.4.0.sql")
    conn = mariadb.connect(name)
    whmcs_fixture.build(conn)
    conn.close()
    yield url
    mariadb.drop(name)


def _outbox() -> list[str]:
    with read_session() as s:
        return list(s.scalars(select(MailOutbox.to_addr)))


def _clients() -> int:
    with read_session() as s:
        return s.scalar(select(func.count()).select_from(Client)) or 0


def test_the_owner_dry_runs_then_imports(page_personas, source):
    at = app_as(page_personas.owner, "settings", tab="import")
    assert not at.exception
    assert at.button(key="import_run").disabled  # a dry run comes first
    before = _clients()
    at.text_input(key="import_url").input(source)
    at.button(key="import_dry_run").click().run()
    assert not at.exception
    shown = texts(at)
    assert tr("imports.report.dry") in shown
    assert tr("imports.reason.currency_not_usd") in shown
    assert tr_part("imports.mismatches", count=1) in shown
    assert _clients() == before  # the dry run wrote nothing
    assert not at.button(key="import_run").disabled
    at.button(key="import_run").click().run()
    assert not at.exception
    shown = texts(at)
    assert tr("imports.report.done") in shown
    assert _clients() == before + 5  # four clients and the guest of a ticket
    # The imported server has no token yet: the check says so instead of failing.
    assert tr("imports.panel.title") in shown
    assert tr("imports.panel.server_unreachable") in shown
    # The md5 login waits for a set-password link; the import sent nothing, the owner does.
    assert tr("imports.passwords", count=1) in shown
    assert _outbox() == []
    at.button(key="import_send_passwords").click().run()
    assert not at.exception
    assert tr("imports.passwords_sent", count=1) in texts(at)
    assert _outbox() == ["maria@cliente.test"]


def test_a_bad_url_is_a_translated_error(page_personas):
    at = app_as(page_personas.owner, "settings", tab="import")
    at.text_input(key="import_url").input("sqlite:///x.db")
    at.button(key="import_dry_run").click().run()
    assert not at.exception
    assert tr("imports.error.bad_url") in [e.value for e in at.error]
    assert at.button(key="import_run").disabled


def test_staff_cannot_import(page_personas, source):
    """Settings is not among staff's pages, and core refuses staff all the same."""
    from core import accounts, imports
    from core.platform.errors import Forbidden

    with read_session() as s:
        user = accounts.user_by_email(s, page_personas.staff.email)
        assert user is not None
        staff = accounts.actor_from_user(user)
    with pytest.raises(Forbidden):
        imports.run("whmcs", source=source, dry_run=True, actor=staff)
    with pytest.raises(Forbidden):
        imports.send_password_links(staff)
