"""Cancelling a service from the "services" page (AppTest on SQLite, fake panel): the client's
two choices, reason, retention offer and confirmation; the staff queue with undo."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core import billing
from core.access import SYSTEM
from core.models import CancellationRequest, Invoice, Product, ProductPrice, Service
from core.platform.clock import today
from core.platform.config import get_settings
from core.platform.db import read_session, unit_of_work
from core.platform.i18n import day
from core.services import cancellations
from tests.pages.apptest import app_as, texts, tr
from tests.panel_fixtures import page_fake, whm  # noqa: F401 - fixtures
from tests.personas import falls_due_in

SUBMIT = tr("cancel.submit")


def requests() -> list[tuple[int, str, str]]:
    with read_session() as s:
        return [
            (r.service_id, r.type, r.reason)
            for r in s.scalars(select(CancellationRequest).order_by(CancellationRequest.id))
        ]


def submit(at):
    next(b for b in at.button if b.label == SUBMIT).click().run()
    return at


def test_client_asks_to_cancel_at_the_end_of_the_period(page_fake, page_personas):
    a = page_personas.client_a
    ends = day(falls_due_in(a, 21), "es")  # a period not begun: its invoice is cancelled
    at = app_as(a, "services", service=str(a.service_id))
    assert not at.exception
    assert tr("cancel.title") in [h.value for h in at.subheader]
    assert list(at.radio(key="services_cancel_type").options) == [
        tr("cancel.type.immediate"),
        tr("cancel.type.end_of_billing_period", date=ends),
    ]
    assert tr("cancel.begun_stays_due") in [c.value for c in at.caption]  # rule 8, said first
    at.text_area(key="services_cancel_reason").set_value("Migramos a otro proveedor")
    submit(at)
    assert [e.value for e in at.error] == [tr("cancel.confirm_needed")]
    assert requests() == []
    at.radio(key="services_cancel_type").set_value("end_of_billing_period")
    at.checkbox(key="services_cancel_confirm").check()
    submit(at)
    assert not at.exception
    assert [s.value for s in at.success] == [tr("cancel.requested_done")]
    assert requests() == [(a.service_id, "end_of_billing_period", "Migramos a otro proveedor")]
    shown = texts(at)
    assert tr("cancel.pending.end_of_billing_period", date=ends) in shown
    assert not [b for b in at.button if b.label == SUBMIT]  # one request at a time
    with read_session() as s:
        assert s.get(Invoice, a.invoice_id).status == "cancelled"


def test_a_reason_is_required_and_shown_as_plain_text(page_fake, page_personas):
    b = page_personas.client_b  # reads English
    at = app_as(b, "services", service=str(b.service_id))
    at.checkbox(key="services_cancel_confirm").check()
    next(x for x in at.button if x.label == tr("cancel.submit", "en")).click().run()
    assert [e.value for e in at.error] == [tr("error.cancel_reason_required", "en")]
    assert requests() == []


def test_the_retention_offer_comes_before_confirming(page_fake, page_personas):
    a = page_personas.client_a
    falls_due_in(a, 21)  # an overdue service is offered no plan change, and pages read the clock
    with unit_of_work() as s:
        mini = Product(name="Mini", whm_package="default", sort_order=3)
        s.add(mini)
        s.flush()
        s.add(ProductPrice(product_id=mini.id, cycle="monthly", price=Decimal("6.00")))
        s.get(Service, a.service_id).product.upgrade_targets = [mini.id]
    at = app_as(a, "services", service=str(a.service_id))
    # An unpaid renewal blocks a plan change, so nothing is offered (issue 16 item 3) …
    assert not [i.value for i in at.info if "Mini" in i.value]
    with read_session() as s:
        due = s.get(Invoice, a.invoice_id).balance
    billing.record_payment(SYSTEM, [a.invoice_id], due)
    at = app_as(a, "services", service=str(a.service_id))  # … until it is paid
    offers = [i.value for i in at.info if "Mini" in i.value]
    assert offers == [
        tr("cancel.offer", plan="Mini", price="$6,00", cycle=tr("cycle.monthly"), saving="$4,00")
    ]


def test_staff_see_the_queue_and_undo_a_request(page_fake, page_personas):
    a = page_personas.client_a
    day = today(get_settings().tz)
    cancellations.request(a.actor, a.service_id, "immediate", "<b>ya no</b>", today=day)
    at = app_as(page_personas.staff, "services")
    assert not at.exception
    assert tr("cancel.queue_title") in [h.value for h in at.subheader]
    queue = at.dataframe[-1].value.to_string()
    assert (
        "cliente-a.ec" in queue and "<b>ya no</b>" in queue and tr("cancel.kind.immediate") in queue
    )
    next(b for b in at.button if b.label == tr("cancel.undo")).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("cancel.undone_done")]
    assert requests() == [] and tr("cancel.queue_empty") in texts(at)
    # A client has no queue and no other client's service to cancel.
    at = app_as(page_personas.client_b, "services")
    assert tr("cancel.queue_title", "en") not in texts(at)
    at = app_as(page_personas.client_b, "services", service=str(a.service_id))
    assert [e.value for e in at.error] == [tr("error.not_found", "en")]
    assert not [b for b in at.button if b.label == tr("cancel.submit", "en")]
