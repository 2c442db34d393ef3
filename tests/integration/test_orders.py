"""core.orders and core.orders.fulfilment against a real database on each engine, the faithful
fake WHM and a real SMTP server: order → invoice → payment → account once → welcome mail without
a password."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, orders, panel
from core.access import Actor
from core.billing import hooks as billing_hooks
from core.billing.hooks import PAID_HOOKS
from core.models import Invoice, MailOutbox, Product, ProductPrice, Server, Service
from core.orders import fulfilment as order_fulfilment
from core.orders.fulfilment import cancel_stale, provision_pending
from core.platform import mail, settings
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from core.services import provisioning as services_provisioning
from sandbox.whm_server import FakeWhm
from tests.panel_fixtures import calls, dead_port, point_server, ready, whm  # noqa: F401 - fixtures

AT = date(2026, 11, 26)
KNOWN_PASSWORD = "Known-Pass-2026-xyz!"


@pytest.fixture
def fake(whm: FakeWhm, personas, monkeypatch) -> Iterator[FakeWhm]:
    # The password the panel account is created with, so the mail can be searched for it.
    monkeypatch.setattr(services_provisioning, "generate_password", lambda n=16: KNOWN_PASSWORD)
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


def basico() -> int:
    with read_session() as s:
        return s.scalars(select(Product.id).where(Product.name == "Básico")).one()


def pay(owner: Actor, invoice_id: int) -> None:
    with read_session() as s:
        balance = s.get(Invoice, invoice_id).balance
    billing.record_payment(owner, [invoice_id], balance)


def service(service_id: int) -> Service:
    with read_session() as s:
        return s.get(Service, service_id)


def invoice(invoice_id: int) -> Invoice:
    with read_session() as s:
        row = s.get(Invoice, invoice_id)
        row.items  # noqa: B018 - load the lines before the session closes
        return row


def created(fake: FakeWhm, domain: str) -> list[dict]:
    """createacct calls for ``domain`` that the panel carried out."""
    return [
        e
        for e in calls(fake, "createacct")
        if e["fault"] is None and e["status"] == 200 and e["params"].get("domain") == domain
    ]


def accounts_for(fake: FakeWhm, domain: str) -> list[str]:
    return [user for user, acct in fake.accounts.items() if acct["domain"] == domain]


def welcomes() -> list[MailOutbox]:
    with read_session() as s:
        return list(s.scalars(select(MailOutbox).where(MailOutbox.template == "order_welcome")))


# ---------------------------------------------------------------- acceptance 6
def test_order_to_account_once_with_a_welcome_mail_without_password(fake, personas, smtp):
    a, owner = personas.client_a, personas.owner.actor
    placed = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="Nueva-Tienda.EC", at=AT
    )
    assert placed.domain == "nueva-tienda.ec" and placed.next_due == date(2026, 12, 26)
    svc = service(placed.service_id)
    assert svc.status == "pending" and svc.panel_username is None and svc.anchor_day == 26
    assert svc.recurring_amount == Decimal("10.00") and svc.first_payment_amount == Decimal("11.50")
    inv = invoice(placed.invoice_id)
    assert inv.status == "unpaid" and inv.total == Decimal("11.50") and inv.due_on == AT
    [line] = inv.items
    assert (line.kind, line.period_start, line.period_end) == (
        "renewal",
        AT,
        date(2026, 12, 25),
    )
    assert created(fake, "nueva-tienda.ec") == []
    assert [o.domain for o in orders.list_orders(a.actor)] == ["nueva-tienda.ec"]
    assert orders.list_orders(personas.client_b.actor) == []

    pay(owner, placed.invoice_id)
    assert len(created(fake, "nueva-tienda.ec")) == 1
    assert len(accounts_for(fake, "nueva-tienda.ec")) == 1
    svc = service(placed.service_id)
    assert svc.status == "active" and svc.panel_username and svc.next_due_date == date(2026, 12, 26)
    assert orders.list_orders(a.actor) == []

    assert mail.deliver_due()["sent"] >= 1
    [body] = [b for b in smtp.bodies_to("a@test.ec") if "nueva-tienda.ec" in b]
    assert svc.panel_username in body and f"/services?service={svc.id}" in body
    assert KNOWN_PASSWORD not in body
    assert len(welcomes()) == 1

    # Re-runs create nothing and mail nothing again.
    assert provision_pending(AT) == 0 and provision_pending(AT) == 0
    with unit_of_work() as s:
        for hook in PAID_HOOKS:
            hook(s, s.get(Invoice, placed.invoice_id), owner)
    assert len(created(fake, "nueva-tienda.ec")) == 1 and len(welcomes()) == 1


def test_a_panel_failure_at_payment_is_completed_later_still_once(fake, personas):
    a = personas.client_a
    placed = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="tarde.ec", at=AT
    )
    fake.inject("createacct", "http500", times=None)
    pay(personas.owner.actor, placed.invoice_id)  # the payment stands
    svc = service(placed.service_id)
    assert svc.status == "pending" and svc.panel_error and welcomes() == []
    [row] = orders.list_orders(personas.owner.actor)
    assert row.stage == "awaiting_setup" and row.problem
    assert provision_pending(AT) == 0  # still failing
    fake.clear_faults()
    assert provision_pending(AT + timedelta(days=1)) == 1
    assert provision_pending(AT + timedelta(days=1)) == 0
    assert len(created(fake, "tarde.ec")) == 1 and len(accounts_for(fake, "tarde.ec")) == 1
    assert service(placed.service_id).status == "active" and len(welcomes()) == 1
    assert cancel_stale(AT + timedelta(days=30)) == 0  # paid orders are never cancelled


def test_an_account_made_whose_answer_was_lost_is_adopted_not_made_twice(fake, personas):
    a = personas.client_a
    placed = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="perdida.ec", at=AT
    )
    fake.inject("createacct", "drop_after_commit")
    pay(personas.owner.actor, placed.invoice_id)
    provision_pending(AT)
    assert len(accounts_for(fake, "perdida.ec")) == 1
    assert service(placed.service_id).status == "active" and len(welcomes()) == 1


def test_a_welcome_lost_after_the_account_was_made_is_sent_once_later(fake, personas, monkeypatch):
    a = personas.client_a
    placed = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="sinbienvenida.ec", at=AT
    )
    with monkeypatch.context() as patch:  # the after-commit step never ran
        others = tuple(h for h in PAID_HOOKS if h is not order_fulfilment.provision_paid_order)
        patch.setattr(billing_hooks, "PAID_HOOKS", others)
        pay(personas.owner.actor, placed.invoice_id)
    # Staff made the account by hand.
    services_provisioning.provision(personas.owner.actor, placed.service_id)
    assert welcomes() == []
    assert provision_pending(AT) == 1 and provision_pending(AT) == 0
    assert len(welcomes()) == 1 and len(accounts_for(fake, "sinbienvenida.ec")) == 1


# ---------------------------------------------------------------- refusals and scope
def test_domains_in_the_book_or_on_the_panel_are_refused(fake, personas):
    a = personas.client_a
    for domain, key in (
        ("cliente-b.ec", "error.order_domain_taken"),
        ("WWW.Cliente-A.ec", "error.order_domain_taken"),
        ("ajeno.ec", "error.order_domain_on_server"),
        ("http://x.ec", "error.order_domain_invalid"),
    ):
        if domain == "ajeno.ec":
            fake.add_account("ajeno", "ajeno.ec", "basico")
        with pytest.raises(DomainError) as exc:
            orders.place_order(a.actor, product_id=basico(), cycle="monthly", domain=domain, at=AT)
        assert exc.value.key == key
    # A terminated service frees its domain.
    with unit_of_work() as s:
        s.get(Service, personas.client_b.service_id).status = "terminated"
    fake.accounts.pop("clientb")
    placed = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="cliente-b.ec", at=AT
    )
    assert placed.domain == "cliente-b.ec"


def test_an_unreachable_panel_refuses_the_order_and_changes_nothing(fake, personas):
    point_server(dead_port(), fake.token)
    with pytest.raises(DomainError) as exc:
        orders.place_order(
            personas.client_a.actor, product_id=basico(), cycle="monthly", domain="x1.ec", at=AT
        )
    assert exc.value.key == "error.panel_unavailable"
    with read_session() as s:
        assert s.scalars(select(Service).where(Service.domain == "x1.ec")).first() is None


def test_plan_client_and_permission_checks(fake, personas, client_b_as):
    a, b, staff = personas.client_a, client_b_as, personas.staff.actor
    with pytest.raises(NotFound):
        orders.place_order(
            b.actor,
            product_id=basico(),
            cycle="monthly",
            domain="b2.ec",
            client_id=a.actor.client_id,
            at=AT,
        )
    for product, cycle in ((basico(), "annually"), ("nope", "monthly"), (basico(), "free")):
        with pytest.raises(ValidationError) as exc:
            orders.place_order(a.actor, product_id=product, cycle=cycle, domain="a2.ec", at=AT)
        assert exc.value.key == "error.order_plan_invalid"
    with pytest.raises(ValidationError):
        orders.place_order(staff, product_id=basico(), cycle="monthly", domain="s.ec", at=AT)
    tickets_only = Actor(user_id=999, role="staff", permissions=frozenset({"tickets"}))
    for action in (
        lambda: orders.place_order(
            tickets_only, product_id=basico(), cycle="monthly", domain="t.ec", client_id=1
        ),
        lambda: orders.order_form(tickets_only),
        lambda: orders.order_form(a.actor),
    ):
        with pytest.raises(Forbidden):
            action()
    assert orders.list_orders(tickets_only) == []


def test_staff_add_a_service_on_a_chosen_server_and_a_double_click_is_one_order(fake, personas):
    staff, a = personas.staff.actor, personas.client_a
    form = orders.order_form(staff, "cliente a")
    assert [c.label for c in form.clients] == ["Cliente A · a@test.ec"]
    assert [o.product for o in form.offers] == ["Básico"] and len(form.servers) == 1
    args = dict(
        client_id=form.clients[0].id,
        product_id=basico(),
        cycle="monthly",
        domain="agregado.ec",
        server_id=form.servers[0].id,
        at=AT,
    )
    first = orders.place_order(staff, **args)
    again = orders.place_order(staff, **args)
    assert again.repeated and again.service_id == first.service_id
    assert again.invoice_id == first.invoice_id
    svc = service(first.service_id)
    assert svc.client_id == a.actor.client_id and svc.server_id == form.servers[0].id
    with pytest.raises(ValidationError) as exc:
        orders.place_order(staff, **{**args, "domain": "otro.ec", "server_id": 999})
    assert exc.value.key == "error.order_server_invalid"
    with unit_of_work() as s:
        for server in s.scalars(select(Server)):
            server.max_accounts = 1
    with pytest.raises(Conflict) as exc:
        orders.place_order(a.actor, product_id=basico(), cycle="monthly", domain="z.ec", at=AT)
    assert exc.value.key == "error.order_no_server"


def test_prorata_product_first_invoice_and_setup_fee(fake, personas):
    with unit_of_work() as s:
        product = Product(
            name="Pro",
            whm_package="estandar",
            prorata_enabled=True,
            prorata_day=1,
            prorata_next_month_after_day=20,
        )
        s.add(product)
        s.flush()
        s.add(
            ProductPrice(
                product_id=product.id,
                cycle="monthly",
                price=Decimal("30.00"),
                setup_fee=Decimal("2.00"),
            )
        )
        pro = product.id
    placed = orders.place_order(
        personas.client_a.actor, product_id=pro, cycle="monthly", domain="pro.ec", at=AT
    )
    inv = invoice(placed.invoice_id)
    assert [(i.kind, i.amount) for i in inv.items] == [
        ("prorata", Decimal("5.00")),
        ("renewal", Decimal("30.00")),
        ("setup", Decimal("2.00")),
    ]
    assert inv.total == Decimal("42.55") and placed.next_due == date(2027, 1, 1)
    assert service(placed.service_id).anchor_day == 1


# ---------------------------------------------------------------- stale orders
def test_unpaid_orders_are_cancelled_after_the_setting_days(fake, personas):
    a, owner = personas.client_a, personas.owner.actor
    placed = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="olvido.ec", at=AT
    )
    assert cancel_stale(AT + timedelta(days=6)) == 0
    assert cancel_stale(AT + timedelta(days=7)) == 1
    assert cancel_stale(AT + timedelta(days=8)) == 0
    assert service(placed.service_id).status == "cancelled"
    assert invoice(placed.invoice_id).status == "cancelled"
    with pytest.raises(Conflict):
        billing.record_payment(owner, [placed.invoice_id], "11.50")

    settings.put(owner, "orders.cancel_unpaid_days", 3)
    second = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="olvido2.ec", at=AT
    )
    assert cancel_stale(AT + timedelta(days=2)) == 0
    assert cancel_stale(AT + timedelta(days=3)) == 1
    assert service(second.service_id).status == "cancelled"

    settings.put(owner, "orders.cancel_unpaid_days", 0)  # off
    third = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="olvido3.ec", at=AT
    )
    assert cancel_stale(AT + timedelta(days=365)) == 0
    billing.cancel_invoice(owner, third.invoice_id)  # staff cancelled its invoice by hand
    assert cancel_stale(AT) == 1 and service(third.service_id).status == "cancelled"


def test_the_orders_list_is_the_newest_orders_first_and_only_real_orders(fake, personas):
    """The desk sees the newest orders first, each with its own invoice; a pending service
    that came without an order (an import, say) is not an order to chase."""
    a, b = personas.client_a, personas.client_b
    older = orders.place_order(
        a.actor, product_id=basico(), cycle="monthly", domain="uno.ec", at=AT
    )
    newer = orders.place_order(
        b.actor, product_id=basico(), cycle="monthly", domain="dos.ec", at=AT + timedelta(days=1)
    )
    with unit_of_work() as s:
        stray = s.get(Service, older.service_id)
        s.add(
            Service(
                client_id=stray.client_id,
                product_id=stray.product_id,
                server_id=stray.server_id,
                domain="sin-pedido.ec",
                status="pending",
                billing_cycle="monthly",
                registration_date=AT + timedelta(days=2),
                next_due_date=AT + timedelta(days=32),
                anchor_day=stray.anchor_day,
                recurring_amount=stray.recurring_amount,
                first_payment_amount=stray.first_payment_amount,
            )
        )
    rows = orders.list_orders(personas.owner.actor)
    assert [(r.domain, r.invoice_id) for r in rows] == [
        ("dos.ec", newer.invoice_id),
        ("uno.ec", older.invoice_id),
    ]
    assert [r.domain for r in orders.list_orders(a.actor)] == ["uno.ec"]
