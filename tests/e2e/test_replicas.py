"""Two app replicas on one PostgreSQL behind Debian's nginx, as deploy/ sets them up (issue 20).

* The replicas are started with the command and environment of
  ``deploy/systemd/anfitrion@.service`` (port as the instance, keys as credential files, a
  data folder of their own each, as on two machines), on free ports, on a database of this
  test's own, ``anf_replicas_<pid>`` on 127.0.0.1:5432 (dropped after).
* nginx serves ``deploy/nginx/anfitrion.conf`` itself, with only its ports, certificate (a
  self-signed one made here) and upstream addresses replaced, as a foreground process with its
  pid, logs and temporary files in a temp folder: never the system's nginx service.
* Client A's journey goes through nginx in Chromium: sign-in, services, billing, and a ticket
  with an attachment, whose upload is a plain HTTP request that must reach the replica holding
  the session's WebSocket, which is what the sticky cookie is for. nginx's access log shows
  every request of the browser on one replica, and fresh browsers spread over both.
* The daily run started on both replicas at once (the command of
  ``deploy/systemd/anfitrion-automation.service``): one acts, the other exits, and nothing is
  done twice.

Skipped only when PostgreSQL is unreachable; nginx and chromium are required.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import OperationalError

from core import automation
from core.models import (
    AutomationAction,
    AutomationRun,
    Client,
    Counter,
    Invoice,
    MailOutbox,
    Service,
    Ticket,
    TicketMessage,
    Upload,
)
from core.platform import config, db
from core.platform.db import read_session, unit_of_work
from core.platform.i18n import t
from core.platform.migrate import upgrade
from tests.conftest import _DATA
from tests.e2e.conftest import ARTIFACTS, _free_port
from tests.e2e.journeys_conftest import (
    eventually,
    everything,
    failure_shot,
    main_text,
    open_page,
    png_bytes,
    settle,
    sign_in_here,
    upload,
)
from tests.e2e.test_journeys import nav
from tests.personas import TODAY, Personas, build_personas

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "anfitrion.conf"
UNITS = ROOT / "deploy" / "systemd"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROUTE_COOKIE = "anfitrion_route"
SUBJECT = "El sitio carga lento desde ayer"
RENEWALS = 300  # services due on the run day: more than one renewal group (GROUP = 250)


@dataclass(frozen=True)
class Farm:
    base: str  # https://127.0.0.1:PORT, nginx
    plain: str  # http://127.0.0.1:PORT, nginx's redirect to TLS
    cert: Path
    personas: Personas
    database_url: str
    replicas: tuple[str, str]  # 127.0.0.1:PORT of each
    envs: tuple[dict[str, str], dict[str, str]]
    access_log: Path


# ------------------------------------------------------------------------ deploy/ files


def unit_lines(unit: str, key: str) -> list[str]:
    """The values of ``key=`` in a unit file of deploy/systemd (comments skipped)."""
    lines = (UNITS / unit).read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[1] for line in lines if line.startswith(f"{key}=")]


def unit_command(unit: str, values: dict[str, str]) -> list[str]:
    """The unit's ExecStart, with this checkout's Python for /srv/anfitrion/.venv's and the
    specifiers and variables systemd would fill (``%i``, ``${ANFITRION_LISTEN}``) filled."""
    (exec_start,) = unit_lines(unit, "ExecStart")
    argv = shlex.split(exec_start)
    assert argv[0] == "/srv/anfitrion/.venv/bin/python", argv[0]
    argv[0] = sys.executable
    filled = []
    for arg in argv:
        for name, value in values.items():
            arg = arg.replace(name, value)
        assert "%" not in arg and "${" not in arg, f"{unit}: {arg} is not filled"
        filled.append(arg)
    return filled


def unit_environment(unit: str, values: dict[str, str]) -> dict[str, str]:
    """The unit's own Environment= lines, filled as :func:`unit_command` does."""
    env = {}
    for line in unit_lines(unit, "Environment"):
        name, value = line.split("=", 1)
        for key, replacement in values.items():
            value = value.replace(key, replacement)
        env[name] = value
    return env


