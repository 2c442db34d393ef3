"""My account: details with tax-id checks, e-mail, password, language, 2FA — per role."""

import pyotp
import pytest
from sqlalchemy import select

from core.accounts import user_by_email, verify_password
from core.models import Client, MailOutbox, User
from core.platform import vault
from core.platform.db import read_session
from tests.pages.apptest import app_as, click, signed_in, texts, tr


def _user(email):
    with read_session() as s:
        return user_by_email(s, email)


@pytest.mark.parametrize("who", ["owner", "staff", "client_a"])
def test_every_role_reaches_its_account_page(page_personas, who):
    persona = getattr(page_personas, who)
    at = app_as(persona, "account")
    assert not at.exception
    assert tr("account.title") in texts(at)
    assert persona.email in texts(at)


def test_switching_to_english_is_saved_for_the_user(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.selectbox(key="language_choice").set_value("en")
    at.button(key="save_language").click().run()
    assert _user("a@test.ec").language == "en"


def test_an_invalid_cedula_is_refused_in_the_users_language_and_nothing_saved(page_personas):
    at = app_as(page_personas.client_b, "account")  # client B reads English
    at.selectbox(key="tax_id_type").select_index(0)  # cédula
    at.text_input(key="tax_id_number").input("1710034066")  # wrong check digit
    at.button(key="save_details").click().run()
    assert tr("error.cedula_invalid", "en") in [e.value for e in at.error]
    with read_session() as s:
        client = s.get(Client, page_personas.client_b.actor.client_id)
        assert client.tax_id_type == "consumidor_final" and client.tax_id is None


def test_a_valid_ruc_and_phone_are_saved(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.selectbox(key="tax_id_type").select_index(1)  # RUC
    at.text_input(key="tax_id_number").input("1790011674001")
    at.text_input(key="phone").input("099 123 4567")
    at.button(key="save_details").click().run()
    assert not at.error
    with read_session() as s:
        client = s.get(Client, page_personas.client_a.actor.client_id)
        assert (client.tax_id_type, client.tax_id, client.phone) == (
            "ruc",
            "1790011674001",
            "+593991234567",
        )


def test_password_change_refuses_a_wrong_current_password(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.text_input(key="pw_current").input("not-my-password")
    at.text_input(key="pw_new").input("Nueva-clave-2026")
    at.text_input(key="pw_repeat").input("Nueva-clave-2026")
    click(at, tr("account.change_password"))
    assert tr("error.password_current_wrong") in [e.value for e in at.error]
    assert verify_password(page_personas.password, _user("a@test.ec").password_hash)


def test_password_change_with_mismatched_repeat_changes_nothing(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.text_input(key="pw_current").input(page_personas.password)
    at.text_input(key="pw_new").input("Nueva-clave-2026")
    at.text_input(key="pw_repeat").input("Otra-clave-2026")
    click(at, tr("account.change_password"))
    assert tr("error.password_mismatch") in [e.value for e in at.error]
    assert verify_password(page_personas.password, _user("a@test.ec").password_hash)


def test_password_change_signs_every_session_out(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.text_input(key="pw_current").input(page_personas.password)
    at.text_input(key="pw_new").input("Nueva-clave-2026")
    at.text_input(key="pw_repeat").input("Nueva-clave-2026")
    click(at, tr("account.change_password"))
    assert not signed_in(at)
    assert verify_password("Nueva-clave-2026", _user("a@test.ec").password_hash)


def test_email_change_needs_the_password_and_waits_for_the_new_address(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.text_input(key="email_new").input("nuevo@test.ec")
    at.text_input(key="email_password").input(page_personas.password)
    click(at, tr("account.change_email"))
    assert _user("nuevo@test.ec") is None and _user("a@test.ec") is not None
    sent = tr("account.email_change_sent", email="nuevo@test.ec", current="a@test.ec")
    assert sent in [s.value for s in at.success]
    assert tr("account.email_pending", email="nuevo@test.ec") in [i.value for i in at.info]
    assert signed_in(at)  # the session goes on with the old address
    with read_session() as s:
        mails = s.scalars(
            select(
                MailOutbox.to_addr,
            )
        ).all()
    assert "nuevo@test.ec" in mails and "a@test.ec" in mails  # verify link + notice to old


def test_staff_sets_up_two_factor_with_a_code_from_the_app(page_personas):
    from core.accounts.twofactor import reset_for
    from core.platform.clock import now

    reset_for(page_personas.owner.actor, page_personas.staff.actor.user_id, now())
    at = app_as(page_personas.staff, "account")
    assert tr("2fa.setup_required") in texts(at)
    at.button(key="start_2fa").click().run()
    with read_session() as s:
        secret = vault.decrypt(
            s.scalars(select(User.totp_secret).where(User.email == "staff@test.ec")).one()
        )
    at.text_input[-1].input("000000")
    click(at, tr("2fa.confirm"))
    assert tr("error.2fa_code_wrong") in [e.value for e in at.error]
    at.text_input[-1].input(pyotp.TOTP(secret).now())
    click(at, tr("2fa.confirm"))
    assert _user("staff@test.ec").totp_enabled_at is not None
    assert tr("2fa.recovery_once") in texts(at)
    # Said once, not twice (issue 16 item 22): the status line and a second success box.
    shown = [m.value for m in at.success]
    assert shown.count(tr("2fa.on")) == 1
