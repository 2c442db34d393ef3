"""Management commands: ``python -m core.cli <command>``.

init-db                         apply the migrations
create-user --role R --email E  a user; the password is read from stdin, never argv
demo [--if-empty]               load the demo book into an empty database
serve [--port P]                what `make run` does: migrate, start the sandbox panel,
                                load the demo once, and run the app on 127.0.0.1
automation run [--date D] [--dry-run] [--json]
                                the daily billing run (invoices, reminders, late fees,
                                suspensions, terminations, cancellations, SRI documents);
                                cron runs it daily
einvoice list [--json] [--status S] [--month YYYY-MM]
                                the SRI documents: access key, type, number, invoice, state
einvoice xml --access-key KEY --out FILE
                                write that document's authorised (or signed) XML
einvoice send                   send now the documents the SRI still owes an answer on
import whmcs|fossbilling --source URL [--dry-run] [--json]
import whm --server NAME [--dry-run] [--json]
                                bring a book over (the source is only read); --dry-run
                                writes nothing and reports what would come over
"""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from core import accounts
from core.platform.clock import now, today
from core.platform.config import ConfigError, Settings, get_settings
from core.platform.db import get_engine, read_session, unit_of_work
from core.platform.errors import DomainError
from core.platform.i18n import t

# The repository's root (as core.platform.migrate has it): the migrations (alembic) and the
# demo (sandbox.demo) are imported by the commands that use them, so the daily run, started
# by cron every day, does not load them.
ROOT = Path(__file__).resolve().parents[1]


