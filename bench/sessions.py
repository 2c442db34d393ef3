"""``--sessions N[,N…]`` and ``--signins K``: the server's capacity measured without
browsers, by many sessions speaking Streamlit's own protocol (bench.protocol).

Capacity, for each N: N sessions, each signed in by its auth cookie as a client of its own
(``book.load_sign_ins``), all connected and through their first run before a shared window
of ``duration_s`` opens; in it each moves between its client pages (the ones the server's
menu lists for it) with a think time drawn uniformly from 3 to 5 s. Each page switch is
timed from the rerun request sent to the end of the run (``script_finished``); errors are
runs that failed (see bench.protocol). The server's CPU seconds over the window come from
/proc (utime + stime of the server process).

Sign-ins: K sessions open the sign-in form, then all submit it at the same moment, with
passwords hashed at ``BCRYPT_ROUNDS`` (12, bcrypt's own default, what production uses);
timed from the submit to the end of the run that draws the signed-in page. The cost is
split by measuring, at the same concurrency, what is left when a part is taken away:
K cookie sign-ins at once (the authenticator and the page, no bcrypt), then K reruns of
the signed-in page at once (the page alone). bcrypt's own cost, K checks on this
machine's cores, is measured in-process beside it.

One server for the whole run (warmed by one session visiting every page once, as a
server that has been up a while has been), in a process of its own; this client runs in
another, so its CPU does not count as the server's.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import jwt
import requests
from sqlalchemy import create_engine, update

from bench.book import PASSWORD, load_sign_ins
from bench.protocol import Session, click, text
from core.cli import streamlit_command

ROOT = Path(__file__).resolve().parent.parent
THINK_S = (3.0, 5.0)
DURATION_S = 60.0
KNEE_MS = 1000.0
SIGNIN_ROUNDS = 12
CONNECT_BATCH = 25  # sessions connecting at once before the window: arrival is not measured


def run(
    database_url: str,
    sessions: list[int],
    signins: int = 0,
    duration_s: float = DURATION_S,
) -> dict:
    """Start the app on loopback over ``database_url`` and measure; the figures as a dict."""
    engine = create_engine(database_url)
    try:
        emails = load_sign_ins(engine, max(sessions, default=1))
        signin_emails = _signin_users(engine, signins) if signins else []
    finally:
        engine.dispose()
    from core.platform.config import get_settings

    settings = get_settings()
    with _server(database_url) as (base, pid):
        cookie = _cookie_maker(settings)
        asyncio.run(_warm_up(base, cookie(emails[0])))
        out: dict = {"capacity": []}
        for n in sessions:
            figures = asyncio.run(_capacity(base, pid, [cookie(e) for e in emails], n, duration_s))
            out["capacity"].append(figures)
            print(
                f"sessions {n}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
                f"errors {figures['errors']}, {figures['switches']} switches, "
                f"server CPU {figures['server_cpu_s']} s",
                file=sys.stderr,
                flush=True,
            )
        out["capacity_knee"] = knee(out["capacity"])
        if signins:
            split = asyncio.run(_signins(base, signin_emails, cookie))
            out["signin_p95_ms"] = split["form_p95_ms"]
            out["signin_split"] = split
    return out


def knee(capacity: list[dict]) -> int | None:
    """The first session count whose p95 passes a second (or that had no switch at all)."""
    for entry in sorted(capacity, key=lambda e: e["sessions"]):
        if entry["p95_ms"] is None or entry["p95_ms"] > KNEE_MS:
            return entry["sessions"]
    return None


def _signin_users(engine, count: int) -> list[str]:
    """``count`` clients whose password is hashed at 12 rounds, as production's are: the
    book's are hashed at the bench's cheaper BCRYPT_ROUNDS. The measured client (the first
    of ``load_sign_ins``) is left alone; these are spread over the rest of the book."""
    from core.models import User

    emails = load_sign_ins(engine, count + 1)[1:] or load_sign_ins(engine, count)
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(SIGNIN_ROUNDS)).decode()
    with engine.begin() as conn:
        conn.execute(update(User).where(User.email.in_(emails)).values(password_hash=hashed))
    return emails


def _cookie_maker(settings):
    """The authenticator's own cookie (an HS256 JWT ``{username, exp_date}`` signed with
    the app's COOKIE_KEY, streamlit-notes §1.6): what a browser holds after signing in."""

    def cookie(email: str) -> dict[str, str]:
        exp = datetime.now(UTC) + timedelta(days=settings.cookie_expiry_days)
        token = jwt.encode(
            {"username": email, "exp_date": exp.timestamp()}, settings.cookie_key, "HS256"
        )
        return {settings.cookie_name: token}

    return cookie


