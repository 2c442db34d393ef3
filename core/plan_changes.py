"""Plan changes (upgrades and downgrades): quote, confirm, apply once when paid — billing-rules §2.

* **Quote.** A client (own services only; a foreign id is ``NotFound``), staff with the services
  permission and the owner pick a target among the product's ``upgrade_targets`` and any of its
  recurring cycles. The price is :func:`core.proration.quote_change` on the service's recurring
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
* **Apply, exactly once.** Paying the invoice runs :func:`_on_invoice_paid` inside the paying
  transaction (database only: the change becomes "paid"); right after commit the panel is asked
  to change the package (``services.change_plan``, panel first), then one short transaction
  moves the recurring amount (and the cycle, due date and anchor the quote says), credits a
  downgrade, marks the change "applied" and queues the mail. The service's product is the marker
  that the panel part is done, and the change's status guards the billing part, so a re-run
  of the hook, a second payment attempt or :func:`apply_pending` never repeats either. A panel
  failure leaves the change "paid" (its reason on ``service.panel_error``) for
  :func:`apply_pending`, which the daily run calls with :func:`expire_quotes`.

Statuses: ``pending`` (invoice unpaid) → ``paid`` → ``applied``; ``scheduled`` (at renewal) →
``applied``; ``pending`` → ``expired`` (quote ran out) or ``cancelled`` (by the client/owner, or
its invoice was cancelled).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit, mail, orders, services, settings
from core.access import SYSTEM, Actor, get_scoped, require_owner
from core.billing import LineInput, business_today, cancel_invoice, create_invoice, issue_invoice
from core.billing_ledger import PRICES_INCLUDE_TAX, lock_client, move_credit, register_paid_hook
from core.catalog import iva_rate_on
from core.clock import now, to_local
from core.config import get_settings
from core.cycles import CYCLE_MONTHS, RECURRING_CYCLES, advance, is_recurring
from core.db import after_commit, reading, transaction
from core.errors import Conflict, DomainError, NotFound, ValidationError
from core.i18n import day as fmt_day
from core.i18n import money as fmt_money
from core.i18n import t
from core.models import Client, Invoice, InvoiceItem, PlanChange, Product, ProductPrice, Service
from core.money import ZERO, D, invoice_totals, q2
from core.proration import CHANGE_MODES, ChangeQuote, quote_change
from core.recovery import require_verified

log = logging.getLogger("anfitrion.plan_changes")

# Settings read here, with their defaults (each one is used and tested).
CREDIT_ON_DOWNGRADE = "credit_on_downgrade"  # billing-rules §0.6; a product may override it
DOWNGRADE_POLICY = "plan_change.downgrade_policy"  # "now" | "at_renewal"
CYCLE_CHANGE_MODE = "cycle_change_mode"  # billing-rules §2.3: "switch_now" | "keep_due_date"
POLICIES = ("now", "at_renewal")
DEFAULT_POLICY = "now"
DEFAULT_MODE = "switch_now"

QUOTE_DAYS = 7  # a quote is valid this many days (or until the day before the due date)
OPEN = ("pending", "paid", "scheduled")  # a service has at most one change in these
STATUSES = ("pending", "paid", "scheduled", "applied", "expired", "cancelled")
MAX_CHOICES = 50


# ------------------------------------------------------------------------ values
@dataclass(frozen=True)
class Quote:
    """The price of moving a service to ``to_product`` on ``to_cycle`` on ``change_date``.

    ``credit``/``charge`` are the informational lines (rounded for display); ``net`` is
    ``charge − credit`` rounded once; ``payable`` is what the invoice line charges (never
    negative); ``balance_credit`` what a downgrade adds to the client's credit; ``subtotal``,
    ``tax`` and ``total`` are the invoice's. ``exact`` is ``quote_change``'s own result (None
    for a downgrade waiting for renewal, which moves no money now).
    """

    service_id: int
    domain: str
    from_product_id: int
    from_product: str
    from_cycle: str
    from_amount: Decimal
    to_product_id: int
    to_product: str
    to_cycle: str
    to_amount: Decimal
    change_date: date
    valid_until: date
    mode: str
    downgrade: bool
    at_renewal: bool
    credit: Decimal
    charge: Decimal
    net: Decimal
    payable: Decimal
    balance_credit: Decimal
    tax_rate: Decimal
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    remaining_days: int
    period_days: int
    next_due: date | None
    anchor_day: int
    exact: ChangeQuote | None

    @property
    def apply_on(self) -> date | None:
        """For a downgrade waiting for renewal: the day it takes effect."""
        return self.next_due if self.at_renewal else None

    @property
    def moves_due_date(self) -> bool:
        """The change starts a new period now: a cycle switch in "switch_now" mode, or the
        first paid cycle after a free plan (billing-rules §1.1, §2.3)."""
        if self.at_renewal:
            return False
        return self.from_cycle == "free" or (
            self.to_cycle != self.from_cycle and self.mode == "switch_now"
        )

    def frozen(self) -> dict[str, Any]:
        """What the PlanChange row keeps: amounts as strings, dates as ISO text."""
        return {
            "change_date": self.change_date.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "mode": self.mode,
            "downgrade": self.downgrade,
            "at_renewal": self.at_renewal,
            "apply_on": self.apply_on.isoformat() if self.apply_on else None,
            "from_product": self.from_product,
            "to_product": self.to_product,
            "from_amount": str(self.from_amount),
            "to_amount": str(self.to_amount),
            "credit": str(self.credit),
            "charge": str(self.charge),
            "net": str(self.net),
            "payable": str(self.payable),
            "balance_credit": str(self.balance_credit),
            "tax_rate": str(self.tax_rate),
            "subtotal": str(self.subtotal),
            "tax": str(self.tax),
            "total": str(self.total),
            "remaining_days": self.remaining_days,
            "period_days": self.period_days,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "anchor_day": self.anchor_day,
            "moves_due_date": self.moves_due_date,
        }


@dataclass(frozen=True)
class Confirmed:
    plan_change_id: int
    invoice_id: int | None  # None for a downgrade scheduled at renewal
    status: str
    repeated: bool  # a double click: the change made a moment ago, not a new one


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


# ------------------------------------------------------------------------ helpers
def _day(at: date | datetime | None) -> date:
    """A business calendar date from ``at`` (a date, a naive-UTC datetime, or now)."""
    if at is None:
        return business_today()
    if isinstance(at, datetime):
        return to_local(at, get_settings().tz).date()
    return at


def _mode(s: Session) -> str:
    mode = settings.get_text(CYCLE_CHANGE_MODE, DEFAULT_MODE, session=s)
    return mode if mode in CHANGE_MODES else DEFAULT_MODE


def _policy(s: Session) -> str:
    policy = settings.get_text(DOWNGRADE_POLICY, DEFAULT_POLICY, session=s)
    return policy if policy in POLICIES else DEFAULT_POLICY


def credit_on_downgrade(product: Product, *, session: Session | None = None) -> bool:
    """The override of the product being left when set, else the ``credit_on_downgrade``
    setting (default off)."""
    if product.credit_on_downgrade is not None:
        return bool(product.credit_on_downgrade)
    return settings.get_bool(CREDIT_ON_DOWNGRADE, False, session=session)


def _monthly(price: Decimal, cycle: str) -> Fraction:
    return Fraction(price) / CYCLE_MONTHS[cycle] if cycle in CYCLE_MONTHS else Fraction(0)


def _lock_service(s: Session, service_id: int) -> Service:
    found = s.scalars(
        select(Service)
        .where(Service.id == service_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if found is None:
        raise NotFound()
    return found


def _lock_change(s: Session, change_id: int) -> PlanChange | None:
    return s.scalars(
        select(PlanChange)
        .where(PlanChange.id == change_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _unpaid_renewal(s: Session, service_id: int) -> str | None:
    """The number of an unpaid renewal invoice of the service, if there is one."""
    row = s.execute(
        select(Invoice.id, Invoice.number)
        .join(InvoiceItem, InvoiceItem.invoice_id == Invoice.id)
        .where(
            InvoiceItem.service_id == service_id,
            InvoiceItem.kind == "renewal",
            Invoice.status == "unpaid",
        )
        .order_by(Invoice.id)
    ).first()
    if row is None:
        return None
    return row[1] or f"#{row[0]}"


def _blocker(s: Session, svc: Service, day: date) -> tuple[str, dict[str, Any]] | None:
    """Why the service cannot change plan today, as an i18n key and parameters."""
    if svc.status != "active":
        return "error.upgrade_not_active", {}
    if not is_recurring(svc.billing_cycle) and svc.billing_cycle != "free":
        return "error.upgrade_not_recurring", {}
    number = _unpaid_renewal(s, svc.id)
    if number is not None:
        return "error.upgrade_renewal_unpaid", {"number": number}
    open_change = s.scalars(
        select(PlanChange.id).where(PlanChange.service_id == svc.id, PlanChange.status.in_(OPEN))
    ).first()
    if open_change is not None:
        return "error.upgrade_change_open", {}
    if svc.next_due_date is not None and day >= svc.next_due_date:
        return "error.upgrade_renew_first", {}
    return None


def _targets(s: Session, svc: Service) -> list[tuple[Product, ProductPrice]]:
    """The (product, recurring price) pairs the service may move to, in catalogue order."""
    ids = [int(i) for i in (svc.product.upgrade_targets or []) if str(i).isdigit()]
    if not ids:
        return []
    rows = s.execute(
        select(Product, ProductPrice)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(
            Product.id.in_(ids),
            Product.active.is_(True),
            ProductPrice.cycle.in_(RECURRING_CYCLES),
        )
    ).all()
    pairs = [
        (product, price)
        for product, price in rows
        if not (product.id == svc.product_id and price.cycle == svc.billing_cycle)
    ]
    pairs.sort(
        key=lambda pair: (
            pair[0].sort_order,
            pair[0].name,
            pair[0].id,
            RECURRING_CYCLES.index(pair[1].cycle),
        )
    )
    return pairs


def _build(s: Session, svc: Service, target: Product, price: ProductPrice, day: date) -> Quote:
    """The quote of one target (no blocking checks here: see :func:`_blocker`)."""
    old_cycle, new_cycle = svc.billing_cycle, price.cycle
    old_price, new_price = q2(svc.recurring_amount), q2(price.price)
    mode = _mode(s)
    downgrade = old_cycle != "free" and _monthly(new_price, new_cycle) < _monthly(
        old_price, old_cycle
    )
    at_renewal = downgrade and _policy(s) == "at_renewal" and svc.next_due_date is not None
    valid_until = day + timedelta(days=QUOTE_DAYS)
    if svc.next_due_date is not None:
        valid_until = max(day, min(valid_until, svc.next_due_date - timedelta(days=1)))
    rate = iva_rate_on(day, session=s)  # the owner's dated IVA table, as the invoice
    gross = settings.get_bool(PRICES_INCLUDE_TAX, False, session=s)
    if at_renewal:
        exact = None
        credit = charge = net = ZERO
        remaining = period = 0
        next_due, anchor = svc.next_due_date, svc.anchor_day
        balance_credit = ZERO
    else:
        try:
            exact = quote_change(
                old_price=old_price,
                old_cycle=old_cycle,
                new_price=new_price,
                new_cycle=new_cycle,
                next_due=svc.next_due_date,
                anchor_day=svc.anchor_day,
                change_date=day,
                mode=mode,
            )
        except ValueError:
            raise ValidationError("error.upgrade_not_possible") from None
        credit, charge, net = q2(exact.credit), q2(exact.charge), exact.net
        remaining, period = exact.remaining_days, exact.period_days
        next_due, anchor = exact.next_due, exact.anchor_day
        # The plan being left decides: the credit is the unused value of its price.
        balance_credit = exact.balance_credit(credit_on_downgrade(svc.product, session=s))
    payable = max(net, ZERO)
    totals = invoice_totals([(payable, rate)], prices_include_tax=gross)
    return Quote(
        service_id=svc.id,
        domain=svc.domain,
        from_product_id=svc.product_id,
        from_product=svc.product.name,
        from_cycle=old_cycle,
        from_amount=old_price,
        to_product_id=target.id,
        to_product=target.name,
        to_cycle=new_cycle,
        to_amount=new_price,
        change_date=day,
        valid_until=valid_until,
        mode=mode,
        downgrade=downgrade,
        at_renewal=at_renewal,
        credit=credit,
        charge=charge,
        net=net,
        payable=payable,
        balance_credit=balance_credit,
        tax_rate=rate,
        subtotal=totals.subtotal,
        tax=totals.tax,
        total=totals.total,
        remaining_days=remaining,
        period_days=period,
        next_due=next_due,
        anchor_day=anchor,
        exact=exact,
    )


def _pick(
    s: Session, svc: Service, to_product_id: Any, to_cycle: str
) -> tuple[Product, ProductPrice]:
    try:
        wanted = int(to_product_id)
    except (TypeError, ValueError):
        raise ValidationError("error.upgrade_target_invalid") from None
    for product, price in _targets(s, svc):
        if product.id == wanted and price.cycle == to_cycle:
            return product, price
    raise ValidationError("error.upgrade_target_invalid")


# ------------------------------------------------------------------------ explain
def explain(q: Quote, lang: str | None) -> list[str]:
    """The quote's formula in plain words, one sentence per line, in ``lang``."""

    def m(value: Decimal) -> str:
        return fmt_money(value, lang)

    cycle = t(f"cycle.{q.to_cycle}", lang)
    if q.at_renewal:
        return [
            t(
                "upgrades.formula_at_renewal",
                lang,
                date=fmt_day(q.apply_on, lang),
                plan=q.to_product,
                amount=m(q.to_amount),
                cycle=cycle,
            )
        ]
    lines: list[str] = []
    if q.from_cycle == "free":
        lines.append(t("upgrades.formula_free", lang))
        lines.append(t("upgrades.formula_charge_full", lang, cycle=cycle, charge=m(q.charge)))
    else:
        lines.append(
            t(
                "upgrades.formula_credit",
                lang,
                old=m(q.from_amount),
                remaining=q.remaining_days,
                period=q.period_days,
                credit=m(q.credit),
            )
        )
        if q.to_cycle == q.from_cycle:
            lines.append(
                t(
                    "upgrades.formula_charge_same",
                    lang,
                    new=m(q.to_amount),
                    remaining=q.remaining_days,
                    period=q.period_days,
                    charge=m(q.charge),
                )
            )
        elif q.mode == "switch_now":
            lines.append(t("upgrades.formula_charge_full", lang, cycle=cycle, charge=m(q.charge)))
        else:
            start = q.change_date
            new_period = (advance(start, q.to_cycle, start.day) - start).days
            lines.append(
                t(
                    "upgrades.formula_charge_keep",
                    lang,
                    new=m(q.to_amount),
                    cycle=cycle,
                    remaining=q.remaining_days,
                    new_period=new_period,
                    charge=m(q.charge),
                )
            )
    lines.append(
        t("upgrades.formula_net", lang, charge=m(q.charge), credit=m(q.credit), net=m(q.net))
    )
    if q.net > 0:
        lines.append(
            t("upgrades.formula_pay", lang, payable=m(q.subtotal), tax=m(q.tax), total=m(q.total))
        )
    elif q.net < 0 and q.balance_credit > 0:
        lines.append(t("upgrades.formula_credit_balance", lang, amount=m(q.balance_credit)))
    elif q.net < 0:
        lines.append(t("upgrades.formula_no_refund", lang, amount=m(-q.net)))
    else:
        lines.append(t("upgrades.formula_nothing", lang))
    if q.moves_due_date and q.next_due is not None:
        lines.append(t("upgrades.formula_next_due", lang, date=fmt_day(q.next_due, lang)))
    return lines