def cmd_init_db(_args: argparse.Namespace) -> int:
    from core.platform.migrate import upgrade

    upgrade(get_settings().database_url)
    print("database is at the latest migration")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    # The password comes on stdin so it never shows in `ps`, shell history or logs.
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("error: give the password on standard input", file=sys.stderr)
        return 2
    at = now()  # the action's moment: the account is made and verified at once
    try:
        with unit_of_work() as session:
            user = accounts.create_user(
                session,
                role=args.role,
                email=args.email,
                name=args.name or "",
                password=password,
                language=args.language,
                permissions=args.permission or ["tickets", "clients", "services"]
                if args.role == "staff"
                else None,
                at=at,
            )
            user.verified_at = at  # made by the operator: the address is trusted
            email, role = user.email, user.role
    except DomainError as exc:
        print(f"error: {t(exc.key, 'en', **exc.params)}", file=sys.stderr)
        return 1
    print(f"created {role} {email}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from sandbox import demo

    settings = get_settings()
    creds_file = settings.data_dir / "demo-credentials.txt"
    with read_session() as session:
        empty = demo.is_empty(session)
    if not empty:
        if args.if_empty:
            print("demo: the database already has data; nothing loaded.")
            if creds_file.exists():  # every start shows how to get in, not just the first
                print_logins(creds_file)
            return 0
        print(
            "error: the database is not empty; the demo loads only into an empty one",
            file=sys.stderr,
        )
        return 1
    token_file = settings.data_dir / "sandbox-whm.token"
    token = token_file.read_text(encoding="utf-8").strip() if token_file.exists() else None
    with unit_of_work() as session:
        logins = demo.load(session, today(settings.tz), sandbox_token=token)
    demo.write_logins(creds_file, logins)
    print_logins(creds_file)
    return 0


def _start_sandbox(settings: Settings, port: int) -> subprocess.Popen | None:
    """The local cPanel sandbox (a faithful fake WHM) that the demo services live on."""
    state = settings.data_dir / "sandbox-whm.json"
    token = settings.data_dir / "sandbox-whm.token"
    cmd = [
        sys.executable,
        "-m",
        "sandbox.whm_server",
        "--port",
        str(port),
        "--state",
        str(state),
        "--token-file",
        str(token),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            print(f"warning: the sandbox panel did not start (port {port} busy?)", file=sys.stderr)
            return None
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    proc.terminate()
    print("warning: the sandbox panel did not answer in time", file=sys.stderr)
    return None


def _start_sandbox_sri(settings: Settings, port: int) -> subprocess.Popen | None:
    """The local SRI stand-in (both offline web services) the demo's documents go to."""
    state = settings.data_dir / "sandbox-sri.json"
    # The demo book's facturas span months: the sandbox skips the SRI's 90-day date window.
    cmd = [sys.executable, "-m", "sandbox.sri_server", "--port", str(port), "--state", str(state),
           "--no-date-check"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=ROOT)
    if _listening(proc, port):
        return proc
    print(f"warning: the sandbox SRI did not start (port {port} busy?)", file=sys.stderr)
    return None


def _listening(proc: subprocess.Popen, port: int) -> bool:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    proc.terminate()
    return False


def point_at_sandbox_sri(port: int) -> bool:
    """Send pruebas documents to the sandbox SRI, unless the owner set other endpoints: only
    unset ones or ones already on this machine are changed. True when it was done."""
    from core.access import SYSTEM
    from core.einvoice import transmission
    from core.platform import settings as business

    base = f"http://127.0.0.1:{port}/comprobantes-electronicos-ws/"
    wanted = {
        transmission.RECEPTION_URL_TEST: base + "RecepcionComprobantesOffline",
        transmission.AUTHORISATION_URL_TEST: base + "AutorizacionComprobantesOffline",
    }
    with unit_of_work() as session:
        for key in wanted:
            stored = business.stored(key, session=session)
            if stored not in (None, "") and not str(stored).startswith("http://127.0.0.1:"):
                return False
        for key, url in wanted.items():
            business.put(SYSTEM, key, url, session=session)
        if business.stored(transmission.TRANSMIT, session=session) is None:
            business.put(SYSTEM, transmission.TRANSMIT, True, session=session)
    return True


def streamlit_command(port: int, *options: str) -> list[str]:
    """The app as one process on loopback (the reverse proxy is in front in production): the
    command ``make run``, the benches and the browser tests all start."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "dashboard.py"),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        *options,
    ]


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    from core.platform.migrate import upgrade

    # A service manager (or a test) stops us with SIGTERM, whose default ends the process
    # without running ``finally``: the app and the sandboxes would live on, holding their
    # ports (the SRI's is fixed), so SIGTERM takes the Ctrl+C path.
    signal.signal(signal.SIGTERM, _interrupt)
    settings = get_settings()
    upgrade(settings.database_url)
    sandbox = _start_sandbox(settings, args.sandbox_port)
    sri = _start_sandbox_sri(settings, args.sri_port)
    try:
        cmd_demo(argparse.Namespace(if_empty=True))
        if sri is not None and point_at_sandbox_sri(args.sri_port):
            print(f"sandbox SRI: http://127.0.0.1:{args.sri_port} (ambiente pruebas)", flush=True)
            cmd_einvoice_send(argparse.Namespace())  # the demo's signed facturas, authorised
        if sandbox is not None:  # the demo's services live on the sandbox panel
            from sandbox import demo_accounts as services_demo

            token_file = settings.data_dir / "sandbox-whm.token"
            token = token_file.read_text(encoding="utf-8").strip() if token_file.exists() else ""
            made = services_demo.ensure_demo_accounts(args.sandbox_port, token)
            print(
                f"sandbox panel: {made.created} demo accounts created, {made.existing} present"
                + (f", {made.failed} failed (see the log)" if made.failed else ""),
                flush=True,
            )
        print(f"Anfitrión: http://127.0.0.1:{args.port}  (Ctrl+C to stop)", flush=True)
        app = subprocess.Popen(streamlit_command(args.port), cwd=ROOT)
        try:
            return app.wait()
        except KeyboardInterrupt:
            app.send_signal(signal.SIGINT)
            return app.wait()
    finally:
        for proc in (sandbox, sri):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=10)


def cmd_mail_send(_args: argparse.Namespace) -> int:
    """Deliver queued mail now (for MAIL_DELIVERY=cron, or after an SMTP outage)."""
    from core.platform import mail

    mail.recover_stuck()
    counts = mail.deliver_due(limit=500)
    print(f"mail: {counts['sent']} sent, {counts['failed']} failed (will be retried)")
    return 0


def cmd_automation_run(args: argparse.Namespace) -> int:
    """The daily run (cron / systemd timer). Exit 0 also when another run holds the lock."""
    import json
    from datetime import date

    from core import automation
    from core.platform.db import map_sqlite_file

    settings = get_settings()
    map_sqlite_file(1 << 30)  # a cron process reading the book once (db.map_sqlite_file)
    try:
        on = date.fromisoformat(args.date) if args.date else today(settings.tz)
    except ValueError:
        print(f"error: --date must be YYYY-MM-DD, got {args.date!r}", file=sys.stderr)
        return 2
    result = automation.run(on, dry_run=args.dry_run)
    if result.locked:
        print(automation.IN_PROGRESS, file=sys.stderr)
        if args.json:
            print(json.dumps({**result.counts, "skipped": automation.IN_PROGRESS}))
        else:
            print(automation.IN_PROGRESS)
        return 0
    if args.json:
        print(json.dumps(result.counts))
        return 0
    label = "dry run (nothing written)" if result.dry_run else f"run #{result.run_id}"
    print(f"automation {label} for {on.isoformat()}:")
    for name, value in result.counts.items():
        print(f"  {name}: {value}")
    if result.awaiting:
        print(f"  terminations awaiting the owner's approval: {result.awaiting}")
    for item in result.planned:
        print(f"  - {item.step} {item.kind} {item.target} ({item.client_name})".rstrip())
    return 0


def cmd_einvoice_list(args: argparse.Namespace) -> int:
    import json

    from core.access import SYSTEM
    from core.einvoice import register

    try:
        rows = register.documents(SYSTEM, status=args.status, month=args.month)
    except DomainError as exc:
        print(f"error: {t(exc.key, 'en', **exc.params)}", file=sys.stderr)
        return 2
    rows.sort(key=lambda r: (r.issued_on, r.id))
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "access_key": r.access_key,
                        "doc_type": r.doc_type,
                        "number": r.number,
                        "invoice": r.invoice,
                        "status": r.status,
                    }
                    for r in rows
                ]
            )
        )
        return 0
    for r in rows:
        print(f"{r.issued_on} {r.doc_type} {r.number} {r.status:<15} {r.access_key} {r.invoice}")
    print(f"{len(rows)} documents")
    return 0


def cmd_einvoice_xml(args: argparse.Namespace) -> int:
    from core.access import SYSTEM
    from core.einvoice import delivery, register

    doc = register.by_access_key(SYSTEM, args.access_key)
    if doc is None:
        print(f"error: no document has the access key {args.access_key!r}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.write_bytes(delivery.xml_of(doc).data)
    kind = "authorised" if doc.xml_authorised else "signed"
    print(f"{kind} XML of {doc.number} written to {out}")
    return 0


def cmd_einvoice_send(_args: argparse.Namespace) -> int:
    from core.einvoice import transmission

    at = now()  # the command's moment
    with read_session() as session:
        ids = transmission.due(session, at)
    counts = transmission.transmit_many(ids, at=at, workers=4)
    summary = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items())) or "nothing due"
    print(f"SRI: {summary}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Import from WHMCS, FOSSBilling or a WHM server; ``--json`` prints one JSON object."""
    import json

    from core import imports
    from core.panel.errors import PanelError

    if args.system == "whm" and not args.server:
        print("error: import whm needs --server NAME", file=sys.stderr)
        return 2
    if args.system != "whm" and not args.source:
        print(f"error: import {args.system} needs --source URL", file=sys.stderr)
        return 2
    try:
        report = imports.run(
            args.system, source=args.source, server=args.server, dry_run=args.dry_run
        )
    except DomainError as exc:
        print(f"error: {t(exc.key, 'en', **exc.params)}", file=sys.stderr)
        return 1
    except PanelError as exc:
        print(f"error: the WHM server did not answer: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(report.as_json()))
        return 0
    out = report.as_json()
    print(f"import {args.system} " + ("(dry run: nothing written)" if args.dry_run else "done"))
    for kind, count in out["created"].items():
        updated = report.updated.get(kind, 0)
        print(
            f"  {kind}: {count} new, {out['skipped'][kind]} skipped"
            + (f", {updated} brought up to date" if updated else "")
        )
    for problem in report.problems:
        print(f"  ! {problem.kind} {problem.source_id}: {problem.reason}")
    for m in report.mismatches:
        print(
            f"  $ client {m.client}: open {m.source_open} there, {m.our_open} here; "
            f"credit {m.source_credit} there, {m.our_credit} here"
        )
    if report.not_imported:
        print("  not imported on purpose: " + ", ".join(report.not_imported))
    return 0


def print_logins(path: Path) -> None:
    print(f"\nDemo sign-in details (also kept in {path}):", flush=True)
    print(path.read_text(encoding="utf-8"), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.cli", description="Anfitrión")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init-db", help="apply database migrations").set_defaults(fn=cmd_init_db)
    p = sub.add_parser("create-user", help="create a user; password on stdin")
    p.add_argument("--role", required=True, choices=["owner", "staff", "client"])
    p.add_argument("--email", required=True)
    p.add_argument("--name")
    p.add_argument("--language", default="es", choices=["es", "en"])
    p.add_argument(
        "--permission",
        action="append",
        choices=["tickets", "clients", "billing", "services", "reports"],
    )
    p.set_defaults(fn=cmd_create_user)
    p = sub.add_parser("demo", help="load the demo book")
    p.add_argument("--if-empty", action="store_true", help="do nothing when data exists")
    p.set_defaults(fn=cmd_demo)
    sub.add_parser("mail-send", help="deliver queued mail").set_defaults(fn=cmd_mail_send)
    auto = sub.add_parser("automation", help="the daily billing run").add_subparsers(
        dest="automation_command", required=True
    )
    p = auto.add_parser("run", help="run (or preview) the daily automation")
    p.add_argument("--date", help="business date YYYY-MM-DD (default: today)")
    p.add_argument("--dry-run", action="store_true", help="show what would be done; write nothing")
    p.add_argument("--json", action="store_true", help="print one JSON object of counts")
    p.set_defaults(fn=cmd_automation_run)
    einv = sub.add_parser("einvoice", help="SRI electronic documents").add_subparsers(
        dest="einvoice_command", required=True
    )
    p = einv.add_parser("list", help="list the documents")
    p.add_argument("--json", action="store_true", help="print one JSON array")
    p.add_argument("--status", help="only this state (signed, received, authorised, ...)")
    p.add_argument("--month", help="only documents issued in YYYY-MM")
    p.set_defaults(fn=cmd_einvoice_list)
    p = einv.add_parser("xml", help="write a document's XML to a file")
    p.add_argument("--access-key", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_einvoice_xml)
    einv.add_parser("send", help="send the documents due now").set_defaults(fn=cmd_einvoice_send)
    p = sub.add_parser("import", help="import a book from WHMCS, FOSSBilling or WHM")
    p.add_argument("system", choices=["whmcs", "fossbilling", "whm"])
    p.add_argument("--source", help="SQLAlchemy URL of the source database (read only)")
    p.add_argument("--server", help="for whm: the name of a server in Settings → Servers")
    p.add_argument(
        "--dry-run", action="store_true", help="report what would come over; write nothing"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(fn=cmd_import)
    p = sub.add_parser("serve", help="run the app with the sandbox panel (make run)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--sandbox-port", type=int, default=2087)
    p.add_argument("--sri-port", type=int, default=8089)
    p.set_defaults(fn=cmd_serve)
    args = parser.parse_args(argv)
    try:
        return args.fn(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    finally:
        get_engine().dispose()


if __name__ == "__main__":
    sys.exit(main())
