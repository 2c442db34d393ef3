"""The services page's add-ons (issue 19): client A orders one that fits from the service's
page, sees it waiting for its invoice, then running; cancels it at period end; client B sees
none of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, panel
from core.access import SYSTEM
from core.models import Invoice, InvoiceItem, Product, ProductPrice, Service, ServiceAddon
from core.platform.clock import today
from core.platform.config import get_settings
from core.platform.db import read_session, unit_of_work
from sandbox.whm_server import FakeWhm
from tests.pages.apptest import app_as, texts, tr
from tests.panel_fixtures import ready, whm  # noqa: F401 - fixtures


@pytest.fixture
def fake(whm: FakeWhm, page_personas) -> Iterator[FakeWhm]:
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


def ssl_for(persona) -> int:
    """An SSL add-on fitting the persona's plan. The page orders with the real clock, and the
    personas' service falls due on a fixed date, so the parent is moved to fall due three weeks
    from today: an add-on is only ordered on a parent that is not overdue."""
    with unit_of_work() as s:
        svc = s.get_one(Service, persona.service_id)
        due = today(get_settings().tz) + timedelta(days=21)
        svc.next_due_date, svc.anchor_day = due, due.day
        plan = svc.product_id
        ssl = Product(
            name="Certificado SSL",
            name_en="SSL certificate",
            whm_package="",
            kind="addon",
            addon_fits=[plan],
        )
        s.add(ssl)
        s.flush()
        s.add(ProductPrice(product_id=ssl.id, cycle="monthly", price=Decimal("3.00")))
        return ssl.id


def test_client_orders_an_add_on_then_cancels_it_at_period_end(fake, page_personas):
    a = page_personas.client_a
    ssl_for(a)
    at = app_as(a, "services", service=str(a.service_id))
    assert not at.exception
    assert tr("addons.title") in texts(at)
    at.button(key="addons_order_submit").click().run()
    assert not at.exception
    assert tr("addons.ordered_done") in texts(at)
    assert tr("addons.status.pending") in texts(at)
    with read_session() as s:
        invoice_id = s.scalars(
            select(InvoiceItem.invoice_id).where(InvoiceItem.kind == "addon")
        ).first()
        balance = s.get_one(Invoice, invoice_id).balance
    billing.record_payment(SYSTEM, [invoice_id], balance)
    at = app_as(a, "services", service=str(a.service_id))
    assert tr("addons.status.active") in texts(at)
    at.button(key="addons_cancel_submit").click().run()
    assert tr("addons.cancel_confirm_needed") in texts(at)
    at.checkbox(key="addons_cancel_confirm").check()  # a form's values go with its submit
    at.button(key="addons_cancel_submit").click().run()
    assert not at.exception
    with read_session() as s:
        [addon] = s.scalars(select(ServiceAddon)).all()
    assert addon.cancel_at is not None and addon.cancel_at == addon.next_due_date


def test_client_b_sees_no_add_on_of_client_a(fake, page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    ssl_for(a)
    app_as(a, "services", service=str(a.service_id)).button(key="addons_order_submit").click().run()
    at = app_as(b, "services", service=str(a.service_id))
    assert not at.exception
    shown = texts(at)
    assert tr("addons.title", "en") not in shown and "SSL" not in shown
    assert tr("error.not_found", "en") in shown
