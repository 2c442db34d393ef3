"""``python -m bench --scale S|M|L [--database-url URL] [--load] [--import-whmcs
[--import-only]] [--sessions 25,50,100,200] [--signins 20] [--capacity-only] --out FILE``

``--sessions`` measures the server's capacity without browsers (bench.sessions: sessions
speaking Streamlit's protocol, each signed in by its cookie, switching pages every 3-5 s):
one entry per session count in the JSON's ``capacity`` list (a list even for one count),
``capacity_knee`` the first count whose p95 passes 1 s (null if none). ``--signins K``
times K sign-ins submitted at once at BCRYPT_ROUNDS=12 (``signin_p95_ms``, split into
bcrypt, the authenticator and the page in ``signin_split``). ``--capacity-only`` skips
the other parts.

``--import-whmcs`` also builds a WHMCS 8.4.0 book of 5,000 clients, 20,000 services and
200,000 invoices in MariaDB (bench.whmcs_book) and times its import into a fresh SQLite book
in a process of its own (bench.import_run), whose peak RSS is the importer's alone.

Generates the book into a fresh database (SQLite in data/bench-<scale>.db by default), then
measures and prints a table and writes the JSON figures. Compare figures within one run: the
machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Issue 20's tighter figures at L (median, warm; the export end to end, query and file).
TARGETS = {
    "owner_ms": 60,
    "staff_ms": 60,
    "client_ms": 20,
    "automation_first_s": 10,
    "automation_rerun_s": 1,
    "csv_s": 3,
    "xlsx_s": 60,
    "peak_rss_mb": 1024,
    "load_p95_ms": 2000,
    "einvoice_total_s": 60,
    "import_s": 300,
    "import_rss_mb": 1024,
    "capacity_p95_ms": 1000,
    "signin_p95_ms": 2000,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scale", choices=["XS", "S", "M", "L"], default="S")  # XS: tests
    parser.add_argument("--database-url")
    parser.add_argument("--load", action="store_true", help="10 browsers for 60 s")
    parser.add_argument("--out", required=True)
    parser.add_argument("--reuse", action="store_true", help="keep an already generated book")
    parser.add_argument(
        "--einvoices", type=int, default=10_000, help="SRI documents to issue and authorise"
    )
    parser.add_argument("--import-whmcs", action="store_true", help="time a big WHMCS import")
    parser.add_argument("--import-only", action="store_true", help="only the import figures")
    parser.add_argument(
        "--sessions",
        type=_counts,
        default=[],
        help="protocol sessions without browsers, e.g. 25,50,100,200 (bench.sessions)",
    )
    parser.add_argument(
        "--signins", type=int, default=0, help="sign-ins submitted at once, at 12 rounds"
    )
    parser.add_argument(
        "--session-seconds", type=float, default=60.0, help="each session count's window"
    )
    parser.add_argument(
        "--capacity-only", action="store_true", help="only --sessions and --signins"
    )
    args = parser.parse_args(argv)

    data = Path(os.environ.get("ANFITRION_DATA_DIR") or tempfile.mkdtemp(prefix="bench-"))
    os.environ["ANFITRION_DATA_DIR"] = str(data)
    url = args.database_url or f"sqlite:///{data / f'bench-{args.scale}.db'}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("BCRYPT_ROUNDS", "10")
    os.environ.setdefault("MAIL_DELIVERY", "cron")

    from core.platform import config, db
    from core.platform.clock import today
    from core.platform.migrate import upgrade

    config.get_settings.cache_clear()
    settings = config.get_settings()
    engine = db.get_engine(settings.database_url)
    business_today = today(settings.tz)
    from bench import book, measure

    imported: dict = {}
    if args.import_whmcs or args.import_only:
        figures = import_whmcs(data, business_today, reuse=args.reuse)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        kept = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
        out.write_text(json.dumps({**kept, "import_whmcs": figures}, indent=2), encoding="utf-8")
        _print_import(figures)
        imported = {"import_whmcs": figures}  # kept in the full run's JSON below
        if args.import_only:
            return 0

    started = time.perf_counter()
    if not (args.reuse and book.counts(engine)["client"] > 0):
        _empty(engine)
        upgrade(settings.database_url)
        # A child process builds the book, so the peak RSS measured below is the app's own,
        # not that of the generator's row lists.
        subprocess.run(
            [sys.executable, "-m", "bench.book", args.scale, business_today.isoformat()],
            check=True,
            env=dict(os.environ),
        )
    gen_s = round(time.perf_counter() - started, 1)
    print(f"book ({args.scale}): {book.counts(engine)} in {gen_s} s", flush=True)

    result = {"scale": args.scale, "generated_s": gen_s, **imported}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)

    def done(part: str, figures) -> None:
        # Each part's figures are kept as soon as they exist: a later part that fails
        # (a browser, say) never loses what was measured before it.
        result[part] = figures
        out.write_text(json.dumps(result, indent=2), encoding="utf-8")
        print(f"{part}: done", flush=True)

    if args.sessions or args.signins:
        # In a process of its own, as --load: the client's loop must not share this
        # process's heap, and the server is a third process whose CPU is the one measured.
        command = [sys.executable, "-m", "bench.sessions", settings.database_url]
        command += [",".join(map(str, args.sessions)), str(args.signins)]
        command += [str(args.session_seconds)]
        measured = subprocess.run(
            command, check=True, env=dict(os.environ), stdout=subprocess.PIPE, text=True
        )
        for part, figures in json.loads(measured.stdout.strip().splitlines()[-1]).items():
            done(part, figures)
        if args.capacity_only:
            _print_capacity(result)
            return 0
    done(
        "pages",
        measure.pages(
            engine,
            {"owner": "owner@bench.ec", "staff": "staff@bench.ec", "client": "client@bench.ec"},
        ),
    )
    done("export", measure.exports(engine))
    done("automation", measure.automation(settings.database_url, business_today))
    # Issue 17: 10,000 facturas issued, signed and authorised by the sandbox SRI, in a process
    # of its own (the sandbox SRI in a third), after the figures above so it cannot move them.
    issued = subprocess.run(
        [sys.executable, "-m", "bench.einvoice", settings.database_url, str(args.einvoices)],
        check=True,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        text=True,
    )
    done("einvoice", json.loads(issued.stdout.strip().splitlines()[-1]))
    if args.load:
        # In a process of its own, as the book is built: the browsers' driver must not
        # carry this process's heap (AppTest runs, two automation runs), whose collections
        # stall the asyncio loop that times every render.
        loaded = subprocess.run(
            [sys.executable, "-m", "bench.load", settings.database_url],
            check=True,
            env=dict(os.environ),
            stdout=subprocess.PIPE,  # its errors still reach the terminal
            text=True,
        )
        done("load", json.loads(loaded.stdout.strip().splitlines()[-1]))
    done("peak_rss_mb", measure.peak_rss_mb())
    _print(result)
    return 0


def _counts(value: str) -> list[int]:
    try:
        counts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("session counts are numbers: 25,50,100") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("at least one session count, each 1 or more")
    return counts


def import_whmcs(data: Path, business_today, *, reuse: bool) -> dict:
    """Build the big WHMCS book (unless reused) and time its import in a child process."""
    from bench import whmcs_book
    from core.platform.migrate import upgrade

    name = "bench_whmcs"
    source = f"mysql+pymysql://root@{whmcs_book.HOST}:{whmcs_book.PORT}/{name}"
    started = time.perf_counter()
    if not reuse or not _has_invoices(name):
        subprocess.run(
            [sys.executable, "-m", "bench.whmcs_book", name, business_today.isoformat()],
            check=True,
            env=dict(os.environ),
        )
    generated = round(time.perf_counter() - started, 1)
    target = data / "bench-import.db"
    target.unlink(missing_ok=True)
    url = f"sqlite:///{target}"
    upgrade(url)
    child = subprocess.run(
        [sys.executable, "-m", "bench.import_run", source],
        check=True,
        env={**os.environ, "DATABASE_URL": url},
        stdout=subprocess.PIPE,
        text=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    return {"generated_s": generated, "target": "sqlite", **figures}


def _has_invoices(name: str) -> bool:
    from bench import whmcs_book

    try:
        conn = whmcs_book.connect(name)
    except Exception:  # noqa: BLE001 - no such database yet: build it
        return False
    with conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM tblinvoices")
        (count,) = cur.fetchone()
    conn.close()
    return count > 0


def _print_import(fig: dict) -> None:
    print(
        f"WHMCS import of {fig['created'].get('invoices')} invoices, "
        f"{fig['created'].get('services')} services, {fig['created'].get('clients')} clients: "
        f"{_mark(fig['seconds'], TARGETS['import_s'])} s, "
        f"peak RSS {_mark(fig['peak_rss_mb'], TARGETS['import_rss_mb'])} MB"
    )


def _empty(engine) -> None:
    from sqlalchemy import text

    from core.models import Base

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _mark(value, target) -> str:
    if value is None:
        return "n/a"
    return f"{value} {'ok' if value <= target else 'MISSED (target ' + str(target) + ')'}"


def _print_capacity(result: dict) -> None:
    for entry in result.get("capacity", []):
        print(
            f"{entry['sessions']:>4} sessions: p95 "
            f"{_mark(entry['p95_ms'], TARGETS['capacity_p95_ms'])} ms, p50 {entry['p50_ms']} ms,"
            f" errors {entry['errors']}, {entry['switches']} switches,"
            f" server CPU {entry['server_cpu_s']} s ({entry['server_cores_busy']} cores)"
        )
    if "capacity" in result:
        print(f"knee (first count with p95 > 1 s): {result.get('capacity_knee')}")
    if "signin_split" in result:
        split = result["signin_split"]
        print(
            f"{split['signins']} sign-ins at once, {split['bcrypt_rounds']} rounds: p95 "
            f"{_mark(result['signin_p95_ms'], TARGETS['signin_p95_ms'])} ms (bcrypt "
            f"{split['bcrypt_ms']}, authenticator {split['authenticator_ms']}, page "
            f"{split['page_ms']}; bcrypt alone, {split['signins']} checks on "
            f"{split['cores']} cores: {split['bcrypt_k_at_once_ms']} ms; least p95 that queueing "
            f"allows: {split['bcrypt_floor_p95_ms']} ms), errors {split['errors']}"
        )


def _print(result: dict) -> None:
    print(f"\nscale {result['scale']}")
    print(f"{'page':16} {'role':7} {'median ms':>10} {'sql ms':>8}  target")
    for page, roles in sorted(result["pages"].items()):
        for role, fig in roles.items():
            target = TARGETS[f"{role}_ms"]
            flag = "ok" if fig["median_ms"] <= target else f"MISSED ({target})"
            print(
                f"{page:16} {role:7} {fig['median_ms']:>10} {fig['sql_ms']:>8}  {flag}"
                + (f"  error: {fig['errors'][0][:60]}" if fig.get("errors") else "")
            )
    auto = result["automation"]
    print(
        f"automation first: {_mark(auto.get('first_s'), TARGETS['automation_first_s'])}"
        f"   rerun: {_mark(auto.get('rerun_s'), TARGETS['automation_rerun_s'])}"
        + (f"   error: {auto['error']}" if auto.get("error") else "")
    )
    exp = result["export"]
    print(
        f"export of {exp['rows']} invoices: csv {_mark(exp['csv_s'], TARGETS['csv_s'])}"
        f"   xlsx {_mark(exp['xlsx_s'], TARGETS['xlsx_s'])}"
    )
    print(f"peak RSS MB: {_mark(result['peak_rss_mb'], TARGETS['peak_rss_mb'])}")
    if "einvoice" in result:
        ei = result["einvoice"]
        print(
            f"SRI: {ei['documents']} facturas issued, signed and authorised, seconds: "
            f"{_mark(ei['total_s'], TARGETS['einvoice_total_s'])}"
            f"   (issue+sign {ei['issue_and_sign_s']} s, send+authorise "
            f"{ei['send_and_authorise_s']} s; signing {ei['signing_ms_per_document']} ms a"
            f" document; RIDE {ei['ride_ms_per_document']} ms)"
        )
    _print_capacity(result)
    if "load" in result:
        load = result["load"]
        print(
            f"load p95 ms: {_mark(load['p95_ms'], TARGETS['load_p95_ms'])}"
            f"   errors: {load['errors']}"
            f"   (p50 {load.get('p50_ms')} ms over {load.get('renders')} renders; ten sign-ins"
            f" at once: p50 {load.get('signin_p50_ms')} ms, max {load.get('signin_max_ms')} ms,"
            f" clicks sent again {load.get('signin_reclicks')})"
        )


if __name__ == "__main__":
    sys.exit(main())
