"""The owner's home figures: MRR and its trend, cash collected, receivables aging, expected
cash-in, churn, and the support desk's open tickets and SLA breaches.

Every figure is aggregated in SQL (sums and counts grouped on indexed columns); Python only
divides a per-cycle sum by the cycle's months and rounds once. Each rule below is what a test
reproduces with its own SQL query on the demo book.

**MRR** (monthly recurring revenue): services with status ``active`` on a recurring cycle,
each ``recurring_amount ÷ months_factor(cycle)`` (an annual 120.00 adds 10.00), summed and
rounded once to cents. IVA is not revenue and is left out; ``free``/``onetime`` add nothing;
``suspended`` services are not counted (they are revenue at risk, shown by aging).

**MRR trend** (12 points, one per month): the current month's point is today's MRR. Past
months are reconstructed from each service's dates, measured on the month's last day ``p``: a
service counts when it is on a recurring cycle, not ``pending``/``fraud``, registered on or
before ``p``, and not yet ended on ``p``. A ``cancelled`` or ``terminated`` service ended on
the first known of: ``terminated_on``, its latest cancellation request's ``effective_date``,
its ``next_due_date`` (paid up to then), its ``registration_date`` (no date at all: it is left
out of history). Services that are active or suspended today are taken as live in the past
(a suspension is not dated). History uses today's recurring amounts: a plan change moves the
whole past line of that service, a known limit of reconstructing rather than snapshotting.

**Cash collected**: the sum of ``payment.amount`` by ``received_on`` (money received, never
credit applied) for this month up to today, the whole previous month, and the previous month
up to the same day (a fair comparison early in a month).

**Receivables aging**: unpaid invoices' ``balance`` by days past due on ``today``: not yet
due (``current``), 0–30 (due today up to 30 days ago), 31–60, 61–90 and over 90.

**Expected cash-in, next 30 days** (``today`` ≤ date < ``today + 30``):
  (a) unpaid invoices due in the window: their balance;
  (b) renewals: ``active`` services on a recurring cycle whose ``next_due_date`` falls in the
      window and that have no renewal line for that date yet (on a draft, unpaid or paid
      invoice), at their recurring amount plus IVA at today's rate (none added when the
      ``prices_include_tax`` setting is on). An invoice already issued for that renewal is
      counted once, in (a). Overdue invoices are not expected cash; they are in aging.

**Churn** per month (business-time-zone months): cancellation requests by ``requested_at``;
terminations by ``terminated_on``; ended services and their lost MRR by the same end date as
the trend (so the trend's drop and the lost MRR agree). Reasons: cancellation requests'
reasons, grouped by their text. A request followed by its termination counts once in each
series: they are different events.

**Tickets**: open = any status but ``closed``; breached = open and the SLA flag set or the
next deadline (``sla_due_at``) passed (``tickets_views.is_breached``).

Rights: money figures need ``billing``; churn counts need ``billing`` or ``reports`` (lost
MRR only with ``billing``); ticket figures need ``tickets`` or ``reports``. Clients get none.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from core import settings
from core.access import Actor, require
from core.billing_ledger import PRICES_INCLUDE_TAX
from core.catalog import iva_rate_on
from core.config import get_settings
from core.cycles import CYCLE_MONTHS, months_factor
from core.db import reading
from core.errors import Forbidden
from core.models import CancellationRequest, Invoice, InvoiceItem, Payment, Service, Ticket
from core.money import ZERO, q2

RECURRING = tuple(CYCLE_MONTHS)
NEVER_LIVE = ("pending", "fraud")
ENDED = ("cancelled", "terminated")
AGING_BUCKETS = ("current", "d0_30", "d31_60", "d61_90", "d90_plus")
CASH_IN_DAYS = 30
TREND_MONTHS = 12
REASON_MAX = 120
TOP_REASONS = 10
COVERING_STATUSES = ("draft", "unpaid", "paid")


# ---------------------------------------------------------------------- values
@dataclass(frozen=True)
class MrrPoint:
    month: date  # the month's first day
    at: date  # the day it is measured on (month end, or today for this month)
    mrr: Decimal
    services: int


@dataclass(frozen=True)
class Cash:
    this_month: Decimal
    last_month: Decimal
    last_month_to_date: Decimal
    month_start: date
    last_month_start: date


@dataclass(frozen=True)
class AgingBucket:
    bucket: str  # one of AGING_BUCKETS
    invoices: int
    amount: Decimal


@dataclass(frozen=True)
class CashInDay:
    day: date
    invoices: Decimal
    renewals: Decimal


@dataclass(frozen=True)
class CashIn:
    start: date
    end: date  # exclusive
    invoices: Decimal
    invoice_count: int
    renewals: Decimal
    renewal_count: int
    renewals_base: Decimal  # before IVA
    iva_rate: Decimal  # added to renewals (0 when prices include tax)
    days: list[CashInDay]

    @property
    def total(self) -> Decimal:
        return self.invoices + self.renewals


@dataclass(frozen=True)
class ChurnMonth:
    month: date
    cancellations: int
    terminations: int
    ended: int
    lost_mrr: Decimal | None  # None without the billing right


@dataclass(frozen=True)
class ChurnReason:
    reason: str
    count: int


@dataclass(frozen=True)
class TicketFigures:
    open: int
    breached: int
    unassigned: int
    by_priority: dict[str, int]
    breached_by_priority: dict[str, int]


@dataclass(frozen=True)
class HomeFigures:
    """What the desk's home shows; a part is None when the actor may not see it."""

    mrr: Decimal | None
    mrr_trend: list[MrrPoint] | None
    cash: Cash | None
    aging: list[AgingBucket] | None
    cash_in: CashIn | None
    churn: list[ChurnMonth] | None
    reasons: list[ChurnReason] | None
    tickets: TicketFigures | None


