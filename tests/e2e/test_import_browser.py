"""Issue 18, acceptance 5: in Chromium, the owner runs a dry run and an import of a WHMCS
database (the §7 fixture on MariaDB) from Settings → Import and sees the report."""

from __future__ import annotations

import os

import pytest

from core.platform.i18n import t
from tests import mariadb
from tests.e2e.conftest import sign_in, wait_for_app
from tests.integration import whmcs_fixture
from tests.personas import TOTP_SECRET

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not mariadb.available(), reason="MariaDB is not running"),
]


@pytest.fixture(scope="module")
def source():
    name = f"imp_e2e_{os.getpid()}"
    url = mariadb.create(name, "whmcs-8.4.0.sql")
    conn = mariadb.connect(name)
    whmcs_fixture.build(conn)
    conn.close()
    yield url
    mariadb.drop(name)


def test_owner_dry_runs_and_imports_from_settings(live_app, browser, shot, source):
    base, personas = live_app
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, personas.owner.email, personas.password, TOTP_SECRET)
    page.goto(f"{base}/settings?tab=import")
    wait_for_app(page)
    main = page.get_by_test_id("stMain")
    main.get_by_text(t("imports.intro")).wait_for(timeout=30_000)
    assert main.get_by_role("button", name=t("imports.run"), exact=True).is_disabled()
    url_box = main.get_by_label(t("imports.source_url"), exact=True)
    url_box.fill(source)
    url_box.press("Enter")
    wait_for_app(page)
    shot(page, "source")
    main.get_by_role("button", name=t("imports.dry_run"), exact=True).click()
    main.get_by_text(t("imports.report.dry")).wait_for(timeout=60_000)
    wait_for_app(page)
    body = main.inner_text()
    assert t("imports.reason.currency_not_usd") in body
    assert t("imports.mismatches", count=1) in body
    assert source not in body  # the URL (it may hold a password) is never echoed
    shot(page, "dry-run-report")
    run = main.get_by_role("button", name=t("imports.run"), exact=True)
    assert run.is_enabled()
    run.click()
    main.get_by_text(t("imports.report.done")).wait_for(timeout=120_000)
    wait_for_app(page)
    body = main.inner_text()
    assert t("imports.panel.title") in body
    assert t("imports.panel.server_unreachable") in body  # the owner enters the token next
    shot(page, "import-report")
    page.goto(f"{base}/clients")
    wait_for_app(page)
    # The desk's client list is a grid (canvas): its cells are in the page, not "visible".
    page.get_by_text("sean@cliente.test").first.wait_for(state="attached", timeout=30_000)
    shot(page, "clients-imported")
    context.close()
