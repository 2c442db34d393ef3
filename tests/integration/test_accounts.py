"""Users and the sign-in bridge on a real database (SQLite, and PostgreSQL in CI)."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import accounts
from core.accounts import throttle
from core.models import AuditEntry, User
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden, ValidationError

ROOT = Path(__file__).resolve().parents[2]


def _user(email):
    with read_session() as s:
        return s.scalars(select(User).where(User.email == email)).one()


def _fail(email, times, at):
    waits = []
    for _ in range(times):
        with unit_of_work() as s:
            waits.append(accounts.record_sign_in_failure(s, email, at))
    return waits


def _wait(email, at):
    with read_session() as s:
        return throttle.wait_seconds(s, email, at)


def test_passwords_are_stored_as_bcrypt_hashes_only(personas):
    user = _user(personas.client_a.email)
    assert user.password_hash.startswith("$2")
    assert personas.password not in user.password_hash
    assert accounts.verify_password(personas.password, user.password_hash)
    assert not accounts.verify_password("wrong-password-1", user.password_hash)


def test_failures_make_a_short_growing_wait_that_ends_by_itself(personas):
    email, at = personas.client_a.email, now()
    assert _fail(email, 5, at) == [0, 0, 0, 0, 15]
    with read_session() as s:
        assert accounts.sign_in_entry(s, email, at + timedelta(seconds=14)) is None
        later = at + timedelta(seconds=16)
        assert accounts.sign_in_entry(s, email, later) is not None
    # Each further failure doubles the wait, up to five minutes: never a 15-minute wall.
    waits = [_fail(email, 1, at + timedelta(minutes=10 * n))[0] for n in range(1, 7)]
    assert waits == [30, 60, 120, 240, 300, 300]


def test_an_unknown_address_is_counted_like_a_known_one(personas):
    at = now()
    assert _fail("nadie@test.ec", 5, at) == _fail(personas.client_a.email, 5, at)
    assert _wait("nadie@test.ec", at) == _wait(personas.client_a.email, at) == 15


def test_a_quiet_hour_forgets_old_failures_and_a_sign_in_ends_the_count(personas):
    email, at = personas.client_a.email, now()
    _fail(email, 4, at)
    assert _fail(email, 1, at + timedelta(hours=2)) == [0]  # counted from one again
    with unit_of_work() as s:
        accounts.record_sign_in(s, email, at)
    assert _fail(email, 4, at) == [0, 0, 0, 0]


def test_the_owner_sees_and_clears_a_clients_wait_others_may_not(personas):
    email, at = personas.client_a.email, now()
    _fail(email, 6, at)
    owner, client_id = personas.owner.actor, personas.client_a.actor.client_id
    locks = throttle.lockouts_of_client(owner, client_id, at)
    assert [(lock.email, lock.failures, lock.seconds_left) for lock in locks] == [(email, 5, 15)]
    assert throttle.lockouts_of_client(owner, personas.client_b.actor.client_id, at) == []
    user_id = personas.client_a.actor.user_id
    for other in (personas.staff.actor, personas.client_a.actor, personas.client_b.actor):
        with pytest.raises(Forbidden):
            throttle.lockouts_of_client(other, client_id, at)
        with pytest.raises(Forbidden):
            throttle.clear_for_user(other, user_id, at)
    throttle.clear_for_user(owner, user_id, at)
    assert _wait(email, at) == 0
    assert throttle.lockouts_of_client(owner, client_id, at) == []


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
