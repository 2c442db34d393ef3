"""Users and the sign-in bridge to streamlit-authenticator.

The library keeps credentials in a dict and its cookie is a stateless JWT. We keep users in
the database and add what the library lacks (streamlit-notes §1.8, P3, P8):
- the credentials dict is built from the database on each run, holding only the users that
  run can need;
- failed proofs are counted per typed address in ``throttle`` (known or not), with a short
  growing wait instead of the library's permanent lockout;
- ``sessions_valid_after``: sign-out and a password change move it forward, and a cookie or a
  session that signed in before it is refused.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import bcrypt
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from core.access import AREAS, ROLES, Actor
from core.accounts import password_policy, throttle, tokens
from core.models import Client, ClientMembership, User
from core.platform import audit
from core.platform.config import get_settings
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError
from core.platform.i18n import LANGUAGES


def normalise_email(email: str) -> str:
    """The username form of an address: trimmed, lower-cased, syntactically valid."""
    from email_validator import EmailNotValidError, validate_email  # only when checking

    value = (email or "").strip().lower()
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValidationError("error.email_invalid") from None
    return value


def check_password_strength(password: str, user_inputs: Iterable[str] = ()) -> None:
    """zxcvbn's judgement, with the account's own address and name as words to avoid."""
    password_policy.check(password, user_inputs)


# bcrypt releases the GIL, so each session's check runs on a core of its own; more checks
# at once than there are cores are only time-sliced, and then every sign-in of a burst ends
# together at the burst's end (20 at once at 12 rounds on 2 cores: all of them ~6.5 s,
# bench --signins). One check per core at a time, first come first served, ends them one
# after another instead: the same last one, half the wait for the median one.
_BCRYPT_SLOTS = threading.BoundedSemaphore(os.cpu_count() or 1)


@contextmanager
def _bcrypt_slot() -> Iterator[None]:
    with _BCRYPT_SLOTS:
        yield


def hash_password(password: str) -> str:
    rounds = get_settings().bcrypt_rounds
    with _bcrypt_slot():
        hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds))
    return hashed.decode("ascii")


def verify_password(password: str, hashed: str | None) -> bool:
    """The one bcrypt check: ours, and the sign-in library's (ui.auth.signin routes its
    ``Hasher.check_pw`` here), so a burst of sign-ins queues on the cores' slots."""
    if not hashed:
        return False
    try:
        with _bcrypt_slot():
            return bcrypt.checkpw(password.strip().encode("utf-8"), hashed.encode("ascii"))
    except ValueError:
        return False


def client_accounts(session: Session, user: User) -> list[tuple[int, frozenset[str] | None]]:
    """The client accounts ``user`` may act for, their own first: (client id, the
    permissions given, or None for the account they hold)."""
    found: list[tuple[int, frozenset[str] | None]] = []
    if user.role != "client":
        return found
    if user.client_id is not None:
        found.append((user.client_id, None))
    rows = session.scalars(
        select(ClientMembership)
        .where(ClientMembership.user_id == user.id, ClientMembership.revoked_at.is_(None))
        .order_by(ClientMembership.id)
    ).all()
    found.extend((m.client_id, frozenset(m.permissions or ())) for m in rows)
    return found


def actor_from_user(user: User, client_id: int | None = None) -> Actor:
    """The actor for ``user``, acting for ``client_id`` when it is one of their accounts
    (the sidebar's choice), else for their first. An invited user left with no account
    (every membership revoked) acts for none of them with no permission: they see nothing."""
    base: dict[str, Any] = {
        "user_id": user.id,
        "role": user.role,
        "email": user.email,
        "language": user.language,
        "permissions": frozenset(user.permissions or ()),
    }
    if user.role != "client" or user.client_id is not None and client_id in (None, user.client_id):
        return Actor(client_id=user.client_id, **base)
    session = object_session(user)
    options = [] if session is None else client_accounts(session, user)
    chosen = next((a for a in options if a[0] == client_id), options[0] if options else None)
    if chosen is None:
        last = (
            None
            if session is None
            else session.scalars(
                select(ClientMembership.client_id)
                .where(ClientMembership.user_id == user.id)
                .order_by(ClientMembership.id.desc())
            ).first()
        )
        return Actor(client_id=last or user.client_id or 0, client_permissions=frozenset(), **base)
    return Actor(client_id=chosen[0], client_permissions=chosen[1], **base)


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).first()


