"""A sliding-window limit kept in the database, so every replica shares it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.models import RateEvent


def allow(session: Session, key: str, limit: int, window: timedelta, at: datetime) -> bool:
    """Record one attempt under ``key``; False when ``limit`` were already made in ``window``."""
    since = at - window
    session.execute(delete(RateEvent).where(RateEvent.key == key, RateEvent.at < since))
    count = session.execute(
        select(func.count()).where(RateEvent.key == key, RateEvent.at >= since)
    ).scalar_one()
    if count >= limit:
        return False
    session.add(RateEvent(key=key, at=at))
    return True