def nginx_config(tmp: Path, *, upstreams: list[str], https: int, http: int, cert: Path) -> str:
    """deploy/nginx/anfitrion.conf as Debian's nginx.conf would include it, wrapped in a
    main config whose pid, logs and temporary files are in ``tmp``. Only addresses, ports
    and the certificate change; each replacement must hit, so a site file that drifts from
    what this test knows fails here instead of testing something else."""
    site = SITE.read_text(encoding="utf-8")

    def replace(pattern: str, new, expected: int) -> None:
        nonlocal site
        site, hits = re.subn(pattern, new, site, flags=re.MULTILINE)
        assert hits == expected, f"{SITE.name}: {pattern!r} matched {hits}, not {expected}"

    ours = iter(upstreams)
    replace(r"^(\s*server )[\d.]+:\d+", lambda m: m.group(1) + next(ours), len(upstreams))
    replace(r"^\s*listen \[::\]:\d+[^;]*;\n", "", 2)  # loopback only in a test
    replace(r"^(\s*listen )80;", rf"\g<1>127.0.0.1:{http};", 1)
    replace(r"^(\s*listen )443 ", rf"\g<1>127.0.0.1:{https} ", 1)
    replace(r"^(\s*ssl_certificate )\s*\S+;", rf"\g<1>{cert};", 1)
    replace(r"^(\s*ssl_certificate_key )\S+;", rf"\g<1>{cert.with_suffix('.key')};", 1)
    # nginx started as root hands requests to an unprivileged worker (Debian's www-data).
    user = "user www-data;" if os.geteuid() == 0 else ""
    temp = " ".join(
        f"{kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi")
    )
    return f"""{user}
worker_processes 1;
pid {tmp / "nginx.pid"};
error_log {tmp / "error.log"} info;
daemon off;
events {{ worker_connections 256; }}
http {{
    {temp} scgi_temp_path {tmp / "scgi"};
    log_format replicas '$anfitrion_route $upstream_addr $status "$request"';
    access_log {tmp / "access.log"} replicas;
{site}
}}
"""


