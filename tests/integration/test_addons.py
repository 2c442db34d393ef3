"""Issue 19, acceptance 1 (add-ons): the prorated first invoice, the shared renewal invoice,
suspension, reactivation and termination with the parent, cancellation at period end, a plan
change that keeps or ends them, and client B never reaching client A's add-ons.

The personas' services are monthly (anchor 5, 10.00 + IVA 15 %), each with an unpaid renewal
for the period starting 2026-12-05 (tests/personas.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import addons, automation, billing
from core.access import SYSTEM
from core.addons import renewing as addons_renewing
from core.addons.lifecycle import end_misfits
from core.models import (
    AddonCharge,
    Invoice,
    InvoiceItem,
    Product,
    ProductPrice,
    Service,
    ServiceAddon,
    Ticket,
)
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, NotFound, ValidationError
from core.services import provisioning as services_provisioning
from tests.panel_fixtures import fake, whm  # noqa: F401 - fixtures

D = date.fromisoformat


def noon(day: str) -> datetime:
    return datetime.fromisoformat(day + "T17:00:00")  # noon in Guayaquil, stored UTC


def add_on_products(personas) -> tuple[int, int]:
    """An SSL certificate that fits the personas' plan (monthly 3.00, setup 5.00, staff sets
    it up) and a dedicated IP that fits no plan."""
    with unit_of_work() as s:
        plan = s.get_one(Service, personas.client_a.service_id).product_id
        ssl = Product(
            name="Certificado SSL",
            name_en="SSL certificate",
            whm_package="",
            kind="addon",
            addon_fits=[plan],
            addon_action="staff",
        )
        ip = Product(name="IP dedicada", whm_package="", kind="addon", addon_fits=[])
        s.add_all([ssl, ip])
        s.flush()
        s.add(
            ProductPrice(
                product_id=ssl.id, cycle="monthly", price=Decimal("3.00"), setup_fee=Decimal("5.00")
            )
        )
        s.add(ProductPrice(product_id=ip.id, cycle="monthly", price=Decimal("4.00")))
        return ssl.id, ip.id


def addon(addon_id: int) -> ServiceAddon:
    with read_session() as s:
        return s.get_one(ServiceAddon, addon_id)


def lines(invoice_id: int) -> list[tuple[str, Decimal, date | None]]:
    with read_session() as s:
        return [
            (i.kind, i.amount, i.period_start)
            for i in s.scalars(
                select(InvoiceItem)
                .where(InvoiceItem.invoice_id == invoice_id)
                .order_by(InvoiceItem.id)
            )
        ]


def inv(invoice_id: int) -> Invoice:
    with read_session() as s:
        return s.get_one(Invoice, invoice_id)


def pay(invoice_id: int, on: date) -> None:
    billing.record_payment(SYSTEM, [invoice_id], inv(invoice_id).balance, received_on=on)


def ordered_and_paid(personas, ssl: int) -> int:
    """Client A pays the December renewal, then orders the SSL on 2026-12-20 and pays it."""
    a = personas.client_a
    pay(a.invoice_id, D("2026-12-01"))  # next due 2027-01-05
    addon_id, invoice_id = addons.order(a.actor, a.service_id, ssl, at=noon("2026-12-20"))
    pay(invoice_id, D("2026-12-20"))
    return addon_id


def test_the_first_invoice_is_prorated_to_the_parents_next_due_date(fake, personas):
    ssl, _ = add_on_products(personas)
    a = personas.client_a
    pay(a.invoice_id, D("2026-12-01"))
    offers = addons.offers(a.actor, a.service_id, "en")
    assert [(o.name, o.price, o.setup_fee) for o in offers] == [
        ("SSL certificate", Decimal("3.00"), Decimal("5.00"))
    ]
    addon_id, invoice_id = addons.order(a.actor, a.service_id, ssl, at=noon("2026-12-20"))
    # 16 days (Dec 20 → Jan 5) of the parent's 31-day period Dec 5 → Jan 5: 3 × 16 / 31.
    assert lines(invoice_id) == [
        ("setup", Decimal("5.00"), None),
        ("addon", Decimal("1.55"), D("2026-12-20")),
    ]
    assert inv(invoice_id).total == Decimal("7.53")  # 6.55 + 15 % IVA
    assert addon(addon_id).status == "pending"
    with pytest.raises(Conflict):  # one of each per service
        addons.order(a.actor, a.service_id, ssl, at=noon("2026-12-20"))
    pay(invoice_id, D("2026-12-20"))
    started = addon(addon_id)
    assert (started.status, started.next_due_date) == ("active", D("2027-01-05"))
    with read_session() as s:  # staff act on it: a task in the desk's queue
        subjects = s.scalars(select(Ticket.subject)).all()
    assert any("Certificado SSL" in subject for subject in subjects)


def test_an_order_after_the_parents_renewal_was_invoiced_also_bills_the_next_period(fake, personas):
    ssl, _ = add_on_products(personas)
    a = personas.client_a  # the renewal for Dec 5 is already on an unpaid invoice
    addon_id, invoice_id = addons.order(a.actor, a.service_id, ssl, at=noon("2026-11-28"))
    # 7 days (Nov 28 → Dec 5) of the 30-day Nov 5 → Dec 5 period, then Dec 5 → Jan 4 in full.
    assert lines(invoice_id) == [
        ("setup", Decimal("5.00"), None),
        ("addon", Decimal("0.70"), D("2026-11-28")),
        ("addon", Decimal("3.00"), D("2026-12-05")),
    ]
    pay(invoice_id, D("2026-11-29"))
    assert addon(addon_id).next_due_date == D("2027-01-05")


def test_what_cannot_be_ordered_is_refused_and_nothing_is_written(fake, personas):
    ssl, ip = add_on_products(personas)
    a = personas.client_a
    with pytest.raises(Conflict):  # the parent's Dec 5 renewal is overdue on Dec 6
        addons.order(a.actor, a.service_id, ssl, at=noon("2026-12-06"))
    pay(a.invoice_id, D("2026-12-01"))
    with pytest.raises(ValidationError):  # fits no plan
        addons.order(a.actor, a.service_id, ip, at=noon("2026-12-20"))
    with read_session() as s:
        assert s.scalars(select(ServiceAddon)).all() == []


def test_the_renewal_invoice_is_shared_and_paying_it_moves_both(fake, personas):
    ssl, _ = add_on_products(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, ssl)
    preview = [i for i in automation.plan(D("2026-12-22")) if i.service_id == a.service_id]
    assert [(i.step, i.amount) for i in preview] == [("renewal", Decimal("13.00"))]
    assert automation.run(D("2026-12-22")).counts["invoices_created"] == 1
    with read_session() as s:
        item = s.scalars(
            select(InvoiceItem).where(
                InvoiceItem.service_id == a.service_id, InvoiceItem.period_start == D("2027-01-05")
            )
        ).one()
        renewal = item.invoice_id
    assert lines(renewal) == [
        ("renewal", Decimal("10.00"), D("2027-01-05")),
        ("addon", Decimal("3.00"), D("2027-01-05")),
    ]
    assert inv(renewal).total == Decimal("14.95")
    assert automation.run(D("2026-12-22")).counts["invoices_created"] == 0  # once
    pay(renewal, D("2027-01-02"))
    with read_session() as s:
        assert s.get_one(Service, a.service_id).next_due_date == D("2027-02-05")
    assert addon(addon_id).next_due_date == D("2027-02-05")


def test_suspended_reactivated_and_terminated_with_the_parent(fake, personas):
    ssl, _ = add_on_products(personas)
    a, owner = personas.client_a, personas.owner.actor
    addon_id = ordered_and_paid(personas, ssl)
    services_provisioning.suspend(owner, a.service_id, "Abuso de recursos")
    assert addon(addon_id).status == "suspended"
    services_provisioning.unsuspend(owner, a.service_id)
    assert addon(addon_id).status == "active"
    services_provisioning.terminate(owner, a.service_id, today=D("2026-12-28"))
    gone = addon(addon_id)
    assert (gone.status, gone.ended_on) == ("terminated", D("2026-12-28"))


def test_the_daily_run_suspends_and_reactivates_the_add_on_with_its_parent(fake, personas):
    ssl, _ = add_on_products(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, ssl)
    automation.run(D("2026-12-22"))  # the shared renewal for Jan 5, left unpaid
    automation.run(D("2027-01-10"))  # five days overdue: suspended
    assert addon(addon_id).status == "suspended"
    with read_session() as s:
        renewal = s.scalars(
            select(InvoiceItem.invoice_id).where(
                InvoiceItem.service_id == a.service_id, InvoiceItem.period_start == D("2027-01-05")
            )
        ).one()
    pay(renewal, D("2027-01-11"))
    assert addon(addon_id).status == "active"
    assert addon(addon_id).next_due_date == D("2027-02-05")


def test_cancelled_at_period_end_it_stops_renewing_and_ends_on_that_day(fake, personas):
    ssl, _ = add_on_products(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, ssl)
    assert addons.cancel_at_period_end(a.actor, addon_id, at=noon("2026-12-21")) == D("2027-01-05")
    with pytest.raises(Conflict):
        addons.cancel_at_period_end(a.actor, addon_id, at=noon("2026-12-21"))
    automation.run(D("2026-12-22"))
    with read_session() as s:
        renewal = s.scalars(
            select(InvoiceItem.invoice_id).where(
                InvoiceItem.service_id == a.service_id, InvoiceItem.period_start == D("2027-01-05")
            )
        ).one()
    assert [kind for kind, *_ in lines(renewal)] == ["renewal"]
    assert addon(addon_id).status == "active"  # paid until Jan 4
    assert automation.run(D("2027-01-04")).counts["addons_ended"] == 0
    assert automation.run(D("2027-01-05")).counts["addons_ended"] == 1
    assert automation.run(D("2027-01-05")).counts["addons_ended"] == 0
    ended = addon(addon_id)
    assert (ended.status, ended.ended_on) == ("cancelled", D("2027-01-05"))


def test_cancelling_after_the_renewal_was_invoiced_takes_its_line_off(fake, personas):
    ssl, _ = add_on_products(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, ssl)
    automation.run(D("2026-12-22"))
    with read_session() as s:
        renewal = s.scalars(
            select(InvoiceItem.invoice_id).where(
                InvoiceItem.service_id == a.service_id, InvoiceItem.period_start == D("2027-01-05")
            )
        ).one()
    assert inv(renewal).total == Decimal("14.95")
    addons.cancel_at_period_end(a.actor, addon_id, at=noon("2026-12-23"))
    assert [kind for kind, *_ in lines(renewal)] == ["renewal"]
    assert inv(renewal).total == Decimal("11.50") and inv(renewal).balance == Decimal("11.50")
    with read_session() as s:
        assert (
            s.scalars(select(AddonCharge).where(AddonCharge.period_start == D("2027-01-05"))).all()
            == []
        )


def test_a_plan_change_keeps_what_fits_and_ends_the_rest_saying_why(fake, personas):
    ssl, _ = add_on_products(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, ssl)
    with unit_of_work() as s:
        plan = s.get_one(Service, a.service_id).product_id
        assert end_misfits(s, SYSTEM, a.service_id, plan, False, D("2026-12-24")) == []
        other = Product(name="Otro plan", whm_package="otro")
        s.add(other)
        s.flush()
        assert [x.id for x in addons.misfits(s, a.service_id, other.id)] == [addon_id]
        assert end_misfits(s, SYSTEM, a.service_id, other.id, False, D("2026-12-24")) == [addon_id]
    ended = addon(addon_id)
    assert (ended.status, ended.note) == ("cancelled", "misfit")


def test_client_b_never_sees_or_touches_client_as_add_ons(fake, personas, client_b_as):
    ssl, _ = add_on_products(personas)
    a, b = personas.client_a, client_b_as
    addon_id = ordered_and_paid(personas, ssl)
    with pytest.raises(NotFound):
        addons.order(b.actor, a.service_id, ssl, at=noon("2026-12-20"))
    with pytest.raises(NotFound):
        addons.cancel_at_period_end(b.actor, addon_id, at=noon("2026-12-21"))
    with pytest.raises(NotFound):
        addons.of_service(b.actor, a.service_id)
    with pytest.raises(NotFound):
        addons.offers(b.actor, a.service_id)
    assert [v.id for v in addons.of_service(a.actor, a.service_id)] == [addon_id]
    assert addon(addon_id).cancel_at is None


def test_mrr_reports_and_the_pdf_count_the_add_ons(fake, personas):
    from core.billing import pdf
    from core.insights import reports, revenue

    ssl, _ = add_on_products(personas)
    owner = personas.owner.actor
    before = revenue.mrr(owner)
    ordered_and_paid(personas, ssl)
    assert revenue.mrr(owner) == before + Decimal("3.00")
    frame = reports.services_by_product(owner)
    row = frame[frame["product"] == "Certificado SSL"].iloc[0]
    assert (row["status"], row["services"], row["mrr"]) == ("active", 1, Decimal("3.00"))
    automation.run(D("2026-12-22"))
    with read_session() as s:
        renewal = s.scalars(
            select(InvoiceItem.invoice_id)
            .where(InvoiceItem.kind == "addon")
            .order_by(InvoiceItem.id.desc())
        ).first()
    from tests.integration.billing_helpers import pdf_text

    text = pdf_text(pdf.invoice_pdf(owner, renewal))
    assert "Certificado SSL para" in text


def test_the_demo_book_offers_add_ons_that_fit_each_plan(sqlite_database):
    from sandbox import demo

    with unit_of_work() as s:
        demo.load(s, D("2026-12-04"), help_centre=False, einvoicing=False)
    with read_session() as s:
        names = set(s.scalars(select(Product.name).where(Product.kind == "addon")))
        premium = s.scalars(
            select(Service)
            .join(Product)
            .where(Product.name == "Premium", Service.status == "active")
        ).first()
        basico = s.scalars(
            select(Service)
            .join(Product)
            .where(Product.name == "Básico", Service.status == "active")
        ).first()
    assert names == {name for name, *_ in demo.ADDON_PRODUCTS}
    with read_session() as s:
        disk = s.scalars(select(Product).where(Product.name == "Disco extra 10 GB")).one()
        assert (disk.addon_action, disk.addon_quota_mb) == ("quota", 10240)
    if premium is not None:
        assert "IP dedicada" in {o.name for o in addons.offers(SYSTEM, premium.id)}
    if basico is not None:
        offered = {o.name for o in addons.offers(SYSTEM, basico.id, "en")}
        assert "Dedicated IP" not in offered and "SSL certificate" in offered


def test_the_owner_saves_add_on_products_and_bad_ones_are_refused(fake, personas):
    from core import catalog

    owner = personas.owner.actor
    with read_session() as s:
        plan = s.get_one(Service, personas.client_a.service_id).product_id
    form = catalog.ProductForm(
        name="Copias diarias",
        whm_package="",
        prices={"monthly": ("2.00", "")},
        kind="addon",
        addon_fits=[plan],
        addon_action="none",
    )
    made = catalog.save_product(owner, form)
    view = next(p for p in catalog.list_products(owner) if p.id == made)
    assert (view.kind, view.addon_fits, view.addon_action) == ("addon", (plan,), "none")
    for bad, key in (
        (replace(form, name="A", kind="gadget"), "addons.error_kind"),
        (replace(form, name="B", addon_action="panel"), "addons.error_action"),
        (replace(form, name="C", addon_fits=[made]), "addons.error_fits"),  # not a plan
        (replace(form, name="D", kind="hosting"), "catalog.error_package"),
    ):
        with pytest.raises(ValidationError) as caught:
            catalog.save_product(owner, bad)
        assert caught.value.key == key
    # A plan with services cannot become an add-on.
    with read_session() as s:
        basico = s.get_one(Product, plan)
        keep = catalog.ProductForm(
            name=basico.name, whm_package=basico.whm_package, prices={"monthly": ("10.00", "")}
        )
    with pytest.raises(ValidationError):
        catalog.save_product(owner, replace(keep, kind="addon"), product_id=plan)
    # Add-ons are not hosting plans a visitor can order.
    from core import orders

    assert made not in {o.product_id for o in orders.offers(owner)}


def test_a_paid_upgrade_says_first_which_add_ons_end_then_ends_them(fake, personas):
    from core import plan_changes

    ssl, _ = add_on_products(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, ssl)
    with unit_of_work() as s:
        svc = s.get_one(Service, a.service_id)
        plus = Product(name="Plus", whm_package="estandar")
        s.add(plus)
        s.flush()
        s.add(ProductPrice(product_id=plus.id, cycle="monthly", price=Decimal("20.00")))
        s.get_one(Product, svc.product_id).upgrade_targets = [plus.id]
        plus_id = plus.id
    assert addons.ending_with(a.actor, a.service_id, plus_id, "monthly", "en") == [
        ("SSL certificate", "misfit")
    ]
    with pytest.raises(NotFound):
        addons.ending_with(personas.client_b.actor, a.service_id, plus_id, "monthly")
    made = plan_changes.confirm(a.actor, a.service_id, plus_id, "monthly", at=noon("2026-12-21"))
    pay(made.invoice_id, D("2026-12-21"))
    with read_session() as s:
        assert s.get_one(Service, a.service_id).product_id == plus_id
    ended = addon(addon_id)
    assert (ended.status, ended.note) == ("cancelled", "misfit")


def test_an_invited_user_orders_and_cancels_add_ons_only_with_those_permissions(fake, personas):
    """Ordering bills the account (services and billing); ending one is a cancellation."""
    from dataclasses import replace

    ssl, _ = add_on_products(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, ssl)
    tickets_only = replace(a.actor, client_permissions=frozenset({"tickets"}))
    services_only = replace(a.actor, client_permissions=frozenset({"services"}))
    with pytest.raises(NotFound):
        addons.order(tickets_only, a.service_id, ssl, at=noon("2026-12-21"))
    with pytest.raises(NotFound):
        addons.order(services_only, a.service_id, ssl, at=noon("2026-12-21"))
    with pytest.raises(NotFound):
        addons.of_service(tickets_only, a.service_id)
    with pytest.raises(NotFound):
        addons.cancel_at_period_end(services_only, addon_id, at=noon("2026-12-21"))
    assert addon(addon_id).cancel_at is None
    may_cancel = replace(a.actor, client_permissions=frozenset({"cancellations"}))
    assert addons.cancel_at_period_end(may_cancel, addon_id, at=noon("2026-12-21"))
    assert addon(addon_id).cancel_at is not None


def test_the_add_ons_of_a_big_days_renewals_are_all_found(fake, personas):
    """A daily run on a big book renews ~190,000 services at once (the XL bench): their
    add-ons are found although PostgreSQL takes at most 65,535 parameters a statement."""
    ssl, _ = add_on_products(personas)
    addon_id = ordered_and_paid(personas, ssl)
    many = [*range(1_000_000, 1_070_000), personas.client_a.service_id]
    with read_session() as s:
        found = addons_renewing.billable(s, many)
        assert [a.id for a in found] == [addon_id]