# ----------------------------------------------------------------------- rights
def may_see_money(actor: Actor) -> bool:
    return actor.can("billing")


def may_see_churn(actor: Actor) -> bool:
    return actor.can("billing") or actor.can("reports")


def may_see_tickets(actor: Actor) -> bool:
    return actor.can("tickets") or actor.can("reports")


def _require_any(actor: Actor, allowed: bool) -> None:
    if actor.is_client or not allowed:
        raise Forbidden()


# ---------------------------------------------------------------------- helpers
def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month ``months`` after ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def months_between(first: date, last: date) -> list[date]:
    """First days of the months from ``first``'s to ``last``'s, inclusive."""
    out, cursor = [], month_start(first)
    while cursor <= last:
        out.append(cursor)
        cursor = add_months(cursor, 1)
    return out


def utc_start(day: date) -> datetime:
    """Naive UTC of local midnight starting ``day`` (what timestamp columns hold)."""
    local = datetime.combine(day, time.min, tzinfo=get_settings().tz)
    return local.astimezone(UTC).replace(tzinfo=None)


def dec(value: Any) -> Decimal:
    """A summed money value from either engine as a 2-decimal Decimal (0.00 for NULL)."""
    if value is None:
        return ZERO
    return q2(value if isinstance(value, Decimal | int) else str(value))


def normalised(per_cycle: Sequence[tuple[str, Any]]) -> Decimal:
    """Σ sum ÷ months over (cycle, summed recurring amount) rows, rounded once."""
    total = sum((Decimal(str(amount)) / months_factor(cycle) for cycle, amount in per_cycle), ZERO)
    return q2(total)


def month_index(column: Any, bounds: Sequence[Any]) -> Any:
    """CASE giving the index i of [bounds[i], bounds[i+1]) that ``column`` falls in."""
    whens = [(and_(column >= bounds[i], column < bounds[i + 1]), i) for i in range(len(bounds) - 1)]
    return case(*whens, else_=-1)


def _ended_on(*, known_only: bool = False) -> tuple[Any, Any]:
    """(CASE giving a cancelled/terminated service's end date, the subquery it needs).

    ``known_only``: NULL for a service with no end date at all (churn cannot date it);
    otherwise such a service ends on its registration date (history never counts it)."""
    eff = (
        select(
            CancellationRequest.service_id.label("service_id"),
            func.max(CancellationRequest.effective_date).label("eff"),
        )
        .group_by(CancellationRequest.service_id)
        .subquery("cancel_eff")
    )
    known = [Service.terminated_on, eff.c.eff, Service.next_due_date]
    if not known_only:
        known.append(Service.registration_date)
    ended = case((Service.status.in_(ENDED), func.coalesce(*known)), else_=None)
    return ended, eff


# -------------------------------------------------------------------------- MRR
def _mrr_now(s: Session) -> tuple[Decimal, int]:
    rows = s.execute(
        select(Service.billing_cycle, func.sum(Service.recurring_amount), func.count())
        .where(Service.status == "active", Service.billing_cycle.in_(RECURRING))
        .group_by(Service.billing_cycle)
    ).all()
    return normalised([(c, a) for c, a, _ in rows]), sum(int(n) for _, _, n in rows)


