"""Hosting services: what the services page reads, and how every panel action finds its service.

Ordering (ARCHITECTURE §2 rule 6): read what the call needs, close the read, call the panel,
and change the database only when the panel agreed — in a new, short transaction. A panel that
is down leaves the database as it was (the failure is noted on ``service.panel_error`` apart,
for staff) and the reader gets "nothing was changed, try again". A write whose outcome the
panel would not confirm says so, and ``resync`` reconciles it later from the panel's truth.
The read before the call is ``Target`` (``core.services.target``), shared by the modules
that act on the panel.

Who may do what:

* a client: their own services only (a foreign id is ``NotFound``): list, detail with usage
  (here), reset the cPanel password (shown once, never stored, never logged, mailed without
  it) and single-use sign-in links to cPanel and webmail (``core.services.credentials``);
* staff with the "services" permission and the owner: every service, plus provisioning,
  suspend, unsuspend, terminate, change plan and resync (``core.services.provisioning``).

The demo book's accounts on the local sandbox panel are ``sandbox.demo_accounts``. Those three
were split from this module to keep each near the house size (behaviour unchanged); they
import the values from here and the ``Target`` helpers from ``target``, and this module
imports none of them.
Panel servers in settings are ``core.panel`` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from core import panel
from core.access import Actor, get_scoped, of_client, require_any, require_permission, scoped
from core.insights.overview import OWED_STATUSES
from core.models import CancellationRequest, Client, Invoice, InvoiceItem, Product, Service
from core.panel import (  # noqa: F401 - servers in settings live in core.panel
    ConnectionReport,
    ServerView,
    list_servers,
    save_server,
    test_connection,
)
from core.panel.whm import Usage
from core.platform.db import reading
from core.platform.errors import Conflict, DomainError, ValidationError
from core.platform.i18n import pick, t
from core.platform.paging import Page, counted
from core.services.target import (
    Target,
    load_target,
    panel_target,
    require_account,
)

STATUSES = ("pending", "active", "suspended", "cancelled", "terminated", "fraud")
CLIENT_FILTERS = ("pending", "active", "suspended", "cancelled", "terminated")
ENDED = ("cancelled", "terminated", "fraud")  # no longer billed: no recurring price to show


def billed_amount(status: str, amount: Decimal) -> Decimal | None:
    """The recurring price a service is billed, or None once it has ended (a cancelled
    service is not charged again, so showing its old price would mislead)."""
    return None if status in ENDED else amount


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
    amount_owed: Decimal | None  # None: the reader may not see billing
    panel_username: str | None
    panel_error: str | None  # staff only; None for a client
    cancel_on: date | None = None  # a pending cancellation request takes effect that day


ServicePage = Page[ServiceRow]


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
    amount_owed: Decimal | None  # None: the reader may not see billing
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
    return {sid: Decimal(total).quantize(CENT) for sid, total in rows if sid is not None}


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
    require_any(actor, "services", "cancellations")  # cancelling starts from the service
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
    # Every service has its client and product (foreign keys, not null): without a search
    # the count needs neither join, and the joins cost a look-up per service (~30 ms at
    # 40,000 services on every rerun of the desk's services page).
    # Counted no further than a thousand past the page (paging.counted): the whole book's
    # count grew with it (~30 ms at 400,000 services).
    narrow = base if term and not actor.is_client else scoped(actor, Service, "services")
    if narrow is not base:
        narrow = narrow.where(*conds)
    with reading(session) as s:
        total, more = counted(
            s, narrow.with_only_columns(Service.id, maintain_column_froms=True), offset
        )
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
        money = actor.may("billing")  # what a service owes is billing's part of the account
        owed = _owed(s, [r[0] for r in found]) if money else {}
        leaving = dict(
            s.execute(
                select(CancellationRequest.service_id, CancellationRequest.effective_date).where(
                    CancellationRequest.service_id.in_([r[0] for r in found]),
                    CancellationRequest.processed_at.is_(None),
                )
            ).all()
        )
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
            amount_owed=owed.get(r[0], Decimal("0.00")) if money else None,
            panel_username=r[9],
            panel_error=None if actor.is_client else r[10],
            cancel_on=leaving.get(r[0]),
        )
        for r in found
    ]
    return Page(rows=rows, total=total, page=offset // limit + 1, per_page=limit, more=more)


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
        found_by: list[ColumnElement[bool]] = [
            func.lower(Service.domain).like(like),
            func.lower(Service.panel_username).like(like),
        ]
        if not actor.is_client:  # a client's own name would match all of theirs
            named = select(Client.id).where(
                or_(func.lower(Client.name).like(like), func.lower(Client.email).like(like))
            )
            found_by.append(of_client(Service, named))
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


# The suspension reasons we write ourselves, in the panel's (English) wording: shown to a
# reader in their language. A reason staff typed is shown as typed.
SUSPEND_REASON_KEYS = {"Overdue on Payment": "services.reason_overdue"}  # automation.items


def suspend_reason_text(reason: str | None, lang: str | None) -> str:
    """A suspension's reason for a reader: ours translated, anyone else's as written."""
    if not reason:
        return ""
    key = SUSPEND_REASON_KEYS.get(reason.strip())
    return t(key, lang) if key else reason


def service_detail(
    actor: Actor, service_id: int, *, with_usage: bool = True, session: Session | None = None
) -> ServiceDetail:
    """One service (NotFound when it is not the actor's), with its disk and bandwidth usage
    read from the panel. A panel that cannot answer leaves ``usage`` None and says why in
    ``usage_error``; the rest of the page still shows."""
    require_any(actor, "services", "cancellations")  # cancelling starts from the service
    staff_view = not actor.is_client
    with reading(session) as s:
        svc = get_scoped(s, actor, Service, service_id, "services")
        t = panel_target(svc)
        options = []
        if staff_view:
            options = [
                PlanOption(p.id, p.name, p.whm_package)
                for p in s.scalars(
                    select(Product)
                    .where(Product.active.is_(True), Product.kind == "hosting")
                    .order_by(Product.sort_order)
                )
            ]
        detail = ServiceDetail(
            id=svc.id,
            client_id=svc.client_id,
            client_name=svc.client.name,
            domain=svc.domain,
            product_id=svc.product_id,
            plan=pick(svc.product.name, svc.product.name_en, actor.language),
            status=svc.status,
            cycle=svc.billing_cycle,
            next_due_date=svc.next_due_date,
            recurring_amount=svc.recurring_amount,
            amount_owed=_owed(s, [svc.id]).get(svc.id, Decimal("0.00"))
            if actor.may("billing")
            else None,
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
    # Disk and bandwidth are the services part's; a cancellations-only user reads the rest.
    if with_usage and actor.may("services") and detail.has_account and t.has_server:
        try:
            detail = replace(detail, usage=_usage(t))
        except DomainError as exc:
            detail = replace(detail, usage_error=exc.key)
    return detail


def _usage(t: Target) -> Usage:
    ep = require_account(t)
    with panel.calling(t.id, write=False):
        return panel.client(ep).usage(t.username or "")


def usage(actor: Actor, service_id: int, *, session: Session | None = None) -> Usage:
    """Disk and bandwidth of the service's account, read from the panel (MiB)."""
    require_permission(actor, "services")
    t = load_target(actor, service_id, session)
    if t.status not in LIVE:
        raise Conflict("services.error_wrong_status")
    return _usage(t)
