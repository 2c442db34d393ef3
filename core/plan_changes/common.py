"""What every part of plan changes shares: the statuses, the :class:`Confirmed` value, the
business day of a call and the row locks. It imports no other plan-change module, so each of
them can import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import PlanChange, Service
from core.platform.clock import to_local
from core.platform.config import get_settings
from core.platform.errors import NotFound

STATUSES = ("pending", "paid", "scheduled", "applied", "expired", "cancelled")
OPEN = ("pending", "paid", "scheduled")  # a service has at most one change in these


# Made by the confirm path (plan_changes.confirming), returned by plan_changes.confirm: both
# import it.
@dataclass(frozen=True)
class Confirmed:
    plan_change_id: int
    invoice_id: int | None  # None for a downgrade scheduled at renewal
    status: str
    repeated: bool  # a double click: the change made a moment ago, not a new one
    invoice_number: str | None = None  # the invoice's number, once it has one


def _day(at: date | datetime) -> date:
    """A business calendar date from ``at`` (a date, or a naive-UTC datetime)."""
    if isinstance(at, datetime):
        return to_local(at, get_settings().tz).date()
    return at


def _iso(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


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
