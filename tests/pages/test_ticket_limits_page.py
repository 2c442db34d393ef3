"""The desk's flood guard on the pages (issue 16, item 16): a client over the limit reads a
clear message in their language and the reply is not sent; the owner sets the limits."""

from __future__ import annotations

from sqlalchemy import select

from core.models import TicketMessage
from core.platform import settings
from core.platform.clock import now
from core.platform.db import read_session
from core.support import limits, tickets
from tests.pages.apptest import app_as, click, open_tab, tr

TABS = "settings_tab"


def test_a_client_over_the_reply_limit_reads_why_and_nothing_is_sent(page_personas):
    a = page_personas.client_a
    settings.put(page_personas.owner.actor, "tickets.replies_per_hour", 1)
    tickets.reply(a.actor, a.ticket_id, "Primera respuesta.", at=now())
    at = app_as(a, "tickets", ticket=str(a.ticket_id))
    at.text_area(key="tickets_reply_body").input("Segunda respuesta.")
    click(at, tr("tickets.send_reply"))
    assert not at.exception
    assert [e.value for e in at.error] == [tr("error.ticket_rate_reply", limit=1)]
    assert not at.success
    with read_session() as s:
        bodies = s.scalars(select(TicketMessage.body)).all()
    assert "Segunda respuesta." not in bodies


def test_the_owner_sets_the_limits_on_the_sla_tab(page_personas):
    at = app_as(page_personas.owner, "settings")
    at = open_tab(at, TABS, tr("catalog.tab_sla"))
    assert tr("limits.title") in [h.value for h in at.subheader]
    at.number_input(key="limits_new_per_hour").set_value(3)
    at.number_input(key="limits_replies_per_hour").set_value(25)
    at.number_input(key="limits_posts_per_minute").set_value(0)
    at.button(key="limits_save").click().run()
    assert not at.exception
    assert limits.post_limits() == limits.PostLimits(3, 25, 0)
