"""Sign-in through the real streamlit-authenticator form, with our lockout and role gate."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from core.access import PAGES_BY_ROLE
from core.accounts import throttle, user_by_email
from core.models import SignInThrottle, User
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from tests.pages.apptest import app_as, page_alone, run_entry, signed_in, texts, tr

PAGES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "pages").glob("*.py"))


def _sign_in(email, password):
    at = app_as(None)
    at.text_input[0].input(email)
    at.text_input[1].input(password)
    at.button[0].click()
    return run_entry(at)  # the sign-in form lives in dashboard.py


def _failures(email):
    with read_session() as s:
        row = s.get(SignInThrottle, email)
        return (0, None) if row is None else (row.failures, row.locked_until)


def _errors(at):
    return [e.value for e in at.error]


def test_signed_out_visitors_see_only_the_sign_in_form(page_personas):
    at = app_as(None)
    assert [t.label for t in at.text_input][:2] == [tr("signin.email"), tr("signin.password")]
    assert "cliente-a.ec" not in texts(at)
    assert not signed_in(at)


def test_wrong_password_is_refused_and_counted(page_personas):
    at = _sign_in("a@test.ec", "not-the-password")
    assert tr("signin.wrong") in [e.value for e in at.error]
    assert at.session_state["authentication_status"] is False
    assert _failures("a@test.ec")[0] == 1


def test_right_password_signs_in_and_shows_the_client_home(page_personas):
    at = _sign_in("A@test.ec", page_personas.password)  # the e-mail is the username, any case
    assert at.session_state["authentication_status"] is True
    assert "cliente-a.ec" in texts(at)
    assert _failures("a@test.ec") == (0, None)


def test_five_failures_make_the_address_wait_even_for_the_right_password(page_personas):
    for _ in range(throttle.FREE_FAILURES):
        assert _errors(_sign_in("a@test.ec", "not-the-password")) == [tr("signin.wrong")]
    at = _sign_in("a@test.ec", "not-the-password")  # the fifth: a short wait, not a wall
    seconds = int(throttle.FIRST_WAIT.total_seconds())
    assert _errors(at) == [tr("signin.wait", seconds=seconds)]
    at = _sign_in("a@test.ec", page_personas.password)
    assert at.session_state["authentication_status"] is not True
    assert tr("signin.wait", seconds=seconds) in _errors(at)
    assert _failures("a@test.ec")[0] == 5  # tries during the wait do not lengthen it


def test_an_address_without_an_account_is_answered_exactly_alike(page_personas):
    """Issue 16 item 8: the lock message told which addresses are customers."""
    replies = {}
    for email in ("a@test.ec", "nadie@test.ec"):
        replies[email] = [_errors(_sign_in(email, "not-the-password")) for _ in range(5)]
        assert _failures(email)[0] == 5
    assert replies["a@test.ec"] == replies["nadie@test.ec"]
    assert replies["a@test.ec"][-1] == [tr("signin.wait", seconds=15)]


def test_the_wait_lifts_by_itself(page_personas):
    for _ in range(5):
        _sign_in("a@test.ec", "not-the-password")
    with unit_of_work() as s:  # the clock moves on: the wait ran out a second ago
        s.execute(
            update(SignInThrottle)
            .where(SignInThrottle.address == "a@test.ec")
            .values(locked_until=now() - timedelta(seconds=1))
        )
    at = _sign_in("a@test.ec", page_personas.password)
    assert at.session_state["authentication_status"] is True
    assert _failures("a@test.ec") == (0, None)  # a full sign-in ends the count


def test_a_session_that_began_before_sign_out_elsewhere_is_ended(page_personas):
    at = app_as(page_personas.client_a)  # the entry point (gate + home) on every run
    assert "cliente-a.ec" in texts(at)
    with unit_of_work() as s:
        s.execute(
            update(User)
            .where(User.email == "a@test.ec")
            .values(sessions_valid_after=now() + timedelta(seconds=1))
        )
    run_entry(at)
    assert not signed_in(at)
    assert "cliente-a.ec" not in texts(at)


def test_sign_out_is_one_click(page_personas):
    at = app_as(page_personas.client_a)
    at.button(key="anfitrion_sign_out").click()
    run_entry(at)
    assert not signed_in(at)
    assert tr("signin.signed_out") in [i.value for i in at.info]
    with read_session() as s:
        assert user_by_email(s, "a@test.ec").sessions_valid_after > now() - timedelta(minutes=1)


@pytest.mark.parametrize("role", ["client", "staff", "owner"])
def test_pages_outside_a_role_are_not_in_its_navigation_and_guard_themselves(page_personas, role):
    persona = {
        "client": page_personas.client_a,
        "staff": page_personas.staff,
        "owner": page_personas.owner,
    }[role]
    at = app_as(persona)
    for page in PAGES:
        if page in PAGES_BY_ROLE[role]:
            continue
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"pages/{page}.py")
        alone = page_alone(persona, page)
        assert [e.value for e in alone.error] == [tr("error.page_not_allowed")]
        assert "cliente-b.ec" not in texts(alone) and "cliente-a.ec" not in texts(alone)


def test_client_navigation_has_no_owner_pages():
    from core.access import Actor, pages_for

    client = Actor(user_id=1, role="client", client_id=1)
    assert not {"settings", "reports", "clients"} & set(pages_for(client))
    owner = Actor(user_id=2, role="owner")
    assert {"settings", "reports", "clients"} <= set(pages_for(owner))


def test_the_sign_in_form_reads_only_the_address_typed(page_personas):
    """No signed-out rerun holds the book's password hashes: one address, when asked."""
    from ui.auth.signin import _UsersOnDemand

    users = _UsersOnDemand(now())
    assert dict(users) == {}
    assert "a@test.ec" in users
    assert "nobody@test.ec" not in users
    assert list(users) == ["a@test.ec"]  # client B, staff and the owner were never read
    assert users.get("b@test.ec")["failed_login_attempts"] == 0
    assert sorted(users) == ["a@test.ec", "b@test.ec"]


def test_a_failure_for_one_address_counts_against_it_alone(page_personas):
    _sign_in("a@test.ec", "not-the-password")
    assert _failures("a@test.ec")[0] == 1
    assert _failures("b@test.ec")[0] == 0
