"""Password recovery, e-mail verification, welcome links and self-registration.

Our own token-link flow instead of the library's forgot_password, which resets a password
for anyone who types a username and hands the new one around in clear (streamlit-notes P9).
Replies never reveal whether an address has an account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from core.access import Actor
from core.accounts import (
    actor_from_user,
    check_password_strength,
    create_user,
    hash_password,
    normalise_email,
    throttle,
    tokens,
    user_by_email,
)
from core.models import Client, User
from core.platform import audit, mail, settings
from core.platform.config import get_settings
from core.platform.db import reading, transaction
from core.platform.errors import Forbidden, NotFound, ValidationError
from core.platform.ratelimit import allow

RESET_LIMIT = 3  # requests per address per hour: enough for a typo, too few to spam someone
RESET_WINDOW = timedelta(hours=1)
VERIFY_LIMIT = 5


def link(param: str, raw: str) -> str:
    """The public URL that opens ``?param=raw`` (a reset, welcome or verification link)."""
    return f"{get_settings().public_url}/?{param}={raw}"


def request_reset(email: str, at: datetime, *, session: Session | None = None) -> None:
    """Send a reset link when the address has an active account. The caller shows the same
    reply either way; unknown addresses get no mail and leave no trace of existing."""
    try:
        address = normalise_email(email)
    except ValidationError:
        return
    with transaction(session) as s:
        if not allow(s, f"reset:{address}", RESET_LIMIT, RESET_WINDOW, at):
            return
        user = user_by_email(s, address)
        if user is None or not user.active:
            return
        raw = tokens.issue(s, user, "reset", at)
        mail.queue(
            s,
            to_addr=user.email,
            template="password_reset",
            language=user.language,
            name=user.name,
            link=link("reset", raw),
            minutes=60,
        )
        audit.record(
            s,
            actor_from_user(user),
            "password.reset_requested",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
        )


def reset_link_is_valid(raw: str, at: datetime) -> bool:
    with reading() as s:
        return tokens.peek(s, raw, ("reset", "welcome"), at) is not None


def reset_password(
    raw: str, new_password: str, at: datetime, *, session: Session | None = None
) -> str:
    """Set a new password from a reset or welcome link; returns the account's e-mail.

    Every existing session and cookie of the user ends, every other link that sets a
    password stops working, and the failure count lifts: the link proved control of the
    mailbox."""
    with reading(session) as s:
        live = tokens.peek(s, raw, ("reset", "welcome"), at)
        known = s.get(User, live.user_id) if live is not None else None
        inputs = (known.email, known.name) if known is not None else ()
    check_password_strength(new_password, user_inputs=inputs)
    with transaction(session) as s:
        token = tokens.consume(s, raw, ("reset", "welcome"), at)
        user = s.get(User, token.user_id)
        if user is None or not user.active:
            raise ValidationError("error.token_invalid")
        user.password_hash = hash_password(new_password)
        user.sessions_valid_after = at
        tokens.end_outstanding(s, user, at)
        throttle.clear(s, user.email)
        if user.verified_at is None:
            user.verified_at = at  # following the mailed link proves the address
        audit.record(
            s,
            actor_from_user(user),
            "password.reset",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
            via=token.purpose,
        )
        mail.queue(
            s,
            to_addr=user.email,
            template="password_changed",
            language=user.language,
            name=user.name,
        )
        return user.email


def send_welcome(session: Session, user: User, at: datetime) -> None:
    """Mail ``user`` a single-use link to choose a password (new accounts, staff resends)."""
    raw = tokens.issue(session, user, "welcome", at)
    mail.queue(
        session,
        to_addr=user.email,
        template="welcome",
        language=user.language,
        name=user.name,
        link=link("reset", raw),
    )


def send_verification(session: Session, user: User, at: datetime) -> None:
    raw = tokens.issue(session, user, "verify", at, email=user.email)
    mail.queue(
        session,
        to_addr=user.email,
        template="verify_email",
        language=user.language,
        name=user.name,
        link=link("verify", raw),
    )


def resend_verification(actor: Actor, at: datetime, *, session: Session | None = None) -> bool:
    """Another verification link for one's own address; False when asked too often."""
    with transaction(session) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotFound()
        if user.verified_at is not None:
            return True
        if not allow(s, f"verify:{user.id}", VERIFY_LIMIT, RESET_WINDOW, at):
            return False
        send_verification(s, user, at)
        audit.record(
            s,
            actor,
            "email.verification_sent",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
        )
        return True


