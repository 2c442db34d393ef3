"""A faithful fake WHM / cPanel server: a real HTTP server on loopback (cpanel-api.md §6).

It speaks the documented protocol rather than mimicking our client, so tests prove the client
against the contract: WHM API 1 and legacy envelopes, UAPI flat and proxied envelopes, HTML
auth failures, cPHulk, validation texts, reseller visibility, fault injection and a request log
with secrets redacted. With ``state_file`` it doubles as the local "sandbox panel" of
``make run``::

    python -m sandbox.whm_server --port 2087 --state data/sandbox-whm.json \
        --token-file data/sandbox-whm.token

One process serves both routers (§6.1 allows "one app with two routers"): ``/json-api/...``
(WHM, ``whm`` scheme) and ``/execute/MODULE/FUNC`` (cPanel, ``cpanel`` scheme).

Faults (``inject(function, fault, times=1, **kw)``; ``function`` is a WHM function such as
``createacct``, a UAPI name such as ``add_pop`` / ``Email::add_pop``, or ``*``):

``http500``               HTTP 500 (or ``status=``) with an HTML body; nothing is done
``html``                  HTTP 200 with a non-JSON HTML body; nothing is done
``meta_refresh``          HTTP 200 META-refresh page (plain-HTTP port redirected to SSL)
``reject``                result 0 / status 0 with ``reason=`` (default carries an XID)
``hang``                  wait ``seconds=`` (default 5) before handling normally (latency)
``timeout_after_commit``  handle and commit, wait ``seconds=`` (default 30), close silently
``drop_after_commit``     handle and commit, close the connection without an answer
``string_numbers``        every integer in the answer becomes a string ("result": "1")
``xid``                   failure texts get an ``(XID …)`` suffix
``empty_messages``        UAPI success carries ``messages`` with empty strings
``text_plain``            answer with ``Content-Type: text/plain`` (old servers)
``drip``                  handle and commit, then send the answer one byte every ``seconds=``
                          (default 2) — a reply that never trips a read timeout
``flood``                 handle and commit, then announce ``bytes=`` (default 400 MB; with
                          ``sized=False`` no length at all) and stream zeros until the client goes
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import hashlib
import ipaddress
import json
import math
import os
import re
import secrets
import signal
import socket
import ssl
import string
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

VERSION = "11.124.0.21"
FAKE_IP = "192.0.2.10"
MB = 1024 * 1024
FAULTS = frozenset(
    {
        "http500",
        "html",
        "meta_refresh",
        "reject",
        "hang",
        "timeout_after_commit",
        "drop_after_commit",
        "string_numbers",
        "xid",
        "empty_messages",
        "text_plain",
        "drip",
        "flood",
    }
)
WHM_MUTATING = frozenset(
    {
        "createacct",
        "suspendacct",
        "unsuspendacct",
        "removeacct",
        "changepackage",
        "passwd",
        "editquota",
    }
)
UAPI_MUTATING = frozenset({"add_pop", "passwd_pop", "delete_pop", "edit_pop_quota"})
_RESERVED_NAMES = (
    "abuse adm admin all apache bin cpanel daemon dovecot exim ftp games halt lp mail mailman "
    "mysql named news nobody operator postgres postmaster root security shutdown sshd sync "
    "system virtfs webmaster wheel whm www xfs"
)
RESERVED = frozenset(_RESERVED_NAMES.split())
_CPSESS = re.compile(r"^/cpsess\d+")
_DOMAIN = re.compile(r"([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")
_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}")
_SECRET_WORDS = ("password", "token", "secret", "authorization")
_SUSPEND_SCRIPT = "<script>if (self['clear_ui_status']) { clear_ui_status(); }</script>"

ACCESS_DENIED_HTML = (
    "<html><head><title>Access denied</title></head>"
    "<body><h1>Access denied</h1><p>Please log in.</p></body></html>"
)
BRUTE_FORCE_HTML = (
    "<html><head><title>cPanel Brute Force Protection</title></head><body>"
    "<h1>Brute Force Protection</h1><p>This account is currently locked out because a brute "
    "force attempt was detected. Please wait 10 minutes and try again.</p></body></html>"
)
ERROR_HTML = (
    "<html><head><title>Internal Server Error</title></head><body>"
    "<h1>Internal Server Error</h1><p>The server encountered an internal error.</p></body></html>"
)


def _pkg(quota: Any, bw: Any, maxpop: Any, max_quota: Any) -> dict[str, Any]:
    return {
        "QUOTA": quota,
        "BWLIMIT": bw,
        "MAXPOP": maxpop,
        "MAXSQL": "unlimited",
        "MAXFTP": "unlimited",
        "MAXSUB": "unlimited",
        "MAXPARK": "unlimited",
        "MAXADDON": "unlimited",
        "MAXLST": "unlimited",
        "MAX_EMAILACCT_QUOTA": max_quota,
        "MAX_EMAIL_PER_HOUR": "unlimited",
        "MAX_DEFER_FAIL_PERCENTAGE": "unlimited",
        "FEATURELIST": "default",
        "CPMOD": "jupiter",
        "CGI": "y",
        "HASSHELL": "n",
        "IP": "n",
        "LANG": "en",
        "DIGESTAUTH": "n",
        "MAX_TEAM_USERS": 7,
        "_PACKAGE_EXTENSIONS": "",
    }


SEED_PACKAGES: dict[str, dict[str, Any]] = {
    "default": _pkg("unlimited", "unlimited", "unlimited", "unlimited"),
    "basico": _pkg(2048, 20480, 10, 1024),
    "estandar": _pkg(10240, 102400, 50, 2048),
    "premium": _pkg(30720, "unlimited", "unlimited", 5120),
}


def password_strength(password: str) -> int:
    """A 1–100 rating in the spirit of cPanel's meter: length x alphabet, repeats penalised."""
    if not password:
        return 0
    pool = sum(
        size
        for chars, size in (
            (string.ascii_lowercase, 26),
            (string.ascii_uppercase, 26),
            (string.digits, 10),
        )
        if any(c in chars for c in password)
    )
    if any(not c.isalnum() for c in password):
        pool += 33
    effective = min(len(password), 2 * len(set(password)))
    return max(1, min(100, int(effective * math.log2(max(pool, 2)) * 100 / 80)))


def _hash(password: str) -> str:
    salt = secrets.token_hex(8)
    return f"{salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def _check(password: str, stored: str | None) -> bool:
    if not stored or "$" not in stored:
        return False
    salt, digest = stored.split("$", 1)
    actual = hashlib.sha256((salt + password).encode()).hexdigest()
    return secrets.compare_digest(actual, digest)


def _seed(text: str) -> int:
    """Deterministic pseudo-usage so figures are plausible, non-zero and stable across runs."""
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _num(value: Any) -> int | None:
    """A package limit as int, None for unlimited."""
    if value in (None, "", "unlimited") or str(value) == "0":
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None


