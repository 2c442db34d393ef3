"""Users and the sign-in bridge on a real database (SQLite, and PostgreSQL in CI)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import accounts
from core.models import AuditEntry, User
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import ValidationError

ROOT = Path(__file__).resolve().parents[2]


def _user(email):
    with read_session() as s:
        return s.scalars(select(User).where(User.email == email)).one()


def _fail(email, times, at):
    for _ in range(times):
        with unit_of_work() as s:
            user = accounts.user_by_email(s, email)
            seen = accounts.sign_in_entry(s, email, at)["failed_login_attempts"]
            accounts.record_sign_in_attempt(
                s, user.email, success=False, attempts_seen=seen + 1, at=at
            )


def test_passwords_are_stored_as_bcrypt_hashes_only(personas):
    user = _user(personas.client_a.email)
    assert user.password_hash.startswith("$2")
    assert personas.password not in user.password_hash
    assert accounts.verify_password(personas.password, user.password_hash)
    assert not accounts.verify_password("wrong-password-1", user.password_hash)


def test_five_failures_lock_for_fifteen_minutes_then_unlock_by_themselves(personas):
    email, at = personas.client_a.email, now()
    _fail(email, 5, at)
    with read_session() as s:
        user = accounts.user_by_email(s, email)
        assert accounts.is_locked(user, at + timedelta(minutes=14))
        entry = accounts.sign_in_entry(s, email, at + timedelta(minutes=14))
        # The library is handed a user at its limit, so it refuses even the right password.
        assert entry["failed_login_attempts"] == accounts.LOCK_AFTER
        later = at + timedelta(minutes=16)
        assert not accounts.is_locked(user, later)
        assert accounts.sign_in_entry(s, email, later)["failed_login_attempts"] == 0


def test_four_failures_do_not_lock_and_a_success_resets_the_count(personas):
    email, at = personas.client_a.email, now()
    _fail(email, 4, at)
    assert _user(email).locked_until is None
    with unit_of_work() as s:
        accounts.record_sign_in_attempt(s, email, success=True, attempts_seen=0, at=at)
    assert _user(email).failed_attempts == 0


def test_sign_out_refuses_cookies_and_sessions_that_began_before_it(personas):
    email = personas.client_a.email
    before = now()  # signed in after the account was made
    with read_session() as s:
        assert accounts.check_session(s, email, before).actor is not None
    accounts.sign_out(personas.client_a.actor, before + timedelta(seconds=1))
    with read_session() as s:
        assert accounts.check_session(s, email, before).reason == "revoked"
        assert accounts.check_session(s, email, before + timedelta(seconds=2)).actor is not None


def test_cookie_issue_time_is_derived_from_its_expiry():
    from datetime import UTC

    issued = now().replace(microsecond=0)
    exp = (issued.replace(tzinfo=UTC) + timedelta(days=7)).timestamp()
    assert accounts.cookie_issued_at(exp, 7) == issued


def test_password_change_needs_the_current_password_and_ends_sessions(personas):
    actor, email = personas.client_a.actor, personas.client_a.email
    started = now()
    with pytest.raises(ValidationError):
        accounts.change_password(actor, "not-the-password", "Nueva-clave-2026", now())
    with pytest.raises(ValidationError):
        accounts.change_password(actor, personas.password, "corta", now())
    assert accounts.verify_password(personas.password, _user(email).password_hash)
    accounts.change_password(actor, personas.password, "Nueva-clave-2026", now())
    assert accounts.verify_password("Nueva-clave-2026", _user(email).password_hash)
    with read_session() as s:
        assert accounts.check_session(s, email, started).actor is None
        actions = s.scalars(select(AuditEntry.action)).all()
    assert "password.changed" in actions


def test_duplicate_or_invalid_emails_are_refused(personas):
    with pytest.raises(ValidationError), unit_of_work() as s:
        accounts.create_user(
            s, role="client", email="A@test.ec", name="x", password="Otra-clave-2026", at=now()
        )
    with pytest.raises(ValidationError), unit_of_work() as s:
        accounts.create_user(
            s, role="client", email="no-at-sign", name="x", password="Otra-clave-2026", at=now()
        )


def test_cli_create_user_reads_the_password_from_stdin_and_never_prints_it(database):
    env = {**os.environ, "DATABASE_URL": database}
    secret = "Clave-desde-stdin-77"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.cli",
            "create-user",
            "--role",
            "client",
            "--email",
            "X@Example.com",
            "--name",
            "Equis",
        ],
        input=secret + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert secret not in result.stdout + result.stderr
    user = _user("x@example.com")
    assert user.role == "client" and user.client_id is not None
    assert secret not in (user.password_hash or "")
    assert accounts.verify_password(secret, user.password_hash)


def test_cli_refuses_a_weak_password_with_a_clear_message(database):
    env = {**os.environ, "DATABASE_URL": database}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "core.cli",
            "create-user",
            "--role",
            "staff",
            "--email",
            "s@example.com",
        ],
        input="abc\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1
    assert "at least 10 characters" in result.stderr
