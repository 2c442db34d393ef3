"""The two-replica farm of tests/e2e/test_replicas.py, built from deploy/'s own files: the
replicas run the command and environment of ``deploy/systemd/anfitrion@.service``, the
migrations those of ``anfitrion-migrate.service``, and nginx serves
``deploy/nginx/anfitrion.conf`` with only its ports, certificate and upstream addresses
replaced. Imported by that module (pytest does not collect it as a conftest).
"""

from __future__ import annotations

import ipaddress
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
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core.platform import config, db
from tests.conftest import _DATA
from tests.e2e.conftest import ARTIFACTS, _free_port
from tests.personas import Personas, build_personas

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "deploy" / "nginx" / "anfitrion.conf"
UNITS = ROOT / "deploy" / "systemd"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROUTE_COOKIE = "anfitrion_route"  # the sticky-session cookie the site file sets


@dataclass(frozen=True)
class Machine:
    """What differs between the two machines the replicas stand for (its data folder) and
    what they share (the credential files' folder, anfitrion.env)."""

    values: dict[str, str]  # systemd's %d and the unit's StateDirectory, here
    shared: dict[str, str]

    def env(self, unit: str) -> dict[str, str]:
        """The environment ``unit`` gives its process on this machine."""
        env = {**os.environ, **unit_environment(unit, self.values), **self.shared}
        env.pop("COOKIE_KEY", None)  # the keys come from the credential files only
        env.pop("SECRET_KEY", None)
        return env


@dataclass(frozen=True)
class Farm:
    base: str  # https://127.0.0.1:PORT, nginx
    plain: str  # http://127.0.0.1:PORT, nginx's redirect to TLS
    cert: Path
    personas: Personas
    database_url: str
    replicas: tuple[str, str]  # 127.0.0.1:PORT of each
    machines: tuple[Machine, Machine]
    access_log: Path
    processes: tuple[subprocess.Popen, subprocess.Popen]  # the replicas, as ``replicas``


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


def stop(proc: subprocess.Popen) -> None:
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
        machines = []
        for i in range(2):
            data = tmp / f"machine{i + 1}"  # /var/lib/anfitrion of each machine
            data.mkdir(mode=0o700)
            machines.append(
                Machine(
                    values={"%d": str(credentials), "/var/lib/anfitrion": str(data)}, shared=shared
                )
            )

        # The release's migrations, once, as anfitrion-migrate.service runs them.
        migrate = subprocess.run(
            unit_command("anfitrion-migrate.service", {}),
            cwd=ROOT,
            env=machines[0].env("anfitrion-migrate.service"),
            capture_output=True,
            text=True,
        )
        assert migrate.returncode == 0, migrate.stderr
        personas = build_personas()

        ports = []
        for machine in machines:
            port = _free_port()
            command = unit_command(
                "anfitrion@.service", {"%i": str(port), "${ANFITRION_LISTEN}": "127.0.0.1"}
            )
            log = open(_DATA / f"replica-{port}.log", "wb")  # noqa: SIM115 - closed at teardown
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=machine.env("anfitrion@.service"),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
            ports.append(port)
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
            processes=(procs[0], procs[1]),
            machines=(machines[0], machines[1]),
            access_log=tmp / "access.log",
        )
    finally:
        for proc in reversed(procs):
            stop(proc)
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
    """From nginx's access log: each route cookie value and the replicas its requests went
    to (a request that found its replica down lists that one, then the one that answered)."""
    served: dict[str, set[str]] = defaultdict(set)
    for line in farm.access_log.read_text(encoding="utf-8").splitlines():
        found = re.match(r'(\S+) (.+?) \d{3} "', line)
        assert found, line
        route, upstreams = found.groups()
        if upstreams != "-":  # nginx's own answers (the redirect to https)
            served[route].update(upstreams.split(", "))
    return served
