"""Issue 16, first use as a new user would, in real Chromium.

Acceptance 2 / item 5: what `make run` starts (core.cli serve, fresh data dir, free ports) is
driven from its printed output alone: the owner (with a code computed from the printed
authenticator secret), staff and the client each reach their home within a minute.
Item 5: a desk user without 2FA follows the set-up link to the account's security section
(no "Page not found") and gets in. Item 12: the reset and verification confirmations say
what happened and what to do next, and stay.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from core.accounts import tokens, twofactor, user_by_email
from core.models import User
from core.platform.clock import now
from core.platform.db import unit_of_work
from core.platform.i18n import t
from tests.e2e.conftest import (
    ARTIFACTS,
    ROOT,
    _free_port,
    fresh_code,
    sign_in,
    submit_sign_in,
    wait_for_app,
)

pytestmark = pytest.mark.e2e

LOGIN = re.compile(r"^(owner|staff|client)\s+(\S+@\S+)\s+(\S+)\s+(\S+)\s*$")
MINUTE = 60


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """`make run` as a new user runs it: a fresh data dir, nothing in the environment."""
    data = tmp_path_factory.mktemp("first-use-data")
    port, sandbox_port, sri_port = _free_port(), _free_port(), _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "PUBLIC_URL", "BCRYPT_ROUNDS", "MAIL_DELIVERY")
    }
    env["ANFITRION_DATA_DIR"] = str(data)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "core.cli",
            "serve",
            "--port",
            str(port),
            "--sandbox-port",
            str(sandbox_port),
            "--sri-port",
            str(sri_port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed: list[str] = []
    reader = threading.Thread(target=lambda: printed.extend(proc.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 240
    base = None
    while time.monotonic() < deadline and base is None:
        for line in list(printed):
            found = re.search(r"Anfitrión: (http://127\.0\.0\.1:\d+)", line)
            if found:
                base = found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    if base is None:
        proc.terminate()
        pytest.fail("make run printed no address:\n" + "".join(printed))
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                break
        except requests.RequestException:
            time.sleep(0.2)
    yield base, "".join(printed), data
    proc.terminate()  # serve stops streamlit and the sandbox panel it started
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def _logins(printed: str) -> dict[str, tuple[str, str, str]]:
    found = {}
    for line in printed.splitlines():
        match = LOGIN.match(line)
        if match and match.group(3) != "password":
            found[match.group(1)] = (match.group(2), match.group(3), match.group(4))
    return found


def test_make_run_prints_everything_a_new_user_needs(make_run):
    _base, printed, data = make_run
    logins = _logins(printed)
    assert set(logins) == {"owner", "staff", "client"}
    for role in ("owner", "staff"):
        secret = logins[role][2]
        assert re.fullmatch(r"[A-Z2-7]{32}", secret), role
        assert f"secret={secret}" in printed  # the otpauth link beside its QR code
    assert logins["client"][2] == "-"
    assert printed.count("▀") > 100  # QR codes drawn in the terminal
    kept = (Path(data) / "demo-credentials.txt").read_text(encoding="utf-8")
    assert logins["owner"][1] in kept and logins["owner"][2] in kept


@pytest.mark.parametrize(
    ("role", "home"),
    [("owner", "home.desk_title"), ("staff", "home.desk_title"), ("client", "home.client_title")],
)
def test_each_demo_user_reaches_home_within_a_minute(make_run, browser, role, home):
    base, printed, _data = make_run
    email, password, secret = _logins(printed)[role]
    context = browser.new_context()
    page = context.new_page()
    started = time.monotonic()
    sign_in(page, base, email, password, secret if secret != "-" else None)
    page.get_by_role("heading", name=t(home)).wait_for(timeout=MINUTE * 1000)
    took = time.monotonic() - started
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"first-use-{role}-home.png"), full_page=True)
    assert took < MINUTE, f"{role} took {took:.0f} s"
    assert "Page not found" not in page.inner_text("body")
    context.close()


# --- item 5: 2FA set-up path, item 12: confirmations that stay ------------------------


def test_staff_without_2fa_follow_the_set_up_link_and_get_in(live_app, browser, shot):
    base, personas = live_app
    twofactor.reset_for(personas.owner.actor, personas.staff.actor.user_id, now())
    context = browser.new_context()
    page = context.new_page()
    page.goto(base)
    wait_for_app(page)
    page.wait_for_timeout(1500)
    wait_for_app(page)
    main = page.get_by_test_id("stMain")
    arrived = main.get_by_text(t("2fa.setup_required")).first
    submit_sign_in(page, personas.staff.email, personas.password, arrived)
    page.wait_for_timeout(1500)  # the cookie component's rerun, where "Page not found" came
    wait_for_app(page)
    assert "Page not found" not in page.inner_text("body")
    shot(page, "set-up-prompt")
    # Typed or reloaded addresses of this role keep working while 2FA is pending: on the old
    # code "/account" itself (the banner's "Mi cuenta") was Streamlit's "Page not found".
    for path in ("/account", "/tickets"):
        page.goto(f"{base}{path}")
        wait_for_app(page)
        page.wait_for_timeout(2000)
        wait_for_app(page)
        assert "Page not found" not in page.inner_text("body"), path
        assert page.url.endswith(path)
    page.get_by_role("link", name=t("2fa.setup_go")).click()
    wait_for_app(page)
    page.get_by_role("button", name=t("2fa.start")).click()
    wait_for_app(page)
    uri = page.get_by_test_id("stCode").first.inner_text()
    secret = re.search(r"secret=([A-Z2-7]+)", uri).group(1)
    page.get_by_role("textbox", name=t("2fa.code")).fill(fresh_code(secret))
    page.get_by_role("button", name=t("2fa.confirm")).click()
    page.get_by_text(t("2fa.recovery_once")).wait_for(timeout=30_000)
    shot(page, "2fa-on")
    assert "/account" in page.url
    page.get_by_test_id("stSidebarNav").get_by_text(t("page.home")).click()
    page.get_by_role("heading", name=t("home.desk_title")).wait_for(timeout=30_000)
    assert "Page not found" not in page.inner_text("body")
    context.close()


def _warm(browser, base: str) -> None:
    """Open the app once, as any visitor before this one would have: the first session
    of a just-started server runs its first script run cold (imports), and a form drawn
    then does not answer its first submit. Not what these tests are about."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(base)
    wait_for_app(page)
    context.close()


