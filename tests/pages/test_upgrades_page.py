"""Upgrades page ("upgrades"): plan-change quotes and new orders per role, against the faithful
fake WHM on loopback; plus the staff "Add a service" form on the services page."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, panel, plan_changes
from core.models import Client, Invoice, PlanChange, Product, Service
from core.platform import i18n
from core.platform.clock import today
from core.platform.config import get_settings
from core.platform.db import read_session, unit_of_work
from sandbox.whm_server import FakeWhm
from tests.pages.apptest import app_as, page_alone, texts, tr
from tests.panel_fixtures import calls, dead_port, point_server, ready, whm  # noqa: F401 - fixtures
from tests.personas import add_estandar

# The order form's submit button, as AppTest names it: "FormSubmitter:<form>-<label>".
ORDER_REVIEW = f"FormSubmitter:upgrades_order_form-{tr('orders.review')}"


def order(at, domain: str):
    """Fill the order form, see the cost, and confirm."""
    at.text_input(key="upgrades_order_domain").input(domain)
    at.button(key=ORDER_REVIEW).click().run()
    assert not at.exception
    at.button(key="upgrades_order_confirm").click().run()
    return at


@pytest.fixture
def fake(whm: FakeWhm, page_personas) -> Iterator[FakeWhm]:
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


def catalogue() -> int:
    """Básico ($10/month) may move to Estándar ($20/month); returns Estándar's id."""
    with unit_of_work() as s:
        estandar = add_estandar(s)
        return estandar.id


def unblock(personas, persona) -> None:
    """Pay the renewal invoice and put the due date 15 days after today (whatever today is)."""
    billing.record_payment(personas.owner.actor, [persona.invoice_id], "11.50")
    due = today(get_settings().tz) + timedelta(days=15)
    with unit_of_work() as s:
        svc = s.get(Service, persona.service_id)
        svc.next_due_date, svc.anchor_day = due, due.day


def changepackages(fake: FakeWhm) -> int:
    return len([e for e in calls(fake, "changepackage") if e["fault"] is None])


def test_client_sees_the_quote_confirms_and_the_payment_applies_it_once(fake, page_personas):
    estandar = catalogue()
    a, owner = page_personas.client_a, page_personas.owner.actor
    unblock(page_personas, a)
    expected = plan_changes.quote(a.actor, a.service_id, estandar, "monthly")

    at = app_as(a, "upgrades")
    assert not at.exception
    at.selectbox(key="upgrades_service").select(a.service_id).run()
    assert at.query_params["service"] in (str(a.service_id), [str(a.service_id)])
    shown = texts(at)
    assert "Estándar" in shown and tr("upgrades.quote_title") in shown
    frame = at.dataframe[0].value.to_string()
    for amount in (expected.credit, expected.charge, expected.tax, expected.total):
        assert i18n.money(amount, "es") in frame
    for sentence in plan_changes.explain(expected, "es"):
        assert sentence in shown
    assert i18n.day(expected.valid_until, "es") in shown

    assert at.button(key="upgrades_confirm").disabled
    assert tr("upgrades.once_a_day") in [c.value for c in at.caption]  # said before confirming
    at.checkbox(key="upgrades_accept").check().run()
    at.button(key="upgrades_confirm").click().run()
    assert not at.exception
    assert tr("upgrades.confirmed_done") in [s.value for s in at.success]  # status pending
    with read_session() as s:
        change = s.scalars(select(PlanChange)).one()
        invoice = s.get(Invoice, change.invoice_id)
    assert change.status == "pending" and invoice.total == expected.total
    links = [link.proto.query_string for link in at.get("page_link")]
    assert f"invoice={invoice.id}" in links
    # The invoice is named by its number, as everywhere else (F0000064, never "#64").
    labels = [link.proto.label for link in at.get("page_link")]
    assert tr("upgrades.open_invoice", number=invoice.number) in labels
    assert not [label for label in labels if "#" in label]
    assert labels.count(tr("upgrades.open_invoice", number=invoice.number)) == 1  # linked once

    billing.record_payment(owner, [invoice.id], invoice.total)
    assert changepackages(fake) == 1 and fake.accounts["clienta"]["plan"] == "estandar"
    at = app_as(a, "upgrades")
    assert tr("upgrades.status.applied") in texts(at) and changepackages(fake) == 1
    with read_session() as s:
        assert s.get(Service, a.service_id).recurring_amount == Decimal("20.00")
    # Back to Básico the same day: the once-a-day limit shows before any confirm button.
    with unit_of_work() as s:
        basico = s.scalars(select(Product).where(Product.name == "Básico")).one()
        s.get(Product, estandar).upgrade_targets = [basico.id]
    at = app_as(a, "upgrades", service=str(a.service_id))
    assert tr("error.upgrade_again_tomorrow") in [w.value for w in at.warning]
    assert not [b for b in at.button if b.key == "upgrades_confirm"]


