"""Every scoping function in access.SCOPES, against real rows of client A and client B.

The area tests (billing, tickets, plan changes, cancellations, mailboxes) check their own
actions; this file walks the registry, so a model added to it is checked here too: client B
sees none of client A's rows, and asking for one of A's ids by id is "not found". Each check
of client B runs twice: as B's holder, and as a user B's holder invited with every
permission (who sees B's rows but for the users, memberships and audit log, holder only).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, plan_changes
from core.access import CLIENT_PERMISSIONS, PERMISSION_FOR, SCOPES, Actor, get_scoped, scoped
from core.accounts import actor_from_user, client_users, user_by_email
from core.billing.views import client_billing_view
from core.insights.overview import client_summary
from core.models import (
    AuditEntry,
    CancellationRequest,
    Client,
    ClientMembership,
    CreditEntry,
    ElectronicDocument,
    Invoice,
    InvoiceItem,
    Payment,
    PlanChange,
    Service,
    ServiceAddon,
    Ticket,
    TicketMessage,
    TransferReceipt,
    Upload,
    User,
)
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden, NotFound
from core.support.views import client_tickets
from tests.personas import TODAY, Persona, Personas

AT = datetime(2026, 11, 26, 15, 0)


def _seed(persona: Persona) -> dict[type, set[int]]:
    """One row of every customer-data model for ``persona`` (beyond the personas' own
    service, invoice and ticket), and the ids of all of that client's rows by model."""
    client_id = persona.actor.client_id
    assert client_id is not None
    with unit_of_work() as s:
        service = s.get(Service, persona.service_id)
        assert service is not None
        upload = Upload(
            client_id=client_id,
            filename="recibo.pdf",
            content_type="application/pdf",
            size=3,
            sha256="0" * 64,
            data=b"pdf",
        )
        s.add(upload)
        s.flush()
        payment = Payment(
            client_id=client_id,
            invoice_id=persona.invoice_id,
            amount=Decimal("1.00"),
            method="cash",
            received_on=TODAY,
        )
        s.add(payment)
        s.flush()
        rows = [
            payment,
            upload,
            TransferReceipt(
                client_id=client_id,
                invoice_id=persona.invoice_id,
                upload_id=upload.id,
                amount=Decimal("1.00"),
            ),
            CreditEntry(client_id=client_id, amount=Decimal("2.00"), kind="manual", reason="x"),
            PlanChange(
                service_id=service.id,
                from_product_id=service.product_id,
                to_product_id=service.product_id,
                from_cycle="monthly",
                to_cycle="annual",
                quote={},
            ),
            CancellationRequest(
                service_id=service.id,
                type="end_of_billing_period",
                reason="ya no",
                effective_date=date(2026, 12, 5),
            ),
            AuditEntry(actor_label="test", action="test.seeded", client_id=client_id),
            ServiceAddon(  # issue 19: an add-on ordered on the client's service
                client_id=client_id,
                service_id=service.id,
                product_id=service.product_id,
                recurring_amount=Decimal("3.00"),
            ),
            ElectronicDocument(
                client_id=client_id,
                invoice_id=persona.invoice_id,
                doc_type="01",
                environment=1,
                establishment="001",
                emission_point="001",
                sequential=client_id,
                number=f"001-001-{client_id:09d}",
                access_key=f"{client_id:049d}",
                issued_on=TODAY,
                status="signed",
                xml_signed="<factura/>",
                total=Decimal("1.15"),
            ),
        ]
        helper = User(email=f"helper{client_id}@test.ec", name="Helper", role="client")
        s.add(helper)
        s.flush()
        rows.append(
            ClientMembership(user_id=helper.id, client_id=client_id, permissions=["tickets"])
        )
        s.add_all(rows)
        s.flush()
        ids: dict[type, set[int]] = {type(row): {row.id} for row in rows}
        ids[Client] = {client_id}
        ids[User] = {persona.actor.user_id}
        ids[Service] = {service.id}
        ids[Invoice] = {persona.invoice_id}  # type: ignore[arg-type]
        ids[Ticket] = {persona.ticket_id}  # type: ignore[arg-type]
        ids[InvoiceItem] = set(
            s.scalars(select(InvoiceItem.id).where(InvoiceItem.invoice_id == persona.invoice_id))
        )
        # Creating the personas already logged actions about each client.
        ids[AuditEntry] = set(
            s.scalars(select(AuditEntry.id).where(AuditEntry.client_id == client_id))
        )
        ids[TicketMessage] = set(
            s.scalars(select(TicketMessage.id).where(TicketMessage.ticket_id == persona.ticket_id))
        )
    return ids


