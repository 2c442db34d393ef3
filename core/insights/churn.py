"""Churn per month and the reasons given for it (``billing`` or ``reports``; lost MRR only
with ``billing``).

**Churn** per month (business-time-zone months): cancellation requests by ``requested_at``;
terminations by ``terminated_on``; ended services and their lost MRR by the same end date as
the MRR trend (``common._ended_on``, rules in ``revenue``), so the trend's drop and
the lost MRR agree. Reasons: cancellation requests' reasons, grouped by their text. A request
followed by its termination counts once in each series: they are different events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor
from core.insights.common import (
    ENDED,
    RECURRING,
    TREND_MONTHS,
    _ended_on,
    _require_any,
    add_months,
    may_see_churn,
    may_see_money,
    month_index,
    months_between,
    normalised,
    utc_start,
)
from core.models import CancellationRequest, Service
from core.platform.db import reading

REASON_MAX = 120
TOP_REASONS = 10


# ---------------------------------------------------------------------- values
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
