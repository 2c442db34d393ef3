"""Clients at the desk: search (RUC, domain, invoice and ticket number, …), the detail with
its rights, create and edit with validation, set-password links, and "view as client"."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import billing, clients
from core.access import Actor
from core.accounts import team as users
from core.clients import detail as clients_detail
from core.clients import records as clients_records
from core.models import (
    AuditEntry,
    Client,
    Invoice,
    MailOutbox,
    Service,
    Ticket,
    User,
)
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden, NotFound, ValidationError

RUC = "1719141770001"
TODAY = date(2026, 11, 26)


@pytest.fixture
def desk(personas):
    with unit_of_work() as s:
        a = s.get(Client, personas.client_a.actor.client_id)
        a.tax_id_type, a.tax_id, a.company = "ruc", RUC, "Ferretería El Volcán"
    users.set_access(
        personas.owner.actor,
        personas.staff.actor.user_id,
        permissions=["tickets", "services", "clients"],
        active=True,
        at=now(),
    )
    staff = Actor(
        personas.staff.actor.user_id,
        "staff",
        email="staff@test.ec",
        permissions=frozenset({"tickets", "services", "clients"}),
    )
    return personas, staff


def ids(page: clients.ClientPage) -> list[int]:
    return [r.id for r in page.rows]


def test_search_finds_a_client_by_ruc_domain_and_invoice_number(desk):
    personas, staff = desk
    a, b = personas.client_a.actor.client_id, personas.client_b.actor.client_id
    for query in (
        RUC,
        RUC[:10],  # the cédula inside the RUC
        "cliente-a.ec",
        "www.cliente-a.ec",
        "https://cliente-a.ec/contacto",
        "F-A-1",
        "f-a-1",
        "T-A-1",
        "a@test.ec",
        "volcán",
        "Cliente A",
    ):
        assert ids(clients.search_clients(staff, query)) == [a], query
    assert ids(clients.search_clients(staff, "cliente-b")) == [b]
    assert ids(clients.search_clients(staff, "F-B-1")) == [b]
    assert ids(clients.search_clients(staff, "")) == [a, b]
    assert clients.search_clients(staff, "no-such-thing.ec").total == 0
    assert clients.search_clients(staff, "%").total == 2  # a lone wildcard is dropped: all


def test_digits_alone_find_an_invoice_by_its_number(desk):
    personas, staff = desk
    with unit_of_work() as s:
        s.get(Invoice, personas.client_b.invoice_id).number = "F0000042"
    assert ids(clients.search_clients(staff, "42")) == [personas.client_b.actor.client_id]


def test_search_is_paged_in_sql(desk):
    personas, staff = desk
    with unit_of_work() as s:
        for i in range(30):
            s.add(Client(name=f"Zeta {i:02d}", email=f"z{i}@x.ec"))
    first = clients.search_clients(staff, "zeta", per_page=25)
    second = clients.search_clients(staff, "zeta", page=2, per_page=25)
    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (30, 2, 25, 5)


def test_search_and_detail_need_the_clients_right(desk):
    personas, _ = desk
    for actor in (personas.client_a.actor, Actor(99, "staff", permissions=frozenset({"tickets"}))):
        with pytest.raises(Forbidden):
            clients.search_clients(actor, "a")
        with pytest.raises(Forbidden):
            clients_detail.client_detail(actor, personas.client_a.actor.client_id)
    with pytest.raises(NotFound):
        clients_detail.client_detail(personas.owner.actor, 424242)
    with pytest.raises(NotFound):
        clients_detail.client_detail(personas.owner.actor, "../1")


def test_the_detail_shows_money_only_with_the_billing_right(desk):
    personas, staff = desk
    a = personas.client_a.actor.client_id
    full = clients_detail.client_detail(personas.owner.actor, a)
    assert full.tax_id == RUC and [s.domain for s in full.services] == ["cliente-a.ec"]
    assert full.services[0].recurring_amount == Decimal("10.00")
    assert full.owed == Decimal("11.50") and full.credit == Decimal("0.00")
    assert [i.number for i in full.invoices] == ["F-A-1"]
    assert [t.number for t in full.tickets] == ["T-A-1"]
    assert [u.email for u in full.users] == ["a@test.ec"]
    limited = clients_detail.client_detail(staff, a)
    assert limited.invoices is None and limited.owed is None and limited.credit is None
    assert limited.credit_lines is None and limited.services[0].recurring_amount is None
    assert [t.number for t in limited.tickets] == ["T-A-1"]
    # One tab's list at a time: the others are not read; the sums and services always are.
    one = clients_detail.client_detail(personas.owner.actor, a, sections=["invoices"])
    assert [i.number for i in one.invoices] == ["F-A-1"] and one.owed == Decimal("11.50")
    assert one.users == [] and one.audit == [] and one.credit_lines == []
    assert [s.domain for s in one.services] == ["cliente-a.ec"] and one.tickets
    other = clients_detail.client_detail(personas.owner.actor, a, sections=["users"])
    assert other.invoices == [] and [u.email for u in other.users] == ["a@test.ec"]


def test_the_detail_lists_the_credit_ledger(desk):
    personas, _ = desk
    a = personas.client_a.actor.client_id
    billing.add_credit(personas.owner.actor, a, "25.00", "cortesía")
    detail = clients_detail.client_detail(personas.owner.actor, a, sections=["credit"])
    assert detail.credit == Decimal("25.00")
    [line] = detail.credit_lines
    assert (line.amount, line.reason) == (Decimal("25.00"), "cortesía")
    assert isinstance(line.at, datetime)


def test_create_validates_and_sends_a_set_password_mail(desk):
    personas, staff = desk
    good = clients.ClientForm(
        name="Lucía Jaramillo",
        email="Lucia@Correo.example",
        company="Café Galápagos",
        phone="0991234567",
        tax_id_type="ruc",
        tax_id=RUC,
        city="Cuenca",
        province="Azuay",
        notes="Prefiere WhatsApp",
    )
    for bad in (
        clients.ClientForm(**{**good.__dict__, "tax_id": "1790012345000"}),
        clients.ClientForm(**{**good.__dict__, "tax_id_type": "cedula", "tax_id": "1234567890"}),
        clients.ClientForm(**{**good.__dict__, "phone": "12"}),
        clients.ClientForm(**{**good.__dict__, "email": "not-an-email"}),
        clients.ClientForm(**{**good.__dict__, "name": " "}),
        clients.ClientForm(**{**good.__dict__, "email": "a@test.ec"}),  # taken
    ):
        with pytest.raises(ValidationError):
            clients_records.create_client(staff, bad, now())
    new_id = clients_records.create_client(staff, good, now())
    detail = clients_detail.client_detail(personas.owner.actor, new_id)
    assert (detail.email, detail.phone, detail.tax_id, detail.notes) == (
        "lucia@correo.example",
        "+593991234567",
        RUC,
        "Prefiere WhatsApp",
    )
    assert detail.users[0].has_password is False
    with read_session() as s:
        mails = s.scalars(select(MailOutbox)).all()
        created = s.scalars(select(AuditEntry).where(AuditEntry.action == "client.created")).one()
        clients_count = s.execute(select(func.count()).select_from(Client)).scalar_one()
    assert [m.to_addr for m in mails] == ["lucia@correo.example"]
    assert "?reset=" in mails[0].body_text
    assert created.actor_label == "staff@test.ec" and clients_count == 3


def test_edit_is_validated_and_audited(desk):
    personas, staff = desk
    a = personas.client_a.actor.client_id
    current = clients_detail.client_detail(staff, a)
    form = clients.ClientForm(
        name=current.name,
        email=current.email,
        company=current.company,
        tax_id_type="ruc",
        tax_id=RUC,
        notes="Llamar antes de suspender",
        address="Av. Amazonas",
    )
    assert clients_records.update_client(staff, a, form, now()) == ["address", "notes"]
    assert clients_records.update_client(staff, a, form, now()) == []
    with pytest.raises(ValidationError):
        clients_records.update_client(
            staff, a, clients.ClientForm(**{**form.__dict__, "tax_id": "1"}), now()
        )
    with pytest.raises(NotFound):
        clients_records.update_client(staff, 424242, form, now())
    detail = clients_detail.client_detail(staff, a)
    assert detail.notes == "Llamar antes de suspender"
    assert [x.action for x in detail.audit][0] == "client.updated"
    with read_session() as s:  # the sign-in address did not move
        assert s.get(User, personas.client_a.actor.user_id).email == "a@test.ec"


def test_a_set_password_link_goes_to_the_clients_sign_in(desk):
    personas, staff = desk
    sent_to = clients_records.send_password_link(staff, personas.client_b.actor.client_id, now())
    assert sent_to == "b@test.ec"
    with read_session() as s:
        message = s.scalars(select(MailOutbox)).one()
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "password.link_sent")).one()
    assert message.to_addr == "b@test.ec" and message.language == "en"
    assert entry.actor_label == "staff@test.ec"
    with unit_of_work() as s:
        lonely = Client(name="Sin acceso", email="sin@acceso.ec")
        s.add(lonely)
        s.flush()
        lonely_id = lonely.id
    with pytest.raises(NotFound):
        clients_records.send_password_link(staff, lonely_id, now())


def _counts() -> dict[str, int]:
    with read_session() as s:
        return {
            m.__name__: s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Client, Service, Invoice, Ticket, MailOutbox, User)
        }


def test_view_as_client_is_read_only_and_audited(desk):
    personas, staff = desk
    a = personas.client_a
    before = _counts()
    with read_session() as s:
        user_before = s.get(User, a.actor.user_id)
        stamp = (user_before.last_login_at, user_before.sessions_valid_after)
    view = clients_detail.view_as_client(personas.owner.actor, a.actor.client_id, TODAY, now())
    assert [sv.domain for sv in view.services] == ["cliente-a.ec"]  # never client B's
    assert view.amount_owed == Decimal("11.50") and view.open_tickets == 1
    assert [r.number for r in view.billing.invoices.rows] == ["F-A-1"]
    assert [t.number for t in view.tickets] == ["T-A-1"]
    assert _counts() == before  # nothing was created or sent
    with read_session() as s:
        user_after = s.get(User, a.actor.user_id)
        assert (user_after.last_login_at, user_after.sessions_valid_after) == stamp
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "client.viewed_as")).all()
    assert [(e.actor_label, e.client_id) for e in entries] == [("owner@test.ec", a.actor.client_id)]
    assert not hasattr(view, "actor")  # no client actor ever leaves core


def test_view_as_client_keeps_money_behind_the_billing_right(desk):
    personas, staff = desk
    view = clients_detail.view_as_client(
        staff, personas.client_b.actor.client_id, TODAY, datetime.now()
    )
    assert view.billing is None and view.amount_owed is None and view.credit is None
    assert view.services[0].recurring_amount is None and view.services[0].domain == "cliente-b.ec"
    with pytest.raises(Forbidden):
        clients_detail.view_as_client(
            personas.staff.actor, personas.client_b.actor.client_id, TODAY, now()
        )
    with pytest.raises(NotFound):
        clients_detail.view_as_client(staff, 424242, TODAY, now())
