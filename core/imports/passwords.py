"""Set-password mails for imported logins whose hash could not come over (not bcrypt).

The import itself sends nothing; the owner chooses when clients hear from the new system."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.accounts.recovery import send_welcome
from core.models import ImportLink, User
from core.platform import audit
from core.platform.clock import now
from core.platform.db import unit_of_work


def waiting(actor: Actor) -> int:
    """How many imported logins have no password yet."""
    require_owner(actor)
    with unit_of_work() as s:
        return len(_waiting(s))


def _waiting(s: Session) -> list[User]:
    imported = select(ImportLink.target_id).where(ImportLink.kind.in_(("users", "staff")))
    return list(
        s.scalars(
            select(User).where(
                User.id.in_(imported), User.password_hash.is_(None), User.active.is_(True)
            )
        )
    )


def send_password_links(actor: Actor, at: datetime | None = None) -> int:
    """Mail each imported login without a password a link to choose one; returns how many."""
    require_owner(actor)
    at = at or now()
    with unit_of_work() as s:
        users = _waiting(s)
        for user in users:
            send_welcome(s, user, at)
        audit.record(s, actor, "import.password_links", target_type="import", sent=len(users))
    return len(users)
