"""Settings (owner only): users and roles, security switches, audit log, outgoing mail."""

from sqlalchemy import select

from core import settings
from core.accounts import user_by_email
from core.db import read_session
from core.models import MailOutbox
from tests.pages.apptest import app_as, page_alone, texts


def test_the_owner_sees_the_team_and_the_audit_log(page_personas):
    at = app_as(page_personas.owner, "settings")
    assert not at.exception
    shown = texts(at)
    assert "staff@test.ec" in shown and "owner@test.ec" in shown
    assert "user.created" in shown  # the audit log lists the personas' creation
    assert "a@test.ec" not in at.dataframe[0].value.to_string()  # clients are not desk users


def test_the_owner_invites_staff_who_get_a_welcome_link(page_personas):
    at = app_as(page_personas.owner, "settings")
    at.text_input(key="invite_email").input("nuevo.soporte@test.ec")
    at.text_input(key="invite_name").input("Nuevo Soporte")
    next(b for b in at.button if b.label == "Enviar invitación").click().run()
    with read_session() as s:
        user = user_by_email(s, "nuevo.soporte@test.ec")
        assert user.role == "staff" and user.password_hash is None
        assert s.scalars(select(MailOutbox.to_addr)).all() == ["nuevo.soporte@test.ec"]


def test_security_switches_are_saved(page_personas):
    at = app_as(page_personas.owner, "settings")
    checkboxes = {c.label: c for c in at.checkbox}
    checkboxes["Permitir que los clientes creen su propia cuenta"].check()
    at.button(key="save_security").click().run()
    assert settings.get_bool("accounts.self_registration", False) is True


def test_queued_mail_is_readable_by_the_owner(page_personas):
    from core.clock import now
    from core.recovery import request_reset

    request_reset("a@test.ec", now())
    at = app_as(page_personas.owner, "settings")
    assert any("a@test.ec" in e.label for e in at.expander)
    assert any("?reset=" in t.value for t in at.text)


def test_nobody_but_the_owner_gets_settings(page_personas):
    for persona in (page_personas.staff, page_personas.client_a):
        at = page_alone(persona, "settings")
        assert [e.value for e in at.error] == ["Esta página no está disponible para su cuenta."]
        assert "owner@test.ec" not in texts(at)