def _mrr_history(s: Session, points: Sequence[date]) -> dict[date, tuple[Decimal, int]]:
    """MRR reconstructed on each day in ``points`` (module notes), one SQL query."""
    if not points:
        return {}
    ended, eff = _ended_on()
    live = (
        select(
            Service.billing_cycle.label("cycle"),
            Service.recurring_amount.label("amount"),
            Service.registration_date.label("registered"),
            ended.label("ended_on"),
        )
        .outerjoin(eff, eff.c.service_id == Service.id)
        .where(Service.status.not_in(NEVER_LIVE), Service.billing_cycle.in_(RECURRING))
        .subquery("live")
    )
    days = union_all(*[select(literal(p, Date).label("p")) for p in points]).subquery("points")
    rows = s.execute(
        select(days.c.p, live.c.cycle, func.sum(live.c.amount), func.count())
        .select_from(days)
        .join(
            live,
            and_(
                live.c.registered <= days.c.p,
                or_(live.c.ended_on.is_(None), live.c.ended_on > days.c.p),
            ),
        )
        .group_by(days.c.p, live.c.cycle)
    ).all()
    grouped: dict[date, list[tuple[str, Any, int]]] = {}
    for p, cycle, amount, count in rows:
        key = p if isinstance(p, date) else date.fromisoformat(str(p))
        grouped.setdefault(key, []).append((cycle, amount, int(count)))
    return {
        p: (
            normalised([(c, a) for c, a, _ in grouped.get(p, [])]),
            sum(n for _, _, n in grouped.get(p, [])),
        )
        for p in points
    }


def mrr(actor: Actor, *, session: Session | None = None) -> Decimal:
    """Today's MRR (billing right)."""
    require(actor, "billing")
    with reading(session) as s:
        return _mrr_now(s)[0]


def _trend(s: Session, months: Sequence[date], today: date) -> list[MrrPoint]:
    past = [month_end(m) for m in months if month_end(m) < today]
    history = _mrr_history(s, past)
    points = []
    for m in months:
        if month_end(m) < today:
            value, count = history[month_end(m)]
            points.append(MrrPoint(m, month_end(m), value, count))
        elif m <= today:
            value, count = _mrr_now(s)
            points.append(MrrPoint(m, today, value, count))
    return points


def mrr_trend(
    actor: Actor,
    today: date,
    months: int = TREND_MONTHS,
    *,
    first: date | None = None,
    last: date | None = None,
    session: Session | None = None,
) -> list[MrrPoint]:
    """MRR per month for the last ``months`` months up to today (or ``first``..``last``,
    never beyond today), oldest first (billing right)."""
    require(actor, "billing")
    end = min(last or today, today)
    start = first or add_months(end, -(max(1, months) - 1))
    with reading(session) as s:
        return _trend(s, months_between(start, end), today)


# ------------------------------------------------------------------------- cash
def _cash(s: Session, today: date) -> Cash:
    start = month_start(today)
    prev = add_months(today, -1)
    prev_to_date = min(prev + timedelta(days=today.day - 1), start - timedelta(days=1))
    in_month = Payment.received_on >= start
    in_prev = and_(Payment.received_on >= prev, Payment.received_on < start)
    prev_part = and_(Payment.received_on >= prev, Payment.received_on <= prev_to_date)
    row = s.execute(
        select(
            func.sum(case((in_month, Payment.amount), else_=0)),
            func.sum(case((in_prev, Payment.amount), else_=0)),
            func.sum(case((prev_part, Payment.amount), else_=0)),
        ).where(Payment.received_on >= prev, Payment.received_on <= today)
    ).one()
    return Cash(dec(row[0]), dec(row[1]), dec(row[2]), start, prev)


def cash_collected(actor: Actor, today: date, *, session: Session | None = None) -> Cash:
    require(actor, "billing")
    with reading(session) as s:
        return _cash(s, today)


# ------------------------------------------------------------------------ aging
def _aging_case(column: Any, today: date) -> Any:
    return case(
        (column > today, 0),
        (column >= today - timedelta(days=30), 1),
        (column >= today - timedelta(days=60), 2),
        (column >= today - timedelta(days=90), 3),
        else_=4,
    )


def _aging(s: Session, today: date) -> list[AgingBucket]:
    inner = (
        select(_aging_case(Invoice.due_on, today).label("b"), Invoice.balance.label("balance"))
        .where(Invoice.status == "unpaid")
        .subquery("aged")
    )
    found = {
        int(b): (int(n), dec(total))
        for b, n, total in s.execute(
            select(inner.c.b, func.count(), func.sum(inner.c.balance)).group_by(inner.c.b)
        ).all()
    }
    return [AgingBucket(key, *found.get(i, (0, ZERO))) for i, key in enumerate(AGING_BUCKETS)]