# ------------------------------------------------------------------------ reads
def quote(
    actor: Actor,
    service_id: Any,
    to_product_id: Any,
    to_cycle: str,
    *,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> Quote:
    """The quote for one target; raises the reason when the service cannot change now."""
    day = _day(at)
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
        picked = picked.where(Service.client_id == actor.client_id, Service.status == "active")
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


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


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
        .order_by(PlanChange.id.desc())
    )


def list_changes(
    actor: Actor,
    *,
    statuses: tuple[str, ...] | None = None,
    service_id: Any = None,
    limit: int = 100,
    session: Session | None = None,
) -> list[ChangeRow]:
    """Plan changes the actor may see, newest first: a client's own; every client's for staff
    with the services permission and the owner (with why a paid one is not applied yet)."""
    stmt = _changes_stmt(actor).limit(max(1, min(int(limit), 500)))
    if actor.is_client:
        stmt = stmt.where(Service.client_id == actor.client_id)
    elif not actor.can("services"):
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
    service_id: Any = None,
    *,
    search: str | None = None,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> UpgradesView:
    """Everything the upgrades page shows, in one read.

    The services the actor may pick (a client's active ones; staff search every live one),
    the selected service (NotFound when it is not the actor's) with a quote per allowed
    target or the reason it is blocked, the open and recent plan changes, and for a client the
    plans they can order plus their orders awaiting payment or set-up.
    """
    day = _day(at)
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
        if actor.is_client:
            stmt = _changes_stmt(actor).where(Service.client_id == actor.client_id).limit(20)
        else:
            stmt = _changes_stmt(actor).where(PlanChange.status.in_(OPEN)).limit(200)
        changes = _rows(s, actor, stmt) if (actor.is_client or actor.can("services")) else []
    offers = orders.offers(actor, session=session) if actor.is_client else []
    pending_orders = orders.list_orders(actor, session=session)
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
    service_id: Any,
    to_product_id: Any,
    to_cycle: str,
    *,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> Confirmed:
    """Freeze the quote in a PlanChange and make its invoice (or schedule a downgrade at
    renewal). A repeat of the same request the same day returns the change already made."""
    day = _day(at)
    if actor.is_client:
        require_verified(actor, session=session)
    with transaction(session) as s:
        made = _confirm(s, actor, service_id, to_product_id, to_cycle, day)
    if session is None and made.status == "paid":
        # A change paid at once (a downgrade, or covered by credit) was applied right after
        # commit: report where it stands now.
        with reading() as s:
            change = s.get(PlanChange, made.plan_change_id)
            made = replace(made, status=change.status if change else made.status)
    return made


