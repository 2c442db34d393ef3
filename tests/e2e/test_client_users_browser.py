"""In real Chromium (issue 19): client A's holder invites a person with the tickets
permission only; the person follows the mailed single-use link, chooses a password, signs
in and finds tickets but not billing; the holder revokes them and the person's next page
load is the sign-in form.
"""

from __future__ import annotations

import re

import pytest

from core.platform import mail
from core.platform.i18n import t
from tests.e2e.conftest import sign_in, wait_for_app

pytestmark = pytest.mark.e2e

INVITED = "contadora@test.ec"
PASSWORD = "Libro-mayor-azul-77"
LINK = re.compile(r"\?reset=([A-Za-z0-9_\-]+)")


def _nav(page) -> str:
    return page.get_by_test_id("stSidebarNav").inner_text()


def _main(page) -> str:
    return page.inner_text("[data-testid='stMain']")


def _users_tab(page) -> None:
    """Open "Mi cuenta" → "Usuarios". A click that lands while the page is still redrawing
    after sign-in (the cookie component's rerun) is lost: click until the tab shows."""
    page.get_by_role("heading", name=t("account.title")).wait_for(timeout=30_000)
    invite = page.get_by_role("button", name=t("client_users.invite"))
    for _ in range(5):
        page.get_by_role("tab", name=t("client_users.tab"), exact=True).click()
        wait_for_app(page)
        if invite.is_visible():
            return
        page.wait_for_timeout(1000)
    invite.wait_for(timeout=5_000)


def test_invite_accept_see_only_tickets_and_be_signed_out_on_revoke(live_app, browser, shot, smtp):
    base, personas = live_app
    holder_ctx = browser.new_context()
    holder = holder_ctx.new_page()
    sign_in(holder, base, personas.client_a.email, personas.password)
    holder.goto(f"{base}/account")
    wait_for_app(holder)
    _users_tab(holder)
    shot(holder, "users-tab")
    holder.get_by_role("textbox", name=t("client_users.email")).fill(INVITED)
    holder.get_by_role("textbox", name=t("client_users.name")).fill("Contadora")
    perms = holder.get_by_test_id("stMultiSelect").filter(has_text=t("client_users.permissions"))
    perms.first.get_by_role("combobox").click()
    holder.get_by_role("option", name=t("client_users.perm.tickets")).first.click()
    holder.keyboard.press("Escape")
    holder.get_by_role("button", name=t("client_users.invite")).click()
    holder.get_by_text(t("client_users.invited", email=INVITED)).first.wait_for(timeout=30_000)
    wait_for_app(holder)
    shot(holder, "invited")

    mail.deliver_due()
    [body] = smtp.bodies_to(INVITED)
    raw = LINK.search(body).group(1)  # type: ignore[union-attr]

    guest_ctx = browser.new_context()
    guest = guest_ctx.new_page()
    guest.goto(f"{base}/?reset={raw}")
    wait_for_app(guest)
    guest.wait_for_timeout(1500)  # the cookie component's rerun redraws the form
    wait_for_app(guest)
    guest.get_by_role("textbox", name=t("account.new_password"), exact=True).fill(PASSWORD)
    guest.get_by_role("textbox", name=t("account.repeat_password")).fill(PASSWORD)
    guest.get_by_role("button", name=t("reset.submit")).click()
    guest.get_by_text(t("reset.done_title")).first.wait_for(timeout=30_000)
    shot(guest, "password-chosen")

    sign_in(guest, base, INVITED, PASSWORD)
    nav = _nav(guest)
    assert t("page.tickets") in nav
    assert t("page.billing") not in nav and t("page.services") not in nav
    guest.get_by_text(t("home.open_tickets")).first.wait_for(timeout=30_000)
    home = _main(guest)  # the home page: the ticket count, none of the account's money
    assert t("home.credit") not in home and t("home.amount_owed") not in home
    guest.goto(f"{base}/tickets")
    wait_for_app(guest)
    guest.get_by_text("Ayuda a").first.wait_for(timeout=30_000)  # client A's ticket
    shot(guest, "tickets")
    guest.goto(f"{base}/billing")  # a deep link to a part not given: nothing of it
    wait_for_app(guest)
    assert "F-A-1" not in _main(guest) and "$11,50" not in guest.inner_text("body")
    shot(guest, "billing-refused")

    holder.reload()
    wait_for_app(holder)
    _users_tab(holder)
    holder.get_by_test_id("stCheckbox").filter(has_text=t("client_users.revoke_confirm")).locator(
        "label"
    ).click()
    wait_for_app(holder)
    holder.get_by_role("button", name=t("client_users.revoke")).click()
    holder.get_by_text(t("client_users.revoked")).first.wait_for(timeout=30_000)
    shot(holder, "revoked")

    guest.goto(f"{base}/tickets")  # the person's next page load
    wait_for_app(guest)
    guest.get_by_role("button", name=t("signin.submit")).wait_for(timeout=30_000)
    assert "Ayuda a" not in guest.inner_text("body")
    shot(guest, "signed-out")
    guest_ctx.close()
    holder_ctx.close()
