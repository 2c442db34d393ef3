"""The owner's home figures: MRR and its trend, cash collected, receivables aging, expected
cash-in, churn, and the support desk's open tickets and SLA breaches.

Every figure is aggregated in SQL (sums and counts grouped on indexed columns); Python only
divides a per-cycle sum by the cycle's months and rounds once. Each rule is what a test
reproduces with its own SQL query on the demo book. The figures live by area, each module
with its rules: ``revenue`` (MRR, cash, aging, cash-in), ``churn`` (churn and its
reasons), ``common`` (the rights, month arithmetic, a service's end date); this module
holds the ticket figures and :func:`home_figures`, which reads them all in one session.

**Tickets**: open = any status but ``closed``; breached = open and the SLA flag set or the
next deadline (``sla_due_at``) passed (``support.views.is_breached``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from core.access import Actor

# The home reads every part in one session, so it calls their session-level ``_`` functions.
from core.insights.churn import ChurnMonth, ChurnReason, _churn, _reasons
from core.insights.common import (
    TREND_MONTHS,
    _require_any,
    add_months,
    may_see_churn,
    may_see_money,
    may_see_tickets,
    months_between,
    utc_start,
)
from core.insights.revenue import (
    CASH_IN_DAYS,
    AgingBucket,
    Cash,
    CashIn,
    MrrPoint,
    _aging,
    _cash,
    _cash_in,
    _trend,
)
from core.models import Ticket
from core.platform.db import reading
from core.platform.errors import Forbidden


# ---------------------------------------------------------------------- values
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
