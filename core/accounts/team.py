"""The owner's user management: staff and owners, their permissions, and access resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import AREAS, Actor, require_owner
from core.accounts import create_user, throttle
from core.accounts.recovery import send_welcome
from core.models import SignInThrottle, User
from core.platform import audit
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError


@dataclass(frozen=True)
class UserRow:
    id: int
    email: str
    name: str
    role: str
    permissions: tuple[str, ...]
    active: bool
    verified: bool
    two_factor: bool
    locked_until: datetime | None
    last_login_at: datetime | None


def list_desk_users(owner: Actor, *, session: Session | None = None) -> list[UserRow]:
    """Everyone who works the desk (owners and staff); clients live on the clients page."""
    require_owner(owner)
    with reading(session) as s:
        users = s.scalars(
            select(User).where(User.role.in_(("owner", "staff"))).order_by(User.role, User.email)
        ).all()
        return [
            UserRow(
                u.id,
                u.email,
                u.name,
                u.role,
                tuple(u.permissions or ()),
                u.active,
                u.verified_at is not None,
                u.totp_enabled_at is not None,
                _locked_until(s, u),
                u.last_login_at,
            )
            for u in users
        ]


def _locked_until(session: Session, user: User) -> datetime | None:
    """When the user's last sign-in wait ends (or ended): the owner may clear it."""
    row = session.get(SignInThrottle, throttle.address_key(user.email))
    return None if row is None else row.locked_until


def invite(
    owner: Actor,
    *,
    role: str,
    email: str,
    name: str,
    permissions: list[str],
    language: str,
    at: datetime,
    session: Session | None = None,
) -> int:
    """A new staff member or owner, who sets a password from the mailed link."""
    require_owner(owner)
    if role not in ("staff", "owner"):
        raise ValidationError("error.role_invalid")
    with transaction(session) as s:
        user = create_user(
            s,
            role=role,
            email=email,
            name=name,
            password=None,
            language=language,
            permissions=permissions,
            by=owner,
            at=at,
        )
        send_welcome(s, user, at)
        return user.id


def set_access(
    owner: Actor,
    user_id: int,
    *,
    permissions: list[str],
    active: bool,
    at: datetime,
    session: Session | None = None,
) -> None:
    """Change a staff member's areas, or switch an account off (which ends its sessions)."""
    require_owner(owner)
    perms = sorted(set(permissions))
    if any(p not in AREAS for p in perms):
        raise ValidationError("error.permission_invalid")
    with transaction(session) as s:
        user = s.get(User, user_id)
        if user is None or user.role == "client":
            raise NotFound()
        if user.id == owner.user_id and not active:
            raise ValidationError("error.cannot_disable_self")
        before = (list(user.permissions or ()), user.active)
        if user.role == "staff":
            user.permissions = perms
        if user.active and not active:
            user.sessions_valid_after = at
        user.active = active
        audit.record(
            s,
            owner,
            "user.access_changed",
            target_type="user",
            target_id=user.id,
            at=at,
            permissions=",".join(user.permissions or ()),
            active=active,
            before=f"{','.join(before[0])}|{before[1]}",
        )


def unlock(owner: Actor, user_id: int, at: datetime, *, session: Session | None = None) -> None:
    """Lift a sign-in wait and its failure count before it runs out."""
    throttle.clear_for_user(owner, user_id, at, session=session)
