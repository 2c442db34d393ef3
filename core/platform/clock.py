"""Time, read once per action and passed down (ARCHITECTURE §2 rule 5).

Stored timestamps are naive UTC on both engines. Billing "today" is the calendar date in the
business time zone, so an invoice issued at 21:00 in Guayaquil is not dated tomorrow.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def now() -> datetime:
    """Naive UTC now, the form every timestamp column holds."""
    return datetime.now(UTC).replace(tzinfo=None)


def today(tz: ZoneInfo | str = "America/Guayaquil") -> date:
    """The business calendar date right now."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return datetime.now(zone).date()


def to_local(ts: datetime, tz: ZoneInfo | str) -> datetime:
    """A stored naive-UTC timestamp shown in the business (or user's) time zone."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return ts.replace(tzinfo=UTC).astimezone(zone)