def test_a_blocked_change_says_why_and_client_b_sees_nothing_of_client_a(fake, page_personas):
    catalogue()
    a, b = page_personas.client_a, page_personas.client_b
    at = app_as(a, "upgrades", service=str(a.service_id))
    assert not at.exception
    assert any("F-A-1" in w.value for w in at.warning)
    assert not at.get("radio") and not at.dataframe

    at = app_as(b, "upgrades", service=str(a.service_id))
    assert not at.exception
    shown = texts(at)
    assert (
        tr("error.not_found", "en") in shown
        and "cliente-a.ec" not in shown
        and "Básico" not in shown
    )
    assert [btn.key for btn in at.button] == ["upgrades_back"]
    assert not at.get("radio") and not at.metric and not at.dataframe


def test_owner_sees_any_client_and_applies_a_paid_change_the_panel_refused(fake, page_personas):
    estandar = catalogue()
    a, owner = page_personas.client_a, page_personas.owner
    unblock(page_personas, a)
    at = app_as(owner, "upgrades", service=str(a.service_id))
    assert not at.exception
    shown = texts(at)
    assert (
        tr("upgrades.client_line", client="Cliente A") in shown
        and "Estándar" in shown
        and at.get("radio")
    )

    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly")
    point_server(dead_port(), fake.token)
    billing.record_payment(owner.actor, [made.invoice_id], "11.50")
    at = app_as(owner, "upgrades")
    shown = texts(at)
    assert tr("upgrades.status.paid") in shown and "Cliente A" in shown
    point_server(fake.port, fake.token)
    at.button(key=f"FormSubmitter:upgrades_retry_form-{tr('upgrades.retry_button')}").click().run()
    assert not at.exception
    assert tr("upgrades.applied_now_done") in [s.value for s in at.success]
    assert changepackages(fake) == 1


def test_staff_without_the_page_are_refused(fake, page_personas):
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        app_as(page_personas.staff, "upgrades")  # not in their navigation at all
    at = page_alone(page_personas.staff, "upgrades")  # and the page's own guard refuses
    assert not at.exception
    assert tr("error.page_not_allowed") in texts(at)
    assert not at.dataframe and not at.get("radio") and not at.metric


def test_client_orders_a_new_plan_from_the_page(fake, page_personas):
    a = page_personas.client_a
    at = app_as(a, "upgrades")
    assert not at.exception
    at.text_input(key="upgrades_order_domain").input("mi-tienda.ec")
    at.button(key=ORDER_REVIEW).click().run()
    # Nothing is ordered before the client reads the cost and confirms.
    with read_session() as s:
        assert s.scalars(select(Service).where(Service.domain == "mi-tienda.ec")).first() is None
    shown = texts(at)
    assert tr("orders.confirm_on_payment", due="$11,50") in shown
    at.button(key="upgrades_order_confirm").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        tr("orders.placed_done", domain="mi-tienda.ec", total="$11,50", credit="$0,00")
    ]
    with read_session() as s:
        svc = s.scalars(select(Service).where(Service.domain == "mi-tienda.ec")).one()
    assert svc.status == "pending" and svc.client_id == a.actor.client_id
    shown = texts(at)
    assert tr("orders.stage.awaiting_payment") in shown
    order(at, "cliente-b.ec")
    assert any(tr("error.order_domain_taken", domain="cliente-b.ec") in e.value for e in at.error)