def _lim(value: int | None) -> Any:
    return "unlimited" if value is None else value


def _is_secret(key: str) -> bool:
    low = key.lower()
    return low in ("pass", "newpass", "oldpass") or any(w in low for w in _SECRET_WORDS)


def _redact(params: dict[str, str]) -> dict[str, str]:
    return {k: ("***" if _is_secret(k) else v) for k, v in params.items()}


def _stringify(obj: Any) -> Any:
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return str(obj)
    if isinstance(obj, dict):
        return {k: _stringify(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_stringify(v) for v in obj]
    return obj


class _Fail(Exception):
    """A logical failure: HTTP 200 with result/status 0 and this reason (§6.8)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Reply:
    status: int = 200
    body: Any = None
    ctype: str | None = None
    drop_after: float | None = None  # close without answering after this many seconds
    drip: float | None = None  # send the answer one byte every this many seconds
    flood: int | None = None  # announce this many bytes (0: no length) and stream zeros


def _uapi_env(
    status: int,
    data: Any = None,
    errors: list[str] | None = None,
    messages: Any = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "data": data,
        "errors": errors,
        "messages": messages,
        "warnings": None,
        "metadata": metadata or {},
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "cpsrvd/" + VERSION
    sys_version = ""
    timeout = 15

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self.server.fake._serve(self)  # type: ignore[attr-defined]

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep stderr quiet
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeWhm


class FakeWhm:
    """In-memory WHM/cPanel server. See the module docstring for faults and routes."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = "root",
        token: str | None = None,
        tls: bool = False,
        state_file: str | os.PathLike[str] | None = None,
        *,
        min_strength: int = 65,
        auth_status: int = 401,
        content_type: str = "application/json",
        cphulk_threshold: int | None = None,
        root_password: str | None = None,
        public_host: str | None = None,
        self_login: bool = False,
    ) -> None:
        self.host, self.port, self.user, self.tls = host, port, user, tls
        self.token = token or "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(32)
        )
        self.state_file = Path(state_file) if state_file else None
        self.min_strength = min_strength
        self.auth_status = auth_status
        self.content_type = content_type
        self.cphulk_threshold = cphulk_threshold
        self.root_password = root_password
        self.public_host = public_host or host
        self.self_login = self_login
        self.log: list[dict[str, Any]] = []
        self.cert_path: str | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._tokens: dict[str, dict[str, Any]] = {}
        self._cpanel_tokens: dict[str, str] = {}
        self._faults: list[dict[str, Any]] = []
        self.flooded: list[int] = []  # bytes each ``flood`` reply got out before the client left
        self._auth_failures: dict[str, int] = {}
        self._sessions: dict[str, dict[str, Any]] = {}
        self._state: dict[str, Any] = {"accounts": {}, "packages": {}}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: tempfile.TemporaryDirectory[str] | None = None
        self.add_token(self.user, token=self.token)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeWhm:
        self._load()
        self._stop.clear()
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        if self.tls:
            server.socket = self._tls_context().wrap_socket(
                server.socket, server_side=True, do_handshake_on_connect=False
            )
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes handlers that hang on purpose
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def __enter__(self) -> FakeWhm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}"

    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        """Live account state keyed by username (read it; mutate only between requests)."""
        return self._state["accounts"]

    @property
    def packages(self) -> dict[str, dict[str, Any]]:
        return self._state["packages"]

    def reset(self) -> None:
        """Forget accounts, sessions, faults, the log and cPHulk blocks; reseed packages."""
        with self._lock:
            self._state = {"accounts": {}, "packages": json.loads(json.dumps(SEED_PACKAGES))}
            self._faults.clear()
            self._sessions.clear()
            self._auth_failures.clear()
            self.log.clear()
            self.flooded.clear()
            self._save()

    # ------------------------------------------------------------- test helpers
    def inject(self, function: str, fault: str, times: int | None = 1, **kw: Any) -> None:
        """Make the next ``times`` calls to ``function`` misbehave (None = until reset)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.append({"function": function, "fault": fault, "times": times, "kw": kw})

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def add_token(
        self,
        user: str = "root",
        *,
        token: str | None = None,
        acl: list[str] | None = None,
        expires_at: float | None = None,
        whitelist_ip: list[str] | None = None,
    ) -> str:
        """Register a WHM API token. A user other than root acts as a reseller."""
        token = token or "".join(
            secrets.choice(string.ascii_uppercase + string.digits) for _ in range(32)
        )
        self._tokens[token] = {
            "user": user,
            "acl": acl,
            "expires_at": expires_at,
            "whitelist_ip": whitelist_ip,
        }
        return token

    def add_cpanel_token(self, username: str) -> str:
        token = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(32))
        self._cpanel_tokens[token] = username
        return token

    def add_package(
        self,
        name: str,
        *,
        quota: Any = "unlimited",
        bwlimit: Any = "unlimited",
        maxpop: Any = "unlimited",
        max_emailacct_quota: Any = "unlimited",
    ) -> None:
        with self._lock:
            self.packages[name] = _pkg(quota, bwlimit, maxpop, max_emailacct_quota)
            self._save()

    def add_account(
        self,
        username: str,
        domain: str,
        plan: str = "basico",
        *,
        owner: str = "root",
        password: str | None = None,
        contact_email: str = "",
        suspended: bool = False,
        reason: str = "",
    ) -> dict[str, Any]:
        """Seed an account directly, bypassing validation (for test set-up)."""
        with self._lock:
            acct = self._new_account(
                username, domain, plan, owner, password or secrets.token_urlsafe(16), contact_email
            )
            if suspended:
                acct.update(
                    suspended=True, suspendreason=reason or "Unknown", suspendtime=int(time.time())
                )
            self._save()
            return acct

    def add_mailbox(
        self,
        username: str,
        local: str,
        domain: str | None = None,
        *,
        quota_mb: int | None = 1024,
        password: str | None = None,
    ) -> str:
        with self._lock:
            acct = self.accounts[username]
            address = f"{local}@{domain or acct['domain']}".lower()
            acct["mailboxes"][address] = self._new_mailbox(
                address, quota_mb, password or secrets.token_urlsafe(16)
            )
            self._save()
            return address

    # ------------------------------------------------------------------ persistence
    def _load(self) -> None:
        with self._lock:
            if self.state_file and self.state_file.exists():
                self._state = json.loads(self.state_file.read_text(encoding="utf-8"))
                self._state.setdefault("accounts", {})
                self._state.setdefault("packages", {})
            if not self._state["packages"]:
                self._state["packages"] = json.loads(json.dumps(SEED_PACKAGES))
                self._save()

    def _save(self) -> None:
        if not self.state_file:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        tmp.write_text(json.dumps(self._state, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.state_file)  # atomic: a killed sandbox never leaves half a file

    def _tls_context(self) -> ssl.SSLContext:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = dt.datetime.now(dt.UTC)
        alt = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self._tmpdir = tempfile.TemporaryDirectory(prefix="fakewhm-")
        cert_path, key_path = (
            Path(self._tmpdir.name, "cert.pem"),
            Path(self._tmpdir.name, "key.pem"),
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        self.cert_path = str(cert_path)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert_path, key_path)
        return ctx

    # ------------------------------------------------------------------ state model
    def _new_account(
        self, user: str, domain: str, plan: str, owner: str, password: str, contact: str
    ) -> dict[str, Any]:
        now = int(time.time())
        acct = {
            "user": user,
            "domain": domain,
            "owner": owner,
            "plan": plan,
            "email": contact,
            "ip": FAKE_IP,
            "password_hash": _hash(password),
            "suspended": False,
            "suspendreason": None,
            "suspendtime": None,
            "is_locked": False,
            "created": now,
            "addon_domains": [],
            "mailboxes": {},
        }
        self.accounts[user] = acct
        return acct

    def _new_mailbox(self, address: str, quota_mb: int | None, password: str) -> dict[str, Any]:
        used = 20_000 + _seed(address) % 40_000_000
        if quota_mb:
            used = min(used, int(quota_mb * MB * 0.6))
        return {
            "quota_mb": quota_mb,
            "password_hash": _hash(password),
            "used_bytes": used,
            "suspended_login": 0,
            "suspended_incoming": 0,
            "mtime": int(time.time()),
        }

    def _limits(self, acct: dict[str, Any]) -> dict[str, int | None]:
        pkg = self.packages.get(acct["plan"], {})
        limits = {
            k: _num(pkg.get(k)) for k in ("QUOTA", "BWLIMIT", "MAXPOP", "MAX_EMAILACCT_QUOTA")
        }
        if "quota" in acct:  # editquota's own value until the next changepackage
            limits["QUOTA"] = acct["quota"]
        return limits

    def _disk_used_mb(self, acct: dict[str, Any]) -> int:
        mail = sum(m["used_bytes"] for m in acct["mailboxes"].values()) // MB
        used = 35 + _seed(acct["user"]) % 700 + mail
        quota = self._limits(acct)["QUOTA"]
        return min(used, int(quota * 0.9)) if quota else used

    def _bw_used_bytes(self, acct: dict[str, Any]) -> int:
        used = (20 + _seed("bw" + acct["user"]) % 4000) * MB + _seed(acct["domain"]) % MB
        limit = self._limits(acct)["BWLIMIT"]
        return min(used, limit * MB // 2) if limit else used

    def _visible(self, user: str, caller: str) -> dict[str, Any] | None:
        acct = self.accounts.get(user)
        if acct is None or (caller != "root" and acct["owner"] != caller):
            return None
        return acct

    def _pkg_visible(self, name: str, caller: str) -> bool:
        return name in self.packages and (caller == "root" or name.startswith(f"{caller}_"))

    def _strength_fail(self, password: str, uapi: bool) -> None:
        rating = password_strength(password)
        if rating >= self.min_strength:
            return
        if uapi:
            raise _Fail(
                f"The password that you entered has a strength rating of “{rating}”. You "
                "cannot use it because it is too weak and too easy to guess. Please enter a "
                f"password with a strength rating of “{self.min_strength}” or higher."
            )
        raise _Fail(
            "Sorry, the password you selected cannot be used because it is too weak and would "
            "be too easy to crack. Please select a password with strength rating of "
            f"{self.min_strength} or higher."
        )

    def _acct_row(self, acct: dict[str, Any]) -> dict[str, Any]:
        limits = self._limits(acct)
        return {
            "user": acct["user"],
            "domain": acct["domain"],
            "owner": acct["owner"],
            "plan": acct["plan"],
            "email": acct["email"] or "*unknown*",
            "ip": acct["ip"],
            "suspended": int(acct["suspended"]),
            "suspendreason": acct["suspendreason"] if acct["suspended"] else "not suspended",
            "suspendtime": acct["suspendtime"],
            "is_locked": int(acct["is_locked"]),
            "diskused": f"{self._disk_used_mb(acct)}M",
            "disklimit": f"{limits['QUOTA']}M" if limits["QUOTA"] else "unlimited",
            "maxpop": _lim(limits["MAXPOP"]),
            "max_emailacct_quota": _lim(limits["MAX_EMAILACCT_QUOTA"]),
            "startdate": time.strftime("%d %b %y %H:%M", time.gmtime(acct["created"])),
            "unix_startdate": acct["created"],
            "theme": "jupiter",
            "shell": "/usr/local/cpanel/bin/noshell",
            "partition": "home",
            "inodesused": 400 + _seed(acct["user"]) % 9000,
            "inodeslimit": "unlimited",
            "max_email_per_hour": "unlimited",
            "outgoing_mail_hold": 0,
            "child_nodes": [],
            "mailbox_format": "maildir",
            "temporary": 0,
        }

    # ------------------------------------------------------------------ HTTP entry
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        match = _CPSESS.match(split.path)
        path = split.path[match.end() :] if match else split.path
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length > 0 else b""
        ctype = (h.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        form = {}
        if ctype == "application/x-www-form-urlencoded":  # JSON bodies carry no parameters (§6.3)
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        params = {**query, **form}
        scheme, _, cred = (h.headers.get("Authorization") or "").strip().partition(" ")
        url_text = unquote(h.path)
        # Secret values long enough not to match by accident (a password "1" vs api.version=1).
        secrets_sent = [v for k, v in params.items() if _is_secret(k) and len(v) >= 6]
        secrets_sent += list(self._tokens) + list(self._cpanel_tokens)
        entry: dict[str, Any] = {
            "time": time.time(),
            "method": h.command,
            "path": split.path,
            "query": urlencode(_redact(query)),
            "query_keys": sorted(query),
            "body_keys": sorted(form),
            "json_body": ctype == "application/json",
            "params": _redact(params),
            "secret_in_url": any(_is_secret(k) for k in query)
            or any(s in url_text for s in secrets_sent),
            "api_version": params.get("api.version"),
            "auth_scheme": scheme or None,
            "auth_user": None,
            "function": None,
            "fault": None,
            "status": None,
            "error": None,
        }
        with self._lock:
            self.log.append(entry)
        try:
            reply = self._route(
                path, bool(match), params, scheme, cred.strip(), h.client_address[0], entry
            )
        except Exception as exc:  # a bug in the fake: answer like a crashed cpsrvd, keep a trace
            entry["error"] = repr(exc)
            reply = _Reply(500, ERROR_HTML)
        entry["status"] = "dropped" if reply.drop_after is not None else reply.status
        self._send(h, reply)

    def _send(self, h: BaseHTTPRequestHandler, reply: _Reply) -> None:
        h.close_connection = True
        if reply.drop_after is not None:
            if reply.drop_after:
                self._stop.wait(reply.drop_after)
            with contextlib.suppress(OSError):
                h.connection.shutdown(socket.SHUT_RDWR)
            return
        if isinstance(reply.body, dict | list):
            data = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            ctype = reply.ctype or f"{self.content_type}; charset=utf-8"
        else:
            data = str(reply.body or "").encode("utf-8")
            ctype = reply.ctype or "text/html; charset=utf-8"
        try:
            h.send_response(reply.status)
            h.send_header("Content-Type", ctype)
            if reply.flood != 0:  # a flood without a length ends when the connection does
                h.send_header("Content-Length", str(reply.flood or len(data)))
            h.end_headers()
            if reply.flood is not None:
                self._flood(h, reply.flood)
            elif reply.drip is not None:
                for i in range(len(data)):
                    if self._stop.wait(reply.drip):
                        return
                    h.wfile.write(data[i : i + 1])
                    h.wfile.flush()
            else:
                h.wfile.write(data)
        except OSError:
            pass  # the client gave up (its timeout); nothing to do

    def _flood(self, h: BaseHTTPRequestHandler, size: int) -> None:
        """Zeros as fast as the client takes them, ``size`` bytes (0: without end); how many
        went out is logged, so a test sees that the client stopped reading early."""
        block, sent = bytes(1024 * 1024), 0
        try:
            while (not size or sent < size) and not self._stop.is_set():
                h.wfile.write(block if not size else block[: size - sent])
                sent += len(block) if not size else min(len(block), size - sent)
        finally:
            with self._lock:
                self.flooded.append(sent)

    def _route(
        self,
        path: str,
        cpsess: bool,
        params: dict[str, str],
        scheme: str,
        cred: str,
        ip: str,
        entry: dict[str, Any],
    ) -> _Reply:
        if cpsess and re.fullmatch(r"/login/?", path):
            return self._login(params)
        if path.startswith("/json-api/"):
            router, function = "whm", path[len("/json-api/") :].strip("/")
        elif path.startswith("/execute/"):
            router, function = "cpanel", path[len("/execute/") :].strip("/").replace("/", "::", 1)
        else:
            return _Reply(404, "<html><body><h1>Not Found</h1></body></html>")
        with self._lock:
            if self.cphulk_threshold and self._auth_failures.get(ip, 0) >= self.cphulk_threshold:
                return _Reply(200, BRUTE_FORCE_HTML)
            auth = self._authenticate(router, scheme, cred, ip)
            if auth is None:
                self._auth_failures[ip] = self._auth_failures.get(ip, 0) + 1
                return _Reply(self.auth_status, ACCESS_DENIED_HTML)
        principal, acl = auth
        entry["auth_user"] = principal
        uapi = function
        if router == "whm" and function == "cpanel":
            module, func = params.get("cpanel_jsonapi_module"), params.get("cpanel_jsonapi_func")
            uapi = f"{module or ''}::{func or ''}"
        elif router == "whm" and function == "uapi_cpanel":
            uapi = f"{params.get('cpanel.module', '')}::{params.get('cpanel.function', '')}"
        entry["function"] = uapi
        keys = {function, uapi, uapi.split("::")[-1], "*"}
        fault, kw = self._take_fault(keys)
        entry["fault"] = fault
        if fault == "hang":
            self._stop.wait(float(kw.get("seconds", 5)))
        elif fault == "http500":
            return _Reply(int(kw.get("status", 500)), ERROR_HTML)
        elif fault == "html":
            return _Reply(200, ERROR_HTML)
        elif fault == "meta_refresh":
            target = f"https://{self.public_host}:2087{path}"
            return _Reply(
                200,
                f'<html><head><META HTTP-EQUIV="refresh" CONTENT="0;URL={target}"></head></html>',
            )
        forced = (
            str(kw.get("reason", "Injected failure (XID ab12cd)")) if fault == "reject" else None
        )
        if router == "whm":
            doc = self._whm(function, params, principal, forced, acl)
        else:
            acct = self.accounts.get(principal)
            module, _, func = uapi.partition("::")
            with self._lock:
                doc = self._uapi(module, func, acct, params, forced)
        return self._post_fault(fault, kw, doc)

    def _post_fault(self, fault: str | None, kw: dict[str, Any], doc: dict[str, Any]) -> _Reply:
        if fault == "timeout_after_commit":
            return _Reply(drop_after=float(kw.get("seconds", 30)))
        if fault == "drop_after_commit":
            return _Reply(drop_after=0)
        if fault == "drip":
            return _Reply(200, doc, drip=float(kw.get("seconds", 2)))
        if fault == "flood":
            size = int(kw.get("bytes", 400 * MB)) if kw.get("sized", True) else 0
            return _Reply(200, doc, flood=size)
        inner = doc.get("result") if isinstance(doc.get("result"), dict) else doc
        if fault == "xid":
            suffix = f" (XID {kw.get('xid', 'ab12cd')})"
            meta = doc.get("metadata")
            if isinstance(meta, dict) and str(meta.get("result")) == "0":
                meta["reason"] = f"{meta['reason']}{suffix}"
            if isinstance(inner.get("errors"), list):
                inner["errors"] = [e + suffix for e in inner["errors"]]
        if fault == "empty_messages" and str(inner.get("status")) == "1" and "errors" in inner:
            inner["messages"] = ["", "Horde data for the account has been removed.\n", "", ""]
        if fault == "string_numbers":
            doc = _stringify(doc)
        return _Reply(
            200, doc, ctype="text/plain; charset=utf-8" if fault == "text_plain" else None
        )

    def _take_fault(self, keys: set[str]) -> tuple[str | None, dict[str, Any]]:
        with self._lock:
            for f in self._faults:
                if f["function"] in keys:
                    if f["times"] is not None:
                        f["times"] -= 1
                        if f["times"] <= 0:
                            self._faults.remove(f)
                    return f["fault"], f["kw"]
        return None, {}

    def _authenticate(
        self, router: str, scheme: str, cred: str, ip: str
    ) -> tuple[str, list[str] | None] | None:
        """(user, ACL of the token or None = everything), or None when authentication fails."""
        kind = scheme.lower()  # the scheme word is case-insensitive (`WHM` legacy hash header)
        if kind == "basic":
            try:
                user, _, password = base64.b64decode(cred).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                return None
            if router == "whm":
                ok = (
                    user == self.user
                    and self.root_password is not None
                    and password == self.root_password
                )
                return (user, None) if ok else None
            acct = self.accounts.get(user)
            return (user, None) if acct and _check(password, acct["password_hash"]) else None
        user, _, token = cred.partition(":")
        if kind == "whm" and router == "whm":
            info = self._tokens.get(token)
            if not info or info["user"] != user:
                return None
            if info["expires_at"] is not None and time.time() >= info["expires_at"]:
                return None
            if info["whitelist_ip"] and ip not in info["whitelist_ip"]:
                return None
            return user, info["acl"]
        if kind == "cpanel" and router == "cpanel":
            ok = self._cpanel_tokens.get(token) == user and user in self.accounts
            return (user, None) if ok else None
        return None

    def _login(self, params: dict[str, str]) -> _Reply:
        with self._lock:
            sess = self._sessions.get(params.get("session", ""))
            if not sess or sess["used"] or sess["expires"] < time.time():
                return _Reply(
                    401, "<html><body><h1>Session expired</h1><p>Log in again.</p></body></html>"
                )
            sess["used"] = True
        return _Reply(
            200,
            f"<html><body><h1>Sandbox {sess['service']}</h1>"
            f"<p>Signed in as {sess['user']}.</p></body></html>",
        )

    # ------------------------------------------------------------------ WHM router
    def _whm(
        self,
        function: str,
        p: dict[str, str],
        caller: str,
        forced: str | None,
        acl: list[str] | None,
    ) -> dict[str, Any]:
        v1 = p.get("api.version") == "1"
        denied = acl is not None and function not in acl  # token ACL: 200 + result 0 (§6.4)
        if function == "cpanel" and not denied:
            return self._cpanel_proxy(p, caller, forced)
        handler = (
            getattr(self, f"_f_{function}", None) if re.fullmatch(r"[a-z_]+", function) else None
        )
        ok, reason, data, raw = True, "OK", None, None
        try:
            if denied:
                raise _Fail("Permission denied" if v1 else "Permission Denied")
            if forced is not None:
                raise _Fail(forced)
            if handler is None:
                raise _Fail(f"Unknown app ({function}) requested for this version (1) of the API.")
            with self._lock:
                reason, data, raw = handler(p, caller)
                if function in WHM_MUTATING:
                    self._save()
        except _Fail as exc:
            ok, reason, data, raw = False, exc.reason, None, None
        if not v1:
            legacy = self._legacy(function, ok, reason, data, raw)
            if legacy is not None:
                return legacy
        meta: dict[str, Any] = {
            "command": function,
            "reason": reason,
            "result": int(ok),
            "version": 1,
        }
        if raw:
            meta["output"] = {"raw": raw}
        return {"metadata": meta, "data": data} if ok and data is not None else {"metadata": meta}

    @staticmethod
    def _legacy(
        fn: str, ok: bool, reason: str, data: Any, raw: str | None
    ) -> dict[str, Any] | None:
        """API 0 shapes (§2.2) for a caller that forgot api.version=1."""
        s = int(ok)
        if fn == "createacct":
            return {"result": [{"status": s, "statusmsg": reason, "rawout": raw, "options": data}]}
        if fn in ("removeacct", "suspendacct", "unsuspendacct", "changepackage"):
            msg = f"{_SUSPEND_SCRIPT}{raw or ''}{reason}" if ok and "suspend" in fn else reason
            return {"result": [{"status": s, "statusmsg": msg, "rawout": raw}]}
        if fn == "passwd":
            services = [{"app": a} for a in data["app"]] if ok else None
            return {
                "passwd": [{"status": s, "statusmsg": reason, "services": services, "rawout": raw}]
            }
        if fn in ("listaccts", "accountsummary"):
            return {
                "status": s,
                "statusmsg": "Ok" if ok else reason,
                "acct": data["acct"] if ok else None,
            }
        if fn == "listpkgs" and ok:
            return {"package": data["pkg"]}
        if fn == "showbw" and ok:
            return {"bandwidth": [_stringify(data)]}
        if fn == "version" and ok:
            return {"version": data["version"]}
        if not ok:
            return {"status": 0, "statusmsg": reason}
        return None

    def _f_version(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        return "OK", {"version": VERSION}, None

    @staticmethod
    def _username_error(user: str) -> str | None:
        if not user:
            return "You must specify a username."
        if len(user) > 16:
            return f"The username “{user}” is too long. Usernames cannot exceed 16 characters."
        if not re.fullmatch(r"[a-z0-9]+", user):
            return "Usernames may only contain lowercase letters (a–z) and digits (0–9)."
        if user[0].isdigit():
            return "Usernames cannot begin with a digit."
        if user.startswith("test"):
            return "Usernames cannot begin with the string “test”."
        if user.endswith("assword"):
            return "Usernames cannot end with the string “assword”."
        if user in RESERVED:
            return f"The username “{user}” is reserved."
        return None

    def _all_domains(self) -> set[str]:
        return {d for a in self.accounts.values() for d in [a["domain"], *a["addon_domains"]]}

    def _f_createacct(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user = p.get("username", "").strip().lower()  # cPanel lowercases what you send
        error = self._username_error(user)
        if error:
            raise _Fail(error)
        if "pass" in p and "password" in p:
            raise _Fail("You may not specify both “pass” and “password”.")
        if any(u[:8] == user[:8] for u in self.accounts):  # first 8 characters unique, all owners
            raise _Fail("Sorry, a group for that username already exists.")
        domain = (p.get("domain") or f"{user}.sandbox.invalid").strip().lower().rstrip(".")
        if not _DOMAIN.fullmatch(domain):
            raise _Fail(f"“{domain}” is not a valid domain name.")
        if domain in self._all_domains():
            raise _Fail(f"Sorry, the domain “{domain}” already exists on this server.")
        plan = p.get("plan") or p.get("pkgname") or "default"
        if not self._pkg_visible(plan, caller):
            raise _Fail(
                f'Sorry, "{plan}" is not a valid pacakge name. at '
                "/usr/local/cpanel/Whostmgr/Accounts/Create.pm line 1842."
            )
        password = p.get("password") or p.get("pass")
        if password:
            self._strength_fail(password, uapi=False)
        else:
            password = secrets.token_urlsafe(18)
        self._new_account(user, domain, plan, caller, password, p.get("contactemail", ""))
        shown = password if p.get("showpass", "y").lower() not in ("n", "0") else "(hidden)"
        raw = (
            "Checking input data...Done\nValidating system setup...Done\n"
            f"+===================================+\n| New Account Info |\n| Domain: {domain}\n"
            f"| UserName: {user}\n| PassWord: {shown}\n| Package: {plan}\n"
            "+===================================+\nCreating DNS zone...Done\n"
            "Account Creation Ok...Done\n"
        )
        data = {
            "ip": FAKE_IP,
            "package": plan,
            "nameserver": "ns1.sandbox.invalid",
            "nameserver2": "ns2.sandbox.invalid",
        }
        for key in (
            "nameserver3",
            "nameserver4",
            "nameservera",
            "nameservera2",
            "nameservera3",
            "nameservera4",
            "nameserverentry",
            "nameserverentry2",
            "nameserverentry3",
            "nameserverentry4",
        ):
            data[key] = None
        return "Account Creation Ok", data, raw

    def _f_suspendacct(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user = p.get("user", "")
        acct = self._visible(user, caller)
        if acct is None:
            raise _Fail(f"_suspendacct called for a user that does not exist. ({user})")
        acct.update(
            suspended=True,
            suspendreason=p.get("reason") or "Unknown",
            suspendtime=int(time.time()),
            is_locked=p.get("disallowun") == "1" and caller == "root",
        )
        raw = (
            "Changing Shell...Done\nLocking Password...Done\nSuspending mysql users...Done\n"
            f"{user}'s account has been suspended\n"
        )
        return "OK", None, raw

    def _f_unsuspendacct(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user = p.get("user", "")
        acct = self._visible(user, caller)
        if acct is None:
            raise _Fail(f"_unsuspendacct called for a user that does not exist. ({user})")
        if acct["is_locked"] and caller != "root":
            raise _Fail(f"You do not have permission to unsuspend the locked account “{user}”.")
        acct.update(suspended=False, suspendreason=None, suspendtime=None, is_locked=False)
        return "OK", None, f"Unsuspending {user}...Done\n{user}'s account is now active\n"

    def _f_removeacct(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user = p.get("username") or p.get("user") or ""  # `user` is the deprecated alias
        if self._visible(user, caller) is None:
            raise _Fail(f"System user {user} does not exist!")
        del self.accounts[user]
        raw = (
            "Running pre removal script...Done\nRemoving DNS zone...Done\n"
            "Removing User & Group...Done\n"
        )
        return f"{user} account removed", None, raw

    def _f_changepackage(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user, pkg = p.get("user", ""), p.get("pkg", "")
        acct = self._visible(user, caller)
        if acct is None:
            raise _Fail(f"Sorry the user {user} does not exist")
        if not self._pkg_visible(pkg, caller):
            raise _Fail("Specified package does not exist.")
        acct["plan"] = pkg
        acct.pop("quota", None)  # the package's quota again: an editquota does not survive
        raw = "<pre>\nChanging the account bandwidth limit ...\nChanging the disk quota ...\n</pre>"
        return f"Account Upgrade/Downgrade Complete for {user}", None, raw

    def _f_editquota(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        """Set the account's disk quota: ``quota`` in MB, ``0`` or ``unlimited`` for none.
        It holds until a changepackage puts the package's quota back."""
        user, raw = p.get("user", ""), (p.get("quota") or "").strip()
        if not user:
            raise _Fail("No user specified.")
        acct = self._visible(user, caller)
        if acct is None:
            raise _Fail(f"The user “{user}” does not exist.")
        if raw.lower() == "unlimited":
            quota = None
        elif re.fullmatch(r"\d{1,9}", raw):
            quota = int(raw) or None
        else:
            raise _Fail(f"Invalid quota value: “{raw}”. Specify megabytes or “unlimited”.")
        acct["quota"] = quota
        shown = f"{quota} MB" if quota else "unlimited"
        return "OK", None, f"Setting quota for {user} to {shown}...Done\n"

    def _f_passwd(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user = p.get("user", "")
        password = p.get("password") or p.get("pass") or ""
        acct = self._visible(user, caller)
        if acct is None:
            raise _Fail(f"Sorry, the user {user} does not exist.")
        self._strength_fail(password, uapi=False)
        acct["password_hash"] = _hash(password)
        return (
            f"Password changed for user “{user}”.",
            {"app": ["system", "ftp", "mail", "mySQL"]},
            None,
        )

    def _search(
        self, p: dict[str, str], caller: str, field_of: dict[str, str]
    ) -> list[dict[str, Any]]:
        rows = [a for a in self.accounts.values() if caller == "root" or a["owner"] == caller]
        search = p.get("search")
        if search is None or search == "":
            return rows
        key = field_of.get(p.get("searchtype", "user"), "user")
        if p.get("searchmethod") == "exact":
            return [a for a in rows if str(a[key]) == search]
        try:
            pattern = re.compile(search)  # a PCRE, not a literal: "bob" matches "bobby" (§7.13)
        except re.error as exc:
            raise _Fail(f"Invalid regular expression: {exc}") from None
        return [a for a in rows if pattern.search(str(a[key]))]

    _ACCT_FIELDS = {
        "user": "user",
        "domain": "domain",
        "owner": "owner",
        "ip": "ip",
        "package": "plan",
    }

    def _f_listaccts(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        rows = [self._acct_row(a) for a in self._search(p, caller, self._ACCT_FIELDS)]
        want = [w.strip() for w in p.get("want", "").split(",") if w.strip()]
        if want:
            rows = [{k: v for k, v in r.items() if k in want} for r in rows]
        return "OK", {"acct": rows}, None

    def _f_accountsummary(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user, domain = p.get("user"), p.get("domain")
        if not user and not domain:
            raise _Fail("You must specify a user or domain to get a summary of")
        acct = (
            self._visible(user, caller)
            if user
            else next(
                (
                    a
                    for a in self.accounts.values()
                    if domain in (a["domain"], *a["addon_domains"])
                    and (caller == "root" or a["owner"] == caller)
                ),
                None,
            )
        )
        if acct is None:
            raise _Fail("Account does not exist")
        return "OK", {"acct": [self._acct_row(acct)]}, None

    def _f_listpkgs(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        pkgs = [
            {"name": n, **v}
            for n, v in sorted(self.packages.items())
            if self._pkg_visible(n, caller)
        ]
        return "OK", {"pkg": pkgs}, None

    def _f_getpkginfo(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        name = p.get("pkg", "")
        if not self._pkg_visible(name, caller):
            raise _Fail("Specified package does not exist.")
        flags = {k: int(v == "y") if v in ("y", "n") else v for k, v in self.packages[name].items()}
        return "OK", {"pkg": {"name": name, **flags}}, None

    def _f_verify_new_username(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user = p.get("user", "").strip().lower()
        error = self._username_error(user)
        if error:
            raise _Fail(error)
        if any(u[:8] == user[:8] for u in self.accounts):
            raise _Fail("Sorry, a group for that username already exists.")
        return "OK", None, None

    def _f_create_user_session(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user, service = p.get("user", ""), p.get("service", "")
        ports = {"cpaneld": 2083, "whostmgrd": 2087, "webmaild": 2096}
        if service not in ports:
            raise _Fail(
                f"The service “{service}” is not valid. Use cpaneld, whostmgrd or webmaild."
            )
        local, _, mail_domain = user.partition("@")
        if service == "webmaild" and mail_domain:
            found = any(
                user.lower() in a["mailboxes"]
                for a in self.accounts.values()
                if caller == "root" or a["owner"] == caller
            )
        elif service == "whostmgrd":
            found = user == caller or self._visible(user, caller) is not None
        else:
            found = self._visible(user, caller) is not None
        if not found:
            raise _Fail(f"The user “{user}” does not exist.")
        session = f"{user}:{secrets.token_urlsafe(12)}:create_user_session,{secrets.token_hex(16)}"
        cpsess = "/cpsess" + "".join(secrets.choice(string.digits) for _ in range(10))
        base = self.url if self.self_login else f"https://{self.public_host}:{ports[service]}"
        encoded = session.replace(":", "%3a").replace(",", "%2c").replace("@", "%40")
        expires = int(time.time()) + 900  # sessions die after 15 minutes (§3.9)
        self._sessions[session] = {
            "user": user,
            "service": service,
            "expires": expires,
            "used": False,
        }
        data = {
            "url": f"{base}{cpsess}/login/?session={encoded}",
            "session": session,
            "cp_security_token": cpsess,
            "expires": expires,
            "service": service,
            "locale": p.get("locale", "en"),
        }
        return "Created session", data, None

    def _f_showbw(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        today = dt.date.today()
        fields = {"user": "user", "domain": "domain", "owner": "owner", "ip": "ip"}
        rows = []
        for acct in self._search(p, caller, fields):
            used, limit = self._bw_used_bytes(acct), self._limits(acct)["BWLIMIT"]
            rows.append(
                {
                    "user": acct["user"],
                    "maindomain": acct["domain"],
                    "owner": acct["owner"],
                    "reseller": 0,
                    "deleted": 0,
                    "limit": limit * MB if limit else 0,
                    "totalbytes": used,
                    "bwusage": [{"domain": acct["domain"], "usage": used, "deleted": 0}],
                }
            )
        data = {
            "month": int(p.get("month") or today.month),
            "year": int(p.get("year") or today.year),
            "reseller": caller,
            "totalused": sum(r["totalbytes"] for r in rows),
            "acct": rows,
        }
        return "OK", data, None

    def _f_get_disk_usage(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        rows = []
        for acct in self.accounts.values():
            if caller == "root" or acct["owner"] == caller:
                quota = self._limits(acct)["QUOTA"]
                rows.append(
                    {
                        "user": acct["user"],
                        "blocks_used": self._disk_used_mb(acct) * 1024,
                        "blocks_limit": quota * 1024 if quota else None,
                        "inodes_used": 400 + _seed(acct["user"]) % 9000,
                        "inodes_limit": None,
                    }
                )
        return "OK", {"accounts": rows}, None

    def _f_listsuspended(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        rows = [
            {
                "user": a["user"],
                "owner": a["owner"],
                "reason": a["suspendreason"],
                "time": time.ctime(a["suspendtime"]),
                "unixtime": a["suspendtime"],
                "is_locked": int(a["is_locked"]),
            }
            for a in self.accounts.values()
            if a["suspended"] and (caller == "root" or a["owner"] == caller)
        ]
        return "OK", {"account": rows}, None

    def _f_uapi_cpanel(self, p: dict[str, str], caller: str) -> tuple[str, Any, Any]:
        user = p.get("cpanel.user", "")
        acct = self._visible(user, caller)
        if acct is None:
            raise _Fail("User parameter is invalid or was not supplied")
        params = {k: v for k, v in p.items() if not k.startswith("cpanel.") and k != "api.version"}
        return (
            "OK",
            {
                "uapi": self._uapi(
                    p.get("cpanel.module", ""), p.get("cpanel.function", ""), acct, params, None
                )
            },
            None,
        )

    def _cpanel_proxy(self, p: dict[str, str], caller: str, forced: str | None) -> dict[str, Any]:
        user = p.get("cpanel_jsonapi_user", "")
        module, func = p.get("cpanel_jsonapi_module", ""), p.get("cpanel_jsonapi_func", "")
        with self._lock:
            acct = self._visible(user, caller)
            if acct is None:  # unknown, not ours, or not lowercase (§2.5a)
                reason = "User parameter is invalid or was not supplied"
                return {"type": "text", "error": reason, "data": {"result": "0", "reason": reason}}
            if p.get("cpanel_jsonapi_apiversion") != "3":
                error = "This sandbox implements UAPI (cpanel_jsonapi_apiversion=3) only."
                return {
                    "cpanelresult": {
                        "apiversion": 2,
                        "module": module,
                        "func": func,
                        "error": error,
                        "data": [{"result": 0, "reason": error}],
                        "event": {"result": 1},
                    }
                }
            params = {
                k: v
                for k, v in p.items()
                if not k.startswith("cpanel_jsonapi_") and k != "api.version"
            }
            result = self._uapi(module, func, acct, params, forced)
        return {"apiversion": 3, "module": module, "func": func, "result": result}

    # ------------------------------------------------------------------ UAPI (Email)
    def _uapi(
        self,
        module: str,
        func: str,
        acct: dict[str, Any] | None,
        p: dict[str, str],
        forced: str | None,
    ) -> dict[str, Any]:
        if forced is not None:
            return _uapi_env(0, errors=[forced])
        if acct is None:
            return _uapi_env(0, errors=["The cPanel account does not exist."])
        if module not in ("Email", "PasswdStrength"):
            return _uapi_env(
                0, errors=[f"Failed to load module “{module}”: the module does not exist."]
            )
        handler = getattr(self, f"_u_{func}", None) if re.fullmatch(r"[a-z_]+", func) else None
        if handler is None or (module == "PasswdStrength") != (func == "get_required_strength"):
            return _uapi_env(
                0, errors=[f"The function “{func}” does not exist in the module “{module}”."]
            )
        try:
            data, messages, metadata = handler(acct, p)
        except _Fail as exc:
            return _uapi_env(0, errors=[exc.reason])
        if func in UAPI_MUTATING:
            self._save()
        return _uapi_env(1, data, None, messages, metadata)

    def _address(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[str, str]:
        email = p.get("email", "").strip().lower()
        local, _, domain = email.partition("@")
        return local, (domain or p.get("domain") or acct["domain"]).strip().lower()

    def _mailbox(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[str, dict[str, Any]]:
        local, domain = self._address(acct, p)
        address = f"{local}@{domain}"
        box = acct["mailboxes"].get(address)
        if box is None:
            raise _Fail(f"You do not have an email account named “{address}”.")
        return address, box

    def _quota(self, acct: dict[str, Any], raw: str | None, *, clamp: bool) -> int | None:
        maximum = self._limits(acct)["MAX_EMAILACCT_QUOTA"]
        if raw is None or raw == "":
            return min(1024, maximum) if maximum else 1024
        if str(raw).lower() in ("0", "unlimited"):
            if maximum is None:
                return None
            if clamp:
                return maximum
            raise _Fail(f"The quota cannot be unlimited. The maximum quota is {maximum} MB.")
        try:
            quota = int(float(raw))
        except ValueError:
            raise _Fail("The quota must be a positive integer or “unlimited”.") from None
        if quota < 0:
            raise _Fail("The quota must be a positive integer or “unlimited”.")
        if maximum and quota > maximum:
            if clamp:  # edit_pop_quota clamps to the account maximum (§4.6)
                return maximum
            raise _Fail(
                f"The quota {quota} MB exceeds the maximum of {maximum} MB for this account."
            )
        return quota

    def _u_add_pop(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[Any, Any, Any]:
        local, domain = self._address(acct, p)
        if not local:
            raise _Fail("You must specify the “email” parameter.")
        if "password" in p and "password_hash" in p:
            raise _Fail("You may not specify both “password” and “password_hash”.")
        if local == "cpanel":
            raise _Fail("The name “cpanel” is reserved and cannot be used for an email account.")
        if not _LOCAL.fullmatch(local) or local.startswith(".") or ".." in local:
            raise _Fail(f"“{local}@{domain}” is not a valid email address.")
        if domain not in (acct["domain"], *acct["addon_domains"]):
            raise _Fail(f"You do not own the domain “{domain}”.")
        address = f"{local}@{domain}"
        if address in acct["mailboxes"]:
            raise _Fail(f"The account {address} already exists!")
        maxpop = self._limits(acct)["MAXPOP"]
        if maxpop is not None and len(acct["mailboxes"]) >= maxpop:
            raise _Fail(
                f"You have reached the maximum number of email accounts ({maxpop}) for this "
                "account."
            )
        password = p.get("password", "")
        if "password_hash" not in p:
            self._strength_fail(password, uapi=True)
        quota = self._quota(acct, p.get("quota"), clamp=False)
        acct["mailboxes"][address] = self._new_mailbox(
            address, quota, password or secrets.token_urlsafe(16)
        )
        return f"{local}+{domain}", None, None

    def _u_passwd_pop(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[Any, Any, Any]:
        _, box = self._mailbox(acct, p)
        self._strength_fail(p.get("password", ""), uapi=True)
        box["password_hash"] = _hash(p.get("password", ""))
        return None, None, None

    def _u_delete_pop(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[Any, Any, Any]:
        address, _ = self._mailbox(acct, p)
        del acct["mailboxes"][address]
        return None, None, None

    def _u_edit_pop_quota(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[Any, Any, Any]:
        _, box = self._mailbox(acct, p)
        box["quota_mb"] = self._quota(acct, p.get("quota"), clamp=True)
        return None, None, None

    def _u_get_pop_quota(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[Any, Any, Any]:
        _, box = self._mailbox(acct, p)
        quota = box["quota_mb"]
        if quota is None:
            return "unlimited", None, None
        return (quota * MB if p.get("as_bytes") == "1" else quota), None, None

    def _u_get_required_strength(
        self, acct: dict[str, Any], p: dict[str, str]
    ) -> tuple[Any, Any, Any]:
        return {"strength": self.min_strength}, None, None

    def _u_list_pops(self, acct: dict[str, Any], p: dict[str, str]) -> tuple[Any, Any, Any]:
        rows = [
            {
                "email": a,
                "login": a,
                "suspended_incoming": b["suspended_incoming"],
                "suspended_login": b["suspended_login"],
            }
            for a, b in sorted(acct["mailboxes"].items())
        ]
        if p.get("skip_main") != "1":  # the account's system mailbox is listed too (§4.2)
            rows.append(
                {
                    "email": acct["user"],
                    "login": "Main Account",
                    "suspended_incoming": 0,
                    "suspended_login": 0,
                }
            )
        if p.get("regex"):
            rows = [r for r in rows if re.search(p["regex"], r["email"])]
        return rows, None, {"transformed": 1}

    def _u_list_pops_with_disk(
        self, acct: dict[str, Any], p: dict[str, str]
    ) -> tuple[Any, Any, Any]:
        unlimited = "∞" if p.get("infinitylang") == "1" else "unlimited"
        rows = []
        for address, box in sorted(acct["mailboxes"].items()):
            local, _, domain = address.partition("@")
            if p.get("domain") and domain != p["domain"].lower():
                continue
            if p.get("email") and local != p["email"].lower().partition("@")[0]:
                continue
            if p.get("regex") and not re.search(p["regex"], address):
                continue
            quota, used = box["quota_mb"], box["used_bytes"]
            pct = round(100 * used / (quota * MB), 2) if quota else 0
            rows.append(
                {
                    "email": address,
                    "login": address,
                    "user": local,
                    "domain": domain,
                    "diskquota": quota if quota else unlimited,
                    "_diskquota": quota * MB if quota else 0,
                    "txtdiskquota": quota if quota else unlimited,
                    "humandiskquota": f"{quota} MB" if quota else "None",
                    "diskused": round(used / MB, 2),
                    "_diskused": used,
                    "humandiskused": f"{used / MB:.2f} MB"
                    if used >= MB
                    else f"{used / 1024:.2f} KB",
                    "diskusedpercent": int(pct),
                    "diskusedpercent20": int(pct // 20 * 20),
                    "diskusedpercent_float": pct,
                    "mtime": box["mtime"],
                    "suspended_incoming": box["suspended_incoming"],
                    "suspended_login": box["suspended_login"],
                    "suspended_outgoing": 0,
                    "hold_outgoing": 0,
                    "has_suspended": 0,
                }
            )
        if p.get("maxaccounts"):
            rows = rows[: int(p["maxaccounts"])]
        return rows, None, {"transformed": 1}


def _token_from_file(path: Path) -> str:
    """Read the sandbox token, creating it (0600, random) when missing. Never printed."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(32))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(token + "\n")
    return token


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Sandbox WHM/cPanel panel for local development.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=2087)
    ap.add_argument("--user", default="root")
    ap.add_argument("--state", default="data/sandbox-whm.json")
    ap.add_argument("--token-file", default="data/sandbox-whm.token")
    ap.add_argument("--tls", action="store_true", help="serve HTTPS with a throw-away certificate")
    ap.add_argument("--min-strength", type=int, default=65)
    args = ap.parse_args(argv)
    fake = FakeWhm(
        args.host,
        args.port,
        args.user,
        _token_from_file(Path(args.token_file)),
        args.tls,
        args.state,
        min_strength=args.min_strength,
        self_login=True,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    print(f"Sandbox WHM on {fake.url} (user {args.user}, token in {args.token_file})", flush=True)
    try:
        while not stop.wait(1):
            pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
