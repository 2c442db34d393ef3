"""``--load``: 10 browser sessions (one Chromium, separate contexts) for 60 seconds, each
signing in as the bench client and moving between services, billing and tickets. Reports the
95th percentile of the time from a click to the page having finished its run, and errors."""

from __future__ import annotations

import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
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


def _settled(page) -> None:
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=30_000
    )


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
    from playwright.sync_api import sync_playwright

    timings: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + DURATION_S

    def session(index: int) -> None:
        # Playwright's sync API is per thread: each session drives its own browser.
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=shutil.which("chromium"),
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_context().new_page()
            try:
                page.goto(base)
                page.wait_for_timeout(1500)
                page.get_by_role("textbox", name="Correo electrónico").fill("client@bench.ec")
                page.get_by_role("textbox", name="Contraseña").fill(PASSWORD)
                page.get_by_role("button", name="Ingresar").click()
                page.get_by_test_id("stSidebarNav").wait_for(timeout=60_000)
                step = index
                while time.monotonic() < deadline:
                    target = PAGES[step % len(PAGES)]
                    step += 1
                    start = time.perf_counter()
                    page.get_by_test_id("stSidebarNav").get_by_text(target, exact=True).click()
                    page.wait_for_timeout(50)
                    _settled(page)
                    elapsed = time.perf_counter() - start
                    failed = page.locator("[data-testid='stException']").count()
                    with lock:
                        timings.append(elapsed)
                        if failed:
                            errors.append(f"exception on {target}")
            except Exception as exc:  # noqa: BLE001 - every failure is a counted error
                with lock:
                    errors.append(type(exc).__name__)
            finally:
                browser.close()

    threads = [threading.Thread(target=session, args=(i,)) for i in range(SESSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    p95 = statistics.quantiles(timings, n=20)[-1] * 1000 if len(timings) >= 20 else None
    return {
        "p95_ms": round(p95, 1) if p95 else None,
        "errors": len(errors),
        "renders": len(timings),
        "sessions": SESSIONS,
        "error_kinds": sorted(set(errors)),
    }
