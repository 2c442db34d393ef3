"""Hosting services: reads for the services page, and every action that goes through the panel.

Ordering (ARCHITECTURE §2 rule 6): read what the call needs, close the read, call the panel,
and change the database only when the panel agreed — in a new, short transaction. A panel that
is down leaves the database as it was (the failure is noted on ``service.panel_error`` apart,
for staff) and the reader gets "nothing was changed, try again". A write whose outcome the
panel would not confirm says so, and ``resync`` reconciles it later from the panel's truth.

Who may do what:

* a client: their own services only (a foreign id is ``NotFound``): list, detail with usage,
  reset the cPanel password (shown once, never stored, never logged, mailed without it), and
  single-use sign-in links to cPanel and webmail;
* staff with the "services" permission and the owner: every service, plus provisioning,
  suspend, unsuspend, terminate, change plan and resync.

Panel servers in settings are ``core.panel`` (re-exported here).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from math import ceil
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from core import audit, mail, panel
from core.access import Actor, get_scoped, require, scoped
from core.clock import now
from core.clock import today as business_today
from core.config import get_settings
from core.cpanel import (
    InvalidUsername,
    PanelError,
    Usage,
    WhmClient,
    generate_password,
    suggest_username,
    validate_username,
)
from core.db import reading, transaction
from core.errors import Conflict, DomainError, ValidationError
from core.i18n import moment
from core.models import Client, Invoice, InvoiceItem, Product, Server, Service
from core.overview import OWED_STATUSES
from core.panel import (  # noqa: F401 - servers in settings live in core.panel
    ConnectionReport,
    ServerView,
    list_servers,
    save_server,
    test_connection,
)

STATUSES = ("pending", "active", "suspended", "cancelled", "terminated", "fraud")
CLIENT_FILTERS = ("active", "suspended", "cancelled", "terminated")
LIVE = ("active", "suspended")  # an account exists on the panel
SIGN_IN_SERVICES = ("cpaneld", "webmaild")
MAX_PER_PAGE = 200
MAX_FOUND = 50  # a service chooser offers at most this many; a search narrows them
REASON_MAX = 200
CENT = Decimal("0.01")


# ------------------------------------------------------------------------ values
@dataclass(frozen=True)
class ServiceOption:
    """A service as a chooser offers it (``find_services``)."""

    id: int
    domain: str
    client_name: str
    status: str


@dataclass(frozen=True)
class ServiceRow:
    id: int
    client_id: int
    client_name: str
    domain: str
    plan: str
    status: str
    cycle: str
    next_due_date: date | None
    recurring_amount: Decimal
    amount_owed: Decimal
    panel_username: str | None
    panel_error: str | None  # staff only; None for a client


@dataclass(frozen=True)
class ServicePage:
    rows: list[ServiceRow]
    total: int
    limit: int
    offset: int

    @property
    def page(self) -> int:
        return self.offset // self.limit + 1

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.limit))


@dataclass(frozen=True)
class PlanOption:
    id: int
    name: str
    whm_package: str


@dataclass(frozen=True)
class ServiceDetail:
    id: int
    client_id: int
    client_name: str
    domain: str
    product_id: int
    plan: str
    status: str
    cycle: str
    next_due_date: date | None
    recurring_amount: Decimal
    amount_owed: Decimal
    panel_username: str | None
    server_name: str | None
    suspend_reason: str | None
    max_mailboxes: int
    mailbox_quota_mb: int
    usage: Usage | None
    usage_error: str | None  # an i18n key when usage could not be read
    panel_error: str | None  # staff only
    plan_options: list[PlanOption]  # staff only: the plans it can be moved to
    staff_view: bool

    @property
    def has_account(self) -> bool:
        return bool(self.panel_username) and self.status in LIVE


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


@dataclass(frozen=True)
class DemoReport:
    created: int = 0
    suspended: int = 0
    unsuspended: int = 0
    existing: int = 0
    repaired: int = 0
    failed: int = 0
    skipped: bool = False  # no sandbox server found (or the panel was unreachable)


@dataclass(frozen=True)
class _Target:
    """A service as a panel call needs it, read before the call (no transaction open)."""

    id: int
    client_id: int
    status: str
    domain: str
    username: str | None
    package: str
    endpoint: panel.Endpoint | None
    problem: DomainError | None  # why the server cannot be called (no token, ...)
    has_server: bool
    client_email: str
    client_name: str
    client_language: str

    @property
    def on_panel(self) -> bool:
        """The service has an account on a server: its changes must go through the panel."""
        return bool(self.username) and self.has_server


def _target(service: Service) -> _Target:
    server = service.server
    ep, problem = None, None
    if server is not None:
        try:
            ep = panel.endpoint(server)
        except DomainError as exc:
            problem = exc
    return _Target(
        id=service.id,
        client_id=service.client_id,
        status=service.status,
        domain=service.domain.strip().lower(),
        username=service.panel_username,
        package=service.product.whm_package,
        endpoint=ep,
        problem=problem,
        has_server=server is not None,
        client_email=service.client.email,
        client_name=service.client.name,
        client_language=service.client.language,
    )


def _load(actor: Actor, service_id: Any, session: Session | None) -> _Target:
    """The service as the actor may reach it: a client their own (else NotFound), staff
    with the services permission and the owner any."""
    with reading(session) as s:
        return _target(get_scoped(s, actor, Service, service_id, "services"))


def _endpoint(t: _Target) -> panel.Endpoint:
    if t.endpoint is None:
        raise t.problem or Conflict("services.error_no_server")
    return t.endpoint


def _require_account(t: _Target) -> panel.Endpoint:
    ep = _endpoint(t)
    if not t.username:
        raise Conflict("services.error_no_account")
    return ep


def _audit(s: Session, actor: Actor, action: str, t: _Target, **details: Any) -> None:
    audit.record(
        s, actor, action, target_type="service", target_id=t.id, client_id=t.client_id, **details
    )


# ------------------------------------------------------------------------- reads
def _owed(s: Session, service_ids: list[int]) -> dict[int, Decimal]:
    """Unpaid amounts per service: the lines (with their tax) of unpaid invoices."""
    if not service_ids:
        return {}
    rows = s.execute(
        select(InvoiceItem.service_id, func.sum(InvoiceItem.amount + InvoiceItem.tax_amount))
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(Invoice.status.in_(OWED_STATUSES), InvoiceItem.service_id.in_(service_ids))
        .group_by(InvoiceItem.service_id)
    ).all()
    return {sid: Decimal(total).quantize(CENT) for sid, total in rows}


def list_services(
    actor: Actor,
    status: str | None = None,
    search: str | None = None,
    limit: int = 25,
    offset: int = 0,
    *,
    session: Session | None = None,
) -> ServicePage:
    """The services the actor may see, filtered by status and (staff) a search over domain,
    cPanel username and client; one page of them in SQL, with the total count."""
    limit = max(1, min(int(limit), MAX_PER_PAGE))
    offset = max(0, int(offset))
    conds: list[ColumnElement[bool]] = []
    if status:
        if status not in STATUSES:
            raise ValidationError("services.error_status_filter")
        conds.append(Service.status == status)
    term = (search or "").strip().lower()
    if term and not actor.is_client:
        like = f"%{term.replace('%', '').replace('_', '')}%"
        conds.append(
            or_(
                func.lower(Service.domain).like(like),
                func.lower(Service.panel_username).like(like),
                func.lower(Client.name).like(like),
                func.lower(Client.company).like(like),
                func.lower(Client.email).like(like),
            )
        )
    base = (
        scoped(actor, Service, "services")
        .join(Client, Client.id == Service.client_id)
        .join(Product, Product.id == Service.product_id)
        .where(*conds)
    )
    with reading(session) as s:
        total = s.execute(select(func.count()).select_from(base.subquery())).scalar_one()
        stmt = (
            base.with_only_columns(
                Service.id,
                Service.client_id,
                Client.name,
                Service.domain,
                Product.name,
                Service.status,
                Service.billing_cycle,
                Service.next_due_date,
                Service.recurring_amount,
                Service.panel_username,
                Service.panel_error,
                maintain_column_froms=True,
            )
            .order_by(Service.domain, Service.id)
            .limit(limit)
            .offset(offset)
        )
        found = s.execute(stmt).all()
        owed = _owed(s, [r[0] for r in found])
    rows = [
        ServiceRow(
            id=r[0],
            client_id=r[1],
            client_name=r[2],
            domain=r[3],
            plan=r[4],
            status=r[5],
            cycle=r[6],
            next_due_date=r[7],
            recurring_amount=r[8],
            amount_owed=owed.get(r[0], Decimal("0.00")),
            panel_username=r[9],
            panel_error=None if actor.is_client else r[10],
        )
        for r in found
    ]
    return ServicePage(rows=rows, total=int(total), limit=limit, offset=offset)


def find_services(
    actor: Actor,
    search: str | None = None,
    *,
    statuses: tuple[str, ...] = LIVE,
    on_panel: bool = False,
    keep: int | None = None,
    limit: int = MAX_FOUND,
    session: Session | None = None,
) -> list[ServiceOption]:
    """The services ``actor`` may pick in a chooser, in domain order: those in ``statuses``
    (with ``on_panel``, only those with an account on a server) whose domain or cPanel user
    (staff and the owner: or client name or e-mail) contains ``search``. Staff and the owner
    get at most ``limit`` of them (a search narrows a book of thousands); a client gets all
    of their own. ``keep`` (the service already picked) comes first when the search misses
    it and the actor may see it, whatever its status."""
    conds: list[ColumnElement[bool]] = [
        # An expression, not the bare column: SQLite would otherwise answer the status from
        # ix_service_status_due and sort every live service of the book; this way it walks
        # ix_service_domain in order and stops at the limit.
        func.coalesce(Service.status, "").in_(statuses)
    ]
    if on_panel:
        conds += [Service.panel_username.is_not(None), Service.server_id.is_not(None)]
    term = (search or "").strip().lower().replace("%", "").replace("_", "")[:100]
    if term:
        like = f"%{term}%"
        found_by = [
            func.lower(Service.domain).like(like),
            func.lower(Service.panel_username).like(like),
        ]
        if not actor.is_client:  # a client's own name would match all of theirs
            named = select(Client.id).where(
                or_(func.lower(Client.name).like(like), func.lower(Client.email).like(like))
            )
            found_by.append(Service.client_id.in_(named))
        conds.append(or_(*found_by))
    columns = (Service.id, Service.domain, Client.name, Service.status)
    base = scoped(actor, Service, "services").join(Client, Client.id == Service.client_id)
    stmt = (
        base.where(*conds)
        .with_only_columns(*columns, maintain_column_froms=True)
        .order_by(Service.domain, Service.id)
    )
    if not actor.is_client:
        stmt = stmt.limit(max(1, min(int(limit), MAX_FOUND)))
    with reading(session) as s:
        found = [ServiceOption(*row) for row in s.execute(stmt).all()]
        if keep is not None and all(o.id != keep for o in found):
            row = s.execute(
                base.where(Service.id == keep).with_only_columns(
                    *columns, maintain_column_froms=True
                )
            ).first()
            if row is not None:
                found.insert(0, ServiceOption(*row))
    return found


def service_detail(
    actor: Actor, service_id: Any, *, with_usage: bool = True, session: Session | None = None
) -> ServiceDetail:
    """One service (NotFound when it is not the actor's), with its disk and bandwidth usage
    read from the panel. A panel that cannot answer leaves ``usage`` None and says why in
    ``usage_error``; the rest of the page still shows."""
    staff_view = not actor.is_client
    with reading(session) as s:
        svc = get_scoped(s, actor, Service, service_id, "services")
        t = _target(svc)
        options = []
        if staff_view:
            options = [
                PlanOption(p.id, p.name, p.whm_package)
                for p in s.scalars(
                    select(Product).where(Product.active.is_(True)).order_by(Product.sort_order)
                )
            ]
        detail = ServiceDetail(
            id=svc.id,
            client_id=svc.client_id,
            client_name=svc.client.name,
            domain=svc.domain,
            product_id=svc.product_id,
            plan=svc.product.name,
            status=svc.status,
            cycle=svc.billing_cycle,
            next_due_date=svc.next_due_date,
            recurring_amount=svc.recurring_amount,
            amount_owed=_owed(s, [svc.id]).get(svc.id, Decimal("0.00")),
            panel_username=svc.panel_username,
            server_name=svc.server.name if svc.server is not None else None,
            suspend_reason=svc.suspend_reason,
            max_mailboxes=svc.product.max_mailboxes,
            mailbox_quota_mb=svc.product.mailbox_quota_mb,
            usage=None,
            usage_error=None,
            panel_error=svc.panel_error if staff_view else None,
            plan_options=options,
            staff_view=staff_view,
        )
    if with_usage and detail.has_account and t.has_server:
        try:
            detail = replace(detail, usage=_usage(t))
        except DomainError as exc:
            detail = replace(detail, usage_error=exc.key)
    return detail


def _usage(t: _Target) -> Usage:
    ep = _require_account(t)
    with panel.calling(t.id, write=False):
        return panel.client(ep).usage(t.username or "")


def usage(actor: Actor, service_id: Any, *, session: Session | None = None) -> Usage:
    """Disk and bandwidth of the service's account, read from the panel (MiB)."""
    t = _load(actor, service_id, session)
    if t.status not in LIVE:
        raise Conflict("services.error_wrong_status")
    return _usage(t)


# ------------------------------------------------------- client self-service
def reset_panel_password(actor: Actor, service_id: Any, *, session: Session | None = None) -> str:
    """Set a new strong cPanel password and return it, to be shown once.

    The password is never stored, logged or audited; the client gets a mail saying that it
    changed, without it. On any panel failure nothing is recorded but the failure itself.
    """
    t = _load(actor, service_id, session)
    if t.status != "active":
        raise Conflict("services.error_not_active")
    ep = _require_account(t)
    password = generate_password(16)
    with panel.calling(t.id, write=True, session=session):
        panel.client(ep).set_password(t.username or "", password)
    with transaction(session) as s:
        _audit(s, actor, "service.panel_password_reset", t, username=t.username)
        mail.queue(
            s,
            to_addr=t.client_email,
            template="panel_password_changed",
            language=t.client_language,
            name=t.client_name,
            domain=t.domain,
            username=t.username,
            when=moment(now(), t.client_language, get_settings().tz),
            by_staff=not actor.is_client,
        )
    return password


def sign_in_link(
    actor: Actor,
    service_id: Any,
    service: str = "cpaneld",
    *,
    session: Session | None = None,
) -> str:
    """A single-use sign-in link to cPanel ("cpaneld") or webmail ("webmaild"), made now.

    Links expire within minutes: make one per click and never keep it."""
    if service not in SIGN_IN_SERVICES:
        raise ValidationError("services.error_sign_in_service")
    t = _load(actor, service_id, session)
    if t.status != "active":
        raise Conflict("services.error_not_active")
    ep = _require_account(t)
    with panel.calling(t.id, write=False):
        url = panel.client(ep).login_url(t.username or "", service)
    with transaction(session) as s:
        _audit(s, actor, "service.sign_in_link", t, service=service)
    return url


# -------------------------------------------------------------- provisioning
def provision(actor: Actor, service_id: Any, *, session: Session | None = None) -> Provisioned:
    """Create the cPanel account of a pending (or account-less active) service; it becomes
    active with its panel username once the panel has the account.

    An account that already exists for this domain (an earlier attempt whose answer was lost)
    is adopted, never created twice. Staff with "services" and the owner only.
    """
    require(actor, "services")
    with reading(session) as s:
        svc = get_scoped(s, actor, Service, service_id, "services")
        t = _target(svc)
        taken = set(
            s.scalars(
                select(Service.panel_username).where(
                    Service.server_id == svc.server_id,
                    Service.panel_username.is_not(None),
                    Service.id != svc.id,
                )
            )
        )
    if t.status not in ("pending", "active"):
        raise Conflict("services.error_wrong_status")
    whm = panel.client(_endpoint(t))
    with panel.calling(t.id, write=True, session=session):
        username, adopted = _create_or_adopt(whm, t, taken)
    with transaction(session) as s:
        svc = s.get(Service, t.id)
        if svc is None:  # pragma: no cover - deleted meanwhile; the panel account remains
            raise Conflict("error.conflict")
        svc.panel_username = username
        if svc.status == "pending":
            svc.status = "active"
        svc.panel_error = None
        _audit(s, actor, "service.provisioned", t, username=username, adopted=adopted)
    return Provisioned(username=username, adopted=adopted)


def _create_or_adopt(whm: WhmClient, t: _Target, taken: set[str]) -> tuple[str, bool]:
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


def _staff_target(actor: Actor, service_id: Any, session: Session | None) -> _Target:
    require(actor, "services")
    return _load(actor, service_id, session)


def suspend(actor: Actor, service_id: Any, reason: str, *, session: Session | None = None) -> None:
    """Suspend an active service on the panel, then in the database (with the reason)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError("services.error_reason_required")
    if len(reason) > REASON_MAX:
        raise ValidationError("services.error_reason_long", n=REASON_MAX)
    t = _staff_target(actor, service_id, session)
    if t.status != "active":
        raise Conflict("services.error_wrong_status")
    if t.on_panel:
        with panel.calling(t.id, write=True, session=session):
            panel.client(_require_account(t)).suspend(t.username or "", reason)
    with transaction(session) as s:
        svc = s.get(Service, t.id)
        svc.status, svc.suspend_reason, svc.panel_error = "suspended", reason, None
        _audit(s, actor, "service.suspended", t, reason=reason, panel=t.on_panel)


def unsuspend(actor: Actor, service_id: Any, *, session: Session | None = None) -> None:
    """Reactivate a suspended service on the panel, then in the database."""
    t = _staff_target(actor, service_id, session)
    if t.status != "suspended":
        raise Conflict("services.error_wrong_status")
    if t.on_panel:
        with panel.calling(t.id, write=True, session=session):
            panel.client(_require_account(t)).unsuspend(t.username or "")
    with transaction(session) as s:
        svc = s.get(Service, t.id)
        svc.status, svc.suspend_reason, svc.panel_error = "active", None, None
        _audit(s, actor, "service.unsuspended", t, panel=t.on_panel)


def terminate(
    actor: Actor, service_id: Any, *, today: date | None = None, session: Session | None = None
) -> None:
    """Remove the cPanel account (files, databases, mail) and mark the service terminated.
    An account that is already gone counts as removed. The page asks for confirmation."""
    t = _staff_target(actor, service_id, session)
    if t.status in ("terminated",):
        raise Conflict("services.error_wrong_status")
    if t.on_panel:
        with panel.calling(t.id, write=True, session=session):
            panel.client(_require_account(t)).terminate(t.username or "")
    day = today or business_today(get_settings().tz)
    with transaction(session) as s:
        svc = s.get(Service, t.id)
        svc.status, svc.terminated_on, svc.panel_error = "terminated", day, None
        svc.next_due_date = svc.next_invoice_date = None
        _audit(s, actor, "service.terminated", t, username=t.username, panel=t.on_panel)


def change_plan(
    actor: Actor, service_id: Any, product_id: Any, *, session: Session | None = None
) -> None:
    """Move the account to another plan's WHM package, then the service to that product.
    Prices are not touched here: quotes and invoices for a plan change are billing's."""
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
        current = s.get(Service, t.id).product_id
        target_id, package, name = product.id, product.whm_package, product.name
    if target_id == current:
        raise ValidationError("services.error_same_plan")
    if t.on_panel:
        with panel.calling(t.id, write=True, session=session):
            panel.client(_require_account(t)).change_plan(t.username or "", package)
    with transaction(session) as s:
        svc = s.get(Service, t.id)
        svc.product_id, svc.panel_error = target_id, None
        _audit(
            s,
            actor,
            "service.plan_changed",
            t,
            from_package=t.package,
            to_package=package,
            to_product=name,
            panel=t.on_panel,
        )


def resync(actor: Actor, service_id: Any, *, session: Session | None = None) -> ResyncReport:
    """Read the account from the panel and reconcile: the panel is the truth for whether the
    account exists under this service and whether it is suspended. Differences are reported;
    status (active/suspended) and a missing username are corrected in the database, the rest
    (a missing account, another plan) only reported for staff to decide."""
    t = _staff_target(actor, service_id, session)
    whm = panel.client(_endpoint(t))
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
        svc = s.get(Service, t.id)
        for name, value in updates.items():
            setattr(svc, name, value)
        svc.panel_error = None
        _audit(
            s,
            actor,
            "service.resynced",
            t,
            differences=", ".join(f"{d.field}:{d.database}->{d.panel}" for d in diffs) or "none",
        )
    return ResyncReport(service_id=t.id, differences=diffs)


# ------------------------------------------------------------------------ demo
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
        targets = [(_target(svc), svc.suspend_reason or "Overdue on Payment") for svc in rows]
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
                svc = s.get(Service, service_id)
                svc.domain, svc.panel_username = domain, username
    return DemoReport(failed=failed, **counts)


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