def self_signed(folder: Path) -> Path:
    """A certificate for 127.0.0.1 (and its key beside it, .key), valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    start = datetime.now(UTC) - timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "tls.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    path.with_suffix(".key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.with_suffix(".key").chmod(0o600)
    return path


# ---------------------------------------------------------------------------- the farm


def _until_healthy(url: str, proc: subprocess.Popen, what: str, **kwargs) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with status {proc.returncode}")
        try:
            if requests.get(url, timeout=2, **kwargs).text == "ok":
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    pytest.fail(f"{what} did not become healthy")


def _create_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()


def _drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def farm() -> Iterator[Farm]:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if nginx is None:
        pytest.fail("Debian's nginx is required for the replica test (apt-get install nginx)")
    if not shutil.which("chromium"):
        pytest.fail("Debian's chromium is required for browser tests (apt-get install chromium)")
    try:
        probe = create_engine(ADMIN_URL)
        with probe.connect():
            pass
        probe.dispose()
    except OperationalError as exc:
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is unreachable: {exc.orig}")

    name = f"anf_replicas_{os.getpid()}"
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    previous = os.environ.get("DATABASE_URL")
    tmp = Path(tempfile.mkdtemp(prefix="anf-replicas-", dir=_DATA))
    tmp.chmod(0o755)  # nginx's worker (www-data) makes its temporary folders in here
    procs: list[subprocess.Popen] = []
    logs = []
    _create_database(name)
    try:
        os.environ["DATABASE_URL"] = url
        config.get_settings.cache_clear()
        settings = config.get_settings()
        upgrade(settings.database_url)
        personas = build_personas()

        # The keys every machine shares, as the credential files the units load.
        credentials = tmp / "credentials"
        credentials.mkdir(mode=0o700)
        for file, value in (
            ("cookie_key", settings.cookie_key),
            ("secret_key", settings.secret_key),
        ):
            (credentials / file).write_text(value, encoding="utf-8")
            (credentials / file).chmod(0o600)
        # What /etc/anfitrion/anfitrion.env holds on every machine (deploy/…/anfitrion.env.example).
        shared = {
            "DATABASE_URL": url,
            "STREAMLIT_SERVER_COOKIE_SECRET": "replicas-test-" + "x" * 40,
        }
        ports, envs = [], []
        for i in range(2):
            port = _free_port()
            data = tmp / f"machine{i + 1}"
            data.mkdir(mode=0o700)
            values = {"%d": str(credentials), "/var/lib/anfitrion": str(data)}
            env = {**os.environ, **unit_environment("anfitrion@.service", values), **shared}
            env.pop("COOKIE_KEY", None)
            env.pop("SECRET_KEY", None)
            command = unit_command(
                "anfitrion@.service", {"%i": str(port), "${ANFITRION_LISTEN}": "127.0.0.1"}
            )
            log = open(_DATA / f"replica-{port}.log", "wb")  # noqa: SIM115 - closed at teardown
            logs.append(log)
            procs.append(
                subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            )
            ports.append(port)
            envs.append(env)
        for port, proc in zip(ports, procs, strict=True):
            _until_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc, f"replica {port}")

        cert = self_signed(tmp)
        https, http = _free_port(), _free_port()
        replicas = (f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}")
        conf = tmp / "nginx.conf"
        conf.write_text(
            nginx_config(tmp, upstreams=list(replicas), https=https, http=http, cert=cert),
            encoding="utf-8",
        )
        nginx_args = [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")]
        checked = subprocess.run([*nginx_args, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        proxy = subprocess.Popen(nginx_args, stderr=subprocess.DEVNULL)
        procs.append(proxy)
        base = f"https://127.0.0.1:{https}"
        _until_healthy(f"{base}/_stcore/health", proxy, "nginx", verify=str(cert))
        yield Farm(
            base=base,
            plain=f"http://127.0.0.1:{http}",
            cert=cert,
            personas=personas,
            database_url=settings.database_url,
            replicas=replicas,
            envs=(envs[0], envs[1]),
            access_log=tmp / "access.log",
        )
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for log in logs:
            log.close()
        if (tmp / "error.log").exists():  # kept for a failure's post-mortem
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(tmp / "error.log", ARTIFACTS / "replicas-nginx-error.log")
        db.dispose_all()
        _drop_database(name)
        if previous is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous
        config.get_settings.cache_clear()


def routes(farm: Farm) -> dict[str, set[str]]:
    """From nginx's access log: each route cookie value and the replicas that served it."""
    served: dict[str, set[str]] = defaultdict(set)
    for line in farm.access_log.read_text(encoding="utf-8").splitlines():
        route, upstream = line.split(" ", 2)[:2]
        if upstream != "-":  # nginx's own answers (the redirect to https)
            served[route].add(upstream)
    return served


# ---------------------------------------------------------------------------- the tests


def test_nginx_redirects_to_tls_and_spreads_fresh_browsers_stickily(farm: Farm):
    plain = requests.get(f"{farm.plain}/services?x=1", allow_redirects=False, timeout=5)
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://127.0.0.1/services?x=1")

    first = requests.get(farm.base, verify=str(farm.cert), timeout=5)
    assert first.status_code == 200
    cookie = first.cookies.get(ROUTE_COOKIE)
    assert cookie and "Secure" in first.headers["Set-Cookie"]
    assert "HttpOnly" in first.headers["Set-Cookie"]
    again = requests.get(
        f"{farm.base}/_stcore/health", cookies={ROUTE_COOKIE: cookie}, verify=str(farm.cert)
    )
    assert ROUTE_COOKIE not in again.headers.get("Set-Cookie", "")  # set once, then kept

    # Fresh browsers (no cookie) land on either replica; one cookie always on the same one.
    for _ in range(30):
        requests.get(f"{farm.base}/_stcore/health", verify=str(farm.cert), timeout=5)
    for _ in range(10):
        requests.get(
            f"{farm.base}/_stcore/health", cookies={ROUTE_COOKIE: cookie}, verify=str(farm.cert)
        )
    served = routes(farm)
    assert set().union(*served.values()) == set(farm.replicas)
    assert all(len(replicas) == 1 for replicas in served.values()), served
    assert len(served[cookie]) == 1


