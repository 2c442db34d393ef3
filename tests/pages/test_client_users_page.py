"""The "Usuarios" tab of a client's "Mi cuenta" and the sidebar's account selector (issue 19)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from core.access import CLIENT_PERMISSIONS, pages_for
from core.accounts import actor_from_user, client_users, hash_password, user_by_email
from core.models import ClientMembership
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from tests.pages.apptest import app_as, page_alone, run_entry, signed_in, texts, tr
from tests.personas import Persona

AT = datetime(2026, 11, 26, 15, 0)


def _invite(holder: Persona, email: str, perms: list[str]) -> int:
    return client_users.invite(
        holder.actor, email=email, name="Invitado", permissions=perms, language="es", at=AT
    )


def _signed_up(email: str) -> Persona:
    """The invited person after using their link: a password of their own."""
    with unit_of_work() as s:
        user = user_by_email(s, email)
        assert user is not None
        user.password_hash = hash_password("Libro-mayor-azul-77")
        user.verified_at = now()
    return Persona(email, None)  # type: ignore[arg-type]  # app_as signs in by address


def test_the_holder_invites_from_the_users_tab(page_personas):
    at = app_as(page_personas.client_a, "account")
    assert not at.exception
    assert tr("client_users.tab") in [t.label for t in at.tabs]
    at.text_input(key="cu_email").input("contadora@test.ec")
    at.text_input(key="cu_name").input("Contadora")
    at.multiselect(key="cu_perms").select("billing")
    [submit] = [b for b in at.button if b.label == tr("client_users.invite")]
    submit.click().run()
    assert not at.exception and not at.error
    assert tr("client_users.invited", email="contadora@test.ec") in texts(at)
    with read_session() as s:
        [m] = s.scalars(select(ClientMembership)).all()
        assert (m.client_id, m.permissions) == (page_personas.client_a.actor.client_id, ["billing"])
    assert "contadora@test.ec" in texts(at)


def test_the_holder_revokes_and_the_user_is_signed_out(page_personas):
    membership = _invite(page_personas.client_a, "disenador@test.ec", ["tickets"])
    person = _signed_up("disenador@test.ec")
    theirs = app_as(person, "tickets")
    assert not theirs.exception
    assert theirs.session_state["anfitrion_actor"].client_permissions == {"tickets"}

    at = app_as(page_personas.client_a, "account")
    at.checkbox(key=f"cu_revoke_ok_{membership}").check().run()
    at.button(key="cu_revoke").click().run()
    assert tr("client_users.revoked") in texts(at)
    run_entry(theirs)  # their open tab's next run: the session has ended
    assert not signed_in(theirs)
    assert tr("signin.session_ended") in texts(theirs)


def test_an_invited_user_sees_only_their_parts(page_personas):
    _invite(page_personas.client_a, "soporte@test.ec", ["tickets"])
    at = app_as(_signed_up("soporte@test.ec"), "account")
    assert not at.exception
    labels = [t.label for t in at.tabs]
    assert tr("client_users.tab") not in labels and tr("account.details") not in labels
    # Reached by its file, bypassing the navigation, the billing page's guard stops them.
    billing = page_alone(_signed_up("soporte@test.ec"), "billing")
    assert not billing.exception and "F-A-1" not in texts(billing)


def test_one_person_picks_the_account_in_the_sidebar(page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    _invite(a, "contador@test.ec", ["services"])
    _invite(b, "contador@test.ec", ["services"])
    at = app_as(_signed_up("contador@test.ec"))  # the home page, with the sidebar
    assert not at.exception
    choice = at.selectbox(key="anfitrion_acting_for_choice")
    assert choice.value == a.actor.client_id
    assert "cliente-a.ec" in texts(at) and "cliente-b.ec" not in texts(at)
    choice.set_value(b.actor.client_id)
    run_entry(at)  # the sidebar is dashboard.py's, as in the browser
    assert at.session_state["anfitrion_actor"].client_id == b.actor.client_id
    assert "cliente-b.ec" in texts(at) and "cliente-a.ec" not in texts(at)


def test_a_single_account_shows_no_selector(page_personas):
    at = app_as(page_personas.client_a)
    assert "anfitrion_acting_for_choice" not in [s.key for s in at.selectbox]


@pytest.mark.parametrize("permission", CLIENT_PERMISSIONS)
def test_every_page_they_may_open_draws_without_a_refusal(page_personas, permission):
    _invite(page_personas.client_a, "solo@test.ec", [permission])
    person = _signed_up("solo@test.ec")
    with read_session() as s:
        user = user_by_email(s, "solo@test.ec")
        assert user is not None
        pages = pages_for(actor_from_user(user))
    for page in pages:
        if page == "home":
            continue  # the entry run of every app_as below
        at = app_as(person, page)
        assert not at.exception, (permission, page)
        shown = [e.value for e in at.error]
        assert tr("error.not_found") not in shown, (permission, page)
        assert tr("error.page_not_allowed") not in shown, (permission, page)


@pytest.mark.parametrize(
    ("permission", "metrics", "services"),
    [
        ("tickets", ["home.open_tickets"], False),
        ("billing", ["home.amount_owed", "home.overdue", "home.credit"], False),
        ("services", [], True),
    ],
)
def test_the_home_page_shows_the_figures_of_their_parts(
    page_personas, permission, metrics, services
):
    _invite(page_personas.client_a, "solo@test.ec", [permission])
    at = app_as(_signed_up("solo@test.ec"))
    assert not at.exception
    assert [m.label for m in at.metric] == [tr(k) for k in metrics]
    assert ("cliente-a.ec" in texts(at)) is services
    assert (tr("home.my_services") in texts(at)) is services
    holder = app_as(page_personas.client_a)
    assert len(holder.metric) == 4 and "cliente-a.ec" in texts(holder)
