"""Password recovery, verification and the outbox, against a real SMTP server (aiosmtpd)."""

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core import accounts
from core.accounts import recovery
from core.accounts.profile import change_email
from core.models import AuditEntry, MailOutbox, Token, User
from core.platform import mail, settings
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden, ValidationError

LINK = re.compile(r"\?(reset|verify)=([A-Za-z0-9_\-]+)")


def _token_from(smtp, address, kind):
    for body in reversed(smtp.bodies_to(address)):
        match = LINK.search(body)
        if match and match.group(1) == kind:
            return match.group(2)
    raise AssertionError(f"no {kind} link mailed to {address}")


def _user(email):
    with read_session() as s:
        return accounts.user_by_email(s, email)


def _audit():
    with read_session() as s:
        return s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()


def test_reset_by_mail_then_sign_in_with_the_new_password(personas, smtp):
    signed_in_before = now()
    recovery.request_reset("A@test.ec", now())
    assert mail.deliver_due() == {"sent": 1, "failed": 0}
    raw = _token_from(smtp, "a@test.ec", "reset")
    assert recovery.reset_link_is_valid(raw, now())
    recovery.reset_password(raw, "Recuperada-2026", now() + timedelta(seconds=1))
    user = _user("a@test.ec")
    assert accounts.verify_password("Recuperada-2026", user.password_hash)
    assert not accounts.verify_password(personas.password, user.password_hash)  # old one gone
    with read_session() as s:  # the session (and its cookie) from before the reset ended
        assert accounts.check_session(s, "a@test.ec", signed_in_before).reason == "revoked"
    # The same link works once only.
    with pytest.raises(ValidationError) as second:
        recovery.reset_password(raw, "Otra-clave-2026", now())
    assert second.value.key == "error.token_invalid"


def test_a_reset_link_expires_after_an_hour(personas, smtp):
    recovery.request_reset("a@test.ec", now())
    mail.deliver_due()
    raw = _token_from(smtp, "a@test.ec", "reset")
    with pytest.raises(ValidationError) as late:
        recovery.reset_password(raw, "Recuperada-2026", now() + timedelta(minutes=61))
    assert late.value.key == "error.token_expired"
    assert accounts.verify_password(personas.password, _user("a@test.ec").password_hash)


def test_only_the_token_hash_is_stored(personas, smtp):
    recovery.request_reset("a@test.ec", now())
    mail.deliver_due()
    raw = _token_from(smtp, "a@test.ec", "reset")
    with read_session() as s:
        stored = s.scalars(select(Token.token_hash)).all()
    assert raw not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_unknown_addresses_get_no_mail_and_leave_no_trace(personas, smtp):
    assert recovery.request_reset("nadie@test.ec", now()) is None
    assert recovery.request_reset("a@test.ec", now()) is None  # the same reply
    mail.deliver_due()
    assert [m["To"] for m in smtp.messages] == ["a@test.ec"]


def test_reset_requests_are_rate_limited_per_address(personas, smtp):
    for _ in range(5):
        recovery.request_reset("a@test.ec", now())
    with read_session() as s:
        assert len(s.scalars(select(Token)).all()) == recovery.RESET_LIMIT
    # Each request replaced the one before, so only the last link works: it alone is mailed
    # (its token is minted at send time); the replaced ones are not sent.
    assert mail.deliver_due() == {"sent": 1, "failed": recovery.RESET_LIMIT - 1}
    assert len(smtp.bodies_to("a@test.ec")) == 1


def test_smtp_down_keeps_the_message_queued_and_it_goes_out_once_when_back(personas, smtp):
    smtp.stop()
    recovery.request_reset("a@test.ec", now())
    assert mail.deliver_due() == {"sent": 0, "failed": 1}
    with read_session() as s:
        row = s.scalars(select(MailOutbox)).one()
        assert (row.status, row.attempts) == ("queued", 1)
        retry_at = row.next_attempt_at
    assert mail.deliver_due() == {"sent": 0, "failed": 0}  # not due yet: backoff
    smtp.start()
    assert mail.deliver_due(at=retry_at) == {"sent": 1, "failed": 0}
    assert mail.deliver_due(at=retry_at + timedelta(hours=1)) == {"sent": 0, "failed": 0}
    assert len(smtp.messages) == 1


def test_background_delivery_sends_right_after_commit(personas, smtp, monkeypatch):
    monkeypatch.setenv("MAIL_DELIVERY", "background")
    from core.platform import config

    config.get_settings.cache_clear()
    recovery.request_reset("a@test.ec", now())
    for _ in range(100):
        if smtp.messages:
            break
        import time

        time.sleep(0.05)
    assert len(smtp.messages) == 1


