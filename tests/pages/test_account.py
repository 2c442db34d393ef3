"""My account: language and password, for every role."""

import pytest

from core.accounts import user_by_email, verify_password
from core.db import read_session
from tests.pages.apptest import app_as, signed_in, texts


@pytest.mark.parametrize("who", ["owner", "staff", "client_a"])
def test_every_role_reaches_its_account_page(page_personas, who):
    persona = getattr(page_personas, who)
    at = app_as(persona, "account")
    assert not at.exception
    assert "Mi cuenta" in texts(at)
    assert persona.email in texts(at)


def test_switching_to_english_is_saved_for_the_user(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.selectbox[0].select("en")
    at.button[0].click().run()
    with read_session() as s:
        assert user_by_email(s, "a@test.ec").language == "en"


def test_password_change_refuses_a_wrong_current_password(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.text_input[0].input("not-my-password")
    at.text_input[1].input("Nueva-clave-2026")
    at.text_input[2].input("Nueva-clave-2026")
    at.button[1].click().run()
    assert "La contraseña actual no es correcta." in [e.value for e in at.error]
    with read_session() as s:
        assert verify_password(page_personas.password, user_by_email(s, "a@test.ec").password_hash)


def test_password_change_with_mismatched_repeat_changes_nothing(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.text_input[0].input(page_personas.password)
    at.text_input[1].input("Nueva-clave-2026")
    at.text_input[2].input("Otra-clave-2026")
    at.button[1].click().run()
    assert "Las contraseñas no coinciden." in [e.value for e in at.error]
    with read_session() as s:
        assert verify_password(page_personas.password, user_by_email(s, "a@test.ec").password_hash)


def test_password_change_signs_every_session_out(page_personas):
    at = app_as(page_personas.client_a, "account")
    at.text_input[0].input(page_personas.password)
    at.text_input[1].input("Nueva-clave-2026")
    at.text_input[2].input("Nueva-clave-2026")
    at.button[1].click().run()
    assert not signed_in(at)
    with read_session() as s:
        assert verify_password("Nueva-clave-2026", user_by_email(s, "a@test.ec").password_hash)
