"""How much a client may post to the desk: a flood guard, not a quota.

Every ticket and every customer reply mails the desk, so a script (or a stuck key) opening
300 tickets in three seconds floods the team's inboxes. A client may open ``tickets.new_per_hour``
tickets and post ``tickets.replies_per_hour`` replies in any hour, and at most
``tickets.posts_per_minute`` of both together in any minute (0: that limit is off). The desk
is never limited. Counts are kept per client (not per user) in the shared sliding window of
``core.platform.ratelimit``; a refused post raises inside the caller's transaction, so it
is not counted and nothing of it is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.platform import settings
from core.platform.db import reading, transaction
from core.platform.errors import ValidationError
from core.platform.ratelimit import allow

NEW_PER_HOUR = "tickets.new_per_hour"
REPLIES_PER_HOUR = "tickets.replies_per_hour"
POSTS_PER_MINUTE = "tickets.posts_per_minute"
HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
MAX_PER_HOUR = 1000
MAX_PER_MINUTE = 100


@dataclass(frozen=True)
class PostLimits:
    new_per_hour: int  # 0: no limit
    replies_per_hour: int
    posts_per_minute: int


def check_post(session: Session, actor: Actor, kind: str, at: datetime) -> None:
    """Count one new ticket (``kind="new"``) or reply (``"reply"``) of a client, or refuse it
    with a message that says what the limit is and what to do."""
    if not actor.is_client or actor.client_id is None:
        return
    rules = post_limits(session=session)
    hourly = rules.new_per_hour if kind == "new" else rules.replies_per_hour
    checks = (
        (f"tickets.{kind}:{actor.client_id}", hourly, HOUR, f"error.ticket_rate_{kind}"),
        (
            f"tickets.post:{actor.client_id}",
            rules.posts_per_minute,
            MINUTE,
            "error.ticket_rate_minute",
        ),
    )
    for key, limit, window, error in checks:
        if limit > 0 and not allow(session, key, limit, window, at):
            raise ValidationError(error, limit=limit)


def post_limits(*, session: Session | None = None) -> PostLimits:
    """The limits in force (defaults included); settings, not customer data."""
    with reading(session) as s:
        return PostLimits(
            max(0, settings.get_int(NEW_PER_HOUR, session=s)),
            max(0, settings.get_int(REPLIES_PER_HOUR, session=s)),
            max(0, settings.get_int(POSTS_PER_MINUTE, session=s)),
        )


def _count(value: Any, high: int) -> int:
    """A whole number in ``0..high`` (a digit string too; never a bool or 2.5)."""
    try:
        number = int(value)
        exact = isinstance(value, str) or number == value
    except (TypeError, ValueError):
        raise ValidationError("error.ticket_rate_invalid", n=high) from None
    if isinstance(value, bool) or not exact or not 0 <= number <= high:
        raise ValidationError("error.ticket_rate_invalid", n=high)
    return number


def save_post_limits(
    actor: Actor,
    *,
    new_per_hour: Any,
    replies_per_hour: Any,
    posts_per_minute: Any,
    session: Session | None = None,
) -> PostLimits:
    """The owner sets the three limits (0 turns one off); all three or none."""
    require_owner(actor)
    new = _count(new_per_hour, MAX_PER_HOUR)
    replies = _count(replies_per_hour, MAX_PER_HOUR)
    minute = _count(posts_per_minute, MAX_PER_MINUTE)
    with transaction(session) as s:
        settings.put(actor, NEW_PER_HOUR, new, session=s)
        settings.put(actor, REPLIES_PER_HOUR, replies, session=s)
        settings.put(actor, POSTS_PER_MINUTE, minute, session=s)
        return post_limits(session=s)
