"""The demo book's hosting accounts on the local sandbox panel (``make run``).

The demo book's services say they are active or suspended; for their panel actions (usage,
sign-in links, suspend...) to work, the sandbox ``make run`` starts must hold matching accounts.
Only servers on this machine whose token is the sandbox's are touched, so a real panel's
accounts are left alone.
Split from ``core.services`` to keep modules near the house size; behaviour is unchanged.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import panel
from core.models import Server, Service
from core.panel.whm import (
    InvalidUsername,
    PanelError,
    generate_password,
    suggest_username,
    validate_username,
)
from core.platform.db import transaction
from core.platform.errors import DomainError
from core.services import LIVE
from core.services.target import panel_target


@dataclass(frozen=True)
class DemoReport:
    created: int = 0
    suspended: int = 0
    unsuspended: int = 0
    existing: int = 0
    repaired: int = 0
    failed: int = 0
    skipped: bool = False  # no sandbox server found (or the panel was unreachable)


def _ascii_domain(domain: str) -> str:
    plain = unicodedata.normalize("NFKD", domain).encode("ascii", "ignore").decode("ascii")
    return plain.strip().lower()


def ensure_demo_accounts(
    sandbox_port: int | None, sandbox_token: str, *, session: Session | None = None
) -> DemoReport:
    """Make the demo book's live services exist on the local sandbox panel (``make run``).

    Only servers on this machine whose token is the sandbox's are touched; their port follows
    the sandbox actually started. Active and suspended services get their account when it is
    missing, and the panel's suspension follows the database. Demo rows whose domain or
    username a real panel would refuse (accents) are given ASCII ones. Safe to run on every
    start: what exists is left alone.
    """
    with transaction(session) as s:
        servers = [
            srv
            for srv in s.scalars(select(Server).where(Server.hostname.in_(panel.LOOPBACK)))
            if _is_sandbox(srv, sandbox_token)
        ]
        if sandbox_port:
            for srv in servers:
                srv.port = int(sandbox_port)
        ids = [srv.id for srv in servers]
        rows = s.scalars(
            select(Service)
            .where(Service.server_id.in_(ids), Service.status.in_(LIVE))
            .order_by(Service.id)
        ).all()
        targets = [(panel_target(svc), svc.suspend_reason or "Overdue on Payment") for svc in rows]
        taken = {svc.panel_username for svc in rows if svc.panel_username}
    if not ids:
        return DemoReport(skipped=True)
    counts = dict.fromkeys(("created", "suspended", "unsuspended", "existing", "repaired"), 0)
    failed = 0
    known: dict[int, dict[str, dict[str, Any]]] = {}
    repairs: dict[int, tuple[str, str]] = {}
    for t, reason in targets:
        ep = t.endpoint
        if ep is None:
            continue
        whm = panel.client(ep)
        try:
            if ep.server_id not in known:
                known[ep.server_id] = {a["user"]: a for a in whm.list_accounts()}
            accounts = known[ep.server_id]
            username, domain = t.username or "", t.domain
            if not _valid_names(username, domain):
                domain = _ascii_domain(domain)
                username = suggest_username(domain, taken | set(accounts))
                taken.add(username)
                repairs[t.id] = (domain, username)
                counts["repaired"] += 1
            acct = accounts.get(username)
            if acct is None:
                whm.create_account(username, domain, t.package, generate_password(16))
                acct = accounts[username] = {"user": username, "suspended": False}
                counts["created"] += 1
            else:
                counts["existing"] += 1
            if t.status == "suspended" and not acct.get("suspended"):
                whm.suspend(username, reason)
                counts["suspended"] += 1
            elif t.status == "active" and acct.get("suspended"):
                whm.unsuspend(username)
                counts["unsuspended"] += 1
        except (PanelError, ValueError) as exc:
            panel.log.warning("demo account for service %s: %s", t.id, exc)
            failed += 1
            if ep.server_id not in known:  # the sandbox does not answer: stop here
                return DemoReport(failed=failed, skipped=True)
    if repairs:
        with transaction(session) as s:
            for service_id, (domain, username) in repairs.items():
                svc = s.get_one(Service, service_id)
                svc.domain, svc.panel_username = domain, username
    return DemoReport(
        created=counts["created"],
        suspended=counts["suspended"],
        unsuspended=counts["unsuspended"],
        existing=counts["existing"],
        repaired=counts["repaired"],
        failed=failed,
    )


def _is_sandbox(server: Server, token: str) -> bool:
    try:
        return bool(token) and panel.token_of(server) == token
    except DomainError:
        return False


def _valid_names(username: str, domain: str) -> bool:
    try:
        validate_username(username)
    except InvalidUsername:
        return False
    return domain.isascii() and bool(panel.DOMAIN.fullmatch(domain))
