"""Staff and the daily run acting on a hosting account: provision, suspend, unsuspend,
terminate, change plan, and resync with the panel.

Staff with the "services" permission and the owner only (the daily run, orders, cancellations
and plan changes call these as the system). Each follows the ordering rule of
``core.services``: read the service, close the read, call the panel, and change the database
only when the panel agreed, in a new short transaction; ``resync`` is how a write whose outcome
the panel never confirmed is reconciled later. Split from ``core.services`` to keep modules near
the house size; behaviour is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import panel
from core.access import Actor, get_scoped, require
from core.models import Product, Service
from core.panel.whm import (
    InvalidUsername,
    WhmClient,
    generate_password,
    suggest_username,
    validate_username,
)
from core.platform.clock import now, to_local
from core.platform.config import get_settings
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, ValidationError
from core.services import LIVE, REASON_MAX
from core.services.target import (
    Target,
    audit_service,
    endpoint,
    load_target,
    panel_target,
    require_account,
)


# ------------------------------------------------------------------------ values
@dataclass(frozen=True)
class Provisioned:
    username: str
    adopted: bool  # the account already existed on the panel and was taken over


@dataclass(frozen=True)
class Difference:
    field: str  # "status" | "account" | "plan" | "username"
    database: str
    panel: str
    fixed: bool  # the database now follows the panel


@dataclass(frozen=True)
class ResyncReport:
    service_id: int
    differences: list[Difference]

    @property
    def in_sync(self) -> bool:
        return not self.differences


# -------------------------------------------------------------- provisioning
def provision(
    actor: Actor, service_id: int, *, session: Session | None = None, at: datetime | None = None
) -> Provisioned:
    """Create the cPanel account of a pending (or account-less active) service; it becomes
    active with its panel username once the panel has the account.

    An account that already exists for this domain (an earlier attempt whose answer was lost)
    is adopted, never created twice. Staff with "services" and the owner only. ``at``: the
    action's moment (default now), stamped on a panel failure's note.
    """
    at = at or now()
    require(actor, "services")
    with reading(session) as s:
        svc = get_scoped(s, actor, Service, service_id, "services")
        t = panel_target(svc)
    if t.status not in ("pending", "active"):
        raise Conflict("services.error_wrong_status")
    # The panel's address and token before the server's usernames: a server the panel cannot
    # be reached on (no token) fails here, without reading every account on it; the daily
    # run retries such orders every day.
    whm = panel.client(endpoint(t))
    with reading(session) as s:
        taken = {
            name
            for name in s.scalars(
                select(Service.panel_username).where(
                    Service.server_id == svc.server_id,
                    Service.panel_username.is_not(None),
                    Service.id != svc.id,
                )
            )
            if name is not None  # already filtered in SQL; this tells the type checker
        }
    with panel.calling(t.id, write=True, at=at, session=session):
        username, adopted = _create_or_adopt(whm, t, taken)
    with transaction(session) as s:
        fresh = s.get(Service, t.id)
        if fresh is None:  # pragma: no cover - deleted meanwhile; the panel account remains
            raise Conflict("error.conflict")
        fresh.panel_username = username
        if fresh.status == "pending":
            fresh.status = "active"
        fresh.panel_error = None
        audit_service(s, actor, "service.provisioned", t, username=username, adopted=adopted)
    return Provisioned(username=username, adopted=adopted)


def _create_or_adopt(whm: WhmClient, t: Target, taken: set[str]) -> tuple[str, bool]:
    if t.username:
        acct = whm.account(t.username)
        if acct is not None:
            if str(acct.get("domain", "")).lower() != t.domain:
                raise Conflict("services.error_username_taken")
            return t.username, True
    accounts = whm.list_accounts()
    mine = next((a for a in accounts if str(a.get("domain", "")).lower() == t.domain), None)
    if mine is not None:  # made by an earlier attempt whose answer never came
        return str(mine["user"]), True
    taken |= {str(a.get("user", "")) for a in accounts}
    username = t.username
    if username:
        try:
            validate_username(username)
        except InvalidUsername:
            username = None
    if not username:
        username = suggest_username(t.domain, taken)
    created = whm.create_account(
        username, t.domain, t.package, generate_password(16), t.client_email or None
    )
    return created.username, created.adopted


def _staff_target(actor: Actor, service_id: int, session: Session | None) -> Target:
    require(actor, "services")
    return load_target(actor, service_id, session)


def _addons_follow(s: Session, service_id: int, status: str, on: date) -> None:
    """The service's add-ons follow it (issue 19), in the same transaction."""
    from core.addons.lifecycle import follow_parent  # add-ons import billing, which imports us

    follow_parent(s, service_id, status, on)


