"""Issue 16 item 4 on the services and home pages: the client's status filter has
"Pendiente", a pending end-of-period cancellation is flagged in the list, an ended service
shows no recurring price, and counts read "1 servicio", not "1 servicios"."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import panel
from core.models import Service
from core.platform import i18n
from core.platform.clock import today
from core.platform.config import get_settings
from core.platform.db import unit_of_work
from core.services import cancellations
from sandbox.whm_server import FakeWhm
from tests.pages.apptest import app_as, texts, tr
from tests.panel_fixtures import ready, whm  # noqa: F401 - fixtures


@pytest.fixture
def fake(whm: FakeWhm, page_personas) -> Iterator[FakeWhm]:
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


def test_the_client_filter_offers_pending(fake, page_personas):
    at = app_as(page_personas.client_a, "services")
    options = list(at.selectbox(key="services_status").options)
    assert tr("status.pending") in options
    at.selectbox(key="services_status").select("pending").run()
    assert not at.exception and tr("services.none") in texts(at)


def test_a_pending_end_of_period_cancellation_is_flagged(fake, page_personas):
    a = page_personas.client_a
    day = today(get_settings().tz)
    cancellations.request(a.actor, a.service_id, "end_of_billing_period", "Me voy", today=day)
    at = app_as(a, "services")
    assert not at.exception
    with unit_of_work() as s:
        due = max(s.get(Service, a.service_id).next_due_date, day)
    assert tr("services.cancel_on", date=i18n.day(due, "es")) in texts(at)
    # Client B's list says nothing of A's request.
    at = app_as(page_personas.client_b, "services")
    assert tr("services.cancel_on", "en", date=i18n.day(due, "en")) not in texts(at)


def test_an_ended_service_shows_no_recurring_price(fake, page_personas):
    a = page_personas.client_a
    with unit_of_work() as s:
        s.get(Service, a.service_id).status = "cancelled"
    at = app_as(a, "services", service=str(a.service_id))
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert tr("services.account_line_ended", username="clienta") in captions
    assert not [c for c in captions if "$10,00" in c]
    home = app_as(a, "home")
    assert "$10,00" not in texts(home) and "$10,00" not in str(home.markdown)


def test_one_service_is_singular(fake, page_personas):
    at = app_as(page_personas.client_a, "services")
    shown = texts(at)
    assert "1 servicio" in shown and "1 servicios" not in shown
    at = app_as(page_personas.client_b, "services")  # B reads English
    shown = texts(at)
    assert "1 service" in shown and "1 services" not in shown


def test_plural_picks_the_form_by_count():
    assert i18n.plural("services.page_of", 1, "es", page=1, pages=1, total=1).endswith("1 servicio")
    assert i18n.plural("services.page_of", 3, "es", page=1, pages=1, total=3).endswith(
        "3 servicios"
    )
    assert i18n.plural("clients.found", 1, "en") == "1 client found."
    assert i18n.plural("clients.found", 0, "en") == "0 clients found."
