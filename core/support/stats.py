"""Ticket statistics for reports, as pandas frames: volume, first-response and resolution
times, and SLA breaches, by department, staff member or priority, and volume per day.

Frames hold counts, durations (hours) and the names of departments and staff, never message
text, so no note can reach an export through them. Column names are stable identifiers the
reports page translates (``STATS_COLUMNS``). Tickets are counted by when they were opened,
within [since, until) (naive UTC); days are business-time-zone days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.models import Department, Ticket, User
from core.platform.config import get_settings
from core.platform.db import reading
from core.platform.errors import Forbidden, ValidationError
from core.platform.i18n import t
from core.support.common import is_breached

if TYPE_CHECKING:
    import pandas as pd

GROUPS = ("department", "staff", "priority")
STATS_COLUMNS = (
    "group",
    "opened",
    "closed",
    "open",
    "first_response_avg_h",
    "first_response_median_h",
    "resolution_avg_h",
    "resolution_median_h",
    "breaches",
    "breach_rate",
)
VOLUME_COLUMNS = ("day", "opened", "closed")


def _allowed(actor: Actor) -> None:
    if actor.is_client or not (actor.can("reports") or actor.can("tickets")):
        raise Forbidden()


def _tickets(s: Session, since: datetime, until: datetime) -> pd.DataFrame:
    import pandas as pd  # here, not at the top: the daily run imports this module

    rows = s.execute(
        select(
            Ticket.id,
            Department.name,
            User.name,
            Ticket.priority,
            Ticket.status,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.closed_at,
            Ticket.sla_due_at,
            Ticket.breached,
        )
        .join(Department, Department.id == Ticket.department_id)
        .outerjoin(User, User.id == Ticket.assignee_id)
        .where(Ticket.created_at >= since, Ticket.created_at < until)
    ).all()
    columns = [
        "id",
        "department",
        "staff",
        "priority",
        "status",
        "created_at",
        "first_response_at",
        "closed_at",
        "sla_due_at",
        "breached",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("created_at", "first_response_at", "closed_at", "sla_due_at"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _hours(delta: pd.Series) -> pd.Series:
    return delta.dt.total_seconds() / 3600


def stats_by(
    actor: Actor,
    group: str,
    *,
    since: datetime,
    until: datetime,
    at: datetime,
    session: Session | None = None,
) -> pd.DataFrame:
    """One row per department / staff member / priority (``group``), ``STATS_COLUMNS``."""
    import pandas as pd  # here, not at the top: the daily run imports this module

    _allowed(actor)
    if group not in GROUPS:
        raise ValidationError("error.ticket_report_group")
    with reading(session) as s:
        frame = _tickets(s, since, until)
    if frame.empty:
        return pd.DataFrame(columns=list(STATS_COLUMNS))
    if group == "staff":
        frame["staff"] = frame["staff"].fillna(t("tickets.unassigned", actor.language))
    frame["first_h"] = _hours(frame["first_response_at"] - frame["created_at"])
    frame["resolution_h"] = _hours(frame["closed_at"] - frame["created_at"])
    frame["is_closed"] = frame["status"] == "closed"
    frame["is_breached"] = [
        is_breached(bool(b), st, None if pd.isna(due) else due.to_pydatetime(), at)
        for b, st, due in zip(frame["breached"], frame["status"], frame["sla_due_at"], strict=True)
    ]
    grouped = frame.groupby(group, sort=True)
    out = pd.DataFrame(
        {
            "opened": grouped["id"].count(),
            "closed": grouped["is_closed"].sum(),
            "first_response_avg_h": grouped["first_h"].mean(),
            "first_response_median_h": grouped["first_h"].median(),
            "resolution_avg_h": grouped["resolution_h"].mean(),
            "resolution_median_h": grouped["resolution_h"].median(),
            "breaches": grouped["is_breached"].sum(),
        }
    )
    out["open"] = out["opened"] - out["closed"]
    out["breach_rate"] = out["breaches"] / out["opened"]
    out = out.reset_index().rename(columns={group: "group"})
    for column in STATS_COLUMNS[4:8]:
        out[column] = out[column].round(2)
    out["breach_rate"] = out["breach_rate"].round(3)
    for column in ("opened", "closed", "open", "breaches"):
        out[column] = out[column].astype(int)
    return out[list(STATS_COLUMNS)]


def volume_by_day(
    actor: Actor, *, since: datetime, until: datetime, session: Session | None = None
) -> pd.DataFrame:
    """Tickets opened and closed per business day, ``VOLUME_COLUMNS``."""
    import pandas as pd  # here, not at the top: the daily run imports this module

    _allowed(actor)
    zone = get_settings().business_tz
    with reading(session) as s:
        opened = s.scalars(
            select(Ticket.created_at).where(Ticket.created_at >= since, Ticket.created_at < until)
        ).all()
        closed = s.scalars(
            select(Ticket.closed_at).where(Ticket.closed_at >= since, Ticket.closed_at < until)
        ).all()

    def per_day(values: Sequence[datetime | None]) -> pd.Series:
        if not values:
            return pd.Series(dtype=int)
        local = pd.to_datetime(pd.Series(values)).dt.tz_localize("UTC").dt.tz_convert(zone)
        return local.dt.date.value_counts()

    out = pd.concat({"opened": per_day(list(opened)), "closed": per_day(list(closed))}, axis=1)
    out = out.fillna(0).astype(int).sort_index()
    out.index.name = "day"
    return (
        out.reset_index()[list(VOLUME_COLUMNS)]
        if not out.empty
        else pd.DataFrame(columns=list(VOLUME_COLUMNS))
    )
