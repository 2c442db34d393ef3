"""A client cannot flood the desk (issue 16, item 16): tickets and replies are rate-limited
per client by settings the owner sets, with a clear translated message, and a refused post
writes nothing and mails no one. The desk is never limited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.models import MailOutbox, Ticket, TicketMessage
from core.platform import i18n, settings
from core.platform.db import read_session
from core.platform.errors import Forbidden, ValidationError
from core.support import limits, tickets
from tests.integration.test_tickets import AT, open_as, soporte


def counts() -> tuple[int, int, int]:
    with read_session() as s:
        return tuple(
            s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Ticket, TicketMessage, MailOutbox)
        )


def put(personas, **values: int) -> None:
    for key, value in values.items():
        settings.put(personas.owner.actor, f"tickets.{key}", value)


def refused(key: str, call) -> ValidationError:
    before = counts()
    with pytest.raises(ValidationError) as err:
        call()
    assert err.value.key == key
    assert counts() == before  # nothing written, nobody mailed
    return err.value


def test_a_burst_of_new_tickets_is_stopped_by_the_default_limits(personas):
    a = personas.client_a
    assert limits.post_limits() == limits.PostLimits(10, 60, 6)
    opened = [open_as(a, at=AT) for _ in range(6)]  # six in the same second: allowed
    error = refused("error.ticket_rate_minute", lambda: open_as(a, at=AT + timedelta(seconds=2)))
    assert error.params == {"limit": 6} and len(set(opened)) == 6
    # A minute later the minute's limit has passed; the hour's (10) stops the eleventh.
    later = [open_as(a, at=AT + timedelta(minutes=2, seconds=i)) for i in range(4)]
    assert len(later) == 4
    refused("error.ticket_rate_new", lambda: open_as(a, at=AT + timedelta(minutes=5)))
    assert open_as(a, at=AT + timedelta(hours=1, minutes=1))  # the hour has slid on


def test_the_limits_are_per_client_and_the_desk_is_never_limited(personas):
    a, b, staff = personas.client_a, personas.client_b, personas.staff
    put(personas, new_per_hour=2, posts_per_minute=0)
    open_as(a)
    open_as(a)
    refused("error.ticket_rate_new", lambda: open_as(a))
    assert open_as(b) and open_as(b)  # B has a count of its own
    for _ in range(5):  # staff open tickets for A as often as they need
        tickets.open_ticket(
            staff.actor,
            department_id=soporte(),
            subject="Llamada del cliente",
            body="Registrado por teléfono.",
            client_id=a.actor.client_id,
            at=AT,
        )


def test_replies_are_limited_per_hour_and_per_minute(personas):
    a, staff = personas.client_a, personas.staff
    put(personas, replies_per_hour=3, posts_per_minute=2)
    tid = open_as(a, at=AT - timedelta(hours=2))
    tickets.reply(a.actor, tid, "uno", at=AT)
    tickets.reply(a.actor, tid, "dos", at=AT)
    error = refused("error.ticket_rate_minute", lambda: tickets.reply(a.actor, tid, "3", at=AT))
    assert error.params == {"limit": 2}
    tickets.reply(a.actor, tid, "tres", at=AT + timedelta(minutes=2))
    refused(
        "error.ticket_rate_reply",
        lambda: tickets.reply(a.actor, tid, "cuatro", at=AT + timedelta(minutes=4)),
    )
    for i in range(5):  # the desk answers without limit
        tickets.reply(staff.actor, tid, f"respuesta {i}", at=AT + timedelta(minutes=4))
    assert tickets.reply(a.actor, a.ticket_id, "otra vez", at=AT + timedelta(hours=1, minutes=3))


def test_zero_turns_a_limit_off(personas):
    put(personas, new_per_hour=0, posts_per_minute=0)
    assert len({open_as(personas.client_a) for _ in range(15)}) == 15


def test_the_owner_sets_the_limits_and_bad_values_are_refused(personas):
    owner = personas.owner.actor
    saved = limits.save_post_limits(
        owner, new_per_hour=4, replies_per_hour="20", posts_per_minute=0
    )
    assert saved == limits.PostLimits(4, 20, 0) == limits.post_limits()
    assert settings.get_int("tickets.new_per_hour") == 4
    assert settings.get_int("tickets.replies_per_hour") == 20
    assert settings.get_int("tickets.posts_per_minute") == 0
    for bad in (
        {"new_per_hour": -1},
        {"replies_per_hour": 2.5},
        {"posts_per_minute": 101},
        {"new_per_hour": True},
        {"replies_per_hour": "mucho"},
    ):
        values = {"new_per_hour": 4, "replies_per_hour": 20, "posts_per_minute": 0, **bad}
        with pytest.raises(ValidationError) as err:
            limits.save_post_limits(owner, **values)
        assert err.value.key == "error.ticket_rate_invalid"
    assert limits.post_limits() == limits.PostLimits(4, 20, 0)  # nothing half-saved
    with pytest.raises(Forbidden):
        limits.save_post_limits(
            personas.staff.actor, new_per_hour=1, replies_per_hour=1, posts_per_minute=1
        )


@pytest.mark.parametrize("lang", ["es", "en"])
def test_the_messages_say_the_limit_in_both_languages(lang):
    for key in ("error.ticket_rate_new", "error.ticket_rate_reply", "error.ticket_rate_minute"):
        text = i18n.t(key, lang, limit=7)
        assert "7" in text and "{" not in text and text != key
