"""Append-only audit log. Every sensitive action writes one entry in the same transaction as
the action itself, so there is never an action without its entry or an entry without its
action. Secrets are redacted before they reach the row."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, of_client, require_owner
from core.models import AuditEntry
from core.platform.db import reading

_SECRET_WORDS = ("password", "token", "secret", "hash", "totp", "recovery", "cookie", "key")
REDACTED = "[redacted]"


@lru_cache(maxsize=1024)
def _secret(name: str) -> bool:
    """Whether a field's name looks secret (a book has few field names; a daily run's
    bulk insert asks ~100,000 times)."""
    return any(word in name.lower() for word in _SECRET_WORDS)


def redact(details: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``details`` with every secret-looking field replaced."""
    clean: dict[str, Any] = {}
    for name, value in details.items():
        if _secret(name):
            clean[name] = REDACTED
        elif isinstance(value, dict):
            clean[name] = redact(value)
        elif isinstance(value, (str, int, bool)) or value is None:
            clean[name] = value
        else:
            clean[name] = str(value)
    return clean


def record(session: Session, actor: Actor | None, action: str, **fields: Any) -> AuditEntry:
    """Add one entry to the caller's transaction; ``fields`` are those of
    :func:`entry_values` (target, client, time, label, and the details)."""
    entry = AuditEntry(**entry_values(actor, action, **fields))
    session.add(entry)
    return entry


def entry_values(
    actor: Actor | None,
    action: str,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    client_id: int | None = None,
    at: datetime | None = None,
    actor_label: str | None = None,
    **details: Any,
) -> dict[str, Any]:
    """One entry's column values, redacted (``record`` adds it; a bulk insert takes many).
    Without ``at`` the column's default stamps the entry when it is written."""
    values: dict[str, Any] = {
        "actor_id": actor.user_id if actor and actor.user_id else None,
        "actor_label": actor_label or (actor.label() if actor else "anonymous"),
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "client_id": client_id,
        "details": redact(details),
    }
    if at is not None:
        values["at"] = at
    return values


def search(
    actor: Actor,
    *,
    actor_email: str | None = None,
    client_id: int | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[AuditEntry], int]:
    """The owner's view of the log, newest first, filtered and paged in SQL."""
    require_owner(actor)
    stmt = select(AuditEntry)
    if actor_email:
        stmt = stmt.where(AuditEntry.actor_label.ilike(f"%{actor_email.strip()}%"))
    if client_id is not None:
        stmt = stmt.where(of_client(AuditEntry, client_id))
    if action:
        stmt = stmt.where(AuditEntry.action.startswith(action.strip()))
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    with reading() as s:
        total = s.execute(stmt.with_only_columns(func.count())).scalar_one()
        rows = s.scalars(
            stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
        ).all()
    return list(rows), total


def actions(actor: Actor) -> list[str]:
    """Distinct action kinds, for the filter."""
    require_owner(actor)
    with reading() as s:
        return sorted(s.scalars(select(AuditEntry.action).distinct()).all())
