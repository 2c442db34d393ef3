"""The panel behind a server row: its WHM client, what a panel failure means to the reader,
and the servers kept in settings.

* ``endpoint(server)`` reads what a call needs from a ``Server`` row (inside the caller's read),
  ``client(ep)`` gives the per-process cached ``WhmClient`` for it. A row whose address or
  token changed gets a new client by itself (the cache key holds them), so tests point the
  personas' server at a fake by updating its port and token.
* The API token is a secret: it comes from the environment variable named in ``token_env`` or
  from ``token_encrypted`` (``vault``), is never returned by a read, never logged and never
  written anywhere in clear.
* ``calling(...)`` wraps one panel call: a ``PanelError`` becomes a translated ``DomainError``
  and, for writes, the failure is noted on the service (``panel_error``) in its own small
  transaction so staff see it, while the change itself is left undone (ARCHITECTURE §2 rule 6).

Nothing here imports streamlit; HTTP lives in ``core.panel.transport`` (posting, retries,
reconciliation) and ``core.panel.whm`` (the WHM and UAPI calls).
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.models import Product, Server, Service
from core.panel.errors import (
    PanelAuthError,
    PanelBlocked,
    PanelError,
    PanelNotFound,
    PanelRejected,
    PanelUnavailable,
)
from core.panel.transport import DEFAULT_BACKOFF
from core.panel.whm import WhmClient
from core.platform import audit, vault
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, DomainError, NotFound, ValidationError

log = logging.getLogger("anfitrion.panel")

DEFAULTS: dict[str, Any] = {"timeout": None, "backoff": DEFAULT_BACKOFF, "reconcile_wait": 60.0}
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*")
DOMAIN = re.compile(rf"(?=.{{1,253}}$)(?:{_LABEL}\.)+[a-z0-9-]{{2,63}}")  # as core.panel.whm
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,99}")
PANEL_ERROR_MAX = 500

_options: dict[str, Any] = dict(DEFAULTS)
_clients: dict[tuple[Any, ...], WhmClient] = {}
_lock = threading.Lock()


# --------------------------------------------------------------------------- clients
def configure(**options: Any) -> None:
    """Set the WhmClient options (``timeout``, ``backoff``, ``reconcile_wait``) for every
    server; without arguments, back to the defaults of cpanel-api.md §5. Tests shrink them."""
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown panel option(s): {sorted(unknown)}")
    with _lock:
        _options.clear()
        _options.update(DEFAULTS)
        _options.update(options)
        _close_all()


def forget() -> None:
    """Close and drop every cached client (e.g. after a server's settings changed)."""
    with _lock:
        _close_all()


def _close_all() -> None:
    for cached in _clients.values():
        cached.close()
    _clients.clear()


@dataclass(frozen=True)
class Endpoint:
    """What a panel call needs from a server row, read inside the caller's transaction so the
    HTTP call itself happens with no database transaction open."""

    server_id: int
    name: str
    base_url: str
    username: str
    verify: bool
    token: str = field(repr=False)


def base_url(server: Server) -> str:
    host = (server.hostname or "").strip()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 literal
    return f"{server.scheme or 'https'}://{host}:{server.port or 2087}"


def token_of(server: Server) -> str:
    """The API token of ``server``: its environment variable first, else the vault."""
    if server.token_env:
        value = os.environ.get(server.token_env, "").strip()
        if value:
            return value
    if server.token_encrypted:
        try:
            return vault.decrypt(server.token_encrypted)
        except ValueError:
            raise DomainError("error.panel_token_unreadable") from None
    raise DomainError("error.panel_no_token")


def endpoint(server: Server) -> Endpoint:
    return Endpoint(
        server_id=server.id,
        name=server.name,
        base_url=base_url(server),
        username=server.username or "root",
        verify=bool(server.verify_tls),
        token=token_of(server),
    )


def client(ep: Endpoint) -> WhmClient:
    """The cached WhmClient for ``ep`` (one per server address, user and token)."""
    fingerprint = hashlib.sha256(ep.token.encode("utf-8")).hexdigest()
    key = (ep.server_id, ep.base_url, ep.username, fingerprint, ep.verify)
    with _lock:
        cached = _clients.get(key)
        if cached is None:
            for old in [k for k in _clients if k[0] == ep.server_id]:
                _clients.pop(old).close()  # the row changed: drop the stale client
            cached = _clients[key] = WhmClient(
                ep.base_url, ep.username, ep.token, verify=ep.verify, **_options
            )
        return cached


# --------------------------------------------------------------------- failures
def to_domain_error(
    exc: PanelError,
    *,
    write: bool,
    rejected: Callable[[PanelRejected], DomainError | None] | None = None,
) -> DomainError:
    """The reader's message for a panel failure. Never carries the token or a password."""
    if isinstance(exc, PanelBlocked):
        return DomainError("error.panel_blocked")
    if isinstance(exc, PanelAuthError):
        return DomainError("error.panel_auth")
    if isinstance(exc, PanelUnavailable):
        # A write that may have reached the panel and could not be confirmed is not "nothing
        # changed": say so, and let staff resync before trying again.
        if write and exc.ambiguous:
            return DomainError("error.panel_unconfirmed")
        return DomainError("error.panel_unavailable")
    if isinstance(exc, PanelRejected):
        specific = rejected(exc) if rejected is not None else None
        if specific is not None:
            return specific
        if isinstance(exc, PanelNotFound):
            return DomainError("error.panel_account_missing")
        return DomainError("error.panel_rejected", reason=exc.reason)
    return DomainError("error.panel_unavailable")


def note_failure(
    service_id: int, exc: BaseException, at: datetime, *, session: Session | None = None
) -> None:
    """Record the last failed panel call on the service, stamped with the action's moment
    ``at``, in its own small transaction (or the caller's, when one is given) so the failed
    action itself changes nothing else."""
    text = f"{at:%Y-%m-%d %H:%M} UTC · {exc}"[:PANEL_ERROR_MAX]
    try:
        with transaction(session) as s:
            service = s.get(Service, service_id)
            if service is not None:
                service.panel_error = text
    except Exception:  # noqa: BLE001 - the note must never hide the panel's own failure
        log.exception("could not record the panel failure of service %s", service_id)


@contextmanager
def calling(
    service_id: int | None,
    *,
    write: bool,
    at: datetime | None = None,
    session: Session | None = None,
    note_rejected: bool = True,
    rejected: Callable[[PanelRejected], DomainError | None] | None = None,
) -> Iterator[None]:
    """Run panel calls; a failure becomes the reader's DomainError (see ``to_domain_error``).

    For writes the failure is noted on the service, stamped with ``at`` (the action's moment,
    read by its entry point: a write must pass it); ``note_rejected=False`` skips the note
    for refusals that are the user's own input (a duplicate mailbox, a weak password).
    """
    if write and at is None:
        raise TypeError("a panel write passes the action's moment (at)")
    try:
        yield
    except PanelError as exc:
        log.warning("panel call failed (service %s): %s", service_id, exc)
        noted = not isinstance(exc, PanelRejected) or note_rejected
        if write and service_id is not None and noted and at is not None:
            note_failure(service_id, exc, at, session=session)
        raise to_domain_error(exc, write=write, rejected=rejected) from exc
    except ValueError as exc:  # the client refused our input before sending (bad domain…)
        log.warning("panel call refused locally (service %s): %s", service_id, exc)
        raise ValidationError("error.panel_invalid_request") from exc


# ---------------------------------------------------------------------- servers
@dataclass(frozen=True)
class ServerView:
    """A server as settings show it. The token itself is never part of a read."""

    id: int
    name: str
    hostname: str
    port: int
    scheme: str
    username: str
    verify_tls: bool
    token_source: str  # "env" | "encrypted" | "none"
    token_env: str | None
    max_accounts: int
    active: bool
    services: int


@dataclass(frozen=True)
class ConnectionReport:
    """A successful test: the server's packages and the products whose package is missing."""

    server_id: int
    plans: list[str]
    missing_packages: list[str]


def _view(server: Server, count: int) -> ServerView:
    source = "env" if server.token_env else "encrypted" if server.token_encrypted else "none"
    return ServerView(
        id=server.id,
        name=server.name,
        hostname=server.hostname,
        port=server.port,
        scheme=server.scheme,
        username=server.username,
        verify_tls=server.verify_tls,
        token_source=source,
        token_env=server.token_env,
        max_accounts=server.max_accounts,
        active=server.active,
        services=count,
    )


def list_servers(actor: Actor, *, session: Session | None = None) -> list[ServerView]:
    """The panel servers (owner only), with how many services live on each."""
    require_owner(actor)
    with reading(session) as s:
        counts = dict(
            s.execute(
                select(Service.server_id, func.count())
                .where(Service.server_id.is_not(None))
                .group_by(Service.server_id)
            ).all()
        )
        servers = s.scalars(select(Server).order_by(Server.name)).all()
        return [_view(server, int(counts.get(server.id, 0))) for server in servers]


def _clean_host(hostname: str) -> str:
    host = (hostname or "").strip().lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if not _HOST.fullmatch(host):
        raise ValidationError("error.panel_server_host")
    return host


def save_server(
    actor: Actor,
    *,
    name: str,
    hostname: str,
    port: int = 2087,
    username: str = "root",
    token: str | None = None,
    token_env: str | None = None,
    verify_tls: bool = True,
    scheme: str = "https",
    max_accounts: int = 500,
    active: bool = True,
    server_id: int | None = None,
    session: Session | None = None,
) -> ServerView:
    """Create (``server_id`` None) or update a panel server (owner only).

    ``token`` is encrypted with SECRET_KEY before it is stored; on update, leaving it empty
    keeps the stored one. ``token_env`` names an environment variable instead. Plain http is
    only accepted for a panel on this machine: a token must never cross a network in clear.
    """
    require_owner(actor)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationError("error.panel_server_name")
    host = _clean_host(hostname)
    try:
        port = int(port)
    except (TypeError, ValueError):
        raise ValidationError("error.panel_server_port") from None
    if not 1 <= port <= 65535:
        raise ValidationError("error.panel_server_port")
    if scheme not in ("https", "http"):
        raise ValidationError("error.panel_server_scheme")
    if scheme == "http" and host not in LOOPBACK:
        raise ValidationError("error.panel_server_scheme")
    user = (username or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9]{0,63}", user):
        raise ValidationError("error.panel_server_user")
    secret = (token or "").strip()
    env_name = (token_env or "").strip() or None
    if secret and env_name:
        raise ValidationError("error.panel_token_both")
    if env_name and not _ENV_NAME.fullmatch(env_name):
        raise ValidationError("error.panel_token_env")
    if secret and (len(secret) > 200 or any(ch.isspace() for ch in secret)):
        raise ValidationError("error.panel_token_format")
    with transaction(session) as s:
        clash = s.scalars(select(Server.id).where(Server.name == name)).first()
        if clash is not None and clash != server_id:
            raise Conflict("error.panel_server_name_taken")
        server = Server() if server_id is None else s.get(Server, server_id)
        if server is None:
            raise NotFound()
        if not secret and not env_name and not (server.token_encrypted or server.token_env):
            raise ValidationError("error.panel_no_token")
        if server_id is None:
            s.add(server)
        server.name, server.hostname, server.port, server.scheme = name, host, port, scheme
        server.username, server.verify_tls, server.active = user, bool(verify_tls), bool(active)
        server.max_accounts = max(1, int(max_accounts))
        if env_name:
            server.token_env, server.token_encrypted = env_name, None
        elif secret:
            server.token_env, server.token_encrypted = None, vault.encrypt(secret)
        s.flush()
        audit.record(
            s,
            actor,
            "server.created" if server_id is None else "server.updated",
            target_type="server",
            target_id=server.id,
            name=name,
            hostname=host,
            port=port,
            scheme=scheme,
            verify_tls=bool(verify_tls),
            credential_replaced=bool(secret or env_name),
        )
        count = s.execute(select(func.count()).where(Service.server_id == server.id)).scalar_one()
        view = _view(server, int(count))
    forget()
    return view


def test_connection(
    actor: Actor, server_id: int, *, session: Session | None = None
) -> ConnectionReport:
    """Call the server (listpkgs: cheap, needs a valid token) and compare its packages with
    the products' WHM packages. A failure raises the reader's message (never the token)."""
    require_owner(actor)
    with reading(session) as s:
        server = s.get(Server, server_id) if isinstance(server_id, int) else None
        if server is None:
            raise NotFound()
        ep = endpoint(server)
        packages: Sequence[str] = s.scalars(
            select(Product.whm_package).where(Product.active.is_(True)).distinct()
        ).all()
    with calling(None, write=False):
        plans = sorted(p["name"] for p in client(ep).list_plans())
    missing = sorted(set(packages) - set(plans))
    return ConnectionReport(server_id=ep.server_id, plans=plans, missing_packages=missing)


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
