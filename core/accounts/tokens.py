"""Single-use, expiring tokens for e-mailed links (password reset, verification, welcome,
and the confirmation of a new e-mail address).

The raw token (``secrets.token_urlsafe(32)``) exists only in the e-mail; the database keeps
its SHA-256, so a leaked backup opens nothing. ``consume`` marks it used in the same
transaction that acts on it, so a link works exactly once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.models import Token, User
from core.platform.errors import ValidationError

TTL = {
    "reset": timedelta(hours=1),
    "welcome": timedelta(hours=72),
    "verify": timedelta(hours=48),
    "email_change": timedelta(hours=48),  # ``email`` holds the address it moves to
}
# What a change of address or password makes stale: a link that sets the password (it may
# sit in a mailbox the account has just left) and a pending move to another address.
ENDED_BY_CREDENTIAL_CHANGE = ("reset", "welcome", "email_change")


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue(
    session: Session, user: User, purpose: str, at: datetime, email: str | None = None
) -> str:
    """A new token for ``user``; earlier unused tokens of the same purpose stop working."""
    if purpose not in TTL:
        raise ValueError(f"unknown token purpose {purpose!r}")
    session.execute(
        update(Token)
        .where(Token.user_id == user.id, Token.purpose == purpose, Token.used_at.is_(None))
        .values(used_at=at)
    )
    raw = secrets.token_urlsafe(32)
    session.add(
        Token(
            user_id=user.id,
            purpose=purpose,
            token_hash=digest(raw),
            email=email,
            expires_at=at + TTL[purpose],
            created_at=at,
        )
    )
    return raw


def end_outstanding(
    session: Session,
    user: User,
    at: datetime,
    purposes: tuple[str, ...] = ENDED_BY_CREDENTIAL_CHANGE,
) -> None:
    """Every unused token of these purposes stops working now."""
    session.execute(
        update(Token)
        .where(Token.user_id == user.id, Token.purpose.in_(purposes), Token.used_at.is_(None))
        .values(used_at=at)
    )


def pending(session: Session, user: User, purpose: str, at: datetime) -> Token | None:
    """The newest live token of ``purpose`` (e.g. the address change awaiting its link)."""
    return session.scalars(
        select(Token)
        .where(
            Token.user_id == user.id,
            Token.purpose == purpose,
            Token.used_at.is_(None),
            Token.expires_at > at,
        )
        .order_by(Token.id.desc())
    ).first()


def peek(session: Session, raw: str, purposes: tuple[str, ...], at: datetime) -> Token | None:
    """The live token for ``raw`` without using it (to decide which form to show)."""
    if not raw or len(raw) > 200:
        return None
    token = session.scalars(select(Token).where(Token.token_hash == digest(raw))).first()
    if token is None or token.purpose not in purposes:
        return None
    if token.used_at is not None or token.expires_at <= at:
        return None
    return token


def consume(session: Session, raw: str, purposes: tuple[str, ...], at: datetime) -> Token:
    """Use the token once, under a row lock; a used, expired or unknown one is refused."""
    if not raw or len(raw) > 200:
        raise ValidationError("error.token_invalid")
    token = session.scalars(
        select(Token).where(Token.token_hash == digest(raw)).with_for_update()
    ).first()
    if token is None or token.purpose not in purposes or token.used_at is not None:
        raise ValidationError("error.token_invalid")
    if token.expires_at <= at:
        raise ValidationError("error.token_expired")
    token.used_at = at
    return token
