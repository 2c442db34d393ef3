"""A client account's own users: people its holder invites, each with their own sign-in and
2FA, limited to the parts of the account the holder gives them (access.CLIENT_PERMISSIONS).

The holder invites by address. A new person gets a user of their own (no account of their
own) and the single-use "welcome" link to choose a password; a person who already signs in
as a client (an accountant for several businesses) gets the account added and a notice. The
holder edits permissions and revokes; revoking ends the person's sessions at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import (
    CLIENT_PERMISSIONS,
    Actor,
    get_scoped,
    require_account_holder,
    scoped,
)
from core.accounts import client_accounts, normalise_email, tokens, user_by_email
from core.accounts.recovery import link
from core.models import Client, ClientMembership, User
from core.platform import audit, mail
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError
from core.platform.i18n import LANGUAGES


@dataclass(frozen=True)
class ClientUserRow:
    membership_id: int
    email: str
    name: str
    permissions: tuple[str, ...]
    active: bool  # False once revoked
    has_password: bool  # False until the invite link is used
    two_factor: bool
    last_login_at: datetime | None


@dataclass(frozen=True)
class AccountChoice:
    client_id: int
    name: str


def clean_permissions(permissions: list[str]) -> list[str]:
    """The permissions as stored: known, at least one (a user who may do nothing is a revoke)."""
    perms = sorted(set(permissions))
    if any(p not in CLIENT_PERMISSIONS for p in perms):
        raise ValidationError("client_users.error.permission_invalid")
    if not perms:
        raise ValidationError("client_users.error.permission_required")
    return perms


def list_users(actor: Actor, *, session: Session | None = None) -> list[ClientUserRow]:
    """The holder's view of the people invited into their account, revoked ones last."""
    require_account_holder(actor)
    with reading(session) as s:
        rows = s.execute(
            scoped(actor, ClientMembership)
            .add_columns(User)
            .join(User, User.id == ClientMembership.user_id)
            .order_by(ClientMembership.revoked_at.is_not(None), User.email)
        ).all()
        return [
            ClientUserRow(
                m.id,
                u.email,
                u.name,
                tuple(m.permissions or ()),
                m.revoked_at is None,
                u.password_hash is not None,
                u.totp_enabled_at is not None,
                u.last_login_at,
            )
            for m, u in rows
        ]


def invite(
    actor: Actor,
    *,
    email: str,
    name: str,
    permissions: list[str],
    language: str,
    at: datetime,
    session: Session | None = None,
) -> int:
    """Give ``email`` access to the holder's account; returns the membership's id."""
    require_account_holder(actor)
    perms = clean_permissions(permissions)
    if language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    address = normalise_email(email)
    with transaction(session) as s:
        account = get_scoped(s, actor, Client, actor.client_id or 0)
        user = user_by_email(s, address)
        if user is not None and (user.role != "client" or user.client_id == account.id):
            # a desk user, or the holder themself: their sign-in is not to be shared
            raise ValidationError("client_users.error.email_unavailable")
        new_person = user is None
        if user is None:
            user = User(
                email=address,
                name=(name or "").strip() or address.split("@", 1)[0],
                role="client",
                client_id=None,  # no account of their own; they act through memberships
                password_hash=None,
                language=language,
                permissions=[],
                sessions_valid_after=at,
                created_at=at,
            )
            s.add(user)
            s.flush()
        membership = s.scalars(
            scoped(actor, ClientMembership).where(ClientMembership.user_id == user.id)
        ).first()
        if membership is not None and membership.revoked_at is None:
            raise ValidationError("client_users.error.already_member")
        if membership is None:
            membership = ClientMembership(user_id=user.id, client_id=account.id, created_at=at)
            s.add(membership)
        membership.permissions = perms
        membership.invited_by_id = actor.user_id
        membership.revoked_at = None
        user.active = True
        s.flush()
        _notify(s, user, account, actor, at, new_person)
        audit.record(
            s,
            actor,
            "client_user.invited",
            target_type="user",
            target_id=user.id,
            client_id=account.id,
            at=at,
            email=address,
            permissions=",".join(perms),
        )
        return membership.id


def _notify(
    s: Session, user: User, account: Client, by: Actor, at: datetime, new_person: bool
) -> None:
    common = {"name": user.name, "account": account.name, "inviter": by.label()}
    if new_person or user.password_hash is None:
        raw = tokens.issue(s, user, "welcome", at)  # single-use; sets their own password
        mail.queue(
            s,
            to_addr=user.email,
            template="client_user_invited",
            language=user.language,
            link=link("reset", raw),
            **common,
        )
    else:
        mail.queue(
            s, to_addr=user.email, template="client_user_added", language=user.language, **common
        )


def set_permissions(
    actor: Actor,
    membership_id: int,
    permissions: list[str],
    at: datetime,
    *,
    session: Session | None = None,
) -> None:
    """Change what an invited user may do; it holds from their next page load."""
    require_account_holder(actor)
    perms = clean_permissions(permissions)
    with transaction(session) as s:
        membership = get_scoped(s, actor, ClientMembership, membership_id)
        if membership.revoked_at is not None:
            raise NotFound()
        before = ",".join(membership.permissions or ())
        membership.permissions = perms
        audit.record(
            s,
            actor,
            "client_user.permissions_changed",
            target_type="user",
            target_id=membership.user_id,
            client_id=membership.client_id,
            at=at,
            permissions=",".join(perms),
            before=before,
        )


def revoke(
    actor: Actor, membership_id: int, at: datetime, *, session: Session | None = None
) -> None:
    """Take the account away from an invited user and end every session they have now (a
    cookie or open tab of theirs is refused on its next run). A person left with no account
    at all is switched off, and an unused invite link stops working."""
    require_account_holder(actor)
    with transaction(session) as s:
        membership = get_scoped(s, actor, ClientMembership, membership_id)
        if membership.revoked_at is not None:
            return
        membership.revoked_at = at
        user = s.get(User, membership.user_id)
        if user is None:
            raise NotFound()
        user.sessions_valid_after = at
        s.flush()
        if not client_accounts(s, user):
            user.active = False
            tokens.end_outstanding(s, user, at)
        audit.record(
            s,
            actor,
            "client_user.revoked",
            target_type="user",
            target_id=user.id,
            client_id=membership.client_id,
            at=at,
            email=user.email,
        )


def accounts_of(actor: Actor, *, session: Session | None = None) -> list[AccountChoice]:
    """The client accounts the signed-in person may act for (the sidebar's selector)."""
    with reading(session) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotFound()
        ids = [client_id for client_id, _ in client_accounts(s, user)]
        names = dict(s.execute(select(Client.id, Client.name).where(Client.id.in_(ids))).all())
        return [AccountChoice(i, str(names.get(i, i))) for i in ids]
