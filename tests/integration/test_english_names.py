"""Issue 16 item 18: the owner's texts a client reads (plan, department and channel names)
have a Spanish and an English value; each reader gets theirs, and an invoice line names the
plan in the client's language. Client A reads Spanish, client B English."""

from __future__ import annotations

from sqlalchemy import select

from core import catalog, services
from core.models import Department, Product
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.i18n import pick
from core.support import channels as support_channels
from core.support import desk_admin
from core.support.views import client_tickets, ticket_view


def test_pick_falls_back_to_spanish():
    assert pick("Básico", "Basic", "en") == "Basic"
    assert pick("Básico", "Basic", "es") == "Básico"
    assert pick("Básico", None, "en") == "Básico" and pick("Básico", "  ", "en") == "Básico"


def test_each_reader_gets_the_plan_department_and_channel_in_their_language(personas):
    owner, a, b = personas.owner.actor, personas.client_a, personas.client_b
    with read_session() as s:
        dept_id = s.scalars(select(Department.id).where(Department.name == "Soporte")).one()
        product_id = s.scalars(select(Product.id).where(Product.name == "Básico")).one()
    desk_admin.save_department(
        owner, department_id=dept_id, name="Soporte", name_en="Support", staff_ids=[]
    )
    with unit_of_work() as s:
        s.get(Product, product_id).name_en = "Basic"
    support_channels.save_channel(
        owner, kind="phone", label="Línea fija", label_en="Landline", target="+593 4 600 1234"
    )

    at = now()
    assert client_tickets(a.actor, at=at).tickets.rows[0].department == "Soporte"
    assert client_tickets(b.actor, at=at).tickets.rows[0].department == "Support"
    assert ticket_view(b.actor, b.ticket_id, at=at).department == "Support"
    assert [d.name for d in desk_admin.departments(b.actor)] == ["Support"]
    assert [d.name for d in desk_admin.departments(a.actor)] == ["Soporte"]

    assert services.service_detail(a.actor, a.service_id, with_usage=False).plan == "Básico"
    assert services.service_detail(b.actor, b.service_id, with_usage=False).plan == "Basic"

    assert [c.label for c in support_channels.list_channels(b.actor, at)] == ["Landline"]
    assert [c.label for c in support_channels.list_channels(a.actor, at)] == ["Línea fija"]
    # The owner's settings form edits both values, whatever the owner reads.
    [channel] = support_channels.list_channels(owner, at, include_inactive=True)
    assert (channel.label_es, channel.label_en) == ("Línea fija", "Landline")
    [dept] = [d for d in desk_admin.departments(owner) if d.id == dept_id]
    assert (dept.name_es, dept.name_en) == ("Soporte", "Support")


def test_the_owner_saves_a_plans_english_name(personas):
    owner = personas.owner.actor
    [plan] = [p for p in catalog.list_products(owner) if p.name == "Básico"]
    assert plan.name_en == ""
    form = catalog.ProductForm(
        name=plan.name,
        name_en="  Basic  ",
        whm_package=plan.whm_package,
        prices={p.cycle: (p.price, p.setup_fee) for p in plan.prices},
    )
    catalog.save_product(owner, form, product_id=plan.id)
    [plan] = [p for p in catalog.list_products(owner) if p.id == plan.id]
    assert (plan.name, plan.name_en) == ("Básico", "Basic")
