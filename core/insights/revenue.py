"""The owner's money figures: MRR and its trend, cash collected, receivables aging and
expected cash-in. Each needs the ``billing`` right; the rules each follows are below.

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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
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

from core.access import Actor, require
from core.billing.ledger import PRICES_INCLUDE_TAX
from core.catalog.taxes import iva_rate_on
from core.insights.common import (
    RECURRING,
    TREND_MONTHS,
    _ended_on,
    add_months,
    dec,
    month_end,
    month_start,
    months_between,
    normalised,
)
from core.models import Invoice, InvoiceItem, Payment, Service, ServiceAddon
from core.platform import settings
from core.platform.db import reading
from core.rules.money import ZERO, q2

NEVER_LIVE = ("pending", "fraud")
AGING_BUCKETS = ("current", "d0_30", "d31_60", "d61_90", "d90_plus")
CASH_IN_DAYS = 30
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


# -------------------------------------------------------------------------- MRR
def _mrr_now(s: Session) -> tuple[Decimal, int]:
    rows = s.execute(
        select(Service.billing_cycle, func.sum(Service.recurring_amount), func.count())
        .where(Service.status == "active", Service.billing_cycle.in_(RECURRING))
        .group_by(Service.billing_cycle)
    ).all()
    # Running add-ons renew with their parent, at its cycle (issue 19); not services.
    extras = s.execute(
        select(Service.billing_cycle, func.sum(ServiceAddon.recurring_amount))
        .join(Service, Service.id == ServiceAddon.service_id)
        .where(ServiceAddon.status == "active", Service.billing_cycle.in_(RECURRING))
        .group_by(Service.billing_cycle)
    ).all()
    amounts = [(c, a) for c, a, _ in rows] + [(c, a) for c, a in extras]
    return normalised(amounts), sum(int(n) for _, _, n in rows)


def _mrr_history(s: Session, points: Sequence[date]) -> dict[date, tuple[Decimal, int]]:
    """MRR reconstructed on each day in ``points`` (module notes), one SQL query."""
    if not points:
        return {}
    ended, eff = _ended_on()
    services = (
        select(
            Service.billing_cycle.label("cycle"),
            Service.recurring_amount.label("amount"),
            Service.registration_date.label("registered"),
            ended.label("ended_on"),
            literal(1).label("counted"),
        )
        .outerjoin(eff, eff.c.service_id == Service.id)
        .where(Service.status.not_in(NEVER_LIVE), Service.billing_cycle.in_(RECURRING))
    )
    # Add-ons count from the day their first invoice was paid (their creation, near enough:
    # a pending one is left out) until they ended; they are not services (issue 19).
    extras = (
        select(
            Service.billing_cycle.label("cycle"),
            ServiceAddon.recurring_amount.label("amount"),
            func.date(ServiceAddon.created_at).label("registered"),
            ServiceAddon.ended_on.label("ended_on"),
            literal(0).label("counted"),
        )
        .join(Service, Service.id == ServiceAddon.service_id)
        .where(ServiceAddon.status != "pending", Service.billing_cycle.in_(RECURRING))
    )
    live = union_all(services, extras).subquery("live")
    days = union_all(*[select(literal(p, Date).label("p")) for p in points]).subquery("points")
    rows = s.execute(
        select(days.c.p, live.c.cycle, func.sum(live.c.amount), func.sum(live.c.counted))
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
        grouped.setdefault(key, []).append((cycle, amount, int(count or 0)))
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
    gross = settings.get_bool(PRICES_INCLUDE_TAX, session=s)
    rate = ZERO if gross else iva_rate_on(today, session=s)

    def with_tax(base: Decimal) -> Decimal:
        return q2(base * (100 + rate) / 100)

    per_day: dict[date, list[Decimal]] = {}
    for day, total, _ in invoices:
        per_day.setdefault(day, [ZERO, ZERO])[0] += dec(total)
    base = ZERO
    for due, total, _ in renewals:
        assert due is not None  # the date range above leaves out services without a due date
        base += dec(total)
        per_day.setdefault(due, [ZERO, ZERO])[1] += with_tax(dec(total))
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