def test_an_order_shows_the_credit_it_will_use_and_tells_the_truth(fake, page_personas):
    """Issue 16 item 2: credit is never spent without asking, and the message says the
    account is active when the credit paid for it."""
    a = page_personas.client_a
    billing.add_credit(page_personas.owner.actor, a.actor.client_id, "50.00", "saldo")
    at = app_as(a, "upgrades")
    at.text_input(key="upgrades_order_domain").input("con-credito.ec")
    at.button(key=ORDER_REVIEW).click().run()
    shown = texts(at)
    assert tr("orders.quote_credit") in shown and "−$11,50" in shown
    assert tr("orders.confirm_by_credit", credit="$11,50") in shown
    with read_session() as s:  # reading the quote spent nothing
        assert s.get(Client, a.actor.client_id).credit_balance == Decimal("50.00")
    # Changing one's mind places nothing.
    at.button(key="upgrades_order_change").click().run()
    assert not [b for b in at.button if b.key == "upgrades_order_confirm"]
    at = order(at, "con-credito.ec")
    assert not at.exception
    assert [s.value for s in at.success] == [
        tr("orders.placed_active", domain="con-credito.ec", total="$11,50", credit="$11,50")
    ]
    with read_session() as s:
        svc = s.scalars(select(Service).where(Service.domain == "con-credito.ec")).one()
        assert svc.status == "active"
        assert s.get(Client, a.actor.client_id).credit_balance == Decimal("38.50")


def test_the_owner_opens_any_of_many_orders_invoices_from_one_choice(fake, page_personas):
    """A few orders' invoices are links under the table; the desk's list of many orders is
    one choice and one link to the chosen order's invoice, not a column of links."""
    from core import orders

    a, owner = page_personas.client_a, page_personas.owner
    with read_session() as s:
        basico = s.get(Service, a.service_id).product_id
    placed = [
        orders.place_order(a.actor, product_id=basico, cycle="monthly", domain=f"orden{i}.ec")
        for i in range(7)
    ]
    numbers = {p.invoice_id: invoice_number(p.invoice_id) for p in placed}

    at = app_as(owner, "upgrades")
    assert not at.exception
    choice = at.selectbox(key="upgrades_order_invoice")
    assert set(choice.options) == {f"{n} · orden{i}.ec" for i, n in enumerate(numbers.values())}
    [link] = at.get("page_link")
    assert link.proto.label == tr("upgrades.open_invoice", number=numbers[choice.value])
    last = placed[-1].invoice_id
    choice.set_value(last).run()
    [link] = at.get("page_link")
    assert link.proto.label == tr("upgrades.open_invoice", number=numbers[last])
    assert f"invoice={last}" in link.proto.query_string

    # The client who ordered seven gets the same choice of their own; client B, none.
    at = app_as(a, "upgrades")
    assert set(at.selectbox(key="upgrades_order_invoice").options) == set(choice.options)
    at = app_as(page_personas.client_b, "upgrades")
    assert not [b for b in at.selectbox if b.key == "upgrades_order_invoice"]
    assert not at.get("page_link")


def invoice_number(invoice_id: int) -> str:
    with read_session() as s:
        return s.get(Invoice, invoice_id).number


def test_staff_add_a_service_for_a_client_on_the_services_page(fake, page_personas):
    at = app_as(page_personas.staff, "services")
    assert not at.exception
    at.text_input(key="services_add_search").input("Cliente B").run()
    at.text_input(key="services_add_domain").input("agregado-b.ec")
    at.button(key="services_add_submit").click().run()
    assert not at.exception
    assert any("agregado-b.ec" in s.value for s in at.success)
    with read_session() as s:
        svc = s.scalars(select(Service).where(Service.domain == "agregado-b.ec")).one()
    assert svc.client_id == page_personas.client_b.actor.client_id and svc.status == "pending"


def test_staff_are_told_when_the_clients_credit_paid_the_new_service(fake, page_personas):
    b = page_personas.client_b
    billing.add_credit(page_personas.owner.actor, b.actor.client_id, "50.00", "saldo")
    at = app_as(page_personas.staff, "services")
    at.text_input(key="services_add_search").input("Cliente B").run()
    at.text_input(key="services_add_domain").input("pagado-b.ec")
    at.button(key="services_add_submit").click().run()
    assert not at.exception
    with read_session() as s:
        number = s.scalars(select(Invoice.number).order_by(Invoice.id.desc())).first()
    assert [m.value for m in at.success] == [
        tr("orders.added_paid", domain="pagado-b.ec", number=number, credit="$11,50")
    ]


def test_a_malformed_service_id_shows_only_not_found(fake, page_personas):
    a = page_personas.client_a
    for value in ("abc", "999999", "1.5"):
        at = app_as(a, "upgrades", service=value)
        assert not at.exception
        assert [e.value for e in at.error] == [tr("error.not_found")]
        assert [btn.key for btn in at.button] == ["upgrades_back"]
        assert "cliente-a.ec" not in texts(at)
    at = app_as(a, "upgrades", service="")  # an empty one selects nothing, as no parameter
    assert not at.exception and not at.error
    assert at.selectbox(key="upgrades_service").value is None
