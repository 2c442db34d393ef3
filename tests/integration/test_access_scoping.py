"""Every scoping function in access.SCOPES, against real rows of client A and client B.

The area tests (billing, tickets, plan changes, cancellations, mailboxes) check their own
actions; this file walks the registry, so a model added to it is checked here too: client B
sees none of client A's rows, and asking for one of A's ids by id is "not found".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, plan_changes
from core.access import SCOPES, Actor, get_scoped, scoped
from core.billing.views import client_billing_view
from core.insights.overview import client_summary
from core.models import (
    AuditEntry,
    CancellationRequest,
    Client,
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


def _seen(actor: Actor, model: type) -> set[int]:
    with read_session() as s:
        return set(s.scalars(scoped(actor, model).with_only_columns(model.id)))  # type: ignore[attr-defined]


def test_every_scoping_function_is_checked(seeded):
    a_rows, b_rows = seeded
    assert set(SCOPES) == set(a_rows) == set(b_rows)
    assert all(a_rows.values()) and all(b_rows.values())


@pytest.mark.parametrize("model", list(SCOPES), ids=lambda m: m.__name__)
def test_client_b_gets_nothing_of_client_a(personas, seeded, model):
    a_rows, b_rows = seeded
    a, b, owner = personas.client_a.actor, personas.client_b.actor, personas.owner.actor
    assert _seen(b, model) == b_rows[model]
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


def test_client_views_hold_nothing_of_client_a(personas, seeded):
    a_rows, b_rows = seeded
    a, b = personas.client_a, personas.client_b
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
