"""SLA clocks and office hours: pure time arithmetic, no I/O (the settings that feed it are
``core.support.sla``).

Office hours are written as a short text the owner can read and the database keeps as is::

    24/7                                   always open (also the empty text)
    closed                                 never open (a channel taken out of service)
    mon-fri 08:00-18:00                    one window on some days
    mon-fri 08:00-18:00; sat 09:00-13:00   several windows
    fri 22:00-06:00                        an end at or before the start runs past midnight

Days are ``mon tue wed thu fri sat sun`` (ranges wrap: ``fri-mon``), ``daily`` is all seven.
Times are local to the business time zone; ``24:00`` ends a day. ``parse_hours`` turns the
text into ``OfficeHours``; ``OfficeHours.spec`` writes it back in canonical form.

An SLA deadline is the start plus a target, counted in office hours when the owner set
business hours for support, else in plain calendar hours (``Policy``). All instants in and
out are naive UTC (what the columns hold); the windows are laid out in the business time zone
and converted to UTC before any arithmetic, so a DST change shortens or lengthens a day the
way the wall clock does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from core.platform.errors import ValidationError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS = "24/7"
CLOSED = "closed"
DAY_MINUTES = 24 * 60
_SEARCH_DAYS = 4000  # a deadline further than this in office time falls back to calendar time
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
BAD_HOURS = "error.ticket_hours_invalid"


# --------------------------------------------------------------------- office hours
@dataclass(frozen=True)
class Window:
    """Open from ``start`` to ``end`` (minutes after local midnight) on each of ``days``
    (0 = Monday). An ``end`` at or before ``start`` closes on the following day."""

    days: frozenset[int]
    start: int
    end: int

    @property
    def overnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class OfficeHours:
    windows: tuple[Window, ...] = ()
    always: bool = False

    @property
    def closed(self) -> bool:
        return not self.always and not self.windows

    @property
    def spec(self) -> str:
        if self.always:
            return ALWAYS
        if self.closed:
            return CLOSED
        return "; ".join(f"{days_spec(w.days)} {hhmm(w.start)}-{hhmm(w.end)}" for w in self.windows)


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def days_spec(days: frozenset[int]) -> str:
    """Canonical day list: runs of three or more consecutive days as ranges."""
    if len(days) == 7:
        return "daily"
    ordered = sorted(days)
    parts: list[str] = []
    run: list[int] = []
    for day in ordered:
        if run and day == run[-1] + 1:
            run.append(day)
            continue
        if run:
            parts.append(_run_spec(run))
        run = [day]
    if run:
        parts.append(_run_spec(run))
    return ",".join(parts)


def _run_spec(run: list[int]) -> str:
    if len(run) >= 3:
        return f"{DAYS[run[0]]}-{DAYS[run[-1]]}"
    return ",".join(DAYS[d] for d in run)


def _minutes(text: str) -> int:
    found = _TIME.match(text.strip())
    if not found:
        raise ValidationError(BAD_HOURS)
    value = int(found.group(1)) * 60 + int(found.group(2))
    if value > DAY_MINUTES:
        raise ValidationError(BAD_HOURS)
    return value


def _day(name: str) -> int:
    try:
        return DAYS.index(name.strip()[:3].lower())
    except ValueError:
        raise ValidationError(BAD_HOURS) from None


def _parse_days(text: str) -> frozenset[int]:
    found: set[int] = set()
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part in ("daily", "all", "*"):
            found.update(range(7))
        elif "-" in part:
            first, _, last = part.partition("-")
            a, b = _day(first), _day(last)
            found.update((a + i) % 7 for i in range((b - a) % 7 + 1))
        else:
            found.add(_day(part))
    if not found:
        raise ValidationError(BAD_HOURS)
    return frozenset(found)


def parse_hours(spec: str | None) -> OfficeHours:
    """``OfficeHours`` from its text (see the module notes); ``ValidationError`` if malformed."""
    text = (spec or "").strip().lower()
    if text in ("", ALWAYS, "24x7", "always"):
        return OfficeHours(always=True)
    if text == CLOSED:
        return OfficeHours()
    windows: list[Window] = []
    for segment in text.split(";"):
        segment = segment.strip()
        if not segment:
            continue
        pieces = segment.split()
        if len(pieces) != 2 or "-" not in pieces[1]:
            raise ValidationError(BAD_HOURS)
        first, _, last = pieces[1].partition("-")
        start, end = _minutes(first), _minutes(last)
        if start == DAY_MINUTES:
            raise ValidationError(BAD_HOURS)
        if start == 0 and end == 0:
            end = DAY_MINUTES  # 00:00-00:00 reads as the whole day
        windows.append(Window(_parse_days(pieces[0]), start, end))
    if not windows:
        raise ValidationError(BAD_HOURS)
    if all(w.days == frozenset(range(7)) and w.start == 0 for w in windows) and any(
        w.end == DAY_MINUTES for w in windows
    ):
        return OfficeHours(always=True)
    return OfficeHours(windows=tuple(windows))


def hours_from_parts(days: Iterable[int], start: str, end: str) -> OfficeHours:
    """One window from form fields (days 0 = Monday, times "HH:MM"), for the settings UI."""
    chosen = frozenset(int(d) for d in days)
    if not chosen or not chosen <= frozenset(range(7)):
        raise ValidationError(BAD_HOURS)
    return parse_hours(f"{days_spec(chosen)} {start.strip()}-{end.strip()}")


def _local_instant(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """Naive UTC of ``minutes`` after local midnight of ``day``."""
    wall = datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def intervals(hours: OfficeHours, day: date, zone: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The windows that open on local ``day``, as naive-UTC (start, end), by start."""
    found = []
    for w in hours.windows:
        if day.weekday() not in w.days:
            continue
        end_day = day + timedelta(days=1) if w.overnight else day
        end_minutes = w.end
        if end_minutes == DAY_MINUTES:
            end_day, end_minutes = day + timedelta(days=1), 0
        found.append(
            (_local_instant(day, w.start, zone), _local_instant(end_day, end_minutes, zone))
        )
    return sorted(found)


