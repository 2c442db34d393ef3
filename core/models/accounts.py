"""Sign-ins: users, their 2FA recovery codes, and the single-use tokens of e-mailed links."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models.base import Base, _created, _id
from core.platform.clock import now

if TYPE_CHECKING:
    from core.models.clients import Client


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = _id()
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased; the username
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(100))  # None until set by link
    # Indexed: the desk's few staff are picked out of every client's sign-in (tickets' assignees)
    role: Mapped[str] = mapped_column(String(10), index=True)  # owner | staff | client
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="es")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)  # staff areas
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    sessions_valid_after: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(200))  # encrypted at rest
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The last TOTP time step accepted: a code is good once, not for its whole 90 s window.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = _created()
    client: Mapped[Client | None] = relationship()


class RecoveryCode(Base):
    __tablename__ = "recovery_code"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Token(Base):
    __tablename__ = "token"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # reset | verify | welcome
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256; never the token
    email: Mapped[str | None] = mapped_column(String(254))  # the address being verified
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created()


class SignInThrottle(Base):
    """Failed proofs (password, 2FA code, current password) per typed address, whether or not
    an account has it, so the answer never tells which addresses exist. Failures beyond a few
    make the address wait a short, growing delay (core.accounts.throttle)."""

    __tablename__ = "signin_throttle"
    address: Mapped[str] = mapped_column(String(254), primary_key=True)  # lower-cased
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)


class ClientMembership(Base):
    """A person invited into a client account by its holder, with the parts they may use.

    The account's holder is the user whose own ``client_id`` is the account; everyone else
    reaches it only through a live membership (``revoked_at`` empty). One person may hold
    memberships in several accounts (an accountant for several businesses)."""

    __tablename__ = "client_membership"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)  # CLIENT_PERMISSIONS
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created()
