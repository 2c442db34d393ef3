"""Plan changes (upgrades and downgrades): quote, confirm, apply once when paid — billing-rules §2.

* **Quote.** A client (own services only; a foreign id is ``NotFound``), staff with the services
  permission and the owner pick a target among the product's ``upgrade_targets`` and any of its
  recurring cycles. The price is :func:`core.rules.proration.quote_change` on the service's
  recurring
  amount, next due date and anchor, with the ``cycle_change_mode`` setting; IVA is added the way
  the invoice will add it. A quote is valid until 7 days after it is made or the day before the
  next due date, whichever comes first (§2.2).
* **Blocked** while the service is not active, while a renewal invoice of the service is unpaid
  (WHMCS behaviour, §2.1), while another change of it is open, or once its due date is reached.
  :func:`upgrades_view` returns the reason instead of quotes; :func:`quote` and :func:`confirm`
  raise it.
* **Confirm** freezes the quote (amounts as strings) in a ``PlanChange`` row and makes its invoice:
  one "upgrade" line keyed by (service, "upgrade", change date), so a double click returns the
  change already made instead of a second one. A downgrade charges 0.00 (the invoice is paid at
  once) and, when ``credit_on_downgrade`` is on (the override of the product being left, else
  the setting; default off), credits the difference to the client's balance when applied. With the
  ``plan_change.downgrade_policy`` setting at "at_renewal", a downgrade is instead scheduled for
  the next due date: nothing is charged or credited, and it has no invoice.
* **Apply, exactly once.** Paying the invoice runs :func:`apply_paid_plan_change` inside the paying
  transaction (database only: the change becomes "paid"); right after commit the panel is asked
  to change the package (``services.provisioning.change_plan``, panel first), then one short
  transaction moves the recurring amount (and the cycle, due date and anchor the quote says),
  credits a downgrade, marks the change "applied" and queues the mail. The service's product is
  the marker that the panel part is done, and the change's status guards the billing part, so a
  re-run of the hook, a second payment attempt or :func:`apply_pending` never repeats either. A
  panel failure leaves the change "paid" (its reason on ``service.panel_error``) for
  :func:`apply_pending`, which the daily run calls with :func:`expire_quotes`.

Statuses: ``pending`` (invoice unpaid) → ``paid`` → ``applied``; ``scheduled`` (at renewal) →
``applied``; ``pending`` → ``expired`` (quote ran out) or ``cancelled`` (by the client/owner, or
its invoice was cancelled).

The code is split by job, to keep each module near the house size: ``pricing`` (quotes,
blockers, the formula in words), ``confirming`` (the quote frozen into a change and its
invoice), ``apply`` (paid → applied, the daily run) and ``common`` (statuses, the confirm
result, locks).
The public names are re-exported here so pages, tests and the daily run import one module.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import orders, services
from core.access import SYSTEM, Actor, get_scoped, require_permission, visible
from core.accounts.recovery import require_verified
from core.billing import cancel_invoice
from core.billing.ledger import lock_client
from core.models import Client, Invoice, PlanChange, Product, Service
from core.plan_changes.apply import (  # noqa: F401 - re-exported
    apply_paid_plan_change,
    apply_pending,
    expire_quotes,
    retry,
    scheduled_terms,
)
from core.plan_changes.common import (  # noqa: F401 - re-exported
    OPEN,
    STATUSES,
    Confirmed,
    _day,
    _iso,
    _lock_change,
)
from core.plan_changes.confirming import _confirm, changed_today
from core.plan_changes.pricing import (  # noqa: F401 - re-exported
    CREDIT_ON_DOWNGRADE,
    CYCLE_CHANGE_MODE,
    DEFAULT_MODE,
    DEFAULT_POLICY,
    DOWNGRADE_POLICY,
    POLICIES,
    QUOTE_DAYS,
    Quote,
    _blocker,
    _build,
    _pick,
    _targets,
    credit_on_downgrade,
    explain,
)
from core.platform import audit
from core.platform.clock import now
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, DomainError, NotFound
from core.rules.money import D

MAX_CHOICES = 50


# ------------------------------------------------------------------------ values
@dataclass(frozen=True)
class ServiceChoice:
    id: int
    domain: str
    plan: str
    client_name: str
    status: str


@dataclass(frozen=True)
class Current:
    """The selected service as the page shows it before the quotes."""

    id: int
    client_id: int
    client_name: str
    domain: str
    plan: str
    cycle: str
    amount: Decimal
    next_due: date | None
    status: str


@dataclass(frozen=True)
class ChangeRow:
    id: int
    service_id: int
    domain: str
    client_name: str
    from_product: str
    to_product: str
    from_cycle: str
    to_cycle: str
    status: str
    requested_at: datetime
    applied_at: datetime | None
    valid_until: date | None
    apply_on: date | None
    invoice_id: int | None
    invoice_number: str | None
    total: Decimal
    balance_credit: Decimal
    problem: str | None  # staff/owner only: the panel's last failure on a paid change


@dataclass(frozen=True)
class UpgradesView:
    services: list[ServiceChoice]
    current: Current | None
    quotes: list[Quote]
    blocked: tuple[str, dict[str, Any]] | None  # i18n key and its parameters
    no_targets: bool
    changes: list[ChangeRow]
    offers: list[orders.Offer]
    pending_orders: list[orders.OrderRow]
    staff_view: bool


# ------------------------------------------------------------------------ reads
def quote(
    actor: Actor,
    service_id: int,
    to_product_id: int,
    to_cycle: str,
    *,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> Quote:
    """The quote for one target; raises the reason when the service cannot change now
    (``at``: default now)."""
    require_permission(actor, "plan_changes")
    day = _day(at or now())
    with reading(session) as s:
        svc = get_scoped(s, actor, Service, service_id, "services")
        blocked = _blocker(s, svc, day)
        if blocked is not None:
            raise Conflict(blocked[0], **blocked[1])
        product, price = _pick(s, svc, to_product_id, to_cycle)
        return _build(s, svc, product, price, day)


def _first_live(s: Session) -> list[int] | None:
    """The first ``MAX_CHOICES`` live services in domain order, read a short way along the
    domain index (most services are live), or None when that stretch holds too few of them.
    Filtering on the status in SQL would sort every live service of the book instead."""
    window = MAX_CHOICES * 10
    rows = s.execute(
        select(Service.id, Service.status).order_by(Service.domain, Service.id).limit(window)
    ).all()
    live = [sid for sid, status in rows if status in services.LIVE][:MAX_CHOICES]
    return live if len(live) == MAX_CHOICES or len(rows) < window else None


def _choices(s: Session, actor: Actor, search: str | None) -> list[ServiceChoice]:
    # The first services in domain order are picked on the service table alone, then their
    # plan and client names are joined in.
    picked: Any = select(Service.id).order_by(Service.domain, Service.id).limit(MAX_CHOICES)
    if actor.is_client:
        picked = picked.where(visible(actor, Service), Service.status == "active")
    else:
        if not actor.can("services"):
            return []
        picked = picked.where(Service.status.in_(services.LIVE))
        term = (search or "").strip().lower().replace("%", "").replace("_", "")
        if not term:
            picked = _first_live(s) or picked
        else:
            like = f"%{term}%"
            picked = picked.join(Client, Client.id == Service.client_id).where(
                or_(
                    func.lower(Service.domain).like(like),
                    func.lower(Service.panel_username).like(like),
                    func.lower(Client.name).like(like),
                    func.lower(Client.email).like(like),
                )
            )
    stmt = (
        select(Service.id, Service.domain, Product.name, Client.name, Service.status)
        .join(Product, Product.id == Service.product_id)
        .join(Client, Client.id == Service.client_id)
        .where(Service.id.in_(picked))
        .order_by(Service.domain, Service.id)
    )
    return [ServiceChoice(r[0], r[1], r[2], r[3], r[4]) for r in s.execute(stmt).all()]


def _rows(s: Session, actor: Actor, stmt: Any) -> list[ChangeRow]:
    staff_view = not actor.is_client
    found = s.execute(stmt).all()
    rows: list[ChangeRow] = []
    for ch, domain, client_name, number, panel_error in found:
        q = ch.quote or {}
        problem = panel_error if staff_view and ch.status == "paid" else None
        rows.append(
            ChangeRow(
                id=ch.id,
                service_id=ch.service_id,
                domain=domain,
                client_name=client_name,
                from_product=str(q.get("from_product", "")),
                to_product=str(q.get("to_product", "")),
                from_cycle=ch.from_cycle,
                to_cycle=ch.to_cycle,
                status=ch.status,
                requested_at=ch.requested_at,
                applied_at=ch.applied_at,
                valid_until=_iso(q.get("valid_until")),
                apply_on=_iso(q.get("apply_on")),
                invoice_id=ch.invoice_id,
                invoice_number=number,
                total=D(str(q.get("total", "0.00"))),
                balance_credit=D(str(q.get("balance_credit", "0.00"))),
                problem=problem,
            )
        )
    return rows


def _changes_stmt(actor: Actor) -> Any:
    return (
        select(
            PlanChange,
            Service.domain,
            Client.name,
            Invoice.number,
            Service.panel_error,
        )
        .join(Service, Service.id == PlanChange.service_id)
        .join(Client, Client.id == Service.client_id)
        .outerjoin(Invoice, Invoice.id == PlanChange.invoice_id)
        .where(visible(actor, PlanChange))
        .order_by(PlanChange.id.desc())
    )


def list_changes(
    actor: Actor,
    *,
    statuses: tuple[str, ...] | None = None,
    service_id: int | None = None,
    limit: int = 100,
    session: Session | None = None,
) -> list[ChangeRow]:
    """Plan changes the actor may see, newest first: a client's own; every client's for staff
    with the services permission and the owner (with why a paid one is not applied yet)."""
    require_permission(actor, "plan_changes")
    stmt = _changes_stmt(actor).limit(max(1, min(int(limit), 500)))
    if not actor.is_client and not actor.can("services"):
        return []
    if statuses:
        stmt = stmt.where(PlanChange.status.in_(statuses))
    if service_id is not None:
        try:
            stmt = stmt.where(PlanChange.service_id == int(service_id))
        except (TypeError, ValueError):
            raise NotFound() from None
    with reading(session) as s:
        return _rows(s, actor, stmt)


def upgrades_view(
    actor: Actor,
    service_id: int | None = None,
    *,
    search: str | None = None,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> UpgradesView:
    """Everything the upgrades page shows, in one read.

    The services the actor may pick (a client's active ones; staff search every live one),
    the selected service (NotFound when it is not the actor's) with a quote per allowed
    target or the reason it is blocked, the open and recent plan changes, and for a client the
    plans they can order plus their orders awaiting payment or set-up. ``at``: default now.
    """
    require_permission(actor, "plan_changes")
    day = _day(at or now())
    with reading(session) as s:
        choices = _choices(s, actor, search)
        current, quotes, blocked, no_targets = None, [], None, False
        if service_id not in (None, ""):
            svc = get_scoped(s, actor, Service, service_id, "services")
            current = Current(
                id=svc.id,
                client_id=svc.client_id,
                client_name=svc.client.name,
                domain=svc.domain,
                plan=svc.product.name,
                cycle=svc.billing_cycle,
                amount=svc.recurring_amount,
                next_due=svc.next_due_date,
                status=svc.status,
            )
            if all(c.id != svc.id for c in choices):
                choices.insert(
                    0,
                    ServiceChoice(
                        svc.id, svc.domain, svc.product.name, svc.client.name, svc.status
                    ),
                )
            blocked = _blocker(s, svc, day)
            if blocked is None and actor.is_client:
                try:
                    require_verified(actor, session=s)
                except DomainError as exc:
                    blocked = (exc.key, dict(exc.params))
            targets = _targets(s, svc)
            no_targets = not targets
            if blocked is None:
                for product, price in targets:
                    try:
                        quotes.append(_build(s, svc, product, price, day))
                    except DomainError:
                        continue
                if changed_today(s, svc.id, day):
                    # One change a day: say so now rather than after the client confirms.
                    quotes = [q for q in quotes if q.at_renewal]
                    if not quotes and targets:
                        blocked = ("error.upgrade_again_tomorrow", {})
        if actor.is_client:
            stmt = _changes_stmt(actor).limit(20)
        else:
            stmt = _changes_stmt(actor).where(PlanChange.status.in_(OPEN)).limit(200)
        changes = _rows(s, actor, stmt) if (actor.is_client or actor.can("services")) else []
    # New orders belong to "services": an invited user with plan changes only sees neither.
    ordering = actor.may("services")
    offers = orders.offers(actor, session=session) if actor.is_client and ordering else []
    pending_orders = orders.list_orders(actor, session=session) if ordering else []
    return UpgradesView(
        services=choices,
        current=current,
        quotes=quotes,
        blocked=blocked,
        no_targets=no_targets,
        changes=changes,
        offers=offers,
        pending_orders=pending_orders,
        staff_view=not actor.is_client,
    )


# ------------------------------------------------------------------------ confirm
def confirm(
    actor: Actor,
    service_id: int,
    to_product_id: int,
    to_cycle: str,
    *,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> Confirmed:
    """Freeze the quote in a PlanChange and make its invoice (or schedule a downgrade at
    renewal). A repeat of the same request the same day returns the change already made.
    ``at``: the moment (default now; a date gives the day, and the moment is read now)."""
    require_permission(actor, "plan_changes")
    moment = at if isinstance(at, datetime) else now()
    day = _day(at or moment)
    if actor.is_client:
        require_verified(actor, session=session)
    with transaction(session) as s:
        made = _confirm(s, actor, service_id, to_product_id, to_cycle, day, moment)
    if session is None and made.status == "paid":
        # A change paid at once (a downgrade, or covered by credit) was applied right after
        # commit: report where it stands now.
        with reading() as s:
            change = s.get(PlanChange, made.plan_change_id)
            made = replace(made, status=change.status if change else made.status)
    if made.invoice_id is not None:  # messages name the invoice by its number (F0000064)
        with reading(session) as s:
            invoice = s.get(Invoice, made.invoice_id)
            made = replace(made, invoice_number=invoice.number if invoice else None)
    return made


def cancel(actor: Actor, plan_change_id: int, *, session: Session | None = None) -> None:
    """Withdraw a change that is not paid yet (its invoice is cancelled too), or a downgrade
    waiting for renewal. The client's own; staff with services and the owner any."""
    require_permission(actor, "plan_changes")
    with transaction(session) as s:
        try:
            key = int(plan_change_id)
        except (TypeError, ValueError):
            raise NotFound() from None
        change = s.get(PlanChange, key)
        if change is None:
            raise NotFound()
        svc = get_scoped(s, actor, Service, change.service_id, "services")
        lock_client(s, svc.client_id)
        change = _lock_change(s, key)
        if change is None or change.status not in ("pending", "scheduled"):
            raise Conflict("error.upgrade_not_cancellable")
        if change.invoice_id is not None:
            invoice = s.get(Invoice, change.invoice_id)
            if invoice is not None and invoice.status == "paid":
                raise Conflict("error.upgrade_not_cancellable")
            if invoice is not None and invoice.status in ("draft", "unpaid"):
                cancel_invoice(SYSTEM, invoice.id, reason="plan change withdrawn", session=s)
        change.status = "cancelled"
        audit.record(
            s,
            actor,
            "plan_change.cancelled",
            target_type="service",
            target_id=svc.id,
            client_id=svc.client_id,
            plan_change=change.id,
        )