@dataclass(frozen=True)
class AddressConfirmed:
    """What a ``?verify=`` link did: ``moved`` when it completed a change of address (the
    account now signs in with ``email`` and every session ended), else a verification."""

    email: str
    moved: bool


def verify_email(raw: str, at: datetime, *, session: Session | None = None) -> AddressConfirmed:
    """Open a link mailed to an address: verify it, or complete a change of address to it.

    A verification link for an address since changed is refused."""
    with transaction(session) as s:
        token = tokens.consume(s, raw, ("verify", "email_change"), at)
        user = s.get(User, token.user_id)
        if user is None or not user.active or not token.email:
            raise ValidationError("error.token_invalid")
        if token.purpose == "email_change":
            _move_address(s, user, token.email, at)
            return AddressConfirmed(user.email, moved=True)
        if token.email != user.email:
            raise ValidationError("error.token_invalid")
        user.verified_at = at
        audit.record(
            s,
            actor_from_user(user),
            "email.verified",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
        )
        return AddressConfirmed(user.email, moved=False)


def _move_address(session: Session, user: User, address: str, at: datetime) -> None:
    """The new address proved itself: the account moves to it, and only now."""
    if user_by_email(session, address) is not None:
        raise ValidationError("error.email_taken")  # taken since the request
    old = user.email
    throttle.clear(session, old)
    user.email = address
    user.verified_at = at  # the link was opened from the new mailbox
    user.sessions_valid_after = at  # sessions signed in as the old address end
    tokens.end_outstanding(session, user, at, tokens.ENDED_BY_CREDENTIAL_CHANGE + ("verify",))
    if user.client_id is not None:
        client = session.get(Client, user.client_id)
        if client is not None and client.email == old:
            client.email = address  # invoices and notices follow the account's address
    mail.queue(
        session,
        to_addr=old,
        template="email_changed",
        language=user.language,
        name=user.name,
        new_email=address,
    )
    audit.record(
        session,
        actor_from_user(user),
        "email.changed",
        target_type="user",
        target_id=user.id,
        client_id=user.client_id,
        at=at,
        old=old,
        new=address,
    )


def is_verified(actor: Actor, *, session: Session | None = None) -> bool:
    with reading(session) as s:
        user = s.get(User, actor.user_id)
        return user is not None and user.verified_at is not None


def require_verified(actor: Actor, *, session: Session | None = None) -> None:
    """Refuse a client action when the owner requires a verified address and it is not."""
    if not actor.is_client:
        return
    if settings.get_bool("accounts.require_verified_email", session=session) and not (
        is_verified(actor, session=session)
    ):
        raise ValidationError("error.email_not_verified")


def create_client_account(
    actor: Actor,
    *,
    name: str,
    email: str,
    language: str = "es",
    company: str | None = None,
    at: datetime,
    session: Session | None = None,
) -> int:
    """Staff open an account for a client; the client sets a password from the welcome mail."""
    if not actor.can("clients"):
        raise Forbidden()
    with transaction(session) as s:
        client = Client(
            name=(name or "").strip() or email,
            email=normalise_email(email),
            company=(company or "").strip() or None,
            language=language,
        )
        if not client.name.strip():
            raise ValidationError("error.name_required")
        s.add(client)
        s.flush()
        user = create_user(
            s,
            role="client",
            email=email,
            name=client.name,
            password=None,
            language=language,
            client=client,
            by=actor,
            at=at,
        )
        send_welcome(s, user, at)
        return client.id


def send_set_passwordlink(
    actor: Actor, user_id: int, at: datetime, *, session: Session | None = None
) -> None:
    """Staff send a client a fresh link to set a password (never seeing the password)."""
    if not actor.can("clients"):
        raise Forbidden()
    with transaction(session) as s:
        user = s.get(User, user_id)
        if user is None or user.role != "client":
            raise NotFound()
        send_welcome(s, user, at)
        audit.record(
            s,
            actor,
            "password.link_sent",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
        )


def register(
    *,
    name: str,
    email: str,
    password: str,
    language: str,
    at: datetime,
    session: Session | None = None,
) -> None:
    """Self-registration (an owner setting, off by default), verified by e-mail.

    An address that already has an account gets the same reply and no new account."""
    if not settings.get_bool("accounts.self_registration", session=session):
        raise Forbidden()
    address = normalise_email(email)
    check_password_strength(password, user_inputs=(address, name))
    with transaction(session) as s:
        if not allow(s, f"register:{address}", RESET_LIMIT, RESET_WINDOW, at):
            return
        if user_by_email(s, address) is not None:
            return
        user = create_user(
            s, role="client", email=address, name=name, password=password, language=language, at=at
        )
        send_verification(s, user, at)
