"""The home page's figures: a client's own summary, and the desk's counts for staff."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, scoped, visible
from core.insights.desk_memo import remembered
from core.models import Client, Invoice, InvoiceItem, Product, Service, Ticket
from core.platform.db import get_engine, reading
from core.platform.errors import Forbidden

OPEN_TICKET_STATUSES = ("open", "customer_reply", "in_progress", "on_hold", "answered")
OWED_STATUSES = ("unpaid",)


@dataclass(frozen=True)
class ServiceLine:
    id: int
    domain: str
    product: str
    status: str
    cycle: str
    next_due_date: date | None
    recurring_amount: Decimal
    balance_due: Decimal | None  # None: the reader may not see billing


@dataclass(frozen=True)
class ClientSummary:
    """A figure is None when the reader (an invited user) lacks the permission it belongs
    to: money needs "billing", the ticket count "tickets"; the page leaves it out."""

    services: list[ServiceLine]
    amount_owed: Decimal | None
    overdue: Decimal | None
    unpaid_invoices: int | None
    credit: Decimal | None
    open_tickets: int | None


@dataclass(frozen=True)
class DeskCounts:
    clients: int
    services_by_status: dict[str, int]
    unpaid_invoices: int
    receivables: Decimal
    overdue_invoices: int
    open_tickets: int
    unassigned_tickets: int


def client_summary(actor: Actor, today: date, *, session: Session | None = None) -> ClientSummary:
    """What a client sees first: each service with what it owes, and the totals."""
    if not actor.is_client:
        raise Forbidden()
    with reading(session) as s:
        return _client_summary(s, actor, today)


def _client_summary(session: Session, actor: Actor, today: date) -> ClientSummary:
    money = actor.may("billing")
    owed_by_service = _owed_by_service(session, actor) if money else {}
    rows = session.execute(
        scoped(actor, Service)
        .with_only_columns(
            Service.id,
            Service.domain,
            Product.name,
            Service.status,
            Service.billing_cycle,
            Service.next_due_date,
            Service.recurring_amount,
        )
        .join(Product, Product.id == Service.product_id)
        .order_by(Service.status, Service.next_due_date)
    ).all()
    services = [
        ServiceLine(
            *row, balance_due=owed_by_service.get(row[0], Decimal("0.00")) if money else None
        )
        for row in rows
    ]
    amount_owed = overdue = credit = None
    count = None
    if money:
        inv = scoped(actor, Invoice).where(Invoice.status.in_(OWED_STATUSES))
        owed, count = session.execute(
            inv.with_only_columns(func.coalesce(func.sum(Invoice.balance), 0), func.count())
        ).one()
        late = session.execute(
            inv.where(Invoice.due_on < today).with_only_columns(
                func.coalesce(func.sum(Invoice.balance), 0)
            )
        ).scalar_one()
        amount_owed = Decimal(owed).quantize(Decimal("0.01"))
        overdue = Decimal(late).quantize(Decimal("0.01"))
        credit = session.execute(
            scoped(actor, Client).with_only_columns(Client.credit_balance)
        ).scalar_one()
    tickets = None
    if actor.may("tickets"):
        tickets = session.execute(
            scoped(actor, Ticket).where(Ticket.status != "closed").with_only_columns(func.count())
        ).scalar_one()
    return ClientSummary(
        services=services,
        amount_owed=amount_owed,
        overdue=overdue,
        unpaid_invoices=count,
        credit=credit,
        open_tickets=tickets,
    )


def _owed_by_service(session: Session, actor: Actor) -> dict[int, Decimal]:
    """Unpaid amounts per service, from the invoice lines of unpaid invoices."""
    rows = session.execute(
        select(InvoiceItem.service_id, func.sum(InvoiceItem.amount + InvoiceItem.tax_amount))
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(
            visible(actor, Invoice),
            Invoice.status.in_(OWED_STATUSES),
            InvoiceItem.service_id.is_not(None),
        )
        .group_by(InvoiceItem.service_id)
    ).all()
    return {sid: Decimal(total).quantize(Decimal("0.01")) for sid, total in rows if sid is not None}


def desk_counts(actor: Actor, today: date, *, session: Session | None = None) -> DeskCounts:
    """Counts for staff and the owner; billing figures only for those with billing rights.

    Read through ``desk_memo`` when no session is given: up to ``desk_memo.FRESH_FOR``
    seconds old for changes committed by another process, never for this process's own."""
    if not actor.is_staff_or_owner:
        raise Forbidden()
    if session is not None:  # the caller's own transaction may hold changes not committed
        return _desk_counts(session, actor, today)

    def count() -> DeskCounts:
        with reading() as s:
            return _desk_counts(s, actor, today)

    # The counts are the business's, the same for every reader with the same billing right
    # (desk_memo: kept briefly, dropped on this process's next change to the book).
    key = ("desk_counts", str(get_engine().url), today, actor.can("billing"))
    return remembered(key, count)


def _desk_counts(session: Session, actor: Actor, today: date) -> DeskCounts:
    by_status = dict(
        session.execute(select(Service.status, func.count()).group_by(Service.status)).all()
    )
    clients = session.execute(select(func.count()).select_from(Client)).scalar_one()
    unpaid = overdue = 0
    receivables = Decimal(0)
    if actor.can("billing"):
        unpaid, receivables = session.execute(
            select(func.count(), func.coalesce(func.sum(Invoice.balance), 0)).where(
                Invoice.status == "unpaid"
            )
        ).one()
        overdue = session.execute(
            select(func.count()).where(Invoice.status == "unpaid", Invoice.due_on < today)
        ).scalar_one()
    open_tickets, assigned = session.execute(
        select(func.count(), func.count(Ticket.assignee_id)).where(
            Ticket.status.in_(OPEN_TICKET_STATUSES)
        )
    ).one()
    unassigned = open_tickets - assigned
    return DeskCounts(
        clients=clients,
        services_by_status={k: int(v) for k, v in by_status.items()},
        unpaid_invoices=int(unpaid),
        receivables=Decimal(receivables).quantize(Decimal("0.01")),
        overdue_invoices=int(overdue),
        open_tickets=int(open_tickets),
        unassigned_tickets=int(unassigned),
    )
