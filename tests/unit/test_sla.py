"""SLA and office-hours arithmetic, pure and with pinned time (no database)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.platform.errors import ValidationError
from core.rules.sla import (
    OfficeHours,
    Policy,
    add_office_time,
    hours_from_parts,
    is_open_at,
    office_time_between,
    parse_hours,
)
from core.support.sla import DEFAULT_TARGETS, _clean_targets

GYE = ZoneInfo("America/Guayaquil")  # UTC-5 all year
NYC = ZoneInfo("America/New_York")  # has DST
WEEKDAYS = parse_hours("mon-fri 08:00-18:00")


def utc(local: str, zone: ZoneInfo = GYE) -> datetime:
    """Naive UTC of a local wall-clock time, as the columns hold it."""
    wall = datetime.fromisoformat(local).replace(tzinfo=zone)
    return wall.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


# ------------------------------------------------------------------ parsing
@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("", "24/7"),
        ("24/7", "24/7"),
        ("  24x7 ", "24/7"),
        ("closed", "closed"),
        ("mon-fri 08:00-18:00", "mon-fri 08:00-18:00"),
        ("Mon-Fri 8:00-18:00; sat 09:00-13:00", "mon-fri 08:00-18:00; sat 09:00-13:00"),
        ("mon,tue,wed 09:00-17:00", "mon-wed 09:00-17:00"),
        ("sat,sun 10:00-14:00", "sat,sun 10:00-14:00"),
        ("fri-mon 22:00-06:00", "mon,fri-sun 22:00-06:00"),
        ("daily 07:00-22:00", "daily 07:00-22:00"),
        ("daily 00:00-24:00", "24/7"),
        ("daily 00:00-00:00", "24/7"),
    ],
)
def test_hours_parse_to_a_canonical_text(text, canonical):
    assert parse_hours(text).spec == canonical
    assert parse_hours(parse_hours(text).spec) == parse_hours(text)  # round trip


@pytest.mark.parametrize(
    "text",
    [
        "always open",
        "mon-fri",
        "mon-fri 8-18",
        "xyz 08:00-18:00",
        "mon 25:00-26:00",
        "mon 24:00-02:00",
    ],
)
def test_malformed_hours_are_refused(text):
    with pytest.raises(ValidationError) as err:
        parse_hours(text)
    assert err.value.key == "error.ticket_hours_invalid"


def test_hours_from_form_parts():
    assert hours_from_parts([0, 1, 2, 3, 4], "08:00", "18:00").spec == "mon-fri 08:00-18:00"
    with pytest.raises(ValidationError):
        hours_from_parts([], "08:00", "18:00")
    with pytest.raises(ValidationError):
        hours_from_parts([7], "08:00", "18:00")


# ------------------------------------------------------------------ open now
@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-11-27T07:59", False),  # Friday before opening
        ("2026-11-27T08:00", True),
        ("2026-11-27T17:59", True),
        ("2026-11-27T18:00", False),  # the end is exclusive
        ("2026-11-28T10:00", False),  # Saturday
        ("2026-11-30T09:00", True),  # Monday
    ],
)
def test_open_follows_local_weekday_hours(local, expected):
    assert is_open_at(WEEKDAYS, utc(local), GYE) is expected


def test_an_overnight_window_runs_into_the_next_day():
    night = parse_hours("fri 22:00-06:00")
    assert is_open_at(night, utc("2026-11-27T23:00"), GYE)  # Friday night
    assert is_open_at(night, utc("2026-11-28T05:59"), GYE)  # Saturday early, Friday's window
    assert not is_open_at(night, utc("2026-11-28T06:00"), GYE)
    assert not is_open_at(night, utc("2026-11-28T23:00"), GYE)  # Saturday night: no window


def test_always_and_closed():
    assert is_open_at(OfficeHours(always=True), utc("2026-11-29T03:00"), GYE)
    assert not is_open_at(parse_hours("closed"), utc("2026-11-27T12:00"), GYE)


def test_open_now_is_in_the_business_time_zone_not_utc():
    # 07:30 in Guayaquil is 12:30 UTC: open in UTC terms, closed where the business is.
    at = utc("2026-11-27T07:30")
    assert at.hour == 12
    assert not is_open_at(WEEKDAYS, at, GYE)


# ---------------------------------------------------------------- office time
def test_calendar_time_without_business_hours():
    start = utc("2026-11-27T17:00")
    assert add_office_time(start, timedelta(hours=4), None, GYE) == start + timedelta(hours=4)
    always = OfficeHours(always=True)
    assert add_office_time(start, timedelta(hours=4), always, GYE) == start + timedelta(hours=4)


def test_office_time_skips_the_night_and_the_weekend():
    # Friday 17:00 + 4 office hours = 1 h on Friday, 3 h on Monday: Monday 11:00.
    due = add_office_time(utc("2026-11-27T17:00"), timedelta(hours=4), WEEKDAYS, GYE)
    assert due == utc("2026-11-30T11:00")
    # A ticket opened on Saturday starts counting on Monday at 08:00.
    due = add_office_time(utc("2026-11-28T12:00"), timedelta(hours=1), WEEKDAYS, GYE)
    assert due == utc("2026-11-30T09:00")
    # Exactly the rest of the day ends at closing time, not the next morning.
    due = add_office_time(utc("2026-11-25T16:00"), timedelta(hours=2), WEEKDAYS, GYE)
    assert due == utc("2026-11-25T18:00")
    # 48 office hours from Wednesday 10:00: 8 + 10 (Thu) + 10 (Fri) + 10 (Mon) + 10 (Tue).
    due = add_office_time(utc("2026-11-25T10:00"), timedelta(hours=48), WEEKDAYS, GYE)
    assert due == utc("2026-12-01T18:00")


def test_office_time_with_several_windows_and_an_overnight_one():
    hours = parse_hours("mon-fri 08:00-12:00; mon-fri 14:00-18:00")
    due = add_office_time(utc("2026-11-25T11:00"), timedelta(hours=2), hours, GYE)
    assert due == utc("2026-11-25T15:00")  # the lunch break does not count
    night = parse_hours("daily 22:00-02:00")
    due = add_office_time(utc("2026-11-25T23:00"), timedelta(hours=4), night, GYE)
    assert due == utc("2026-11-26T23:00")  # 3 h that night, 1 h the next


def test_office_time_follows_a_dst_change():
    # New York springs forward on 2026-03-08 at 02:00; a 00:00-06:00 window is 5 real hours.
    early = parse_hours("sun 00:00-06:00; mon 00:00-06:00")
    start = utc("2026-03-08T00:00", NYC)
    due = add_office_time(start, timedelta(hours=5), early, NYC)
    assert due == utc("2026-03-08T06:00", NYC)
    assert office_time_between(start, due, early, NYC) == timedelta(hours=5)


def test_office_time_between_counts_only_open_time():
    start, end = utc("2026-11-27T17:00"), utc("2026-11-30T11:00")
    assert office_time_between(start, end, WEEKDAYS, GYE) == timedelta(hours=4)
    assert office_time_between(start, end, None, GYE) == end - start
    assert office_time_between(end, start, WEEKDAYS, GYE) == timedelta(0)


# -------------------------------------------------------------------- policy
def test_policy_due_times_per_priority():
    policy = Policy(dict(DEFAULT_TARGETS), WEEKDAYS, GYE)
    opened = utc("2026-11-27T17:00")  # Friday, one office hour left
    assert policy.first_response_due(opened, "urgent") == utc("2026-11-27T18:00")
    assert policy.resolution_due(opened, "urgent") == utc("2026-11-30T11:00")
    assert policy.first_response_due(opened, "high") == utc("2026-11-30T11:00")
    calendar = Policy(dict(DEFAULT_TARGETS), None, GYE)
    assert calendar.first_response_due(opened, "low") == opened + timedelta(hours=24)
    assert calendar.resolution_due(opened, "medium") == opened + timedelta(hours=48)


def test_stored_targets_fall_back_to_defaults_when_malformed():
    got = _clean_targets({"urgent": [2, 6], "high": [30, 10], "low": "x", "nope": [1, 2]})
    assert got["urgent"] == (2, 6)
    assert got["high"] == DEFAULT_TARGETS["high"]  # resolution before first response: ignored
    assert got["low"] == DEFAULT_TARGETS["low"]
    assert "nope" not in got
    assert _clean_targets(None) == DEFAULT_TARGETS