def create_user(
    session: Session,
    *,
    role: str,
    email: str,
    name: str,
    password: str | None,
    language: str = "es",
    permissions: list[str] | None = None,
    client: Client | None = None,
    by: Actor | None = None,
    at: datetime,
) -> User:
    """A new user. A client user gets a client record (or the one given)."""
    if role not in ROLES:
        raise ValidationError("error.role_invalid")
    if language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    email = normalise_email(email)
    name = (name or "").strip() or email.split("@", 1)[0]
    if user_by_email(session, email) is not None:
        raise ValidationError("error.email_taken")
    if password is not None:
        check_password_strength(password, user_inputs=(email, name))
    perms = sorted(set(permissions or ()))
    if any(p not in AREAS for p in perms):
        raise ValidationError("error.permission_invalid")
    if role == "client" and client is None:
        client = Client(name=name, email=email, language=language)
        session.add(client)
        session.flush()
    user = User(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password) if password is not None else None,
        client_id=client.id if role == "client" and client else None,
        language=language,
        permissions=perms if role == "staff" else [],
        sessions_valid_after=at,
        created_at=at,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        by,
        "user.created",
        target_type="user",
        target_id=user.id,
        client_id=user.client_id,
        at=at,
        role=role,
        email=email,
    )
    return user


# --- the sign-in bridge -------------------------------------------------------------------


def _entry(user: User) -> dict:
    # The library's own counter is not used: failures are counted per typed address in
    # core.accounts.throttle, existing or not (the library counts only known users).
    return {
        "email": user.email,
        "first_name": user.name,
        "last_name": "",
        "password": user.password_hash,
        "roles": [user.role],
        "failed_login_attempts": 0,
        "logged_in": False,
    }


def sign_in_entry(session: Session, email: str, at: datetime) -> dict | None:
    """The library's credentials entry for one address, or None when no active user with a
    password has it, or when the address must wait after failures (the library then
    refuses even the right password). Read one address at a time: the sign-in form never
    needs the whole book's password hashes in memory (ui/signin.py asks for the address typed)."""
    if throttle.wait_seconds(session, email, at):
        return None
    stmt = select(User).where(
        User.active.is_(True),
        User.password_hash.is_not(None),
        User.email == email.strip().lower(),
    )
    user = session.scalars(stmt).first()
    return None if user is None else _entry(user)


@cache
def _stand_in_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def record_sign_in_failure(session: Session, address: str, at: datetime) -> int:
    """Count a wrong password for the typed address, whether or not it has an account;
    returns the seconds it must now wait. An unknown address costs the same bcrypt check
    as a known one, so the time taken does not tell them apart either."""
    user = user_by_email(session, address)
    if user is None or not user.active or user.password_hash is None:
        verify_password("stand-in", _stand_in_hash())  # the library checked no hash
    wait = throttle.record_failure(session, address, at)
    audit.record(
        session,
        None if user is None else actor_from_user(user),
        "signin.failed",
        target_type="user" if user is not None else None,
        target_id=None if user is None else user.id,
        client_id=None if user is None else user.client_id,
        at=at,
        actor_label="anonymous" if user is None else None,
        wait=wait,
    )
    return wait


def record_sign_in(session: Session, email: str, at: datetime) -> User | None:
    """The password was right. The failure count ends here unless a second factor is still
    to be proved: each right password must not buy the code guesser a fresh count."""
    user = user_by_email(session, email)
    if user is None:
        return None
    if user.totp_enabled_at is None:
        throttle.clear(session, user.email)
    user.last_login_at = at
    audit.record(
        session,
        actor_from_user(user),
        "signin.succeeded",
        target_type="user",
        target_id=user.id,
        client_id=user.client_id,
        at=at,
    )
    return user