def suspend(
    actor: Actor,
    service_id: int,
    reason: str,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """Suspend an active service on the panel, then in the database (with the reason).
    ``at``: the action's moment (default now), stamped on a panel failure's note."""
    at = at or now()
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError("services.error_reason_required")
    if len(reason) > REASON_MAX:
        raise ValidationError("services.error_reason_long", n=REASON_MAX)
    t = _staff_target(actor, service_id, session)
    if t.status != "active":
        raise Conflict("services.error_wrong_status")
    if t.on_panel:
        with panel.calling(t.id, write=True, at=at, session=session):
            panel.client(require_account(t)).suspend(t.username or "", reason)
    with transaction(session) as s:
        svc = s.get_one(Service, t.id)
        svc.status, svc.suspend_reason, svc.panel_error = "suspended", reason, None
        _addons_follow(s, svc.id, "suspended", to_local(at, get_settings().tz).date())
        audit_service(s, actor, "service.suspended", t, reason=reason, panel=t.on_panel)


def unsuspend(
    actor: Actor, service_id: int, *, session: Session | None = None, at: datetime | None = None
) -> None:
    """Reactivate a suspended service on the panel, then in the database. ``at``: the
    action's moment (default now), stamped on a panel failure's note."""
    at = at or now()
    t = _staff_target(actor, service_id, session)
    if t.status != "suspended":
        raise Conflict("services.error_wrong_status")
    if t.on_panel:
        with panel.calling(t.id, write=True, at=at, session=session):
            panel.client(require_account(t)).unsuspend(t.username or "")
    with transaction(session) as s:
        svc = s.get_one(Service, t.id)
        svc.status, svc.suspend_reason, svc.panel_error = "active", None, None
        _addons_follow(s, svc.id, "active", to_local(at, get_settings().tz).date())
        audit_service(s, actor, "service.unsuspended", t, panel=t.on_panel)


def terminate(
    actor: Actor,
    service_id: int,
    *,
    today: date | None = None,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """Remove the cPanel account (files, databases, mail) and mark the service terminated.
    An account that is already gone counts as removed. The page asks for confirmation.
    ``at``: the action's moment (default now); ``today`` defaults to its business date."""
    at = at or now()
    t = _staff_target(actor, service_id, session)
    if t.status in ("terminated",):
        raise Conflict("services.error_wrong_status")
    if t.on_panel:
        with panel.calling(t.id, write=True, at=at, session=session):
            panel.client(require_account(t)).terminate(t.username or "")
    day = today or to_local(at, get_settings().tz).date()
    with transaction(session) as s:
        svc = s.get_one(Service, t.id)
        svc.status, svc.terminated_on, svc.panel_error = "terminated", day, None
        svc.next_due_date = svc.next_invoice_date = None
        _addons_follow(s, svc.id, "terminated", day)
        audit_service(s, actor, "service.terminated", t, username=t.username, panel=t.on_panel)


def change_plan(
    actor: Actor,
    service_id: int,
    product_id: int,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """Move the account to another plan's WHM package, then the service to that product.
    Prices are not touched here: quotes and invoices for a plan change are billing's.
    ``at``: the action's moment (default now), stamped on a panel failure's note."""
    at = at or now()
    t = _staff_target(actor, service_id, session)
    if t.status not in LIVE:
        raise Conflict("services.error_wrong_status")
    with reading(session) as s:
        try:
            product = s.get(Product, int(product_id))
        except (TypeError, ValueError):
            product = None
        if product is None or not product.active:
            raise ValidationError("services.error_product_invalid")
        current = s.get_one(Service, t.id).product_id
        target_id, package, name = product.id, product.whm_package, product.name
    if target_id == current:
        raise ValidationError("services.error_same_plan")
    if t.on_panel:
        with panel.calling(t.id, write=True, at=at, session=session):
            panel.client(require_account(t)).change_plan(t.username or "", package)
    with transaction(session) as s:
        svc = s.get_one(Service, t.id)
        svc.product_id, svc.panel_error = target_id, None
        if t.on_panel:  # changepackage put the package's quota back: add the add-ons' again
            from core.addons.quota import mark_service  # add-ons import billing, then us

            mark_service(s, svc.id)
        audit_service(
            s,
            actor,
            "service.plan_changed",
            t,
            from_package=t.package,
            to_package=package,
            to_product=name,
            panel=t.on_panel,
        )


def resync(actor: Actor, service_id: int, *, session: Session | None = None) -> ResyncReport:
    """Read the account from the panel and reconcile: the panel is the truth for whether the
    account exists under this service and whether it is suspended. Differences are reported;
    status (active/suspended) and a missing username are corrected in the database, the rest
    (a missing account, another plan) only reported for staff to decide."""
    t = _staff_target(actor, service_id, session)
    whm = panel.client(endpoint(t))
    with panel.calling(t.id, write=False):
        if t.username:
            acct = whm.account(t.username)
        else:
            acct = next(
                (a for a in whm.list_accounts() if str(a.get("domain", "")).lower() == t.domain),
                None,
            )
    diffs: list[Difference] = []
    updates: dict[str, Any] = {}
    if acct is None:
        if t.status in LIVE:
            diffs.append(Difference("account", t.username or "—", "—", False))
    else:
        user = str(acct.get("user", ""))
        if user and user != t.username:
            diffs.append(Difference("username", t.username or "—", user, True))
            updates["panel_username"] = user
        panel_state = "suspended" if acct.get("suspended") else "active"
        status = t.status
        if t.status == "pending" or (t.status in LIVE and t.status != panel_state):
            status = panel_state
        elif t.status not in LIVE:
            diffs.append(Difference("status", t.status, panel_state, False))
        if status != t.status:
            diffs.append(Difference("status", t.status, panel_state, True))
            updates["status"] = status
            updates["suspend_reason"] = (
                str(acct.get("suspendreason") or "")[:REASON_MAX] or None
                if status == "suspended"
                else None
            )
        if acct.get("plan") and acct.get("plan") != t.package:
            diffs.append(Difference("plan", t.package, str(acct.get("plan")), False))
    with transaction(session) as s:
        svc = s.get_one(Service, t.id)
        for name, value in updates.items():
            setattr(svc, name, value)
        svc.panel_error = None
        audit_service(
            s,
            actor,
            "service.resynced",
            t,
            differences=", ".join(f"{d.field}:{d.database}->{d.panel}" for d in diffs) or "none",
        )
    return ResyncReport(service_id=t.id, differences=diffs)
