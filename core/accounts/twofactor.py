"""Two-factor authentication: TOTP (pyotp) with one-time recovery codes.

The TOTP seed is encrypted at rest (core.platform.vault); recovery codes are stored as SHA-256
hashes
and each works once. Staff and owner accounts must set it up before reaching their pages
(a setting, on by default); the owner can reset another user's 2FA.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from datetime import UTC, datetime

import pyotp
import qrcode
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.accounts import throttle
from core.models import RecoveryCode, User
from core.platform import audit, settings, vault
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError

ISSUER = "Anfitrión"
RECOVERY_CODES = 10


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().lower().replace("-", "").encode()).hexdigest()


def required_for(role: str, *, session: Session | None = None) -> bool:
    return role in ("staff", "owner") and settings.get_bool(
        "security.require_2fa_staff", session=session
    )


def is_enabled(user_id: int, *, session: Session | None = None) -> bool:
    with reading(session) as s:
        user = s.get(User, user_id)
        return user is not None and user.totp_enabled_at is not None


def begin_setup(actor: Actor, *, session: Session | None = None) -> tuple[str, bytes]:
    """A new secret (not active until confirmed): the otpauth URI and its QR code as PNG."""
    with transaction(session) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotFound()
        if user.totp_enabled_at is not None:
            raise ValidationError("error.2fa_already_on")
        secret = pyotp.random_base32()
        user.totp_secret = vault.encrypt(secret)
        uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    image = qrcode.make(uri)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return uri, buffer.getvalue()


def confirm_setup(
    actor: Actor, code: str, at: datetime, *, session: Session | None = None
) -> list[str]:
    """Turn 2FA on once a code from the app matches; returns recovery codes, shown once."""
    with transaction(session) as s:
        user = s.get(User, actor.user_id)
        if user is None or not user.totp_secret:
            raise ValidationError("error.2fa_not_started")
        step = _step_of(vault.decrypt(user.totp_secret), (code or "").strip(), at)
        if step is None:
            raise ValidationError("error.2fa_code_wrong")
        user.totp_enabled_at = at
        user.totp_last_step = step  # the code just typed cannot sign in a second time
        s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
        codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
        s.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
        audit.record(
            s,
            actor,
            "2fa.enabled",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
        )
        return codes


def _step_of(secret: str, code: str, at: datetime) -> int | None:
    """The 30-second time step whose code ``code`` is (one step of clock drift either way)."""
    totp = pyotp.TOTP(secret)
    current = int(at.replace(tzinfo=UTC).timestamp()) // totp.interval
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check(user_id: int, code: str, at: datetime, *, session: Session | None = None) -> bool:
    """Is ``code`` a current TOTP code or an unused recovery code (which it then uses up)?

    Counted on the sign-in's counter for the address (core.accounts.throttle): a wrong code
    is a failure, and while the address waits no code is even checked (``signin.wait``).
    A TOTP code is good once: a time step at or before the last one accepted is refused,
    so a code seen over a shoulder or in a log cannot be replayed within its window."""
    code = (code or "").strip()
    with transaction(session) as s:
        user = s.get(User, user_id)
        if user is None or user.totp_enabled_at is None or not user.totp_secret:
            return False
        throttle.refuse_if_waiting(s, user.email, at)
        ok = False
        if code.isdigit() and len(code) == 6:
            step = _step_of(vault.decrypt(user.totp_secret), code, at)
            if step is not None and (user.totp_last_step is None or step > user.totp_last_step):
                user.totp_last_step = step
                ok = True
        else:
            wanted = _hash(code)
            for row in s.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
                )
            ):
                if hmac.compare_digest(row.code_hash, wanted):
                    row.used_at = at
                    ok = True
                    break
        if ok:
            throttle.clear(s, user.email)  # the sign-in is complete: the count ends
        else:
            throttle.record_failure(s, user.email, at)
        audit.record(
            s,
            None,
            "2fa.passed" if ok else "2fa.failed",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
            actor_label=user.email,
        )
        return ok


def disable(actor: Actor, code: str, at: datetime, *, session: Session | None = None) -> None:
    """Turn one's own 2FA off, proving it with a current code (not allowed where required)."""
    if required_for(actor.role, session=session):
        raise ValidationError("error.2fa_required")
    if not check(actor.user_id, code, at, session=session):
        raise ValidationError("error.2fa_code_wrong")
    with transaction(session) as s:
        _clear(s, actor.user_id)
        audit.record(
            s,
            actor,
            "2fa.disabled",
            target_type="user",
            target_id=actor.user_id,
            client_id=actor.client_id,
            at=at,
        )


def reset_for(owner: Actor, user_id: int, at: datetime, *, session: Session | None = None) -> None:
    """The owner clears another user's 2FA (lost phone); they set it up again at sign-in."""
    require_owner(owner)
    with transaction(session) as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound()
        _clear(s, user_id)
        user.sessions_valid_after = at  # whoever holds the old device is signed out too
        audit.record(
            s,
            owner,
            "2fa.reset",
            target_type="user",
            target_id=user_id,
            client_id=user.client_id,
            at=at,
        )


def _clear(session: Session, user_id: int) -> None:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
