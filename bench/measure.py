"""Measurements: page scripts through AppTest per role, time spent in SQL, the automation run,
exports of all invoices, and the process's peak RSS."""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, event

from core.access import PAGES_BY_ROLE
from core.platform.clock import now

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


@contextmanager
def as_a_server() -> Iterator[None]:
    """Run AppTest the way ``streamlit run`` serves a rerun, for the figures to be the app's.

    AppTest differs from the server in two ways that matter for timing, and this undoes both
    while it is active:

    - it compiles the page script again on every run (a fresh ``ScriptCache`` each run, and
      Streamlit's AST rewriting is slow for a long page), where a server compiles each script
      once for its life: warm runs share one cache here;
    - it runs a ``pages/`` file alone (legacy multipage mode, re-detected each run), where the
      server runs dashboard.py, whose ``st.navigation`` then runs the page: here each run
      goes through dashboard.py too (the sign-in gate, the navigation, the sidebar).
    """
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = app_test.ScriptCache()

    class ServerPages(PagesManager):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False  # dashboard.py calls st.navigation

    saved = app_test.ScriptCache, app_test.PagesManager, local_script_runner.ScriptCache
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared  # type: ignore[assignment]
    app_test.PagesManager = ServerPages  # type: ignore[misc]
    try:
        yield
    finally:
        app_test.ScriptCache, app_test.PagesManager, local_script_runner.ScriptCache = saved


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
    """Median wall time and SQL time of each page's rerun (dashboard.py and the page, as the
    server runs them, ``as_a_server``), per role."""
    with as_a_server():
        return _pages(engine, users, runs)


def _pages(engine: Engine, users: dict[str, str], runs: int) -> dict[str, dict[str, dict]]:
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


def automation(database_url: str, today: date, reruns: int = 3) -> dict[str, float]:
    """One automation run over the whole book, then the same day again (idempotent reruns),
    each end to end as cron starts it (a fresh interpreter: start-up, imports, the run).
    ``rerun_s`` is the median of ``reruns`` runs that find nothing to do, as the pages'
    figures are medians: one start-up on a shared machine is noisy."""
    timings = []
    for _ in range(1 + reruns):
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
            return {"first_s": None, "rerun_s": None, "error": failure(proc.stderr)}
    return {"first_s": round(timings[0], 2), "rerun_s": round(statistics.median(timings[1:]), 2)}


def failure(stderr: str) -> str:
    """A failed run's cause in a line: the traceback's last exception line, without the
    statement and parameters a database error appends (at XL, ~190,000 parameters whose tail
    hid the cause: "number of parameters must be between 0 and 65535")."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    causes = [line for line in lines if line[:1].isalpha() and "Error" in line.split(":")[0]]
    return (causes[-1] if causes else (lines[-1] if lines else ""))[:300]


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def exports(engine: Engine) -> dict[str, float]:
    """The export of all invoices end to end, as a download does it: the query, then the
    file (both streamed from the rows, part by part)."""
    from core.access import SYSTEM
    from core.insights.reports import invoices_csv, invoices_xlsx

    start = time.perf_counter()
    rows = invoices_csv(SYSTEM).count(b"\r\n") - 1  # the header
    csv_s = time.perf_counter() - start
    start = time.perf_counter()
    invoices_xlsx(SYSTEM)
    xlsx_s = time.perf_counter() - start
    return {"csv_s": round(csv_s, 2), "xlsx_s": round(xlsx_s, 2), "rows": rows}


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
