"""What every part of the owner's figures shares: who may see them, month arithmetic on
business-time-zone months, the one rounding of per-cycle recurring sums, and the end date of
a cancelled or terminated service (the MRR trend and churn must agree on it). It imports no
other ``kpis`` module, so each of them can import it without a cycle; its ``_`` names are
shared with those modules only.

Rights: money figures need ``billing``; churn counts need ``billing`` or ``reports`` (lost
MRR only with ``billing``); ticket figures need ``tickets`` or ``reports``. Clients get none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, select

from core.access import Actor
from core.models import CancellationRequest, Service
from core.platform.config import get_settings
from core.platform.errors import Forbidden
from core.rules.cycles import CYCLE_MONTHS, months_factor
from core.rules.money import ZERO, q2

RECURRING = tuple(CYCLE_MONTHS)
ENDED = ("cancelled", "terminated")
TREND_MONTHS = 12


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