def _confirm(
    s: Session, actor: Actor, service_id: Any, to_product_id: Any, to_cycle: str, day: date
) -> Confirmed:
    found = get_scoped(s, actor, Service, service_id, "services")
    lock_client(s, found.client_id)  # one change at a time per client, as billing locks
    svc = _lock_service(s, found.id)
    again = _repeat(s, svc.id, to_product_id, to_cycle, day)
    if again is not None:
        return Confirmed(again.id, again.invoice_id, again.status, repeated=True)
    blocked = _blocker(s, svc, day)
    if blocked is not None:
        raise Conflict(blocked[0], **blocked[1])
    product, price = _pick(s, svc, to_product_id, to_cycle)
    q = _build(s, svc, product, price, day)
    taken = s.scalars(
        select(InvoiceItem.id).where(
            InvoiceItem.service_id == svc.id,
            InvoiceItem.kind == "upgrade",
            InvoiceItem.period_start == day,
        )
    ).first()
    if taken is not None and not q.at_renewal:
        raise Conflict("error.upgrade_again_tomorrow")
    change = PlanChange(
        service_id=svc.id,
        from_product_id=svc.product_id,
        to_product_id=product.id,
        from_cycle=svc.billing_cycle,
        to_cycle=price.cycle,
        quote=q.frozen(),
        status="scheduled" if q.at_renewal else "pending",
        requested_at=now(),
    )
    s.add(change)
    s.flush()
    audit.record(
        s,
        actor,
        "plan_change.requested",
        target_type="service",
        target_id=svc.id,
        client_id=svc.client_id,
        plan_change=change.id,
        from_product=q.from_product,
        to_product=q.to_product,
        to_cycle=q.to_cycle,
        net=q.net,
        total=q.total,
        at_renewal=q.at_renewal,
    )
    if q.at_renewal:
        return Confirmed(change.id, None, change.status, repeated=False)
    lang = svc.client.language
    line = LineInput(
        description=t(
            "upgrades.invoice_line",
            lang,
            domain=svc.domain,
            from_plan=q.from_product,
            to_plan=q.to_product,
            cycle=t(f"cycle.{q.to_cycle}", lang),
        ),
        amount=q.payable,
        kind="upgrade",
        service_id=svc.id,
        period_start=day,
        period_end=q.next_due - timedelta(days=1) if q.next_due else None,
    )
    invoice_id = create_invoice(
        SYSTEM,
        svc.client_id,
        [line],
        issued_on=day,
        due_on=q.valid_until,
        draft=True,
        session=s,
    )
    change.invoice_id = invoice_id
    s.flush()
    # Issuing applies the client's credit and settles a zero total: the paid hook then
    # finds this change by its invoice and applies it after commit.
    issue_invoice(SYSTEM, invoice_id, issued_on=day, due_on=q.valid_until, session=s)
    return Confirmed(change.id, invoice_id, change.status, repeated=False)