def _raw_token(email: str, purpose: str) -> str:
    with unit_of_work() as s:
        user = user_by_email(s, email)
        if purpose == "verify":
            s.execute(update(User).where(User.id == user.id).values(verified_at=None))
        return tokens.issue(s, user, purpose, now(), email=email if purpose == "verify" else None)


def test_the_reset_confirmation_stays_and_says_what_next(live_app, browser, shot):
    base, personas = live_app
    raw = _raw_token(personas.client_a.email, "reset")
    _warm(browser, base)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/?reset={raw}")
    wait_for_app(page)
    page.wait_for_timeout(1500)
    wait_for_app(page)
    new = "Gato-tejado-luna-44"
    first = page.get_by_role("textbox", name=t("account.new_password"), exact=True)
    repeat = page.get_by_role("textbox", name=t("account.repeat_password"), exact=True)
    first.wait_for(timeout=30_000)
    wait_for_app(page)
    first.fill(new)
    repeat.fill(new)
    page.wait_for_timeout(300)
    assert first.input_value() == new and repeat.input_value() == new
    page.get_by_role("button", name=t("reset.submit")).click()
    try:
        page.get_by_text(t("reset.done")).wait_for(timeout=30_000)
    finally:
        shot(page, "reset-done")
    page.wait_for_timeout(3000)  # the defect: gone within a second
    wait_for_app(page)
    body = page.inner_text("body")
    assert t("reset.done_title") in body and t("reset.done") in body
    assert "reset=" not in page.url
    shot(page, "reset-done-still-there")
    # What to do next works: the sign-in form is right below, with the new password.
    home = page.get_by_role("heading", name=t("home.client_title"))
    submit_sign_in(page, personas.client_a.email, new, home)
    assert t("reset.done") not in page.inner_text("body")
    context.close()


def test_the_verification_landing_says_what_happened_and_stays(live_app, browser, shot):
    base, personas = live_app
    raw = _raw_token(personas.client_b.email, "verify")
    _warm(browser, base)
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{base}/?verify={raw}")
    wait_for_app(page)
    done = t("verify.done", email=personas.client_b.email)
    page.get_by_text(done).wait_for(timeout=30_000)
    page.wait_for_timeout(3000)  # the defect: the landing showed nothing
    wait_for_app(page)
    body = page.inner_text("body")
    assert t("verify.done_title") in body and done in body
    shot(page, "verify-landing")
    page.get_by_role("button", name=t("landing.dismiss")).click()
    wait_for_app(page)
    assert done not in page.inner_text("body")
    # A used link says so, and what to do next, and stays too.
    page.goto(f"{base}/?verify={raw}")
    wait_for_app(page)
    page.get_by_text(t("verify.failed_next")).wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    wait_for_app(page)
    assert t("verify.failed_next") in page.inner_text("body")
    context.close()
