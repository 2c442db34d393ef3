"""What readers tell the desk: votes ("was it useful?" and 1–5 stars), articles read, and
the ticket forms left after an article answered the question.

A signed-in user has one vote per article and may change it; a visitor who is not signed in
has one per browser session (the page keeps a random token; only its SHA-256 is stored),
and new anonymous votes are rate-limited per address so a script cannot stuff the ratings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.access import Actor, parse_id
from core.knowledge.search import readable
from core.models import KbArticle, KbEvent, KbVote
from core.platform import ratelimit, settings
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError

ANONYMOUS_VOTES_PER_HOUR = "knowledge.anonymous_votes_per_hour"
STARS = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Rating:
    """Average stars (one decimal; None before the first vote) and how many voted."""

    average: Decimal | None
    count: int
    helpful: int = 0
    not_helpful: int = 0


@dataclass(frozen=True)
class MyVote:
    stars: int | None
    helpful: bool | None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ratings(session: Session, article_ids: Sequence[int]) -> dict[int, Rating]:
    """Each article's rating; an article nobody voted on reads 0 votes."""
    found = {i: Rating(None, 0) for i in article_ids}
    if not article_ids:
        return found
    rows = session.execute(
        select(
            KbVote.article_id,
            func.sum(KbVote.stars),
            func.count(KbVote.stars),
            func.sum(func.cast(KbVote.helpful.is_(True), type_=KbVote.stars.type)),
            func.sum(func.cast(KbVote.helpful.is_(False), type_=KbVote.stars.type)),
        )
        .where(KbVote.article_id.in_(article_ids))
        .group_by(KbVote.article_id)
    )
    for article_id, total, count, yes, no in rows:
        average = None
        if count:
            average = (Decimal(int(total)) / Decimal(count)).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
        found[article_id] = Rating(average, int(count), int(yes or 0), int(no or 0))
    return found


def _voter(actor: Actor | None, browser_token: str | None) -> tuple[int | None, str | None]:
    if actor is not None:
        return actor.user_id, None
    if not browser_token:
        raise ValidationError("error.kb_vote_no_session")
    return None, _hash(browser_token)


def _find(
    s: Session, article_id: int, user_id: int | None, session_hash: str | None
) -> KbVote | None:
    stmt = select(KbVote).where(KbVote.article_id == article_id)
    if user_id is not None:
        stmt = stmt.where(KbVote.user_id == user_id)
    else:
        stmt = stmt.where(KbVote.session_hash == session_hash)
    return s.scalars(stmt).first()


def my_vote(
    actor: Actor | None, article_id: object, browser_token: str | None = None
) -> MyVote | None:
    if actor is None and not browser_token:
        return None
    user_id, session_hash = _voter(actor, browser_token)
    with reading() as s:
        row = _find(s, parse_id(article_id), user_id, session_hash)
        return None if row is None else MyVote(row.stars, row.helpful)


def vote(
    actor: Actor | None,
    article_id: object,
    *,
    stars: int | None = None,
    helpful: bool | None = None,
    browser_token: str | None = None,
    address: str | None = None,
    at: datetime,
    session: Session | None = None,
) -> Rating:
    """Record or change the reader's vote; what is not given (stars, or "useful?") is kept.
    ``actor`` None: a visitor, counted by ``browser_token`` and limited by ``address``."""
    if stars is not None and stars not in STARS:
        raise ValidationError("error.kb_stars_invalid")
    if stars is None and helpful is None:
        raise ValidationError("error.kb_vote_empty")
    user_id, session_hash = _voter(actor, browser_token)
    with transaction(session) as s:
        key = parse_id(article_id)
        if (
            s.scalars(select(KbArticle.id).where(KbArticle.id == key, readable(actor))).first()
            is None
        ):
            raise NotFound()
        row = _find(s, key, user_id, session_hash)
        if row is None:
            if actor is None:
                limit = settings.get_int(ANONYMOUS_VOTES_PER_HOUR, session=s)
                if not ratelimit.allow(
                    s, f"kb_vote:{address or 'unknown'}", limit, timedelta(hours=1), at
                ):
                    raise ValidationError("error.kb_vote_rate_limited")
            row = KbVote(article_id=key, user_id=user_id, session_hash=session_hash)
            s.add(row)
        if stars is not None:
            row.stars = stars
        if helpful is not None:
            row.helpful = helpful
        row.at = at
        s.flush()
        return ratings(s, [key])[key]


# --- reading events -----------------------------------------------------------------------


def record_view(
    actor: Actor | None,
    article_id: object,
    *,
    at: datetime,
    form_token: str | None = None,
    session: Session | None = None,
) -> None:
    """An article was read; with ``form_token`` it was opened from a new-ticket form, and
    the report will count that form as abandoned unless :func:`form_submitted` follows."""
    with transaction(session) as s:
        key = parse_id(article_id)
        if (
            s.scalars(select(KbArticle.id).where(KbArticle.id == key, readable(actor))).first()
            is None
        ):
            raise NotFound()
        user_id = actor.user_id if actor is not None and actor.user_id else None
        s.add(KbEvent(article_id=key, kind="view", user_id=user_id, at=at))
        if form_token:
            s.add(
                KbEvent(
                    article_id=key,
                    kind="from_ticket",
                    user_id=user_id,
                    form_token=_hash(form_token),
                    at=at,
                )
            )


def form_submitted(form_token: str, *, session: Session | None = None) -> int:
    """The ticket form that opened articles was sent after all; returns the events marked."""
    if not form_token:
        return 0
    with transaction(session) as s:
        result = s.execute(
            update(KbEvent)
            .where(KbEvent.kind == "from_ticket", KbEvent.form_token == _hash(form_token))
            .values(submitted=True)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