def _repeat(
    s: Session, service_id: int, to_product_id: Any, to_cycle: str, day: date
) -> PlanChange | None:
    """The same change asked for today, open or already applied (a double click)."""
    try:
        product_id = int(to_product_id)
    except (TypeError, ValueError):
        return None
    rows = s.scalars(
        select(PlanChange).where(
            PlanChange.service_id == service_id,
            PlanChange.to_product_id == product_id,
            PlanChange.to_cycle == to_cycle,
            PlanChange.status.in_((*OPEN, "applied")),
        )
    ).all()
    for row in rows:
        if (row.quote or {}).get("change_date") == day.isoformat():
            return row
    return None


def cancel(actor: Actor, plan_change_id: Any, *, session: Session | None = None) -> None:
    """Withdraw a change that is not paid yet (its invoice is cancelled too), or a downgrade
    waiting for renewal. The client's own; staff with services and the owner any."""
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


# ------------------------------------------------------------------------ paid → applied
@register_paid_hook
def _on_invoice_paid(session: Session, invoice: Invoice, actor: Actor) -> None:
    """Inside the paying transaction: database only. The change becomes "paid" and is applied
    on the panel right after commit (retried by :func:`apply_pending` if that fails)."""
    changes = session.scalars(
        select(PlanChange).where(
            PlanChange.invoice_id == invoice.id, PlanChange.status == "pending"
        )
    ).all()
    for change in changes:
        _mark_paid(session, change, actor)


