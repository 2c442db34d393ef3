"""The SLA settings: targets per priority and the support desk's business hours, read into
the ``Policy`` that ``core.rules.sla`` computes deadlines with (its notes say how).

Targets are whole hours per priority (first response, resolution); business hours are an
office-hours text (``tickets.business_hours``), empty for plain calendar time.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.platform import settings
from core.platform.config import get_settings
from core.platform.errors import ValidationError
from core.rules.sla import BAD_HOURS, OfficeHours, Policy, parse_hours

PRIORITIES = ("low", "medium", "high", "urgent")
# priority → (first response, resolution), in hours
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "urgent": (1, 4),
    "high": (4, 24),
    "medium": (8, 48),
    "low": (24, 96),
}
MAX_TARGET_HOURS = 24 * 90
TARGETS_KEY = "tickets.sla_hours"  # {"urgent": [1, 4], ...}
BUSINESS_HOURS_KEY = "tickets.business_hours"  # an office-hours text; empty: calendar time


def _clean_targets(raw: object) -> dict[str, tuple[int, int]]:
    """Stored targets over the defaults; anything malformed keeps the default."""
    targets = dict(DEFAULT_TARGETS)
    if not isinstance(raw, dict):
        return targets
    for priority, pair in raw.items():
        if priority not in DEFAULT_TARGETS or not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        try:
            first, resolution = int(pair[0]), int(pair[1])
        except (TypeError, ValueError):
            continue
        if 0 < first <= resolution <= MAX_TARGET_HOURS:
            targets[priority] = (first, resolution)
    return targets


def targets(*, session: Session | None = None) -> dict[str, tuple[int, int]]:
    return _clean_targets(settings.get(TARGETS_KEY, session=session))


def business_hours(*, session: Session | None = None) -> OfficeHours | None:
    """The support desk's business hours, or None for calendar time."""
    spec = settings.get_text(BUSINESS_HOURS_KEY, session=session).strip()
    if not spec:
        return None
    try:
        hours = parse_hours(spec)
    except ValidationError:
        return None
    return None if hours.always or hours.closed else hours


def policy(*, session: Session | None = None) -> Policy:
    return Policy(targets(session=session), business_hours(session=session), get_settings().tz)


def set_targets(
    actor: Actor, values: dict[str, tuple[int, int]], *, session: Session | None = None
) -> None:
    """The owner sets first-response and resolution targets (whole hours) per priority."""
    require_owner(actor)
    stored: dict[str, list[int]] = {}
    for priority, pair in values.items():
        if priority not in PRIORITIES:
            raise ValidationError("error.ticket_priority_invalid")
        try:
            first, resolution = int(pair[0]), int(pair[1])
        except (TypeError, ValueError, IndexError):
            raise ValidationError("error.ticket_sla_invalid") from None
        if not 0 < first <= resolution <= MAX_TARGET_HOURS:
            raise ValidationError("error.ticket_sla_invalid")
        stored[priority] = [first, resolution]
    current = {k: list(v) for k, v in targets(session=session).items()}
    settings.put(actor, TARGETS_KEY, {**current, **stored}, session=session)


def set_business_hours(actor: Actor, spec: str | None, *, session: Session | None = None) -> str:
    """The owner sets the desk's business hours ("" or "24/7": calendar time); returns the
    canonical text stored."""
    require_owner(actor)
    hours = parse_hours(spec)
    if hours.closed:
        raise ValidationError(BAD_HOURS)
    value = "" if hours.always else hours.spec
    settings.put(actor, BUSINESS_HOURS_KEY, value, session=session)
    return value
