"""In real Chromium: sign in, deep links and reloads, role navigation, sign-out that sticks."""

import pytest

from core.platform.i18n import t
from tests.e2e.conftest import sign_in, submit_sign_in, wait_for_app
from tests.personas import TOTP_SECRET

pytestmark = pytest.mark.e2e


def _nav(page) -> str:
    return page.get_by_test_id("stSidebarNav").inner_text()


def test_client_signs_in_reloads_a_deep_link_and_signs_out(live_app, browser, shot):
    base, personas = live_app
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, personas.client_a.email, personas.password)
    page.get_by_text("$11,50").first.wait_for()  # client A's home and balance due
    shot(page, "signed-in")
    nav = _nav(page)
    assert (
        t("page.account") in nav and t("page.settings") not in nav and t("page.reports") not in nav
    )

    page.goto(f"{base}/account")  # a pasted deep link, then a reload
    wait_for_app(page)
    page.reload()
    wait_for_app(page)
    page.get_by_role("heading", name=t("account.title")).wait_for()
    assert page.url.endswith("/account")
    shot(page, "deep-link")

    page.goto(f"{base}/settings")  # not this role's page: no settings content
    wait_for_app(page)
    assert t("settings.title") not in page.inner_text("[data-testid='stMain']")
    shot(page, "settings-refused")
    page.keyboard.press("Escape")  # Streamlit's own "page not found" notice

    copied = context.cookies()
    assert any(c["name"] == "anfitrion_auth" for c in copied)
    page.get_by_role("button", name=t("nav.sign_out"), exact=True).click()
    page.get_by_role("button", name=t("signin.submit")).wait_for(timeout=30_000)
    shot(page, "signed-out")

    # The cookie copied before sign-out signs nobody in afterwards.
    thief = browser.new_context()
    thief.add_cookies(copied)
    other = thief.new_page()
    other.goto(base)
    wait_for_app(other)
    other.get_by_role("button", name=t("signin.submit")).wait_for(timeout=30_000)
    assert "$11,50" not in other.inner_text("body")
    shot(other, "copied-cookie-refused")
    thief.close()
    context.close()


def test_owner_and_client_see_different_navigation(live_app, browser, shot):
    base, personas = live_app
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, personas.owner.email, personas.password, TOTP_SECRET)
    page.get_by_role("heading", name=t("home.desk_title")).wait_for()
    shot(page, "owner-home")
    assert t("page.settings") in _nav(page)
    page.reload()  # the second factor holds for this browser's sign-in: no new code asked
    wait_for_app(page)
    page.get_by_role("heading", name=t("home.desk_title")).wait_for()
    assert t("home.client_title") not in page.inner_text("[data-testid='stMain']")
    context.close()


def test_a_deep_link_opened_signed_out_lands_there_after_sign_in(live_app, browser, shot):
    base, personas = live_app
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/account")
    wait_for_app(page)
    page.wait_for_timeout(1500)
    wait_for_app(page)
    account = page.get_by_role("heading", name=t("page.account"))
    submit_sign_in(page, personas.client_a.email, personas.password, account)
    assert page.url.endswith("/account")
    shot(page, "deep-link-after-sign-in")
    context.close()