def _mark_paid(session: Session, change: PlanChange, actor: Actor) -> None:
    change.status = "paid"
    audit.record(
        session,
        actor,
        "plan_change.paid",
        target_type="service",
        target_id=change.service_id,
        plan_change=change.id,
        invoice=change.invoice_id,
    )
    after_commit(session, partial(_apply_after_commit, change.id))


def _apply_after_commit(change_id: int) -> None:
    try:
        _apply_one(change_id, business_today(), None)
    except Exception:  # noqa: BLE001 - the payment is committed; the daily run retries
        log.exception("plan change %s could not be applied now; it stays pending", change_id)


def _due(change: PlanChange, day: date) -> bool:
    if change.status == "paid":
        return True
    if change.status == "scheduled":
        apply_on = _iso((change.quote or {}).get("apply_on"))
        return apply_on is not None and apply_on <= day
    return False


def _apply_one(
    change_id: int, day: date, session: Session | None, *, raise_errors: bool = False
) -> bool:
    """Apply one paid (or due scheduled) change: panel first, then billing, exactly once."""
    with reading(session) as s:
        change = s.get(PlanChange, change_id)
        if change is None or not _due(change, day):
            return False
        svc = s.get(Service, change.service_id)
        needs_panel = svc is not None and svc.product_id != change.to_product_id
        service_id, to_product = change.service_id, change.to_product_id
    if needs_panel:
        try:
            # Panel first; the service's product moves only when the panel agreed, so it is
            # the marker that this part is done (a retry skips it).
            services.change_plan(SYSTEM, service_id, to_product, session=session)
        except DomainError as exc:
            log.warning("plan change %s: panel step failed (%s); retried later", change_id, exc.key)
            if raise_errors:
                raise
            return False
    with transaction(session) as s:
        change = _lock_change(s, change_id)
        if change is None or not _due(change, day):
            return False  # applied meanwhile by another runner
        svc = _lock_service(s, change.service_id)
        if svc.product_id != change.to_product_id:
            return False
        q = change.quote or {}
        old_amount, old_cycle = svc.recurring_amount, svc.billing_cycle
        svc.recurring_amount = q2(D(str(q["to_amount"])))
        svc.billing_cycle = change.to_cycle
        if q.get("moves_due_date") and q.get("next_due"):
            svc.next_due_date = date.fromisoformat(q["next_due"])
            svc.anchor_day = int(q["anchor_day"])
        credited = q2(D(str(q.get("balance_credit") or "0")))
        client = lock_client(s, svc.client_id)
        if credited > 0:
            move_credit(
                s,
                SYSTEM,
                client,
                credited,
                kind="downgrade",
                reason=f"{q.get('from_product', '')} → {q.get('to_product', '')}",
                invoice_id=change.invoice_id,
            )
        change.status = "applied"
        change.applied_at = now()
        audit.record(
            s,
            SYSTEM,
            "plan_change.applied",
            target_type="service",
            target_id=svc.id,
            client_id=svc.client_id,
            plan_change=change.id,
            from_amount=old_amount,
            to_amount=svc.recurring_amount,
            from_cycle=old_cycle,
            to_cycle=svc.billing_cycle,
            credited=credited,
        )
        lang = client.language
        mail.queue(
            s,
            to_addr=client.email,
            template="plan_change_applied",
            language=lang,
            name=client.name,
            domain=svc.domain,
            from_plan=str(q.get("from_product", "")),
            to_plan=str(q.get("to_product", "")),
            cycle=t(f"cycle.{svc.billing_cycle}", lang),
            amount=fmt_money(svc.recurring_amount, lang),
            next_due=fmt_day(svc.next_due_date, lang),
            credited=fmt_money(credited, lang) if credited > 0 else "",
            link=f"{get_settings().public_url}/services?service={svc.id}",
        )
    return True