def _local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.replace(tzinfo=UTC).astimezone(zone).date()


def is_open_at(hours: OfficeHours, at: datetime, zone: ZoneInfo) -> bool:
    """Is ``at`` (naive UTC) inside the office hours?"""
    if hours.always:
        return True
    if hours.closed:
        return False
    today = _local_day(at, zone)
    for day in (today - timedelta(days=1), today):  # yesterday's overnight window too
        if any(start <= at < end for start, end in intervals(hours, day, zone)):
            return True
    return False


def next_opening(
    hours: OfficeHours, at: datetime, zone: ZoneInfo, days: int = 8
) -> datetime | None:
    """When the hours next open after ``at`` (naive UTC): None when open now, always open,
    never open, or not within ``days`` days."""
    if hours.always or hours.closed or is_open_at(hours, at, zone):
        return None
    day = _local_day(at, zone)
    for offset in range(days):
        for start, _end in intervals(hours, day + timedelta(days=offset), zone):
            if start > at:
                return start
    return None


def add_office_time(
    start: datetime, duration: timedelta, hours: OfficeHours | None, zone: ZoneInfo
) -> datetime:
    """``start`` plus ``duration`` counted only inside ``hours`` (naive UTC in and out).

    Without hours (or 24/7, or never open) it is plain calendar time.
    """
    if hours is None or hours.always or hours.closed or duration <= timedelta(0):
        return start + duration
    remaining = duration
    cursor = start
    day = _local_day(start, zone) - timedelta(days=1)
    for _ in range(_SEARCH_DAYS):
        for open_at, close_at in intervals(hours, day, zone):
            if close_at <= cursor:
                continue
            begin = max(open_at, cursor)
            available = close_at - begin
            if available >= remaining:
                return begin + remaining
            remaining -= available
            cursor = close_at
        day += timedelta(days=1)
    return start + duration


def office_time_between(
    start: datetime, end: datetime, hours: OfficeHours | None, zone: ZoneInfo
) -> timedelta:
    """How much of [start, end) falls inside ``hours`` (calendar time without hours)."""
    if end <= start:
        return timedelta(0)
    if hours is None or hours.always or hours.closed:
        return end - start
    total = timedelta(0)
    cursor = start
    day = _local_day(start, zone) - timedelta(days=1)
    last = _local_day(end, zone)
    while day <= last:
        for open_at, close_at in intervals(hours, day, zone):
            begin, finish = max(open_at, cursor), min(close_at, end)
            if finish > begin:
                total += finish - begin
                cursor = finish
        day += timedelta(days=1)
    return total


# --------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class Policy:
    """The SLA in force: targets per priority (hours) and optional business hours."""

    targets: dict[str, tuple[int, int]]
    hours: OfficeHours | None
    zone: ZoneInfo

    def _due(self, start: datetime, priority: str, which: int) -> datetime:
        target = self.targets.get(priority, self.targets["medium"])[which]
        return add_office_time(start, timedelta(hours=target), self.hours, self.zone)

    def first_response_due(self, start: datetime, priority: str) -> datetime:
        return self._due(start, priority, 0)

    def resolution_due(self, start: datetime, priority: str) -> datetime:
        return self._due(start, priority, 1)