def test_mail_from_a_rolled_back_action_is_never_sent(personas, smtp):
    with pytest.raises(RuntimeError), unit_of_work() as s:
        user = accounts.user_by_email(s, "a@test.ec")
        mail.queue(
            s, to_addr=user.email, template="password_changed", language="es", name=user.name
        )
        raise RuntimeError("the action failed after queueing")
    mail.deliver_due()
    assert smtp.messages == []


def test_without_smtp_messages_stay_in_the_outbox(personas):
    recovery.request_reset("a@test.ec", now())
    assert mail.deliver_due() == {"sent": 0, "failed": 0}
    with read_session() as s:
        row = s.scalars(select(MailOutbox)).one()
    assert row.status == "queued" and "Restablezca" in row.subject


def test_mail_goes_out_in_the_recipients_language(personas, smtp):
    recovery.request_reset("b@test.ec", now())  # client B reads English
    mail.deliver_due()
    assert smtp.messages[0]["Subject"] == "Reset your password"


def test_email_change_waits_for_the_new_address_link(personas, smtp):
    change_email(personas.client_a.actor, "nueva@test.ec", personas.password, now())
    assert _user("nueva@test.ec") is None  # nothing moved yet
    mail.deliver_due()
    assert smtp.bodies_to("a@test.ec")  # the old address is told
    raw = _token_from(smtp, "nueva@test.ec", "verify")
    outcome = recovery.verify_email(raw, now())
    assert outcome.moved and outcome.email == "nueva@test.ec"
    assert _user("nueva@test.ec").verified_at is not None


def test_self_registration_is_off_by_default_and_verifies_when_on(personas, smtp):
    with pytest.raises(Forbidden):
        recovery.register(
            name="Nuevo", email="n@test.ec", password="Registro-2026", language="es", at=now()
        )
    settings.put(personas.owner.actor, "accounts.self_registration", True)
    recovery.register(
        name="Nuevo", email="n@test.ec", password="Registro-2026", language="es", at=now()
    )
    mail.deliver_due()
    raw = _token_from(smtp, "n@test.ec", "verify")
    assert _user("n@test.ec").verified_at is None
    recovery.verify_email(raw, now())
    assert _user("n@test.ec").verified_at is not None


def test_required_verification_blocks_unverified_clients(personas):
    recovery.require_verified(personas.client_a.actor)  # off by default: fine
    settings.put(personas.owner.actor, "accounts.require_verified_email", True)
    with unit_of_work() as s:
        s.execute(update(User).where(User.email == "a@test.ec").values(verified_at=None))
    with pytest.raises(ValidationError):
        recovery.require_verified(personas.client_a.actor)
    recovery.require_verified(personas.client_b.actor)


def test_staff_create_a_client_who_sets_a_password_from_the_welcome_mail(personas, smtp):
    with pytest.raises(Forbidden):  # staff persona has no "clients" permission
        recovery.create_client_account(personas.staff.actor, name="C", email="c@test.ec", at=now())
    recovery.create_client_account(
        personas.owner.actor, name="Cliente C", email="c@test.ec", at=now()
    )
    mail.deliver_due()
    raw = _token_from(smtp, "c@test.ec", "reset")
    recovery.reset_password(raw, "Bienvenida-2026", now())
    user = _user("c@test.ec")
    assert user.role == "client" and user.verified_at is not None
    assert accounts.verify_password("Bienvenida-2026", user.password_hash)


def test_sensitive_actions_are_audited_without_secrets(personas, smtp):
    recovery.request_reset("a@test.ec", now())
    mail.deliver_due()
    raw = _token_from(smtp, "a@test.ec", "reset")
    recovery.reset_password(raw, "Recuperada-2026", now())
    change_email(personas.client_a.actor, "z@test.ec", "Recuperada-2026", now())
    mail.deliver_due()
    recovery.verify_email(_token_from(smtp, "z@test.ec", "verify"), now())
    accounts.change_password(personas.client_b.actor, personas.password, "Cambiada-2026", now())
    actions = [e.action for e in _audit()]
    for action in (
        "password.reset_requested",
        "password.reset",
        "email.change_requested",
        "email.changed",
        "password.changed",
    ):
        assert actions.count(action) == 1, action
    dump = json.dumps([e.details for e in _audit()])
    for secret in (raw, "Recuperada-2026", "Cambiada-2026", personas.password):
        assert secret not in dump