def aging(actor: Actor, today: date, *, session: Session | None = None) -> list[AgingBucket]:
    """Unpaid balances by days past due (billing right)."""
    require(actor, "billing")
    with reading(session) as s:
        return _aging(s, today)


def aging_bucket_of(due_on: date, today: date) -> str:
    """The bucket one invoice falls in (the same rule as the SQL above)."""
    late = (today - due_on).days
    if late < 0:
        return "current"
    if late <= 30:
        return "d0_30"
    if late <= 60:
        return "d31_60"
    if late <= 90:
        return "d61_90"
    return "d90_plus"


# ---------------------------------------------------------------------- cash-in
def renewal_covered() -> ColumnElement[bool]:
    """A renewal line for the service's next due date already exists (it is an invoice)."""
    return exists().where(
        InvoiceItem.service_id == Service.id,
        InvoiceItem.kind == "renewal",
        InvoiceItem.period_start == Service.next_due_date,
        Invoice.id == InvoiceItem.invoice_id,
        Invoice.status.in_(COVERING_STATUSES),
    )


def _cash_in(s: Session, today: date, days: int) -> CashIn:
    end = today + timedelta(days=days)
    invoices = s.execute(
        select(Invoice.due_on, func.sum(Invoice.balance), func.count())
        .where(Invoice.status == "unpaid", Invoice.due_on >= today, Invoice.due_on < end)
        .group_by(Invoice.due_on)
    ).all()
    renewals = s.execute(
        select(Service.next_due_date, func.sum(Service.recurring_amount), func.count())
        .where(
            Service.status == "active",
            Service.billing_cycle.in_(RECURRING),
            Service.next_due_date >= today,
            Service.next_due_date < end,
            ~renewal_covered(),
        )
        .group_by(Service.next_due_date)
    ).all()
    gross = settings.get_bool(PRICES_INCLUDE_TAX, False, session=s)
    rate = ZERO if gross else iva_rate_on(today, session=s)

    def with_tax(base: Decimal) -> Decimal:
        return q2(base * (100 + rate) / 100)

    per_day: dict[date, list[Decimal]] = {}
    for day, total, _ in invoices:
        per_day.setdefault(day, [ZERO, ZERO])[0] += dec(total)
    base = ZERO
    for day, total, _ in renewals:
        base += dec(total)
        per_day.setdefault(day, [ZERO, ZERO])[1] += with_tax(dec(total))
    return CashIn(
        start=today,
        end=end,
        invoices=sum((dec(t) for _, t, _ in invoices), ZERO),
        invoice_count=sum(int(n) for _, _, n in invoices),
        renewals=with_tax(base),
        renewal_count=sum(int(n) for _, _, n in renewals),
        renewals_base=base,
        iva_rate=rate,
        days=[CashInDay(d, *per_day[d]) for d in sorted(per_day)],
    )


def expected_cash_in(
    actor: Actor, today: date, days: int = CASH_IN_DAYS, *, session: Session | None = None
) -> CashIn:
    """What should come in over the next ``days`` days (billing right; module notes)."""
    require(actor, "billing")
    with reading(session) as s:
        return _cash_in(s, today, days)


# ------------------------------------------------------------------------ churn
def _churn(s: Session, months: Sequence[date], money: bool) -> list[ChurnMonth]:
    if not months:
        return []
    bounds = [*months, add_months(months[-1], 1)]
    moments = [utc_start(b) for b in bounds]
    requests = _grouped_count(s, CancellationRequest.requested_at, moments, CancellationRequest.id)
    terminations = _grouped_count(s, Service.terminated_on, bounds, Service.id)
    ended, eff = _ended_on(known_only=True)
    gone = (
        select(
            month_index(ended, bounds).label("m"),
            Service.billing_cycle.label("cycle"),
            Service.recurring_amount.label("amount"),
        )
        .outerjoin(eff, eff.c.service_id == Service.id)
        .where(Service.status.in_(ENDED))
        .subquery("gone")
    )
    lost_rows = s.execute(
        select(gone.c.m, gone.c.cycle, func.sum(gone.c.amount), func.count())
        .where(gone.c.m >= 0)
        .group_by(gone.c.m, gone.c.cycle)
    ).all()
    lost: dict[int, list[tuple[str, Any]]] = {}
    ended_count: dict[int, int] = {}
    for m, cycle, amount, count in lost_rows:
        ended_count[int(m)] = ended_count.get(int(m), 0) + int(count)
        if cycle in RECURRING:
            lost.setdefault(int(m), []).append((cycle, amount))
    return [
        ChurnMonth(
            month=month,
            cancellations=requests.get(i, 0),
            terminations=terminations.get(i, 0),
            ended=ended_count.get(i, 0),
            lost_mrr=normalised(lost.get(i, [])) if money else None,
        )
        for i, month in enumerate(months)
    ]


