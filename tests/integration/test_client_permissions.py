"""Issue 19, acceptance 4: for each permission a client account's holder can give, an
invited user holding only that permission can do exactly what it allows, against client A's
own rows, and gets "not found" from every other client operation.

The matrix is (permission, operation): every operation a client can do, each with the
permissions that allow it. A case sets up what the operation needs (as the holder or the
desk would), invites a user of client A with the one permission and runs the operation as
them: it succeeds when the permission allows it, and raises ``NotFound`` (the answer another
client's row gets) when not, leaving nothing changed on the panel. Panel operations run
against the sandbox WHM.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core import accounts, addons, billing, orders, panel, plan_changes, services
from core.access import CLIENT_PERMISSIONS, SYSTEM, Actor
from core.accounts import client_users, profile
from core.billing.pdf import invoice_pdf
from core.insights.overview import client_summary
from core.models import Department, Invoice, Product, ProductPrice, Service
from core.orders.quote import order_quote
from core.platform.db import read_session, unit_of_work
from core.platform.errors import NotFound
from core.services import cancellations, credentials, mailboxes
from core.support import tickets
from sandbox.whm_server import FakeWhm
from tests.panel_fixtures import ready, whm  # noqa: F401 - fixture
from tests.personas import TODAY, Persona, Personas, add_estandar

AT = datetime(2026, 11, 20, 15, 0)  # plan changes: 15 of the period's 30 days left
ADDON_DAY = datetime(2026, 12, 20, 17, 0)
PASSWORD = "Buzon-seguro-Azul-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
WRITES = {
    "Email::add_pop",
    "Email::passwd_pop",
    "Email::edit_pop_quota",
    "Email::delete_pop",
    "passwd",
    "changepackage",
    "create_user_session",
}


@pytest.fixture
def fake(whm: FakeWhm, personas) -> Iterator[FakeWhm]:
    yield ready(whm, mailboxes=True)
    whm.clear_faults()
    panel.configure()


@dataclass
class World:
    """Client A (its holder's persona) and what a case's set-up made for it."""

    a: Persona
    owner: Actor
    made: dict[str, Any]


# ----------------------------------------------------------------------------- set-ups
def _nothing(w: World) -> None:
    return None


def _pay(invoice_id: int, on: date) -> None:
    with read_session() as s:
        balance = s.get_one(Invoice, invoice_id).balance
    billing.record_payment(SYSTEM, [invoice_id], balance, received_on=on)


def _plans(w: World) -> None:
    """Estándar as Básico's target, A's renewal paid and the period pinned (a change is
    blocked while a renewal is unpaid)."""
    with unit_of_work() as s:
        estandar = add_estandar(s)
        w.made["estandar"] = estandar.id
    _pay(w.a.invoice_id, TODAY)  # type: ignore[arg-type]
    with unit_of_work() as s:
        svc = s.get_one(Service, w.a.service_id)
        svc.next_due_date, svc.anchor_day = date(2026, 12, 5), 5


def _plan_change_made(w: World) -> None:
    _plans(w)
    made = plan_changes.confirm(w.a.actor, w.a.service_id, w.made["estandar"], "monthly", at=AT)  # type: ignore[arg-type]
    w.made["change"] = made.plan_change_id


def _addon_products(w: World) -> None:
    with unit_of_work() as s:
        plan = s.get_one(Service, w.a.service_id).product_id
        ssl = Product(
            name="Certificado SSL", whm_package="", kind="addon", addon_fits=[plan], active=True
        )
        s.add(ssl)
        s.flush()
        s.add(ProductPrice(product_id=ssl.id, cycle="monthly", price=Decimal("3.00")))
        w.made["ssl"] = ssl.id
    _pay(w.a.invoice_id, date(2026, 12, 1))  # type: ignore[arg-type]


def _addon_running(w: World) -> None:
    _addon_products(w)
    addon_id, invoice_id = addons.order(w.a.actor, w.a.service_id, w.made["ssl"], at=ADDON_DAY)  # type: ignore[arg-type]
    _pay(invoice_id, date(2026, 12, 20))
    w.made["addon"] = addon_id


def _receipt(w: World) -> None:
    w.made["receipt"] = billing.upload_receipt(w.a.actor, w.a.invoice_id, "c.pdf", PDF)  # type: ignore[arg-type]


def _credit(w: World) -> None:
    billing.add_credit(w.owner, w.a.actor.client_id, "5.00", "cortesía")  # type: ignore[arg-type]


def _attachment(w: World) -> None:
    tid = tickets.open_ticket(
        w.a.actor,
        department_id=_department(),
        subject="Captura",
        body="Adjunto",
        files=[("captura.png", PNG)],
        at=AT,
    )
    detail = tickets.ticket_view(w.a.actor, tid, at=AT)
    w.made["ticket"] = tid
    w.made["upload"] = next(f.id for m in detail.messages for f in m.attachments)


def _closed_ticket(w: World) -> None:
    tickets.close_ticket(w.a.actor, w.a.ticket_id, at=AT)  # type: ignore[arg-type]


def _department() -> int:
    with read_session() as s:
        return s.scalars(select(Department.id)).first()  # type: ignore[return-value]


# -------------------------------------------------------------------------- operations
@dataclass(frozen=True)
class Op:
    name: str
    any_of: tuple[str, ...]  # a permission among these allows it ...
    run: Callable[[Actor, World], object]
    setup: Callable[[World], None] = _nothing
    all_of: tuple[str, ...] = ()  # ... or, when given, it needs every one of these

    def allowed(self, perms: frozenset[str]) -> bool:
        if self.all_of:
            return set(self.all_of) <= perms
        return bool(perms & set(self.any_of))


def _sid(w: World) -> int:
    return w.a.service_id  # type: ignore[return-value]


def _iid(w: World) -> int:
    return w.a.invoice_id  # type: ignore[return-value]


def _tid(w: World) -> int:
    return w.a.ticket_id  # type: ignore[return-value]


def _basico() -> int:
    with read_session() as s:
        return s.scalars(select(Product.id).where(Product.name == "Básico")).one()


def _expect(condition: bool) -> None:
    assert condition


SERVICE_READ = ("services", "cancellations")  # cancelling starts from the service's page
OPS: tuple[Op, ...] = (
    # services
    Op("services.list", SERVICE_READ, lambda u, w: _expect(services.list_services(u).total == 1)),
    Op(
        "services.detail",
        SERVICE_READ,
        lambda u, w: _expect(services.service_detail(u, _sid(w)).domain == "cliente-a.ec"),
    ),
    Op("services.usage", ("services",), lambda u, w: services.usage(u, _sid(w))),
    Op(
        "services.reset_panel_password",
        ("services",),
        lambda u, w: credentials.reset_panel_password(u, _sid(w), at=AT),
    ),
    Op(
        "services.sign_in_link",
        ("services",),
        lambda u, w: _expect("session=" in credentials.sign_in_link(u, _sid(w))),
    ),
    Op(
        "addons.of_service",
        SERVICE_READ,
        lambda u, w: _expect([v.id for v in addons.of_service(u, _sid(w))] == [w.made["addon"]]),
        _addon_running,
    ),
    Op(
        "addons.offers",
        SERVICE_READ,
        lambda u, w: _expect([o.product_id for o in addons.offers(u, _sid(w))] == [w.made["ssl"]]),
        _addon_products,
    ),
    Op(
        "addons.order",
        (),
        lambda u, w: addons.order(u, _sid(w), w.made["ssl"], at=ADDON_DAY),
        _addon_products,
        all_of=("services", "billing"),
    ),
    Op("orders.offers", ("services",), lambda u, w: _expect(bool(orders.offers(u)))),
    Op(
        "orders.quote",
        ("services",),
        lambda u, w: order_quote(u, product_id=_basico(), cycle="monthly", at=AT),
    ),
    Op("orders.list", ("services",), lambda u, w: orders.list_orders(u)),
    Op(
        "orders.place",
        (),
        lambda u, w: orders.place_order(
            u, product_id=_basico(), cycle="monthly", domain="nuevo-a.ec", at=AT
        ),
        all_of=("services", "billing"),
    ),
    # billing
    Op(
        "billing.view",
        ("billing",),
        lambda u, w: _expect(
            [r.id for r in billing.client_billing_view(u, today=TODAY).invoices.rows] == [_iid(w)]
        ),
    ),
    Op(
        "billing.list_invoices",
        ("billing",),
        lambda u, w: _expect([r.id for r in billing.list_invoices(u).rows] == [_iid(w)]),
    ),
    Op(
        "billing.invoice_detail",
        ("billing",),
        lambda u, w: _expect(billing.invoice_detail(u, _iid(w), today=TODAY).id == _iid(w)),
    ),
    Op(
        "billing.invoice_pdf",
        ("billing",),
        lambda u, w: _expect(invoice_pdf(u, _iid(w), today=TODAY).startswith(b"%PDF")),
    ),
    Op(
        "billing.upload_receipt",
        ("billing",),
        lambda u, w: billing.upload_receipt(u, _iid(w), "pago.png", PNG, amount=Decimal("11.50")),
    ),
    Op(
        "billing.receipt_file",
        ("billing",),
        lambda u, w: _expect(billing.receipt_file(u, w.made["receipt"]).data == PDF),
        _receipt,
    ),
    Op(
        "billing.apply_credit",
        ("billing",),
        lambda u, w: _expect(billing.apply_credit(u, invoice_id=_iid(w)) == Decimal("5.00")),
        _credit,
    ),
    Op(
        "billing.credit_history",
        ("billing",),
        lambda u, w: _expect(len(billing.credit_history(u)) == 1),
        _credit,
    ),
    # tickets
    Op(
        "tickets.list",
        ("tickets",),
        lambda u, w: _expect(
            [r.id for r in tickets.client_tickets(u, at=AT).tickets.rows] == [_tid(w)]
        ),
    ),
    Op(
        "tickets.view",
        ("tickets",),
        lambda u, w: _expect(tickets.ticket_view(u, _tid(w), at=AT).id == _tid(w)),
    ),
    Op(
        "tickets.open",
        ("tickets",),
        lambda u, w: tickets.open_ticket(
            u, department_id=_department(), subject="Consulta", body="Hola", at=AT
        ),
    ),
    Op("tickets.reply", ("tickets",), lambda u, w: tickets.reply(u, _tid(w), "Gracias", at=AT)),
    Op("tickets.close", ("tickets",), lambda u, w: tickets.close_ticket(u, _tid(w), at=AT)),
    Op(
        "tickets.reopen",
        ("tickets",),
        lambda u, w: tickets.reopen_ticket(u, _tid(w), at=AT),
        _closed_ticket,
    ),
    Op(
        "tickets.transcript",
        ("tickets",),
        lambda u, w: _expect("Ayuda a" in tickets.transcript(u, _tid(w))),
    ),
    Op(
        "tickets.attachment",
        ("tickets",),
        lambda u, w: _expect(tickets.attachment(u, w.made["ticket"], w.made["upload"]).data == PNG),
        _attachment,
    ),
    # mailboxes
    Op(
        "mailboxes.page",
        ("mailboxes",),
        lambda u, w: _expect([o.id for o in mailboxes.mailbox_page(u).options] == [_sid(w)]),
    ),
    Op(
        "mailboxes.list",
        ("mailboxes",),
        lambda u, w: _expect(
            [m.address for m in mailboxes.list_mailboxes(u, _sid(w))] == ["ventas@cliente-a.ec"]
        ),
    ),
    Op(
        "mailboxes.create",
        ("mailboxes",),
        lambda u, w: mailboxes.create_mailbox(u, _sid(w), "nuevo", PASSWORD, 100),
    ),
    Op(
        "mailboxes.change_password",
        ("mailboxes",),
        lambda u, w: mailboxes.change_password(u, _sid(w), "ventas@cliente-a.ec", PASSWORD),
    ),
    Op(
        "mailboxes.change_quota",
        ("mailboxes",),
        lambda u, w: mailboxes.change_quota(u, _sid(w), "ventas@cliente-a.ec", 200),
    ),
    Op(
        "mailboxes.delete",
        ("mailboxes",),
        lambda u, w: mailboxes.delete_mailbox(u, _sid(w), "ventas@cliente-a.ec"),
    ),
    # plan changes
    Op(
        "plan_changes.view",
        ("plan_changes",),
        lambda u, w: _expect(bool(plan_changes.upgrades_view(u, _sid(w), at=AT).quotes)),
        _plans,
    ),
    Op(
        "plan_changes.quote",
        ("plan_changes",),
        lambda u, w: _expect(
            plan_changes.quote(u, _sid(w), w.made["estandar"], "monthly", at=AT).net > 0
        ),
        _plans,
    ),
    Op(
        "plan_changes.confirm",
        ("plan_changes",),
        lambda u, w: plan_changes.confirm(u, _sid(w), w.made["estandar"], "monthly", at=AT),
        _plans,
    ),
    Op(
        "plan_changes.list",
        ("plan_changes",),
        lambda u, w: _expect([c.id for c in plan_changes.list_changes(u)] == [w.made["change"]]),
        _plan_change_made,
    ),
    Op(
        "plan_changes.cancel",
        ("plan_changes",),
        lambda u, w: plan_changes.cancel(u, w.made["change"]),
        _plan_change_made,
    ),
    # cancellations
    Op(
        "cancellations.options",
        ("cancellations",),
        lambda u, w: _expect(cancellations.cancel_options(u, _sid(w), today=TODAY).can_request),
    ),
    Op(
        "cancellations.retention_offer",
        ("cancellations",),
        lambda u, w: cancellations.retention_offer(u, _sid(w), today=TODAY),
    ),
    Op(
        "cancellations.request",
        ("cancellations",),
        lambda u, w: cancellations.request(
            u, _sid(w), "end_of_billing_period", "Ya no lo usamos", today=TODAY, at=AT
        ),
    ),
    Op(
        "addons.cancel_at_period_end",
        ("cancellations",),
        lambda u, w: _expect(
            addons.cancel_at_period_end(u, w.made["addon"], at=ADDON_DAY) == date(2027, 1, 5)
        ),
        _addon_running,
    ),
    # contact details
    Op(
        "profile.read",
        ("contact",),
        lambda u, w: _expect(profile.get_profile(u).name == "Cliente A"),
    ),
    Op(
        "profile.update",
        ("contact",),
        lambda u, w: profile.update_profile(
            u, replace(profile.get_profile(w.a.actor), company="Contadores S.A."), AT
        ),
    ),
)


def _invite(holder: Persona, email: str, perms: list[str]) -> Actor:
    client_users.invite(
        holder.actor, email=email, name="Invitada", permissions=perms, language="es", at=AT
    )
    with read_session() as s:
        user = accounts.user_by_email(s, email)
        assert user is not None
        return accounts.actor_from_user(user)


def _panel_writes(fake: FakeWhm) -> list[str]:
    return [e["function"] for e in fake.log if e["function"] in WRITES]


def test_every_permission_allows_something_and_every_operation_is_allowed_by_one():
    for permission in CLIENT_PERMISSIONS:
        assert any(op.allowed(frozenset({permission})) for op in OPS), permission
    assert all(op.any_of or op.all_of for op in OPS)
    assert len({op.name for op in OPS}) == len(OPS)


CASES = [
    pytest.param(p, op, op.allowed(frozenset({p})), id=f"{p}-{op.name}")
    for p in CLIENT_PERMISSIONS
    for op in OPS
]


@pytest.mark.parametrize(("permission", "op", "expected"), CASES)
def test_one_permission_does_exactly_its_part(
    personas: Personas, fake: FakeWhm, permission: str, op: Op, expected: bool
):
    world = World(personas.client_a, personas.owner.actor, {})
    op.setup(world)
    user = _invite(personas.client_a, f"solo-{permission}@test.ec", [permission])
    assert user.client_permissions == {permission}
    fake.log.clear()
    if expected:
        op.run(user, world)
        return
    with pytest.raises(NotFound):
        op.run(user, world)
    assert _panel_writes(fake) == []  # refused before anything reached the panel


@pytest.mark.parametrize("op", [op for op in OPS if op.all_of], ids=lambda op: op.name)
def test_ordering_needs_services_and_billing_together(personas: Personas, fake: FakeWhm, op: Op):
    world = World(personas.client_a, personas.owner.actor, {})
    op.setup(world)
    user = _invite(personas.client_a, "compras@test.ec", list(op.all_of))
    op.run(user, world)


def test_the_home_summary_shows_only_the_parts_a_permission_reaches(personas: Personas):
    """Every member opens the home page; its money figures need billing and its ticket
    count tickets, in core as well as on the page (a tickets-only user sees no credit)."""
    a = personas.client_a
    billing.add_credit(personas.owner.actor, a.actor.client_id, "7.00", "cortesía")  # type: ignore[arg-type]
    tickets_only = _invite(a, "soporte@test.ec", ["tickets"])
    summary = client_summary(tickets_only, TODAY)
    assert (summary.amount_owed, summary.overdue, summary.credit) == (None, None, None)
    assert summary.unpaid_invoices is None and summary.services == []
    assert summary.open_tickets == 1
    payer = _invite(a, "pagos@test.ec", ["billing"])
    summary = client_summary(payer, TODAY)
    assert (summary.amount_owed, summary.credit) == (Decimal("11.50"), Decimal("7.00"))
    assert summary.open_tickets is None and summary.services == []
    tech = _invite(a, "tecnico@test.ec", ["services"])
    summary = client_summary(tech, TODAY)
    assert [(s.id, s.balance_due) for s in summary.services] == [(a.service_id, None)]
    assert summary.credit is None
    holder = client_summary(a.actor, TODAY)
    assert [(s.id, s.balance_due) for s in holder.services] == [(a.service_id, Decimal("11.50"))]
    assert (holder.credit, holder.open_tickets) == (Decimal("7.00"), 1)


def test_a_service_owes_nothing_visible_without_billing(personas: Personas, fake: FakeWhm):
    """What a service owes is billing's: the services list and page show it only with it."""
    a = personas.client_a
    tech = _invite(a, "tecnico@test.ec", ["services"])
    both = _invite(a, "gerente@test.ec", ["services", "billing"])
    [row] = services.list_services(tech).rows
    assert row.amount_owed is None
    assert services.service_detail(tech, a.service_id, with_usage=False).amount_owed is None  # type: ignore[arg-type]
    [row] = services.list_services(both).rows
    assert row.amount_owed == Decimal("11.50")
    detail = services.service_detail(both, a.service_id, with_usage=False)  # type: ignore[arg-type]
    assert detail.amount_owed == Decimal("11.50")


def test_disk_usage_is_read_only_for_the_services_permission(personas: Personas, fake: FakeWhm):
    a = personas.client_a
    leaving = _invite(a, "baja@test.ec", ["cancellations"])
    tech = _invite(a, "tecnico@test.ec", ["services"])
    fake.log.clear()
    assert services.service_detail(leaving, a.service_id).usage is None  # type: ignore[arg-type]
    assert fake.log == []  # the panel was not asked
    assert services.service_detail(tech, a.service_id).usage is not None  # type: ignore[arg-type]


def test_revoking_signs_them_out_at_once_even_with_a_second_account(personas: Personas):
    """A person helping two accounts is signed out of every session when one of them
    revokes; signing in again, they act only for the account that kept them."""
    a, b = personas.client_a, personas.client_b
    _invite(a, "contador@test.ec", ["billing"])
    _invite(b, "contador@test.ec", ["tickets"])
    with unit_of_work() as s:
        user = accounts.user_by_email(s, "contador@test.ec")
        assert user is not None
        user.password_hash = accounts.hash_password("Libro-mayor-azul-77")
    signed_in = datetime(2026, 11, 20, 16, 0)
    with read_session() as s:
        for_a = accounts.check_session(s, "contador@test.ec", signed_in, a.actor.client_id).actor
    assert for_a is not None and for_a.client_permissions == {"billing"}
    assert billing.invoice_detail(for_a, a.invoice_id).id == a.invoice_id  # type: ignore[arg-type]
    [membership] = [m.membership_id for m in client_users.list_users(a.actor)]
    client_users.revoke(a.actor, membership, datetime(2026, 11, 20, 16, 5))
    with read_session() as s:
        check = accounts.check_session(s, "contador@test.ec", signed_in, a.actor.client_id)
    assert (check.actor, check.reason) == (None, "revoked")  # the open tab's next run
    later = datetime(2026, 11, 20, 16, 10)  # a new sign-in: B's account only
    with read_session() as s:
        again = accounts.check_session(s, "contador@test.ec", later, a.actor.client_id).actor
    assert again is not None and again.client_id == b.actor.client_id
    assert again.client_permissions == {"tickets"}
    with pytest.raises(NotFound):
        billing.invoice_detail(again, a.invoice_id)  # type: ignore[arg-type]
