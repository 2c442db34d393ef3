"""One failure counter per typed address for every proof of identity: the sign-in password,
the second-factor code and the current password asked before a password or e-mail change.

Why per address and not per user: an address with no account is counted and answered exactly
like one with an account, so the sign-in form never tells which addresses are customers.
Why a short growing delay and not a long wall: anyone can type a customer's address, so a
long lock would let a stranger keep a customer out; a few seconds that double with each
further failure stop guessing just as well. The owner sees and clears a lock (a client's on
the clients page, a colleague's on the team settings).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.access import Actor, of_client, require_owner
from core.models import SignInThrottle, User
from core.platform import audit
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError

FREE_FAILURES = 4  # typos cost nothing: the delay starts with the fifth failure
FIRST_WAIT = timedelta(seconds=15)
LONGEST_WAIT = timedelta(minutes=5)
FORGET_AFTER = timedelta(hours=1)  # a quiet hour starts the count afresh


def address_key(address: str) -> str:
    return (address or "").strip().lower()[:254]


def delay_after(failures: int) -> timedelta:
    """The wait imposed after ``failures`` failures in a row: 15 s, 30 s, 1 min … 5 min."""
    extra = failures - FREE_FAILURES
    if extra <= 0:
        return timedelta(0)
    return min(FIRST_WAIT * (2 ** min(extra - 1, 20)), LONGEST_WAIT)


def _seconds(until: datetime | None, at: datetime) -> int:
    if until is None or until <= at:
        return 0
    return max(1, int((until - at).total_seconds() + 0.999))


def wait_seconds(session: Session, address: str, at: datetime) -> int:
    """How long ``address`` must still wait before its next attempt (0: it may try now)."""
    row = session.get(SignInThrottle, address_key(address))
    return 0 if row is None else _seconds(row.locked_until, at)


def refuse_if_waiting(session: Session, address: str, at: datetime) -> None:
    seconds = wait_seconds(session, address, at)
    if seconds:
        raise ValidationError("signin.wait", seconds=seconds)


def record_failure(session: Session, address: str, at: datetime) -> int:
    """Count one failed proof for ``address``; returns the wait it now has (seconds)."""
    key = address_key(address)
    row = session.get(SignInThrottle, key)
    if row is None:
        try:
            with session.begin_nested():  # two first failures at once: one row wins
                row = SignInThrottle(address=key, failures=0, last_failure_at=at)
                session.add(row)
        except IntegrityError:
            row = session.get_one(SignInThrottle, key)
    if _seconds(row.locked_until, at):
        return _seconds(row.locked_until, at)  # attempts during a wait do not lengthen it
    if row.last_failure_at < at - FORGET_AFTER:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = at
    delay = delay_after(row.failures)
    row.locked_until = at + delay if delay else None
    return _seconds(row.locked_until, at)


def clear(session: Session, address: str) -> None:
    """A full proof (sign-in with its second factor, a mailed reset link) ends the count."""
    row = session.get(SignInThrottle, address_key(address))
    if row is not None:
        session.delete(row)


@dataclass(frozen=True)
class Lockout:
    user_id: int
    email: str
    failures: int
    locked_until: datetime | None
    seconds_left: int


def _lockout(session: Session, user: User, at: datetime) -> Lockout | None:
    row = session.get(SignInThrottle, address_key(user.email))
    if row is None or row.failures == 0:
        return None
    return Lockout(
        user.id, user.email, row.failures, row.locked_until, _seconds(row.locked_until, at)
    )


def lockout_of_user(
    owner: Actor, user_id: int, at: datetime, *, session: Session | None = None
) -> Lockout | None:
    require_owner(owner)
    with reading(session) as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound()
        return _lockout(s, user, at)


def lockouts_of_client(
    owner: Actor, client_id: int, at: datetime, *, session: Session | None = None
) -> list[Lockout]:
    """The failure counts and waits of a client's sign-ins, for the owner."""
    require_owner(owner)
    with reading(session) as s:
        users = s.scalars(select(User).where(of_client(User, client_id)).order_by(User.email))
        return [lock for u in users if (lock := _lockout(s, u, at)) is not None]


def clear_for_user(
    owner: Actor, user_id: int, at: datetime, *, session: Session | None = None
) -> None:
    """The owner lifts a user's wait and failure count (a customer on the phone, say)."""
    require_owner(owner)
    with transaction(session) as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound()
        clear(s, user.email)
        audit.record(
            s,
            owner,
            "user.unlocked",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
        )