def retry(actor: Actor, plan_change_id: Any, *, session: Session | None = None) -> None:
    """The owner applies a paid change now instead of waiting for the daily run; a panel
    failure is reported as the panel's message."""
    require_owner(actor)
    try:
        key = int(plan_change_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    with reading(session) as s:
        change = s.get(PlanChange, key)
        if change is None:
            raise NotFound()
        if change.status != "paid":
            raise Conflict("error.upgrade_not_paid")
    if not _apply_one(key, business_today(), session, raise_errors=True):
        raise Conflict("error.upgrade_not_applied")


def _each(ids: list[int], session: Session | None, work: Any) -> int:
    """Run ``work(session, id)`` per item, each in its own transaction (or the caller's)."""
    done = 0
    for item in ids:
        try:
            with transaction(session) as s:
                if work(s, item):
                    done += 1
        except DomainError as exc:
            log.warning("plan change %s skipped: %s", item, exc.key)
    return done


def apply_pending(at: date | datetime, session: Session | None = None) -> int:
    """Apply every paid change still waiting (the panel failed, or the process stopped before
    the after-commit step) and every downgrade scheduled for a renewal that has come.
    Changes whose invoice was paid without the hook running are marked paid first.
    Returns how many were applied now; a re-run applies nothing twice."""
    day = _day(at)
    with reading(session) as s:
        missed = list(
            s.scalars(
                select(PlanChange.id)
                .join(Invoice, Invoice.id == PlanChange.invoice_id)
                .where(PlanChange.status == "pending", Invoice.status == "paid")
                .order_by(PlanChange.id)
            )
        )

    def mark(s: Session, change_id: int) -> bool:
        change = _lock_change(s, change_id)
        if change is None or change.status != "pending":
            return False
        invoice = s.get(Invoice, change.invoice_id)
        if invoice is None or invoice.status != "paid":
            return False
        change.status = "paid"
        audit.record(
            s,
            SYSTEM,
            "plan_change.paid",
            target_type="service",
            target_id=change.service_id,
            plan_change=change.id,
            invoice=change.invoice_id,
        )
        return True

    _each(missed, session, mark)
    with reading(session) as s:
        ready = list(
            s.scalars(
                select(PlanChange.id)
                .where(PlanChange.status.in_(("paid", "scheduled")))
                .order_by(PlanChange.id)
            )
        )
    applied = 0
    for change_id in ready:
        try:
            if _apply_one(change_id, day, session):
                applied += 1
        except DomainError as exc:
            log.warning("plan change %s not applied: %s", change_id, exc.key)
    return applied


def expire_quotes(at: date | datetime, session: Session | None = None) -> int:
    """Cancel unpaid changes whose quote has run out (and their invoices), those whose
    invoice was cancelled meanwhile, and downgrades scheduled for the renewal of a service that
    ended before it. Returns how many were ended; a re-run ends none."""
    day = _day(at)
    with reading(session) as s:
        ids = list(
            s.scalars(
                select(PlanChange.id)
                .where(PlanChange.status.in_(("pending", "scheduled")))
                .order_by(PlanChange.id)
            )
        )

    def end(s: Session, change_id: int) -> bool:
        change = s.get(PlanChange, change_id)
        if change is None or change.status not in ("pending", "scheduled"):
            return False
        if change.status == "scheduled":
            svc = s.get(Service, change.service_id)
            if svc is None or svc.status in services.LIVE:
                return False
            change.status = "cancelled"
            audit.record(
                s,
                SYSTEM,
                "plan_change.cancelled",
                target_type="service",
                target_id=change.service_id,
                client_id=svc.client_id if svc else None,
                plan_change=change.id,
                service_status=svc.status if svc else None,
            )
            return True
        invoice = s.get(Invoice, change.invoice_id) if change.invoice_id else None
        if invoice is not None and invoice.status == "paid":
            return False  # paid, even late: apply_pending applies it
        valid_until = _iso((change.quote or {}).get("valid_until"))
        gone = invoice is not None and invoice.status in ("cancelled", "refunded")
        expired = valid_until is not None and day > valid_until
        if not (gone or expired):
            return False
        if invoice is not None and invoice.status in ("draft", "unpaid"):
            try:
                cancel_invoice(SYSTEM, invoice.id, reason="plan change quote expired", session=s)
            except Conflict:
                return False  # paid a moment ago: apply_pending takes it
        change = _lock_change(s, change_id)
        if change is None or change.status != "pending":
            return False
        change.status = "expired" if expired else "cancelled"
        svc = s.get(Service, change.service_id)
        audit.record(
            s,
            SYSTEM,
            f"plan_change.{change.status}",
            target_type="service",
            target_id=change.service_id,
            client_id=svc.client_id if svc else None,
            plan_change=change.id,
        )
        return True

    return _each(ids, session, end)


def scheduled_terms(
    service_id: int, period_start: date, *, session: Session | None = None
) -> tuple[Decimal, str, int] | None:
    """For renewal invoicing: a downgrade scheduled to take effect on ``period_start`` bills
    that period at its new price. Returns ``(amount, cycle, product_id)`` or None."""
    with reading(session) as s:
        rows = s.scalars(
            select(PlanChange).where(
                PlanChange.service_id == service_id, PlanChange.status == "scheduled"
            )
        ).all()
        for change in rows:
            q = change.quote or {}
            if _iso(q.get("apply_on")) == period_start:
                return q2(D(str(q["to_amount"]))), change.to_cycle, change.to_product_id
    return None