def _grouped_count(s: Session, column: Any, bounds: Sequence[Any], key: Any) -> dict[int, int]:
    inner = (
        select(month_index(column, bounds).label("m"), key.label("k"))
        .where(column >= bounds[0], column < bounds[-1])
        .subquery("bucketed")
    )
    return {
        int(m): int(n)
        for m, n in s.execute(select(inner.c.m, func.count()).group_by(inner.c.m)).all()
    }


def _reasons(s: Session, since: datetime, until: datetime) -> list[ChurnReason]:
    inner = (
        select(func.trim(CancellationRequest.reason).label("reason"))
        .where(CancellationRequest.requested_at >= since, CancellationRequest.requested_at < until)
        .subquery("reasons")
    )
    count = func.count().label("n")
    rows = s.execute(
        select(inner.c.reason, count)
        .group_by(inner.c.reason)
        .order_by(count.desc(), inner.c.reason)
        .limit(TOP_REASONS)
    ).all()
    return [ChurnReason((reason or "—")[:REASON_MAX], int(n)) for reason, n in rows]


def churn(
    actor: Actor,
    today: date,
    months: int = TREND_MONTHS,
    *,
    first: date | None = None,
    last: date | None = None,
    session: Session | None = None,
) -> list[ChurnMonth]:
    """Cancellations, terminations and ended services per month, with lost MRR for those
    with the billing right (``billing`` or ``reports``)."""
    _require_any(actor, may_see_churn(actor))
    end = last or today
    start = first or add_months(end, -(max(1, months) - 1))
    with reading(session) as s:
        return _churn(s, months_between(start, end), may_see_money(actor))


def churn_reasons(
    actor: Actor, first: date, last: date, *, session: Session | None = None
) -> list[ChurnReason]:
    """The most given cancellation reasons for requests made from ``first`` to ``last``."""
    _require_any(actor, may_see_churn(actor))
    with reading(session) as s:
        return _reasons(s, utc_start(first), utc_start(last + timedelta(days=1)))


# ---------------------------------------------------------------------- tickets
def breached_condition(at: datetime) -> ColumnElement[bool]:
    return or_(
        Ticket.breached.is_(True), and_(Ticket.sla_due_at.is_not(None), Ticket.sla_due_at < at)
    )


def _tickets(s: Session, at: datetime) -> TicketFigures:
    is_breached = case((breached_condition(at), 1), else_=0)
    rows = s.execute(
        select(Ticket.priority, func.count(), func.sum(is_breached), func.count(Ticket.assignee_id))
        .where(Ticket.status != "closed")
        .group_by(Ticket.priority)
    ).all()
    by_priority = {p: int(n) for p, n, _, _ in rows}
    breached = {p: int(b or 0) for p, _, b, _ in rows}
    assigned = sum(int(a) for _, _, _, a in rows)
    total = sum(by_priority.values())
    return TicketFigures(
        open=total,
        breached=sum(breached.values()),
        unassigned=total - assigned,
        by_priority=by_priority,
        breached_by_priority=breached,
    )


def ticket_figures(actor: Actor, at: datetime, *, session: Session | None = None) -> TicketFigures:
    """Open tickets and SLA breaches at ``at`` (``tickets`` or ``reports``)."""
    _require_any(actor, may_see_tickets(actor))
    with reading(session) as s:
        return _tickets(s, at)


# ------------------------------------------------------------------------- home
def home_figures(
    actor: Actor, today: date, at: datetime, *, session: Session | None = None
) -> HomeFigures:
    """Everything the desk's home shows, in one read; parts the actor may not see are None."""
    if actor.is_client:
        raise Forbidden()
    money, churning, desk = may_see_money(actor), may_see_churn(actor), may_see_tickets(actor)
    months = months_between(add_months(today, -(TREND_MONTHS - 1)), today)
    with reading(session) as s:
        trend = _trend(s, months, today) if money else None
        return HomeFigures(
            mrr=trend[-1].mrr if trend else None,
            mrr_trend=trend,
            cash=_cash(s, today) if money else None,
            aging=_aging(s, today) if money else None,
            cash_in=_cash_in(s, today, CASH_IN_DAYS) if money else None,
            churn=_churn(s, months, money) if churning else None,
            reasons=_reasons(s, utc_start(months[0]), utc_start(today + timedelta(days=1)))
            if churning
            else None,
            tickets=_tickets(s, at) if desk else None,
        )
