"""The owner's side of the daily run: the preview of any date (computed, nothing written),
the ledger of runs and their actions, holds (no automatic suspension or termination until a
date), approval of the terminations the run left waiting, and the settings form.

Everything here is the owner's alone (``require_owner``); the runner is ``core.automation``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import services
from core.access import Actor, get_scoped, parse_id, require_owner
from core.automation import policy as automation_settings
from core.automation.policy import AutomationSettings
from core.automation.steps import AWAITING, DONE, finish_termination, plan, terminate_service
from core.models import AutomationAction, AutomationRun, Client, Invoice, InvoiceItem, Service
from core.platform import audit
from core.platform.clock import now
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, NotFound, ValidationError


@dataclass(frozen=True)
class PreviewRow:
    step: str
    kind: str
    client_name: str
    target: str
    due: date | None
    amount: Decimal | None
    awaiting: bool
    key: str
    lines: tuple[str, ...] = ()  # a renewal's add-on lines (issue 19)


@dataclass(frozen=True)
class RunRow:
    id: int
    run_date: date
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: dict[str, int]


@dataclass(frozen=True)
class ActionRow:
    id: int
    run_id: int
    run_date: date
    step: str
    key: str
    status: str
    service_id: int | None
    domain: str | None
    client_name: str | None
    invoice_number: str | None
    detail: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class HeldRow:
    service_id: int
    domain: str
    client_name: str
    hold_until: date


@dataclass(frozen=True)
class ServiceChoice:
    id: int
    label: str


@dataclass(frozen=True)
class AutomationView:
    """What the owner's automation tabs show, in one read (``owner_view``); the parts of a
    tab that was not asked for stay empty."""

    settings: dict[str, Any] = field(default_factory=dict)
    preview_on: date | None = None
    preview: list[PreviewRow] = field(default_factory=list)
    runs: list[RunRow] = field(default_factory=list)
    actions: list[ActionRow] = field(default_factory=list)
    awaiting: list[ActionRow] = field(default_factory=list)
    held: list[HeldRow] = field(default_factory=list)
    services: list[ServiceChoice] = field(default_factory=list)


def _matches(term: str, *values: Any) -> bool:
    return any(term in str(v).lower() for v in values if v is not None)


def preview(actor: Actor, on: date, *, search: str | None = None) -> list[PreviewRow]:
    """What a run on ``on`` would do, computed now without writing anything (owner)."""
    require_owner(actor)
    rows = [
        PreviewRow(
            step=item.step,
            kind=item.kind,
            client_name=item.client_name,
            target=item.target,
            due=item.due,
            amount=item.amount,
            awaiting=item.awaiting,
            key=item.key,
            lines=item.lines,
        )
        for item in plan(on)
    ]
    term = (search or "").strip().lower()
    if term:
        rows = [
            r
            for r in rows
            if _matches(term, r.step, r.kind, r.client_name, r.target, r.key, *r.lines)
        ]
    return rows


def runs(actor: Actor, *, limit: int = 30, session: Session | None = None) -> list[RunRow]:
    """The latest runs, newest first (owner)."""
    require_owner(actor)
    with reading(session) as s:
        rows = s.scalars(
            select(AutomationRun)
            .where(AutomationRun.dry_run.is_(False))
            .order_by(AutomationRun.id.desc())
            .limit(max(1, min(limit, 500)))
        ).all()
        return [
            RunRow(r.id, r.run_date, r.started_at, r.finished_at, r.status, dict(r.counts or {}))
            for r in rows
        ]


def _detail(raw: str | None) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {"text": raw}
    return value if isinstance(value, dict) else {"text": str(value)}


def actions(
    actor: Actor,
    *,
    run_id: int | None = None,
    search: str | None = None,
    status: str | None = None,
    limit: int = 200,
    session: Session | None = None,
) -> list[ActionRow]:
    """Actions of the ledger, newest first, filtered in SQL (owner)."""
    require_owner(actor)
    stmt = (
        select(
            AutomationAction, AutomationRun.run_date, Service.domain, Client.name, Invoice.number
        )
        .join(AutomationRun, AutomationRun.id == AutomationAction.run_id)
        .outerjoin(Service, Service.id == AutomationAction.service_id)
        .outerjoin(Invoice, Invoice.id == AutomationAction.invoice_id)
        .outerjoin(Client, Client.id == func.coalesce(Service.client_id, Invoice.client_id))
        .order_by(AutomationAction.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    if run_id is not None:
        stmt = stmt.where(AutomationAction.run_id == run_id)
    if status:
        stmt = stmt.where(AutomationAction.status == status)
    term = (search or "").strip().lower().replace("%", "").replace("_", "")
    if term:
        like = f"%{term}%"
        stmt = stmt.where(
            or_(
                func.lower(AutomationAction.key).like(like),
                func.lower(Service.domain).like(like),
                func.lower(Client.name).like(like),
                func.lower(Invoice.number).like(like),
            )
        )
    with reading(session) as s:
        return [
            ActionRow(
                id=a.id,
                run_id=a.run_id,
                run_date=run_date,
                step=a.kind,
                key=a.key,
                status=a.status,
                service_id=a.service_id,
                domain=domain,
                client_name=client,
                invoice_number=number,
                detail=_detail(a.detail),
                created_at=a.created_at,
            )
            for a, run_date, domain, client, number in s.execute(stmt).all()
        ]


def _still_owed(s: Session, service_id: int | None, key: str) -> bool:
    """A waiting termination still stands: the service is live and the renewal invoice it
    was for (the due date in its key) is still unpaid."""
    if service_id is None:
        return False
    try:
        due = date.fromisoformat(key.rsplit(":", 1)[1])
    except (IndexError, ValueError):
        return False
    found = s.scalars(
        select(Service.id)
        .join(InvoiceItem, InvoiceItem.service_id == Service.id)
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(
            Service.id == service_id,
            Service.status.in_(("active", "suspended")),
            InvoiceItem.kind == "renewal",
            Invoice.status == "unpaid",
            Invoice.due_on == due,
        )
    ).first()
    return found is not None


def awaiting_terminations(actor: Actor, *, session: Session | None = None) -> list[ActionRow]:
    """Terminations the run left for the owner's approval that still stand (the service is
    live and still owes the invoice it was for: one paid meanwhile drops off the list)."""
    rows = actions(actor, status=AWAITING, limit=1000, session=session)
    with reading(session) as s:
        return [r for r in rows if _still_owed(s, r.service_id, r.key)]


def approve_termination(
    actor: Actor,
    action_id: int,
    *,
    today: date,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """The owner approves a termination the run left waiting: the account is removed from
    the panel now, its open invoices are cancelled, and the client is told. ``at``: the
    moment of the approval (default now)."""
    at = at or now()
    require_owner(actor)
    key = parse_id(action_id)
    with reading(session) as s:
        action = s.get(AutomationAction, key)
        if action is None or action.kind != "terminate":
            raise NotFound()
        assert action.service_id is not None  # the run's terminate actions name their service
        if action.status != AWAITING or not _still_owed(s, action.service_id, action.key):
            raise Conflict("error.automation_not_awaiting")
        service_id = action.service_id
    terminate_service(service_id, today, at)
    with transaction(session) as s:
        action = s.get_one(AutomationAction, key)
        finish_termination(s, service_id, today, at)
        action.status = DONE
        action.detail = json.dumps({"approved_by": actor.label(), "on": today.isoformat()})
        audit.record(
            s,
            actor,
            "automation.termination_approved",
            target_type="service",
            target_id=service_id,
            key=action.key,
        )


def hold_service(
    actor: Actor,
    service_id: int,
    until: date | None,
    *,
    today: date,
    session: Session | None = None,
) -> None:
    """Keep a service from automatic suspension and termination until ``until``
    (inclusive); None lifts the hold (owner)."""
    require_owner(actor)
    if until is not None and until < today:
        raise ValidationError("error.automation_hold_date")
    with transaction(session) as s:
        svc = get_scoped(s, actor, Service, service_id)
        old = svc.hold_until
        svc.hold_until = until
        audit.record(
            s,
            actor,
            "service.hold_changed",
            target_type="service",
            target_id=svc.id,
            client_id=svc.client_id,
            old=old.isoformat() if old else None,
            new=until.isoformat() if until else None,
        )


def held_services(actor: Actor, *, today: date, session: Session | None = None) -> list[HeldRow]:
    require_owner(actor)
    with reading(session) as s:
        rows = s.execute(
            select(Service.id, Service.domain, Client.name, Service.hold_until)
            .join(Client, Client.id == Service.client_id)
            .where(Service.hold_until.is_not(None), Service.hold_until >= today)
            .order_by(Service.hold_until, Service.id)
        ).all()
        return [
            HeldRow(sid, domain, name, until)
            for sid, domain, name, until in rows
            if until is not None  # already filtered in SQL; this tells the type checker
        ]


def current_settings(actor: Actor) -> AutomationSettings:
    require_owner(actor)
    return automation_settings.load()


def save_settings(actor: Actor, values: dict[str, Any]) -> AutomationSettings:
    """Store the owner's automation settings (each validated; see automation_settings)."""
    return automation_settings.save(actor, values)


