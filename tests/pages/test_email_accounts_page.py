"""E-mail accounts page ("email_accounts"), per role, against the faithful fake WHM."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import panel
from core.models import AuditEntry
from core.platform.db import read_session
from sandbox.whm_server import FakeWhm, _check
from tests.pages.apptest import app_as, texts, tr, tr_part
from tests.panel_fixtures import FAST, dead_port, point_server, ready, whm  # noqa: F401 - fixtures
from ui.kit.context import ACTOR_KEY

ROOT = Path(__file__).resolve().parents[2]

PASSWORD = "Correo-Seguro-2026!"


def mailbox_audits() -> list[str]:
    with read_session() as s:
        return list(
            s.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("mailbox.%"))
                .order_by(AuditEntry.id)
            )
        )


@pytest.fixture
def fake(whm: FakeWhm, page_personas) -> Iterator[FakeWhm]:
    yield ready(whm, mailboxes=True)
    whm.clear_faults()
    panel.configure()


def test_client_sees_own_mailboxes_with_usage(fake, page_personas):
    at = app_as(page_personas.client_a, "email_accounts")
    assert not at.exception
    shown = texts(at)
    assert "ventas@cliente-a.ec" in shown and "500 MB" in shown
    assert "info@cliente-b.ec" not in shown and "cliente-b.ec" not in shown
    assert tr_part("mailboxes.limits", count=1, max=10) in shown
    assert at.selectbox(key="mail_service").options == ["cliente-a.ec"]


def test_client_creates_changes_and_deletes_a_mailbox(fake, page_personas):
    a = page_personas.client_a
    at = app_as(a, "email_accounts", service=str(a.service_id))
    at.text_input(key="mail_new_local").input("info")
    at.text_input(key="mail_new_password").input(PASSWORD)
    at.number_input(key="mail_new_quota").set_value(250)
    at.button(key="mail_create_submit").click().run()
    assert not at.exception
    assert tr("mailboxes.created_done", address="info@cliente-a.ec") in [
        s.value for s in at.success
    ]
    stored = fake.accounts["clienta"]["mailboxes"]["info@cliente-a.ec"]
    assert stored["quota_mb"] == 250 and "info@cliente-a.ec" in texts(at)

    at.selectbox(key="mail_pw_address").select("info@cliente-a.ec")
    at.text_input(key="mail_pw_new").input(PASSWORD + "x")
    at.text_input(key="mail_pw_repeat").input(PASSWORD + "y")
    at.button(key="mail_pw_submit").click().run()
    assert tr("error.mailbox_password_mismatch") in [e.value for e in at.error]
    at.selectbox(key="mail_pw_address").select("info@cliente-a.ec")
    at.text_input(key="mail_pw_new").input(PASSWORD + "x")
    at.text_input(key="mail_pw_repeat").input(PASSWORD + "x")
    at.button(key="mail_pw_submit").click().run()
    assert _check(PASSWORD + "x", stored["password_hash"])

    at.selectbox(key="mail_quota_address").select("info@cliente-a.ec")
    at.number_input(key="mail_quota_value").set_value(900)
    at.button(key="mail_quota_submit").click().run()
    assert stored["quota_mb"] == 900

    at.selectbox(key="mail_delete_address").select("info@cliente-a.ec").run()
    assert at.button(key="mail_delete").disabled  # not without the confirmation
    at.checkbox(key="mail_delete_ok").check().run()
    at.button(key="mail_delete").click().run()
    assert not at.exception
    assert set(fake.accounts["clienta"]["mailboxes"]) == {"ventas@cliente-a.ec"}
    deleted = tr("mailboxes.deleted_done", address="info@cliente-a.ec")
    assert "info@cliente-a.ec" not in texts(at).replace(deleted, "")
    assert mailbox_audits() == [
        "mailbox.created",
        "mailbox.password_changed",
        "mailbox.quota_changed",
        "mailbox.deleted",
    ]


def test_duplicate_and_weak_passwords_get_clear_messages(fake, page_personas):
    at = app_as(page_personas.client_a, "email_accounts")
    at.text_input(key="mail_new_local").input("ventas")
    at.text_input(key="mail_new_password").input(PASSWORD)
    at.button(key="mail_create_submit").click().run()
    assert tr("error.mailbox_exists", address="ventas@cliente-a.ec") in [e.value for e in at.error]
    at.text_input(key="mail_new_local").input("nueva")
    at.text_input(key="mail_new_password").input("clave123")
    at.button(key="mail_create_submit").click().run()
    assert any(tr_part("error.mailbox_password_weak") in e.value for e in at.error)
    assert set(fake.accounts["clienta"]["mailboxes"]) == {"ventas@cliente-a.ec"}


def test_client_b_sees_nothing_of_client_a(fake, page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    fake.log.clear()
    at = app_as(b, "email_accounts", service=str(a.service_id))
    assert not at.exception
    shown = texts(at)
    assert tr("error.not_found", "en") in shown
    assert "cliente-a.ec" not in shown and "ventas@" not in shown
    assert not at.text_input and not at.button and not at.selectbox
    assert fake.log == []  # nothing of A was asked of the panel
    at = app_as(b, "email_accounts")  # their own service, in English
    shown = texts(at)
    assert "info@cliente-b.ec" in shown and "ventas@cliente-a.ec" not in shown


def test_panel_unreachable_shows_a_clear_message(fake, page_personas):
    a = page_personas.client_a
    at = app_as(a, "email_accounts")
    point_server(dead_port(), fake.token)
    at.text_input(key="mail_new_local").input("info")
    at.text_input(key="mail_new_password").input(PASSWORD)
    at.button(key="mail_create_submit").click().run()
    assert not at.exception
    assert any(tr("error.panel_unavailable") in e.value for e in at.error)
    assert set(fake.accounts["clienta"]["mailboxes"]) == {"ventas@cliente-a.ec"}
    assert mailbox_audits() == []
    at = app_as(a, "email_accounts")  # the page itself says the panel is unreachable
    assert any(tr("error.panel_unavailable") in e.value for e in at.error)
    assert not at.text_input


def test_owner_picks_any_service(fake, page_personas):
    at = app_as(page_personas.owner, "email_accounts")
    assert not at.exception
    assert len(at.selectbox(key="mail_service").options) == 2
    at.text_input(key="mail_search").input("cliente-b").run()
    assert "info@cliente-b.ec" in texts(at)


def test_the_service_search_finds_by_client_and_never_widens_a_clients_list(fake, page_personas):
    at = app_as(page_personas.owner, "email_accounts")
    at.text_input(key="mail_search").input("Cliente B").run()  # the client's name finds it too
    assert not at.exception
    options = at.selectbox(key="mail_service").options
    assert options == ["cliente-b.ec · Cliente B"] and "info@cliente-b.ec" in texts(at)
    at.text_input(key="mail_search").input("clienta").run()  # and the cPanel user
    assert at.selectbox(key="mail_service").options == ["cliente-a.ec · Cliente A"]
    # A client has no search box; a search slipped into the session widens nothing.
    at = app_as(page_personas.client_a, "email_accounts")
    assert "mail_search" not in {w.key for w in at.text_input}
    at.session_state["mail_search"] = "cliente-b"
    at.run()
    assert at.selectbox(key="mail_service").options == ["cliente-a.ec"]
    assert "cliente-b.ec" not in texts(at)


def test_staff_has_no_email_accounts_page(fake, page_personas):
    # Not in the staff navigation; reached directly, the page's own guard stops it.
    at = AppTest.from_file(str(ROOT / "pages" / "email_accounts.py"), default_timeout=30)
    at.session_state[ACTOR_KEY] = page_personas.staff.actor
    at.query_params["service"] = str(page_personas.client_a.service_id)
    at.run()
    assert not at.exception
    shown = texts(at)
    assert tr("error.page_not_allowed") in shown
    assert "ventas@cliente-a.ec" not in shown and not at.selectbox


def test_a_malformed_service_id_shows_only_not_found(fake, page_personas):
    a = page_personas.client_a
    fake.log.clear()
    for value in ("abc", "999999", "1.5"):
        at = app_as(a, "email_accounts", service=value)
        assert not at.exception
        assert [e.value for e in at.error] == [tr("error.not_found")]
        assert not at.selectbox and "ventas@cliente-a.ec" not in texts(at)
    assert fake.log == []  # nothing was asked of the panel
    at = app_as(a, "email_accounts", service="")  # an empty one picks the first, as none
    assert not at.exception and not at.error
    assert "ventas@cliente-a.ec" in texts(at)


def test_the_create_form_says_what_is_wrong(fake, page_personas):
    """Issue 16 item 21: a negative quota gave Streamlit's English range error plus "weak
    password"; a name with a space or "@" said "must be of the domain". Each now says what
    is wrong, in the reader's language, and nothing reaches the panel."""
    a = page_personas.client_a
    at = app_as(a, "email_accounts", service=str(a.service_id))
    errors = lambda: [e.value for e in at.error]  # noqa: E731 - read after each run
    assert at.number_input(key="mail_new_quota").min is None  # no browser-side range error

    at.text_input(key="mail_new_local").input("info")
    at.number_input(key="mail_new_quota").set_value(-5)
    at.button(key="mail_create_submit").click().run()
    assert errors() == [tr("error.mailbox_quota_positive", max=1024)]

    at.text_input(key="mail_new_local").input("juan perez")
    at.button(key="mail_create_submit").click().run()
    assert errors() == [tr("error.mailbox_local_space")]

    at.text_input(key="mail_new_local").input("juan@gmail.com")
    at.button(key="mail_create_submit").click().run()
    assert errors() == [tr("error.mailbox_local_at", domain="cliente-a.ec")]

    at.text_input(key="mail_new_local").input("juan")
    at.button(key="mail_create_submit").click().run()
    assert errors() == [tr("error.mailbox_password_missing")]
    assert not any(tr_part("error.mailbox_password_weak") in e for e in errors())
    assert set(fake.accounts["clienta"]["mailboxes"]) == {"ventas@cliente-a.ec"}