def test_client_journey_through_nginx(farm: Farm, browser, shot):
    a = farm.personas.client_a
    context = browser.new_context(
        ignore_https_errors=True, viewport={"width": 1280, "height": 1400}
    )
    page = context.new_page()
    try:
        # A replica's first sign-in can be slow enough for the cookie component's rerun to
        # redraw the form after the typing: sign_in_here types again then, as a person would.
        open_page(page, farm.base)
        sign_in_here(page, a.email, farm.personas.password, page.get_by_test_id("stSidebarNav"))
        shot(page, "signed-in")

        nav(page, t("page.services"))
        listing = page.get_by_test_id("stMain").get_by_role("table").first
        listing.wait_for()
        assert "cliente-a.ec" in listing.inner_text()
        assert "cliente-b.ec" not in everything(page)
        shot(page, "services")

        nav(page, t("page.billing"))
        page.get_by_text("F-A-1").first.wait_for()
        assert "F-B-1" not in everything(page)
        shot(page, "billing")

        # A ticket with an attachment: the file goes up in its own HTTP request, which
        # only the replica holding this session's WebSocket can take.
        nav(page, t("page.tickets"))
        page.get_by_role("tab", name=t("tickets.new_title")).click()
        settle(page)
        form = page.get_by_test_id("stForm")
        page.get_by_role("textbox", name=t("tickets.col.subject")).fill(SUBJECT)
        form.get_by_role("textbox", name=t("tickets.message")).fill(
            "Las páginas tardan más de diez segundos. Adjunto la captura."
        )
        upload(page, form, "lento.png", "image/png", png_bytes())
        form.get_by_role("button", name=t("tickets.submit_new")).click()
        page.get_by_text(t("tickets.opened")).first.wait_for()
        settle(page)
        assert SUBJECT in main_text(page)
        shot(page, "ticket-opened")
        route = next(c["value"] for c in context.cookies() if c["name"] == ROUTE_COOKIE)
    except Exception:
        failure_shot(page, "replicas-journey-failed")
        raise
    finally:
        context.close()  # ends the WebSocket, which nginx logs when it closes

    with read_session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.subject == SUBJECT)).one()
        assert ticket.client_id == a.actor.client_id
        message = s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).one()
        (attachment,) = [s.get(Upload, i) for i in message.attachment_ids]
        assert (attachment.filename, attachment.data) == ("lento.png", png_bytes())

    # Every request of that browser, the WebSocket and the upload among them, on one replica.
    def logged() -> bool:
        text_ = farm.access_log.read_text(encoding="utf-8")
        return f"{route} " in text_ and "/_stcore/stream" in text_

    eventually(logged, timeout=10)
    lines = [
        line
        for line in farm.access_log.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{route} ")
    ]
    assert any("GET /_stcore/stream" in line and " 101 " in line for line in lines), lines
    assert any("PUT /_stcore/upload_file/" in line for line in lines), lines
    assert len(routes(farm)[route]) == 1