OWNER_TABS = ("preview", "ledger", "hold", "settings")


def owner_view(
    actor: Actor,
    *,
    today: date,
    preview_on: date | None = None,
    search: str | None = None,
    run_id: int | None = None,
    action_search: str | None = None,
    service_search: str | None = None,
    tab: str | None = None,
) -> AutomationView:
    """The owner's automation section: the preview, the ledger, approvals and holds, and
    the settings. ``tab`` (one of ``OWNER_TABS``) reads only what that tab shows; None reads
    them all. The services to hold are at most ``services.MAX_FOUND`` that
    ``service_search`` finds, from SQL."""
    require_owner(actor)
    wanted = OWNER_TABS if tab is None else (tab,)
    view: dict[str, Any] = {"preview_on": preview_on}
    with reading() as s:
        if "preview" in wanted and preview_on is not None:
            view["preview"] = preview(actor, preview_on, search=search)
        if "ledger" in wanted:
            view["runs"] = runs(actor, session=s)
            view["actions"] = actions(actor, run_id=run_id, search=action_search, session=s)
        if "hold" in wanted:
            view["awaiting"] = awaiting_terminations(actor, session=s)
            view["held"] = held_services(actor, today=today, session=s)
            view["services"] = [
                ServiceChoice(o.id, f"{o.domain} · {o.client_name}")
                for o in services.find_services(actor, service_search, session=s)
            ]
        if "settings" in wanted:
            view["settings"] = automation_settings.as_form(automation_settings.load(session=s))
    return AutomationView(**view)