class _server:
    """``streamlit run dashboard.py`` on a free loopback port, as bench.load starts it."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def __enter__(self) -> tuple[str, int]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        data = Path(os.environ.get("ANFITRION_DATA_DIR") or tempfile.gettempdir())
        self.log = open(data / "sessions-server.log", "wb")  # noqa: SIM115 - closed in __exit__
        self.proc = subprocess.Popen(
            streamlit_command(port, "--server.fileWatcherType=none"),
            cwd=ROOT,
            env={
                **os.environ,
                "DATABASE_URL": self.database_url,
                "BCRYPT_ROUNDS": str(SIGNIN_ROUNDS),
            },
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the app stopped at start; see {self.log.name}")
            try:
                if requests.get(f"{base}/_stcore/health", timeout=1).text == "ok":
                    return base, self.proc.pid
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError("the app did not answer /_stcore/health within 120 s")

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.log.close()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (no psutil in the app's requirements)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _signed_in(base: str, cookies: dict[str, str]) -> Session:
    session = Session(base, cookies)
    await session.connect()
    first = await session.run()
    if not first.ok or not session.signed_in():
        await session.close()
        raise RuntimeError(f"cookie sign-in failed: {first.errors or 'no menu'}")
    return session


def _menu(session: Session) -> list[str]:
    return sorted(path for path in session.pages if path not in session.hidden)


async def _warm_up(base: str, cookies: dict[str, str]) -> None:
    """Every page once: the first runs import the pages' modules, a cold start, not load."""
    session = await _signed_in(base, cookies)
    try:
        for page in _menu(session):
            await session.run(page)
    finally:
        await session.close()


async def _capacity(base: str, pid: int, cookies: list[dict], n: int, duration_s: float) -> dict:
    timings: list[float] = []
    errors: list[str] = []
    warnings = 0
    opened: list[Session] = []

    async def arrive(index: int) -> None:
        try:
            opened.append(await _signed_in(base, cookies[index % len(cookies)]))
        except Exception as exc:  # noqa: BLE001 - a failed arrival is a counted error
            errors.append(f"arrival: {str(exc)[:80]}")

    for start in range(0, n, CONNECT_BATCH):
        await asyncio.gather(*(arrive(i) for i in range(start, min(n, start + CONNECT_BATCH))))

    async def browse(index: int, session: Session, deadline: float) -> None:
        nonlocal warnings
        rng = random.Random(index)
        menu = _menu(session)
        await asyncio.sleep(rng.uniform(0, THINK_S[1]))  # people do not all click at once
        while time.monotonic() < deadline:
            target = rng.choice([p for p in menu if p != session.page] or menu)
            result = await session.run(target)
            warnings += result.warnings
            if result.ok:
                timings.append(result.ms)
            else:
                errors.extend(f"{target}: {why}" for why in result.errors)
            await asyncio.sleep(rng.uniform(*THINK_S))

    cpu_before, client_before = cpu_seconds(pid), time.process_time()
    began = time.monotonic()
    deadline = began + duration_s
    try:
        await asyncio.gather(*(browse(i, s, deadline) for i, s in enumerate(opened)))
    finally:
        window = time.monotonic() - began
        cpu = cpu_seconds(pid) - cpu_before
        client_cpu = time.process_time() - client_before
        await asyncio.gather(*(s.close() for s in opened))
    return {
        "sessions": n,
        "p50_ms": round(statistics.median(timings), 1) if timings else None,
        "p95_ms": _p95(timings),
        "errors": len(errors),
        "server_cpu_s": round(cpu, 1),
        "switches": len(timings),
        "window_s": round(window, 1),
        "server_cores_busy": round(cpu / window, 2),
        "client_cpu_s": round(client_cpu, 1),
        "warnings_drawn": warnings,
        "error_kinds": sorted(set(errors))[:10],
    }


