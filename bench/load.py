"""``--load``: 10 browser sessions (one Chromium, separate contexts) for 60 seconds, each
signing in as the bench client and moving between services, billing and tickets. Reports the
95th percentile of the time from a click to the page having finished its run, and errors."""

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
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
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
        server.terminate()
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
        # The first run's cookie component triggers a rerun that can redraw the form and
        # drop what was typed; a person types slower than that, a script must check.
        for _attempt in range(5):
            await settled(page)
            await page.get_by_role("textbox", name="Correo electrónico").fill("client@bench.ec")
            await page.get_by_role("textbox", name="Contraseña").fill(PASSWORD)
            await page.get_by_role("button", name="Ingresar").click()
            try:
                await page.get_by_test_id("stSidebarNav").wait_for(timeout=15_000)
                return
            except Exception:  # noqa: BLE001, S112 - the form was redrawn: type again
                continue
        raise TimeoutError("could not sign in")

    async def session(browser, index: int) -> None:
        context = await browser.new_context()
        page = await context.new_page()
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
                await page.wait_for_timeout(50)
                await settled(page)
                timings.append(time.perf_counter() - start)
                if await page.locator("[data-testid='stException']").count():
                    errors.append(f"exception on {target}")
        except Exception as exc:  # noqa: BLE001 - every failure is a counted error
            errors.append(type(exc).__name__)
            if os.environ.get("BENCH_SHOTS"):
                await page.screenshot(path=f"{os.environ['BENCH_SHOTS']}/load-{index}.png")
        finally:
            await context.close()

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=shutil.which("chromium"),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        await asyncio.gather(*(session(browser, i) for i in range(SESSIONS)))
        await browser.close()
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000 if len(timings) >= 20 else None
    return {
        "p95_ms": round(p95, 1) if p95 else None,
        "errors": len(errors),
        "renders": len(timings),
        "sessions": SESSIONS,
        "error_kinds": sorted(set(errors)),
    }