@pytest.fixture
def seeded(personas: Personas) -> tuple[dict[type, set[int]], dict[type, set[int]]]:
    return _seed(personas.client_a), _seed(personas.client_b)


@pytest.fixture(params=["holder", "invited"])
def client_b(request, personas: Personas) -> Actor:
    """Client B as its holder, or as a person B's holder invited with every permission."""
    if request.param == "holder":
        return personas.client_b.actor
    client_users.invite(
        personas.client_b.actor,
        email="contadora@test.ec",
        name="Contadora",
        permissions=list(CLIENT_PERMISSIONS),
        language="es",
        at=AT,
    )
    with read_session() as s:
        user = user_by_email(s, "contadora@test.ec")
        assert user is not None
        return actor_from_user(user)


def _b_sees(b: Actor, model: type, b_rows: dict[type, set[int]]) -> set[int]:
    """What client B's actor should see of ``model``: all of B's, or for an invited user
    only what a permission reaches (every one was given)."""
    if b.client_permissions is None or PERMISSION_FOR[model]:
        return b_rows[model]
    return set()


def _seen(actor: Actor, model: type) -> set[int]:
    with read_session() as s:
        return set(s.scalars(scoped(actor, model).with_only_columns(model.id)))  # type: ignore[attr-defined]


def test_every_scoping_function_is_checked(seeded):
    a_rows, b_rows = seeded
    assert set(SCOPES) == set(a_rows) == set(b_rows)
    assert all(a_rows.values()) and all(b_rows.values())


@pytest.mark.parametrize("model", list(SCOPES), ids=lambda m: m.__name__)
def test_client_b_gets_nothing_of_client_a(personas, seeded, client_b, model):
    a_rows, b_rows = seeded
    a, b, owner = personas.client_a.actor, client_b, personas.owner.actor
    assert _seen(b, model) == _b_sees(b, model, b_rows)
    assert _seen(a, model) == a_rows[model]
    assert a_rows[model] | b_rows[model] <= _seen(owner, model)
    with read_session() as s:
        for foreign in a_rows[model]:
            with pytest.raises(NotFound):
                get_scoped(s, b, model, foreign)
            assert get_scoped(s, a, model, foreign).id == foreign
            assert get_scoped(s, owner, model, foreign).id == foreign


def test_staff_keep_their_area_checks(personas, seeded):
    a_rows, b_rows = seeded
    staff = personas.staff.actor  # tickets and services, no billing
    assert _seen(staff, Ticket) >= a_rows[Ticket] | b_rows[Ticket]
    with read_session() as s:
        invoice = next(iter(a_rows[Invoice]))
        with pytest.raises(Forbidden):
            get_scoped(s, staff, Invoice, invoice, "billing")
        assert get_scoped(s, staff, Service, next(iter(a_rows[Service])), "services")


def test_client_views_hold_nothing_of_client_a(personas, seeded, client_b):
    a_rows, b_rows = seeded
    a, b = personas.client_a, replace(personas.client_b, actor=client_b)
    summary = client_summary(b.actor, TODAY)
    assert [line.id for line in summary.services] == [b.service_id]
    assert summary.credit == Decimal("0.00")  # A's and B's ledger rows were seeded by hand
    bill = client_billing_view(b.actor, today=TODAY)
    assert {row.id for row in bill.invoices.rows} == b_rows[Invoice]
    assert bill.amount_owed == Decimal("11.50")
    view = client_tickets(b.actor, at=AT)
    assert [row.id for row in view.tickets.rows] == [b.ticket_id]
    assert [o.id for o in view.services] == [b.service_id]
    history = billing.credit_history(b.actor, a.actor.client_id)  # a client's own, whatever
    assert {h.id for h in history} == b_rows[CreditEntry]
    changes = plan_changes.list_changes(b.actor, service_id=a.service_id)
    assert changes == []
    assert {c.id for c in plan_changes.list_changes(b.actor)} == b_rows[PlanChange]
    assert {c.id for c in plan_changes.list_changes(a.actor)} == a_rows[PlanChange]
    assert {c.id for c in plan_changes.upgrades_view(b.actor, at=AT).changes} == b_rows[PlanChange]
