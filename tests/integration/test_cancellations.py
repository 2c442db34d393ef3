"""Cancellation requests (billing-rules §3.6) against a real database on each engine and the
faithful fake panel: both kinds, the invoices they release, the retention offer, the staff
queue and undo.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import automation, billing
from core.access import SYSTEM, Actor
from core.automation import oversight as automation_owner
from core.models import (
    AuditEntry,
    AutomationAction,
    AutomationRun,
    CancellationRequest,
    Client,
    Invoice,
    InvoiceItem,
    MailOutbox,
    Product,
    ProductPrice,
    Service,
)
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, Forbidden, NotFound, ValidationError
from core.services import cancellations
from tests.panel_fixtures import calls, fake, whm  # noqa: F401 - fixtures

D = date.fromisoformat
REASON = "Cerramos el negocio"


def svc(service_id: int) -> Service:
    with read_session() as s:
        return s.get(Service, service_id)


def inv(invoice_id: int) -> Invoice:
    with read_session() as s:
        return s.get(Invoice, invoice_id)


def renewal_of(service_id: int, start: date) -> Invoice | None:
    with read_session() as s:
        return s.scalars(
            select(Invoice)
            .join(InvoiceItem, InvoiceItem.invoice_id == Invoice.id)
            .where(
                InvoiceItem.service_id == service_id,
                InvoiceItem.kind == "renewal",
                InvoiceItem.period_start == start,
            )
        ).first()


def ledger(service_id: int, invoice_ids: set[int]) -> list[tuple[date, str]]:
    with read_session() as s:
        return [
            (day, key)
            for day, key in s.execute(
                select(AutomationRun.run_date, AutomationAction.key)
                .join(AutomationRun, AutomationRun.id == AutomationAction.run_id)
                .where(
                    (AutomationAction.service_id == service_id)
                    | AutomationAction.invoice_id.in_(invoice_ids or {0})
                )
                .order_by(AutomationAction.id)
            )
        ]


def mails(to: str) -> list[str]:
    with read_session() as s:
        return list(
            s.scalars(
                select(MailOutbox.template).where(MailOutbox.to_addr == to).order_by(MailOutbox.id)
            )
        )


def pay(invoice_id: int, on: date) -> None:
    billing.record_payment(SYSTEM, [invoice_id], inv(invoice_id).balance, received_on=on)


def test_end_of_period_terminates_on_the_due_date_never_suspended_no_reminder(fake, personas):
    a = personas.client_a
    pay(a.invoice_id, D("2026-11-27"))  # paid up to 2027-01-05
    automation.run(D("2026-12-22"))
    renewal = renewal_of(a.service_id, D("2027-01-05"))
    assert renewal is not None and renewal.status == "unpaid"
    options = cancellations.cancel_options(a.actor, a.service_id, today=D("2026-12-23"))
    assert options.can_request and options.end_of_period == D("2027-01-05")
    request_id = cancellations.request(
        a.actor, a.service_id, "end_of_billing_period", REASON, today=D("2026-12-23")
    )
    assert inv(renewal.id).status == "cancelled"  # no renewal will be asked for
    assert mails("a@test.ec")[-1] == "cancellation_confirmed"
    pending = cancellations.cancel_options(a.actor, a.service_id, today=D("2026-12-23")).pending
    assert pending is not None and pending.effective_date == D("2027-01-05")
    day = D("2026-12-23")
    while day <= D("2027-02-20"):
        automation.run(day)
        if day < D("2027-01-05"):
            assert svc(a.service_id).status == "active" and "clienta" in fake.accounts
        day += timedelta(days=1)
    assert svc(a.service_id).status == "cancelled" and "clienta" not in fake.accounts
    assert not [c for c in calls(fake, "suspendacct") if c["params"].get("user") == "clienta"]
    after = [(d, k) for d, k in ledger(a.service_id, {renewal.id}) if d >= D("2026-12-23")]
    assert after == [(D("2027-01-05"), f"cancel:{request_id}")]  # no reminder, no suspension
    assert renewal_of(a.service_id, D("2027-02-05")) is None
    assert mails("a@test.ec")[-1] == "service_terminated"
    with read_session() as s:
        done = s.get(CancellationRequest, request_id)
        assert done.processed_at is not None
    with pytest.raises(Conflict):
        cancellations.undo(personas.staff.actor, request_id)


def test_immediate_cancellation_is_processed_on_the_next_run(fake, personas):
    b = personas.client_b
    cancellations.request(b.actor, b.service_id, "immediate", "Not needed", today=D("2026-12-01"))
    assert inv(b.invoice_id).status == "cancelled" and "clientb" in fake.accounts
    assert mails("b@test.ec") == ["cancellation_confirmed"]
    with read_session() as s:
        subject = s.scalars(select(MailOutbox.subject)).first()
    assert subject.startswith("We received your cancellation request")  # B reads English
    result = automation.run(D("2026-12-01"))
    assert result.counts["cancellations_processed"] == 1
    assert svc(b.service_id).status == "cancelled" and "clientb" not in fake.accounts
    assert automation.run(D("2026-12-02")).counts["cancellations_processed"] == 0


def test_a_mixed_invoice_loses_only_that_services_line(fake, personas):
    owner, a = personas.owner.actor, personas.client_a
    pay(a.invoice_id, D("2026-11-27"))  # A is paid up to 2027-01-05
    with unit_of_work() as s:
        first = s.get(Service, a.service_id)
        second = Service(
            client_id=first.client_id,
            product_id=first.product_id,
            domain="tienda-a.ec",
            status="active",
            billing_cycle="monthly",
            recurring_amount=Decimal("10.00"),
            anchor_day=5,
            registration_date=D("2026-10-05"),
            next_due_date=D("2026-12-05"),
        )
        s.add(second)
        s.flush()
        second_id = second.id
    billing.add_credit(owner, a.actor.client_id, "15.00", "saldo")
    mixed = billing.create_invoice(
        owner,
        a.actor.client_id,
        [
            billing.LineInput("cliente-a.ec", "10.00", "renewal", a.service_id, D("2027-01-05")),
            billing.LineInput("tienda-a.ec", "10.00", "renewal", second_id, D("2026-12-05")),
        ],
        issued_on=D("2026-11-27"),
        due_on=D("2026-12-05"),
    )
    assert inv(mixed).balance == Decimal("8.00")  # 23.00 less 15.00 of credit
    cancellations.request(a.actor, second_id, "immediate", REASON, today=D("2026-11-28"))
    after = inv(mixed)
    with read_session() as s:
        lines = s.scalars(select(InvoiceItem).where(InvoiceItem.invoice_id == mixed)).all()
        credit = s.get(Client, a.actor.client_id).credit_balance
    assert [line.service_id for line in lines] == [a.service_id]
    # 11.50 is left to pay and 15.00 of credit was on it: 3.50 goes back, and it is paid.
    assert (after.total, after.credit_applied, after.balance) == (
        Decimal("11.50"),
        Decimal("11.50"),
        Decimal("0.00"),
    )
    assert after.status == "paid" and credit == Decimal("3.50")
    assert svc(a.service_id).next_due_date == D("2027-02-05")  # its line was paid: renewed
    with read_session() as s:
        removed = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "invoice.line_removed")
        ).one()
    assert removed.target_id == mixed and removed.details["service_id"] == second_id


def test_undo_restores_the_service_and_its_billing(fake, personas):
    a, staff = personas.client_a, personas.staff.actor
    pay(a.invoice_id, D("2026-11-27"))
    automation.run(D("2026-12-22"))
    old = renewal_of(a.service_id, D("2027-01-05"))
    request_id = cancellations.request(
        a.actor, a.service_id, "end_of_billing_period", REASON, today=D("2026-12-23")
    )
    queue = cancellations.pending(staff)
    assert [(q.id, q.domain, q.type, q.reason) for q in queue] == [
        (request_id, "cliente-a.ec", "end_of_billing_period", REASON)
    ]
    assert cancellations.pending(staff, search="cliente-b") == []
    for who in (a.actor, personas.client_b.actor):
        with pytest.raises(Forbidden):
            cancellations.undo(who, request_id)
    with pytest.raises(NotFound):
        cancellations.undo(staff, 999_999)
    cancellations.undo(staff, request_id)
    assert cancellations.pending(staff) == []
    assert inv(old.id).status == "cancelled"  # the old invoice stays cancelled …
    result = automation.run(D("2026-12-24"))
    assert result.counts["invoices_created"] == 1  # … and the period is billed again
    fresh = renewal_of(a.service_id, D("2027-01-05"))
    assert fresh.id != old.id and fresh.status == "unpaid"
    pay(fresh.id, D("2027-01-02"))
    for day in (D("2027-01-05"), D("2027-01-06")):
        assert automation.run(day).counts["cancellations_processed"] == 0
    assert svc(a.service_id).status == "active"
    assert svc(a.service_id).next_due_date == D("2027-02-05")


def test_the_retention_step_offers_a_cheaper_plan_of_the_same_cycle(fake, personas):
    a = personas.client_a
    pay(a.invoice_id, D("2026-11-26"))  # an unpaid renewal would block a plan change
    assert (
        cancellations.retention_offer(a.actor, a.service_id, today=D("2026-11-27")) is None
    )  # no targets yet
    with unit_of_work() as s:
        mini = Product(name="Mini", whm_package="default", sort_order=5)
        big = Product(name="Grande", whm_package="premium", sort_order=6)
        old = Product(name="Mini anual", whm_package="default", sort_order=7)
        s.add_all([mini, big, old])
        s.flush()
        s.add_all(
            [
                ProductPrice(product_id=mini.id, cycle="monthly", price=Decimal("5.00")),
                ProductPrice(product_id=big.id, cycle="monthly", price=Decimal("20.00")),
                ProductPrice(product_id=old.id, cycle="annually", price=Decimal("30.00")),
            ]
        )
        current = s.get(Service, a.service_id).product
        current.upgrade_targets = [mini.id, big.id, old.id]
        mini_id = mini.id
    offer = cancellations.retention_offer(a.actor, a.service_id, today=D("2026-11-27"))
    assert offer is not None and (offer.product_id, offer.name, offer.price) == (
        mini_id,
        "Mini",
        Decimal("5.00"),
    )
    assert offer.saving == Decimal("5.00") and offer.cycle == "monthly"
    options = cancellations.cancel_options(a.actor, a.service_id, today=D("2026-11-27"))
    assert options.offer == offer
    with pytest.raises(NotFound):
        cancellations.cancel_options(personas.client_b.actor, a.service_id, today=D("2026-11-27"))


def test_the_retention_offer_is_only_what_the_service_can_take(fake, personas):
    """Issue 16 item 3: no plan change is offered that the plan-change page would refuse."""
    a = personas.client_a
    with unit_of_work() as s:
        mini = Product(name="Mini", whm_package="default", sort_order=5)
        s.add(mini)
        s.flush()
        s.add(ProductPrice(product_id=mini.id, cycle="monthly", price=Decimal("5.00")))
        s.get(Service, a.service_id).product.upgrade_targets = [mini.id]
    # The renewal of 5 Dec is unpaid: the plan-change page says "pay it first".
    assert cancellations.retention_offer(a.actor, a.service_id, today=D("2026-11-27")) is None
    automation.run(D("2026-12-10"))  # suspended for it
    assert svc(a.service_id).status == "suspended"
    options = cancellations.cancel_options(a.actor, a.service_id, today=D("2026-12-10"))
    assert options.can_request and options.offer is None
    pay(a.invoice_id, D("2026-12-10"))  # paid: active again, and the offer comes back
    assert svc(a.service_id).status == "active"
    offer = cancellations.retention_offer(a.actor, a.service_id, today=D("2026-12-11"))
    assert offer is not None and offer.name == "Mini"


def test_request_rules(fake, personas):
    a, b = personas.client_a, personas.client_b
    today = D("2026-11-27")
    for bad_type, reason in (("later", REASON), ("immediate", "  "), ("immediate", "x" * 2001)):
        with pytest.raises(ValidationError):
            cancellations.request(a.actor, a.service_id, bad_type, reason, today=today)
    for foreign in (b.service_id, "abc", 999_999):
        with pytest.raises(NotFound):
            cancellations.request(a.actor, foreign, "immediate", REASON, today=today)
    tickets_only = Actor(user_id=0, role="staff", permissions=frozenset({"tickets"}))
    with pytest.raises(Forbidden):
        cancellations.request(tickets_only, a.service_id, "immediate", REASON, today=today)
    with pytest.raises(Forbidden):
        cancellations.pending(tickets_only)
    first = cancellations.request(a.actor, a.service_id, "immediate", REASON, today=today)
    with pytest.raises(Conflict):
        cancellations.request(a.actor, a.service_id, "immediate", REASON, today=today)
    options = cancellations.cancel_options(a.actor, a.service_id, today=today)
    assert not options.can_request and options.pending.id == first
    # Staff carry a request out by hand; then the service is gone and cannot be asked again.
    cancellations.process(personas.staff.actor, first, today=today)
    assert svc(a.service_id).status == "cancelled" and "clienta" not in fake.accounts
    with pytest.raises(Conflict):
        cancellations.process(personas.staff.actor, first, today=today)
    with pytest.raises(Conflict):
        cancellations.request(a.actor, a.service_id, "immediate", REASON, today=today)
    # With the setting off, a request leaves the invoices as they are.
    automation_owner.save_settings(personas.owner.actor, {"cancel_invoice_on_cancellation": False})
    cancellations.request(b.actor, b.service_id, "end_of_billing_period", REASON, today=today)
    assert inv(b.invoice_id).status == "unpaid"
