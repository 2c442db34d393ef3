"""The fixed personas every tier uses: an owner, a staff member, client A and client B.

Each client has a service, an unpaid invoice and a ticket, so "client B cannot see client
A's things" can be checked against real rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import accounts
from core.access import Actor
from core.models import (
    Department,
    Invoice,
    InvoiceItem,
    Product,
    ProductPrice,
    Server,
    Service,
    Ticket,
    TicketMessage,
)
from core.platform import vault
from core.platform.clock import now, today
from core.platform.config import get_settings
from core.platform.db import unit_of_work

PASSWORD = "Clave-segura-2026"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # staff and owner have 2FA, as required
TODAY = date(2026, 11, 26)


@dataclass(frozen=True)
class Persona:
    email: str
    actor: Actor
    service_id: int | None = None
    invoice_id: int | None = None
    ticket_id: int | None = None


@dataclass(frozen=True)
class Personas:
    owner: Persona
    staff: Persona
    client_a: Persona
    client_b: Persona
    password: str = PASSWORD


def build_personas() -> Personas:
    at = now()
    with unit_of_work() as s:
        owner = accounts.create_user(
            s, role="owner", email="owner@test.ec", name="Owner", password=PASSWORD, at=at
        )
        staff = accounts.create_user(
            s,
            role="staff",
            email="staff@test.ec",
            name="Staff",
            password=PASSWORD,
            permissions=["tickets", "services"],
            at=at,
        )
        a = accounts.create_user(
            s, role="client", email="a@test.ec", name="Cliente A", password=PASSWORD, at=at
        )
        b = accounts.create_user(
            s,
            role="client",
            email="b@test.ec",
            name="Cliente B",
            password=PASSWORD,
            language="en",
            at=at,
        )
        for desk_user in (owner, staff):
            desk_user.totp_secret = vault.encrypt(TOTP_SECRET)
            desk_user.totp_enabled_at = at
        for user in (owner, staff, a, b):
            user.verified_at = at
        product = Product(name="Básico", whm_package="basico")
        server = Server(name="sandbox", hostname="127.0.0.1", port=2087, scheme="http")
        dept = Department(name="Soporte", staff_ids=[staff.id])
        s.add_all([product, server, dept])
        s.flush()
        s.add(ProductPrice(product_id=product.id, cycle="monthly", price=Decimal("10.00")))
        rows = {}
        for user, tag in ((a, "a"), (b, "b")):
            service = Service(
                client_id=user.client_id,
                product_id=product.id,
                server_id=server.id,
                domain=f"cliente-{tag}.ec",
                panel_username=f"client{tag}",
                status="active",
                billing_cycle="monthly",
                recurring_amount=Decimal("10.00"),
                anchor_day=5,
                registration_date=TODAY - timedelta(days=90),
                next_due_date=date(2026, 12, 5),
            )
            s.add(service)
            s.flush()
            invoice = Invoice(
                number=f"F-{tag.upper()}-1",
                client_id=user.client_id,
                issued_on=TODAY,
                due_on=date(2026, 12, 5),
                status="unpaid",
                subtotal=Decimal("10.00"),
                tax_total=Decimal("1.50"),
                total=Decimal("11.50"),
                balance=Decimal("11.50"),
            )
            s.add(invoice)
            s.flush()
            s.add(
                InvoiceItem(
                    invoice_id=invoice.id,
                    service_id=service.id,
                    kind="renewal",
                    period_start=date(2026, 12, 5),
                    description="Hosting",
                    amount=Decimal("10.00"),
                    tax_rate=Decimal("15"),
                    tax_amount=Decimal("1.50"),
                )
            )
            ticket = Ticket(
                number=f"T-{tag.upper()}-1",
                client_id=user.client_id,
                department_id=dept.id,
                service_id=service.id,
                subject=f"Ayuda {tag}",
                status="open",
            )
            s.add(ticket)
            s.flush()
            s.add(TicketMessage(ticket_id=ticket.id, author_id=user.id, body="Hola"))
            rows[tag] = (service.id, invoice.id, ticket.id)
        result = Personas(
            owner=Persona(owner.email, accounts.actor_from_user(owner)),
            staff=Persona(staff.email, accounts.actor_from_user(staff)),
            client_a=Persona(a.email, accounts.actor_from_user(a), *rows["a"]),
            client_b=Persona(b.email, accounts.actor_from_user(b), *rows["b"]),
        )
    return result


def falls_due_in(persona: Persona, days: int) -> date:
    """Move the persona's service, and its unpaid renewal invoice, to fall due ``days`` after
    the real today; returns that date.

    The personas' dates are fixed (due 5 Dec 2026), which suits every tier that passes its own
    ``at``. Pages read the real clock, so a page test whose story needs a period that has not
    begun yet (an add-on ordered, a renewal cancelled before it starts) moves it here rather
    than fail once the calendar passes that date."""
    due = today(get_settings().tz) + timedelta(days=days)
    with unit_of_work() as s:
        service = s.get_one(Service, persona.service_id)
        service.next_due_date, service.anchor_day = due, due.day
        invoice = s.get_one(Invoice, persona.invoice_id)
        invoice.due_on = due
        for item in invoice.items:
            if item.service_id == service.id and item.kind == "renewal":
                item.period_start = due
    return due


def add_estandar(s: Session) -> Product:
    """Estándar ($20/month, package ``estandar``), the plan Básico (the personas') may move to:
    the catalogue every plan-change story starts from. In the caller's transaction."""
    basico = s.scalars(select(Product).where(Product.name == "Básico")).one()
    estandar = Product(name="Estándar", whm_package="estandar", sort_order=1)
    s.add(estandar)
    s.flush()
    s.add(ProductPrice(product_id=estandar.id, cycle="monthly", price=Decimal("20.00")))
    basico.upgrade_targets = [estandar.id]
    return estandar