async def _signins(base: str, emails: list[str], cookie) -> dict:
    k = len(emails)
    errors: list[str] = []

    # 1. The full sign-in: the form, submitted by all K at the same moment.
    forms = [Session(base) for _ in emails]
    await asyncio.gather(*(s.connect() for s in forms))
    await asyncio.gather(*(s.run() for s in forms))

    async def submit(session: Session, email: str) -> float | None:
        fields = session.form("Login")
        boxes = [w for w in fields if w.kind == "text_input"]
        address = next((w for w in boxes if not w.password), None)
        password = next((w for w in boxes if w.password), None)
        button = next((w for w in fields if w.submitter), None)
        if address is None or password is None or button is None:
            errors.append("sign-in form not drawn")
            return None
        result = await session.run(
            widgets=[text(address, email), text(password, PASSWORD), click(button)]
        )
        if not result.ok or not session.signed_in():
            errors.append(f"sign-in: {result.errors or 'still signed out'}")
            return None
        return result.ms

    form_ms = await asyncio.gather(*(submit(s, e) for s, e in zip(forms, emails, strict=True)))
    await asyncio.gather(*(s.close() for s in forms))

    # 2. The same K signed in by their cookies at once: the authenticator and the page.
    cookied = [Session(base, cookie(e)) for e in emails]
    await asyncio.gather(*(s.connect() for s in cookied))
    firsts = await asyncio.gather(*(s.run() for s in cookied))
    errors.extend(f"cookie sign-in: {r.errors}" for r in firsts if not r.ok)
    # 3. And the signed-in page again, at once: the page alone (no authenticator is built
    # on a signed-in session's reruns, ui.auth.signin.gate).
    agains = await asyncio.gather(*(s.run() for s in cookied))
    errors.extend(f"page: {r.errors}" for r in agains if not r.ok)
    await asyncio.gather(*(s.close() for s in cookied))

    one_ms, k_ms = _bcrypt_reference(k)
    full = _p95([m for m in form_ms if m is not None])
    by_cookie = _p95([r.ms for r in firsts if r.ok])
    page = _p95([r.ms for r in agains if r.ok])
    return {
        "signins": k,
        "bcrypt_rounds": SIGNIN_ROUNDS,
        "errors": len(errors),
        "error_kinds": sorted({str(e)[:100] for e in errors})[:10],
        "form_p50_ms": _p50([m for m in form_ms if m is not None]),
        "form_p95_ms": full,
        "cookie_p95_ms": by_cookie,
        "page_p95_ms": page,
        # The split of the p95: what each part adds at this concurrency.
        "bcrypt_ms": _minus(full, by_cookie),
        "authenticator_ms": _minus(by_cookie, page),
        "page_ms": page,
        # bcrypt alone on this machine: one check, and K at once on all its cores.
        "bcrypt_one_ms": one_ms,
        "bcrypt_k_at_once_ms": k_ms,
        "cores": os.cpu_count(),
        # The least p95 any server can reach here: K checks of one_ms, one per core at a
        # time, the i-th ending at (i // cores + 1) * one_ms (20 at 12 rounds on 2 cores:
        # 10 checks deep, ~2.5 s, above the 2 s target before any page work).
        "bcrypt_floor_p95_ms": bcrypt_floor_p95(k, one_ms, os.cpu_count() or 1),
    }


def bcrypt_floor_p95(k: int, one_ms: float, cores: int) -> float | None:
    """The p95 of K sign-ins if nothing but their bcrypt checks took time."""
    return _p95([(i // cores + 1) * one_ms for i in range(k)])


def _bcrypt_reference(k: int) -> tuple[float, float]:
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(SIGNIN_ROUNDS))
    started = time.perf_counter()
    bcrypt.checkpw(PASSWORD.encode(), hashed)
    one = time.perf_counter() - started
    threads = [
        threading.Thread(target=bcrypt.checkpw, args=(PASSWORD.encode(), hashed)) for _ in range(k)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return round(one * 1000, 1), round((time.perf_counter() - started) * 1000, 1)


def _p50(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _p95(values: list[float]) -> float | None:
    if len(values) < 2:
        return round(values[0], 1) if values else None
    return round(statistics.quantiles(values, n=20, method="inclusive")[-1], 1)


def _minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else round(a - b, 1)


if __name__ == "__main__":
    # ``python -m bench.sessions URL 25,50 20 [SECONDS]``: the figures as JSON, last line.
    import json

    counts = [int(n) for n in sys.argv[2].split(",") if n]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else DURATION_S
    print(json.dumps(run(sys.argv[1], counts, k, seconds)))
