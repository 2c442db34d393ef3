"""Measurements: page scripts through AppTest per role, time spent in SQL, the automation run,
exports of all invoices, and the process's peak RSS."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, event, select

from core.access import PAGES_BY_ROLE
from core.clock import now
from core.models import Invoice

ROOT = Path(__file__).resolve().parent.parent
ENTRY = str(ROOT / "dashboard.py")


class SqlClock:
    """Adds up the time spent executing SQL on an engine."""

    def __init__(self, engine: Engine) -> None:
        self.total = 0.0
        self._starts: list[float] = []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, *args) -> None:
        self._starts.append(time.perf_counter())

    def _after(self, *args) -> None:
        if self._starts:
            self.total += time.perf_counter() - self._starts.pop()

    def reset(self) -> None:
        self.total = 0.0


def _signed_in(email: str):
    from streamlit import config as st_config
    from streamlit.testing.v1 import AppTest

    st_config.set_option("client.showErrorDetails", "full")  # report the cause, not "error"

    at = AppTest.from_file(ENTRY, default_timeout=120)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = email
    at.session_state["anfitrion_signed_in_at"] = now()
    at.session_state["anfitrion_2fa_ok"] = True
    at.run()
    return at


def pages(engine: Engine, users: dict[str, str], runs: int = 10) -> dict[str, dict[str, dict]]:
    """Median wall time and SQL time of each page's script run, per role."""
    clock = SqlClock(engine)
    result: dict[str, dict[str, dict]] = {}
    for role, email in users.items():
        at = _signed_in(email)
        if at.exception:
            raise RuntimeError(f"{role}: {at.exception[0].value}")
        for page in PAGES_BY_ROLE[role]:
            if not (ROOT / "pages" / f"{page}.py").exists():
                continue
            try:
                at.switch_page(f"pages/{page}.py").run()  # warm-up (caches, imports)
            except ValueError:
                continue  # not in this user's navigation (e.g. a permission it lacks)
            walls, sqls = [], []
            for _ in range(runs):
                clock.reset()
                start = time.perf_counter()
                at.run()
                walls.append(time.perf_counter() - start)
                sqls.append(clock.total)
            errors = [e.value for e in at.exception]
            result.setdefault(page, {})[role] = {
                "median_ms": round(statistics.median(walls) * 1000, 1),
                "sql_ms": round(statistics.median(sqls) * 1000, 1),
                **({"errors": errors[:1]} if errors else {}),
            }
    return result


def automation(database_url: str, today: date) -> dict[str, float]:
    """One automation run over the whole book, then the same day again (idempotent rerun)."""
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "core.cli",
                "automation",
                "run",
                "--date",
                today.isoformat(),
                "--json",
            ],
            cwd=ROOT,
            env={**_env(), "DATABASE_URL": database_url},
            capture_output=True,
            text=True,
            timeout=1800,
        )
        timings.append(time.perf_counter() - start)
        if proc.returncode != 0:
            return {"first_s": None, "rerun_s": None, "error": proc.stderr.strip()[-300:]}
    return {"first_s": round(timings[0], 2), "rerun_s": round(timings[1], 2)}


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def exports(engine: Engine) -> dict[str, float]:
    from core.reports import export_csv, export_xlsx

    with engine.connect() as conn:
        frame = pd.read_sql(
            select(
                Invoice.number,
                Invoice.client_id,
                Invoice.issued_on,
                Invoice.due_on,
                Invoice.status,
                Invoice.subtotal,
                Invoice.tax_total,
                Invoice.total,
                Invoice.balance,
            ),
            conn,
        )
    start = time.perf_counter()
    export_csv(frame)
    csv_s = time.perf_counter() - start
    start = time.perf_counter()
    export_xlsx(frame)
    xlsx_s = time.perf_counter() - start
    return {"csv_s": round(csv_s, 2), "xlsx_s": round(xlsx_s, 2), "rows": len(frame)}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
