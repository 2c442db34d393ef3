"""Issue 16 items 6, 7, 9, 10 and 11 on a real database, with a real SMTP server: an address
moves only when its link is opened, changes end stale links, the second factor and the
current-password checks share the sign-in's counter, and zxcvbn judges new passwords."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from core import accounts
from core.accounts import profile, recovery, throttle, twofactor
from core.models import MailOutbox
from core.platform import i18n, mail
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import ValidationError
from tests.personas import TOTP_SECRET

LINK = re.compile(r"\?(reset|verify)=([A-Za-z0-9_\-]+)")


def _link(smtp, address, kind):
    for body in reversed(smtp.bodies_to(address)):
        match = LINK.search(body)
        if match and match.group(1) == kind:
            return match.group(2)
    raise AssertionError(f"no {kind} link mailed to {address}")


def _user(email):
    with read_session() as s:
        return accounts.user_by_email(s, email)


def _wait(email, at):
    with read_session() as s:
        return throttle.wait_seconds(s, email, at)


# --- item 6: the address changes only when the new one's link is opened ---------------


def test_an_email_change_applies_only_when_the_new_address_opens_its_link(personas, smtp):
    a = personas.client_a
    asked = now()
    profile.change_email(a.actor, "nueva@test.ec", personas.password, asked)
    # Until the link is opened, sign-in, the session and mail stay on the old address.
    assert _user("nueva@test.ec") is None
    assert _user("a@test.ec") is not None
    with read_session() as s:
        assert accounts.sign_in_entry(s, "a@test.ec", now()) is not None
        assert accounts.sign_in_entry(s, "nueva@test.ec", now()) is None
        assert accounts.check_session(s, "a@test.ec", asked).actor is not None
    assert profile.pending_email(a.actor, now()) == "nueva@test.ec"
    mail.deliver_due()
    told = smtp.bodies_to("a@test.ec")  # the old address is told of the request
    assert told and "nueva@test.ec" in told[-1] and "?verify=" not in told[-1]
    raw = _link(smtp, "nueva@test.ec", "verify")

    outcome = recovery.verify_email(raw, now() + timedelta(seconds=1))
    assert outcome == recovery.AddressConfirmed("nueva@test.ec", moved=True)
    user = _user("nueva@test.ec")
    assert user is not None and user.verified_at is not None and _user("a@test.ec") is None
    with read_session() as s:  # the session signed in as the old address has ended
        assert accounts.check_session(s, "a@test.ec", asked).actor is None
    assert profile.pending_email(a.actor, now()) is None
    with pytest.raises(ValidationError):  # the link works once
        recovery.verify_email(raw, now())


def test_an_unopened_email_change_link_changes_nothing_and_expires(personas, smtp):
    profile.change_email(personas.client_a.actor, "nueva@test.ec", personas.password, now())
    mail.deliver_due()
    raw = _link(smtp, "nueva@test.ec", "verify")
    with pytest.raises(ValidationError) as late:
        recovery.verify_email(raw, now() + timedelta(hours=49))
    assert late.value.key == "error.token_expired"
    assert _user("a@test.ec") is not None and _user("nueva@test.ec") is None


def test_an_address_taken_meanwhile_is_refused_when_the_link_is_opened(personas, smtp):
    profile.change_email(personas.client_a.actor, "nueva@test.ec", personas.password, now())
    mail.deliver_due()
    raw = _link(smtp, "nueva@test.ec", "verify")
    with unit_of_work() as s:
        accounts.create_user(
            s, role="client", email="nueva@test.ec", name="Otra", password=None, at=now()
        )
    with pytest.raises(ValidationError) as taken:
        recovery.verify_email(raw, now())
    assert taken.value.key == "error.email_taken"
    assert _user("a@test.ec").client_id == personas.client_a.actor.client_id


def test_client_b_cannot_open_or_see_client_as_pending_change(personas, smtp, client_b_as):
    profile.change_email(personas.client_a.actor, "nueva@test.ec", personas.password, now())
    assert profile.pending_email(client_b_as.actor, now()) is None
    with pytest.raises(ValidationError):  # B's password does not move A's account either
        profile.change_email(personas.client_a.actor, "b2@test.ec", "Clave-de-B-9x7", now())


# --- item 7: changing the address or the password ends reset and welcome links ---------


def test_a_reset_link_mailed_before_an_email_change_no_longer_works(personas, smtp):
    recovery.request_reset("a@test.ec", now())
    mail.deliver_due()
    reset = _link(smtp, "a@test.ec", "reset")
    profile.change_email(personas.client_a.actor, "nueva@test.ec", personas.password, now())
    mail.deliver_due()
    recovery.verify_email(_link(smtp, "nueva@test.ec", "verify"), now())
    assert not recovery.reset_link_is_valid(reset, now())
    with pytest.raises(ValidationError):
        recovery.reset_password(reset, "Secuestro-de-cuenta-77", now())
    assert accounts.verify_password(personas.password, _user("nueva@test.ec").password_hash)


def test_a_password_change_ends_reset_welcome_and_address_change_links(personas, smtp):
    a = personas.client_a
    recovery.request_reset("a@test.ec", now())
    with unit_of_work() as s:
        recovery.send_welcome(s, _user_in(s, "a@test.ec"), now())
    profile.change_email(a.actor, "nueva@test.ec", personas.password, now())
    mail.deliver_due()
    reset = _link(smtp, "a@test.ec", "reset")
    welcome = LINK.findall(smtp.bodies_to("a@test.ec")[1])[0][1]
    move = _link(smtp, "nueva@test.ec", "verify")
    accounts.change_password(a.actor, personas.password, "Gato-tejado-luna-44", now())
    for raw in (reset, welcome):
        assert not recovery.reset_link_is_valid(raw, now())
    with pytest.raises(ValidationError):
        recovery.verify_email(move, now())
    assert _user("nueva@test.ec") is None


def test_a_reset_ends_the_other_reset_and_welcome_links(personas, smtp):
    recovery.request_reset("a@test.ec", now())
    with unit_of_work() as s:
        recovery.send_welcome(s, _user_in(s, "a@test.ec"), now())
    mail.deliver_due()
    reset = _link(smtp, "a@test.ec", "reset")
    welcome = LINK.findall(smtp.bodies_to("a@test.ec")[1])[0][1]
    recovery.reset_password(welcome, "Gato-tejado-luna-44", now())
    assert not recovery.reset_link_is_valid(reset, now())


def _user_in(session, email):
    return accounts.user_by_email(session, email)


# --- item 9: the second factor: attempt limit on the sign-in's counter, no replay -------


def test_wrong_codes_share_the_sign_in_counter_and_then_must_wait(personas):
    owner, at = personas.owner, now()
    with unit_of_work() as s:  # three wrong passwords first...
        for _ in range(3):
            accounts.record_sign_in_failure(s, owner.email, at)
    assert not twofactor.check(owner.actor.user_id, "000000", at)  # ...the fourth failure
    assert not twofactor.check(owner.actor.user_id, "000001", at)  # the fifth: a wait
    assert _wait(owner.email, at) == 15
    right = pyotp.TOTP(TOTP_SECRET).at(at.replace(tzinfo=None))
    with pytest.raises(ValidationError) as waiting:  # even the right code is not checked
        twofactor.check(owner.actor.user_id, right, at)
    assert waiting.value.key == "signin.wait"
    later = at + timedelta(seconds=16)
    assert twofactor.check(owner.actor.user_id, pyotp.TOTP(TOTP_SECRET).at(_ts(later)), later)
    assert _wait(owner.email, later) == 0  # a passed second factor ends the count


def test_two_hundred_wrong_codes_are_not_all_tried(personas):
    """The defect: 200 wrong codes were each checked. Now the wait stops them early."""
    owner, at = personas.owner, now()
    refused = 0
    for n in range(200):
        try:
            twofactor.check(owner.actor.user_id, f"{n:06d}", at)
        except ValidationError:
            refused += 1
    assert refused == 195


def test_a_totp_code_works_once(personas):
    owner, at = personas.owner, now()
    code = pyotp.TOTP(TOTP_SECRET).at(_ts(at))
    assert twofactor.check(owner.actor.user_id, code, at)
    assert not twofactor.check(owner.actor.user_id, code, at + timedelta(seconds=5))
    earlier = pyotp.TOTP(TOTP_SECRET).at(_ts(at) - 30)  # an older step is refused too
    assert not twofactor.check(owner.actor.user_id, earlier, at + timedelta(seconds=5))
    nxt = at + timedelta(seconds=30)
    assert twofactor.check(owner.actor.user_id, pyotp.TOTP(TOTP_SECRET).at(_ts(nxt)), nxt)


def _ts(at):
    from datetime import UTC

    return int(at.replace(tzinfo=UTC).timestamp())


# --- item 10: current-password checks share the counter ---------------------------------


@pytest.mark.parametrize("change", ["password", "email"])
def test_current_password_checks_are_limited_by_the_same_counter(personas, change):
    a, at = personas.client_a, now()

    def attempt(password):
        if change == "password":
            accounts.change_password(a.actor, password, "Gato-tejado-luna-44", at)
        else:
            profile.change_email(a.actor, "nueva@test.ec", password, at)

    for _ in range(5):
        with pytest.raises(ValidationError) as wrong:
            attempt("not-the-password")
        assert wrong.value.key == "error.password_current_wrong"
    with pytest.raises(ValidationError) as waiting:  # the right one must wait as well
        attempt(personas.password)
    assert waiting.value.key == "signin.wait"
    with read_session() as s:  # and so must the sign-in form for this address
        assert accounts.sign_in_entry(s, "a@test.ec", at) is None
    assert _wait("b@test.ec", at) == 0  # client B is not affected


# --- item 11: zxcvbn, with its feedback translated -------------------------------------


@pytest.mark.parametrize("weak", ["password12", "aaaaaaaaa1", "1234567890a"])
def test_easy_passwords_are_refused_with_translated_advice(weak):
    with pytest.raises(ValidationError) as refused:
        accounts.check_password_strength(weak)
    assert refused.value.key == "error.password_weak"
    es, en = i18n.error_text(refused.value, "es"), i18n.error_text(refused.value, "en")
    assert es.startswith("La contraseña es fácil de adivinar.") and len(es) > 40
    assert en.startswith("That password is easy to guess.") and len(en) > 35
    assert "{" not in es + en


def test_the_advice_names_what_is_wrong():
    with pytest.raises(ValidationError) as repeat:
        accounts.check_password_strength("aaaaaaaaa1")
    assert "«aaa»" in i18n.error_text(repeat.value, "es")
    assert '"aaa"' in i18n.error_text(repeat.value, "en")


def test_a_password_built_from_the_account_name_is_refused(database):
    """Strong for a stranger, weak for this account: its own name and address count."""
    accounts.check_password_strength("Quispeyupanqui2026")
    with pytest.raises(ValidationError), unit_of_work() as s:
        accounts.create_user(
            s,
            role="client",
            email="bquispeyupanqui@tienda.ec",
            name="Bartolomeo Quispeyupanqui",
            password="Quispeyupanqui2026",
            at=now(),
        )


@pytest.mark.parametrize("strong", ["Gato-tejado-luna-44", "Clave-segura-2026"])
def test_strong_passwords_pass(strong):
    accounts.check_password_strength(strong)


def test_every_zxcvbn_sentence_has_a_text_in_both_languages():
    from core.accounts.password_policy import FEEDBACK_KEYS

    for key in FEEDBACK_KEYS.values():
        assert i18n.has(key) and i18n.t(key, "en") != key


def test_no_raw_link_of_an_address_change_is_logged_in_the_audit(personas, smtp):
    from core.models import AuditEntry

    profile.change_email(personas.client_a.actor, "nueva@test.ec", personas.password, now())
    mail.deliver_due()
    raw = _link(smtp, "nueva@test.ec", "verify")
    with read_session() as s:
        details = [str(e.details) for e in s.scalars(select(AuditEntry))]
        outbox = s.scalars(select(MailOutbox)).all()
    assert not any(raw in d for d in details)
    assert {m.to_addr for m in outbox} == {"a@test.ec", "nueva@test.ec"}
