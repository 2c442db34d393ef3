"""``--load``: 10 browser sessions (one Chromium, separate contexts) for 60 seconds, each
signing in as the bench client and moving between services, billing and tickets. Reports the
95th percentile of the time from a click to the page having finished its run, and errors
(a page that has not finished its run within 30 s, an exception shown, a failed sign-in).
One visit of each page comes first, so the server is warm as a running one is."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.book import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = 10
DURATION_S = 60
PAGES = ("Mis servicios", "Facturación", "Tickets de soporte")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(database_url: str) -> dict:
    port = _free_port()
    # BENCH_SHOTS (a folder) keeps a screenshot of each failed session and the server's log.
    shots = os.environ.get("BENCH_SHOTS")
    log = open(Path(shots) / "server.log", "wb") if shots else subprocess.DEVNULL  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "dashboard.py"),
            "--server.headless=true",
            f"--server.port={port}",
            "--server.address=127.0.0.1",
            "--browser.gatherUsageStats=false",
            "--server.fileWatcherType=none",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                    break
            except requests.RequestException:
                time.sleep(0.2)
        return _drive(base)
    finally:
        # A server still finishing ten sessions' reruns may not stop on SIGTERM in time:
        # the figures are taken already, so it is killed rather than lose them.
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def _drive(base: str) -> dict:
    return asyncio.run(_drive_async(base))


async def _drive_async(base: str) -> dict:
    """One Chromium, one context per session, all sessions concurrent (asyncio)."""
    from playwright.async_api import async_playwright

    timings: list[float] = []
    errors: list[str] = []

    async def settled(page) -> None:
        await page.wait_for_selector(
            "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=30_000
        )

    async def sign_in(page) -> None:
        # As the browser journeys do (tests/e2e/journeys_conftest.sign_in_here): type once
        # the cookie component has loaded and its rerun is over, then wait for the pages.
        # A rerun landing after the typing redraws the form empty and the click sends
        # nothing (streamlit-notes P6): then type again, as a person would. Ten browsers
        # loading the app at once on two cores take a while; that is not what is measured.
        await page.locator("iframe[title*='CookieManager']").wait_for(
            state="attached", timeout=60_000
        )
        await page.wait_for_timeout(500)
        await settled(page)
        email = page.get_by_role("textbox", name="Correo electrónico")
        for _attempt in range(3):
            await email.fill("client@bench.ec")
            await page.get_by_role("textbox", name="Contraseña").fill(PASSWORD)
            await page.get_by_role("button", name="Ingresar").click()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if await page.get_by_test_id("stSidebarNav").count():
                    await settled(page)
                    return
                await page.wait_for_timeout(250)
                state = await page.get_by_test_id("stApp").get_attribute("data-test-script-state")
                if (
                    state == "notRunning"
                    and await email.count()
                    and await email.input_value() == ""
                ):
                    break  # the form came back empty: type again
        raise TimeoutError("could not sign in")

    async def session(browser, index: int) -> None:
        context = await browser.new_context()
        page = await context.new_page()
        target = ""
        try:
            await page.goto(base)
            await sign_in(page)
            deadline = time.monotonic() + DURATION_S  # signing in is not what is measured
            step = index
            while time.monotonic() < deadline:
                target = PAGES[step % len(PAGES)]
                step += 1
                start = time.perf_counter()
                nav = page.get_by_test_id("stSidebarNav")
                await nav.get_by_text(target, exact=True).click()
                # Rendered means this page's own heading is drawn and its run is over, as a
                # person sees it; "not running" alone may be the moment before the rerun
                # starts, and the next click would then land in the middle of a run.
                heading = page.get_by_role("heading", name=target, level=1)
                await heading.first.wait_for(timeout=30_000)
                await settled(page)
                timings.append(time.perf_counter() - start)
                if await page.locator("[data-testid='stException']").count():
                    errors.append(f"exception on {target}")
        except Exception as exc:  # noqa: BLE001 - every failure is a counted error
            errors.append(f"{type(exc).__name__} on {target or 'sign-in'}")
            if os.environ.get("BENCH_SHOTS"):
                await page.screenshot(path=f"{os.environ['BENCH_SHOTS']}/load-{index}.png")
                await page.wait_for_timeout(15_000)  # does it come back?
                await page.screenshot(path=f"{os.environ['BENCH_SHOTS']}/load-{index}-later.png")
        finally:
            await context.close()

    async def warm_up(browser) -> None:
        """One visit of every page first, as a server that has been up a while has had:
        its first runs import the pages' modules, which is a cold start, not load."""
        context = await browser.new_context()
        page = await context.new_page()
        try:
            await page.goto(base)
            await sign_in(page)
            for target in PAGES:
                nav = page.get_by_test_id("stSidebarNav")
                await nav.get_by_text(target, exact=True).click()
                await page.wait_for_timeout(50)
                await settled(page)
        finally:
            await context.close()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        await warm_up(browser)
        await asyncio.gather(*(session(browser, i) for i in range(SESSIONS)))
        await browser.close()
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000 if len(timings) >= 20 else None
    return {
        "p95_ms": round(p95, 1) if p95 else None,
        "p50_ms": round(statistics.median(timings) * 1000, 1) if timings else None,
        "errors": len(errors),
        "renders": len(timings),
        "sessions": SESSIONS,
        "error_kinds": sorted(set(errors)),
    }
