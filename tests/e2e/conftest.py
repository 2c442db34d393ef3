"""Browser tests: real Chromium (Debian's package) against `streamlit run` on a free port.

Playwright's own browser download is not possible here, so the system chromium is driven
through ``executable_path`` (streamlit-notes §3.2). Screenshots of each step go to
``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from core.cli import streamlit_command
from core.platform.i18n import t
from tests.conftest import _DATA, use_database
from tests.personas import Personas, build_personas

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def live_app():
    """A fresh database with the personas, served by a real Streamlit server."""
    yield from serve_app()


def serve_app(prepare: Callable[[Personas], None] | None = None) -> Iterator[tuple[str, Personas]]:
    """The body of ``live_app``: ``prepare(personas)`` runs on the fresh database before the
    server starts (a module's own fixture points the panel server at a fake, say)."""
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is required for browser tests (apt-get install chromium)")
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{_DATA / 'e2e.db'}"
    real_url = use_database(url)
    personas = build_personas()
    if prepare is not None:
        prepare(personas)
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": real_url}
    log = open(_DATA / f"streamlit-{port}.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        streamlit_command(port, "--global.developmentMode=false", "--server.fileWatcherType=none"),
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.terminate()
        pytest.fail("streamlit did not become healthy")
    yield base, personas
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def shot(request):
    """Save a screenshot of a page as a test artifact."""
    ARTIFACTS.mkdir(exist_ok=True)
    counter = iter(range(1, 100))

    def take(page, name: str) -> None:
        page.screenshot(
            path=str(ARTIFACTS / f"{request.node.name}-{next(counter):02d}-{name}.png"),
            full_page=True,
        )

    return take


def wait_for_app(page, timeout: float = 30_000) -> None:
    """Until Streamlit is connected and no script run is in flight."""
    page.wait_for_selector("[data-testid='stAppViewContainer']", timeout=timeout)
    page.wait_for_timeout(300)  # debounced widgets and the first rerun
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']", timeout=timeout
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout
    )


_USED_STEPS: dict[str, int] = {}


def fresh_code(secret: str) -> str:
    """A TOTP code of a time step not used yet by these tests: the app accepts each step
    once (issue 16 item 9), so a second sign-in within 30 s waits for the next code."""
    import pyotp

    totp = pyotp.TOTP(secret)
    while int(time.time()) // totp.interval <= _USED_STEPS.get(secret, -1):
        time.sleep(0.5)
    step = int(time.time()) // totp.interval
    _USED_STEPS[secret] = step
    return totp.at(step * totp.interval)


def submit_sign_in(page, email: str, password: str, arrived) -> None:
    """Type and send the sign-in form until ``arrived`` (a locator of the next screen) shows.

    The cookie component answers after the first run and triggers a rerun that redraws the
    form; on a loaded machine it can land after the typing and clear it, so the click sends
    an empty form. A form found empty once the run is over is typed again (twice at most);
    anything else (an error drawn, a wrong screen) fails with a screenshot."""
    email_box = page.get_by_role("textbox", name=t("signin.email"))
    for attempt in range(3):
        email_box.fill(email)
        page.get_by_role("textbox", name=t("signin.password")).fill(password)
        page.get_by_role("button", name=t("signin.submit")).click()
        try:
            arrived.wait_for(timeout=15_000)
            return
        except PlaywrightTimeout:
            wait_for_app(page)
            if arrived.is_visible():
                return
            if attempt == 2 or not (email_box.is_visible() and email_box.input_value() == ""):
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / "sign-in-failed.png"), full_page=True)
                raise


def sign_in(page, base: str, email: str, password: str, totp_secret: str | None = None) -> None:
    page.goto(base)
    wait_for_app(page)
    page.wait_for_timeout(1500)  # most often the cookie component's rerun lands in this
    wait_for_app(page)
    arrived = (
        page.get_by_role("heading", name=t("2fa.title"))
        if totp_secret
        else page.get_by_test_id("stSidebarNav")
    )
    submit_sign_in(page, email, password, arrived)
    if totp_secret:
        wait_for_app(page)
        page.get_by_role("textbox", name=t("2fa.code")).fill(fresh_code(totp_secret))
        page.get_by_role("button", name=t("2fa.submit")).click()
    try:
        page.get_by_test_id("stSidebarNav").wait_for(timeout=30_000)
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "sign-in-failed.png"), full_page=True)
        raise
    wait_for_app(page)