def prove_password(
    actor: Actor, password: str, at: datetime, *, session: Session | None = None
) -> None:
    """Check the current password before a sensitive change, on the sign-in's counter.

    A wrong one is counted in its own transaction before the refusal, so the caller's
    rollback does not undo the count."""
    with reading(session) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotFound()
        email, hashed = user.email, user.password_hash
        throttle.refuse_if_waiting(s, email, at)
    if verify_password(password or "", hashed):
        return
    with transaction(session) as s:
        wait = throttle.record_failure(s, email, at)
        audit.record(
            s,
            actor,
            "password.check_failed",
            target_type="user",
            target_id=actor.user_id,
            client_id=actor.client_id,
            at=at,
            wait=wait,
        )
    raise ValidationError("error.password_current_wrong")


def cookie_issued_at(exp_date: float, expiry_days: float) -> datetime:
    """The library's cookie carries only its expiry; it was issued ``expiry_days`` before."""
    issued = datetime.fromtimestamp(exp_date, UTC).replace(tzinfo=None)
    return issued - timedelta(days=expiry_days)


@dataclass(frozen=True)
class SessionCheck:
    actor: Actor | None
    reason: str | None = None  # why the session is not valid
    totp_enabled: bool = False
    verified: bool = False


def check_session(
    session: Session, email: str, signed_in_at: datetime, client_id: int | None = None
) -> SessionCheck:
    """Is a session (or cookie) of ``email`` that began at ``signed_in_at`` still good?
    ``client_id`` is the client account the user chose to act for, if they have several."""
    user = user_by_email(session, email)
    if user is None or not user.active:
        return SessionCheck(None, "inactive")
    if signed_in_at < user.sessions_valid_after:
        return SessionCheck(None, "revoked")
    return SessionCheck(
        actor_from_user(user, client_id),
        totp_enabled=user.totp_enabled_at is not None,
        verified=user.verified_at is not None,
    )


def sign_out(actor: Actor, at: datetime, *, session: Session | None = None) -> None:
    """End every session of this user: cookies issued before now stop working."""
    with transaction(session) as s:
        _sign_out(s, actor, at)


def _sign_out(session: Session, actor: Actor, at: datetime) -> None:
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound()
    user.sessions_valid_after = at
    audit.record(
        session,
        actor,
        "signout",
        target_type="user",
        target_id=user.id,
        client_id=user.client_id,
        at=at,
    )


def change_password(
    actor: Actor, current: str, new: str, at: datetime, *, session: Session | None = None
) -> None:
    """Change one's own password; every other session and copied cookie ends with it, and
    so does every reset, welcome or address-change link still in a mailbox."""
    prove_password(actor, current, at, session=session)
    with reading(session) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotFound()
        check_password_strength(new, user_inputs=(user.email, user.name))
    with transaction(session) as s:
        _change_password(s, actor, new, at)


def _change_password(session: Session, actor: Actor, new: str, at: datetime) -> None:
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound()
    user.password_hash = hash_password(new)
    user.sessions_valid_after = at  # other sessions and copied cookies end here
    tokens.end_outstanding(session, user, at)
    audit.record(
        session,
        actor,
        "password.changed",
        target_type="user",
        target_id=user.id,
        client_id=user.client_id,
        at=at,
    )


def set_language(
    actor: Actor, language: str, at: datetime, *, session: Session | None = None
) -> None:
    with transaction(session) as s:
        _set_language(s, actor, language, at)


def _set_language(session: Session, actor: Actor, language: str, at: datetime) -> None:
    if language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    user = session.get(User, actor.user_id)
    if user is None:
        raise NotFound()
    user.language = language
    if user.client_id is not None:
        client = session.get(Client, user.client_id)
        if client is not None:
            client.language = language  # mails to the client follow the same choice
    audit.record(
        session,
        actor,
        "language.changed",
        target_type="user",
        target_id=user.id,
        client_id=user.client_id,
        at=at,
        language=language,
    )