def _book_due(like: int, on: date, count: int) -> None:
    """``count`` clients with one active service each (product and server of service
    ``like``), due three days after ``on``."""
    with unit_of_work() as s:
        template = s.get(Service, like)
        assert template is not None
        for i in range(count):
            client = Client(name=f"Cliente {i}", email=f"renueva{i}@test.ec")
            s.add(client)
            s.flush()
            s.add(
                Service(
                    client_id=client.id,
                    product_id=template.product_id,
                    server_id=template.server_id,
                    domain=f"renueva{i}.ec",
                    panel_username=f"renueva{i}",
                    status="active",
                    billing_cycle="monthly",
                    recurring_amount=Decimal("10.00"),
                    anchor_day=(on + timedelta(days=3)).day,
                    registration_date=on - timedelta(days=60),
                    next_due_date=on + timedelta(days=3),
                )
            )
        if s.get(Counter, automation.LOCK_NAME) is None:  # as a first run leaves it
            s.add(Counter(name=automation.LOCK_NAME, value=0))


def _ledger() -> dict[str, int]:
    with read_session() as s:
        return {
            "invoices": s.scalar(select(func.count()).select_from(Invoice)),
            "actions": s.scalar(select(func.count()).select_from(AutomationAction)),
            "runs": s.scalar(select(func.count()).select_from(AutomationRun)),
            "mail": s.scalar(select(func.count()).select_from(MailOutbox)),
        }


def _waiting_on_locks(engine, database: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE counter%'"
            ),
            {"db": database},
        )


def test_daily_run_started_on_both_replicas_at_once_acts_once(farm: Farm):
    on = TODAY  # the personas' day: nothing of theirs is overdue, so no panel is called
    _book_due(farm.personas.client_a.service_id, on, RENEWALS)
    before = _ledger()
    command = unit_command("anfitrion-automation.service", {}) + ["--date", on.isoformat()]
    database = farm.database_url.rsplit("/", 1)[1]
    engine = create_engine(farm.database_url)
    try:
        # Both runs are held at the lease's row, then let go together: without this gate,
        # one could finish before the other has even imported, which tests nothing.
        gate = engine.connect()
        transaction = gate.begin()
        gate.execute(
            text("SELECT value FROM counter WHERE name = :n FOR UPDATE"),
            {"n": automation.LOCK_NAME},
        )
        runs = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for env in farm.envs
        ]
        deadline = time.monotonic() + 120
        while _waiting_on_locks(engine, database) < 2:
            exited = [r for r in runs if r.poll() is not None]
            assert not exited, [r.communicate() for r in exited]
            assert time.monotonic() < deadline, "the two runs never reached the lease"
            time.sleep(0.2)
        transaction.rollback()
        gate.close()
        outputs = []
        for proc in runs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            outputs.append((json.loads(out.strip().splitlines()[-1]), err))
    finally:
        engine.dispose()

    skipped = [o for o, _ in outputs if o.get("skipped") == automation.IN_PROGRESS]
    acted = [o for o, _ in outputs if "skipped" not in o]
    assert len(skipped) == 1 and len(acted) == 1, outputs
    assert [err for o, err in outputs if "skipped" in o] == [automation.IN_PROGRESS + "\n"]
    counts = acted[0]
    assert counts["invoices_created"] >= RENEWALS and counts["failures"] == 0, counts
    assert set(skipped[0].values()) - {automation.IN_PROGRESS} == {0}  # the other did nothing

    after = _ledger()
    assert after["runs"] == before["runs"] + 1  # one run in the ledger, not two
    assert after["invoices"] == before["invoices"] + counts["invoices_created"]
    assert after["actions"] == before["actions"] + sum(
        v for k, v in counts.items() if k != "failures"
    )
    assert after["mail"] == before["mail"] + counts["invoices_created"]
    with read_session() as s:
        (run,) = s.scalars(select(AutomationRun)).all()
        assert run.status == "done"
        per_service = s.execute(
            select(Service.domain, func.count(Invoice.id))
            .join(Invoice, Invoice.client_id == Service.client_id)
            .where(Service.domain.like("renueva%"))
            .group_by(Service.domain)
        ).all()
    assert len(per_service) == RENEWALS and {n for _, n in per_service} == {1}

    # The timer firing again the same day (or the second machine's, late): nothing more.
    again = subprocess.run(command, cwd=ROOT, env=farm.envs[1], capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["invoices_created"] == 0
    assert _ledger()["invoices"] == after["invoices"]
