"""A client's whole picture at the desk, and the client area exactly as the client sees it.

``client_detail`` reads the details, services, users and audit trail (``clients`` right);
invoices, credit and what the client owes need ``billing``, tickets need ``tickets``, and audit
entries about money stay hidden without ``billing``.

"View as client": staff read the client's home, services, invoices and tickets through the
same scoped reads the client's own pages use, with a client actor that never leaves this
module, so the result is what the client sees and nothing can be done with it. Every look
is audited (``client.viewed_as``). Money stays behind the ``billing`` right here too.

Split from ``core.clients`` (which keeps the values returned here) to keep modules near the
house size; behaviour is unchanged.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, of_client, require, scoped
from core.billing.credit import credit_history
from core.billing.views import client_billing_view
from core.clients import (
    AuditLine,
    ClientDetail,
    ClientEyeView,
    CreditLine,
    InvoiceLine,
    ServiceLine,
    TicketLine,
    UserLine,
    client_by_id,
)
from core.insights.overview import client_summary
from core.models import AuditEntry, Invoice, Product, Service, Ticket, User
from core.platform import audit
from core.platform.db import reading, transaction

DETAIL_ROWS = 50
# Audit actions about money, hidden from staff without the billing right.
MONEY_ACTIONS = ("invoice.", "payment.", "credit.", "receipt.", "service.repriced")


# ------------------------------------------------------------------------ detail
def _services(s: Session, client_id: int, money: bool) -> list[ServiceLine]:
    rows = s.execute(
        select(
            Service.id,
            Service.domain,
            Product.name,
            Service.status,
            Service.billing_cycle,
            Service.next_due_date,
            Service.recurring_amount,
        )
        .join(Product, Product.id == Service.product_id)
        .where(of_client(Service, client_id))
        .order_by(Service.status, Service.domain, Service.id)
    ).all()
    return [ServiceLine(*r[:6], recurring_amount=r[6] if money else None) for r in rows]


def _tickets(s: Session, actor: Actor, client_id: int) -> list[TicketLine]:
    rows = s.execute(
        scoped(actor, Ticket, "tickets")
        .with_only_columns(
            Ticket.id,
            Ticket.number,
            Ticket.subject,
            Ticket.status,
            Ticket.priority,
            Ticket.last_reply_at,
        )
        .where(of_client(Ticket, client_id))
        .order_by(Ticket.last_reply_at.desc(), Ticket.id.desc())
        .limit(DETAIL_ROWS)
    ).all()
    return [TicketLine(*r) for r in rows]


def _audit_lines(s: Session, client_id: int, money: bool) -> list[AuditLine]:
    stmt = select(AuditEntry).where(of_client(AuditEntry, client_id))
    if not money:
        for prefix in MONEY_ACTIONS:
            stmt = stmt.where(~AuditEntry.action.startswith(prefix))
    rows = s.scalars(
        stmt.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(DETAIL_ROWS)
    ).all()
    return [AuditLine(r.at, r.actor_label, r.action, dict(r.details or {})) for r in rows]


DETAIL_SECTIONS = ("invoices", "credit", "users", "audit")


def client_detail(
    actor: Actor,
    client_id: int,
    *,
    sections: Collection[str] | None = None,
    session: Session | None = None,
) -> ClientDetail:
    """A client's details, services, users and audit trail (``clients``); invoices, credit
    and what they owe with ``billing``; tickets with ``tickets``.

    ``sections`` (of ``DETAIL_SECTIONS``) names the lists to read, for a page that shows one
    of them at a time; the others come back empty. None reads them all. The details, the
    services, the tickets and the sums (credit, what is owed) are always read."""
    require(actor, "clients")
    money, desk = actor.can("billing"), actor.can("tickets")
    wanted = set(DETAIL_SECTIONS if sections is None else sections)
    with reading(session) as s:
        client = client_by_id(s, client_id)
        users = (
            s.scalars(select(User).where(of_client(User, client.id)).order_by(User.id)).all()
            if "users" in wanted
            else []
        )
        detail = ClientDetail(
            id=client.id,
            name=client.name,
            company=client.company or "",
            email=client.email,
            phone=client.phone or "",
            address=client.address or "",
            city=client.city or "",
            province=client.province or "",
            country=client.country or "EC",
            tax_id_type=client.tax_id_type,
            tax_id=client.tax_id or "",
            language=client.language,
            notes=client.notes or "",
            created_at=client.created_at,
            services=_services(s, client.id, money),
            users=[
                UserLine(
                    u.id,
                    u.email,
                    u.active,
                    u.verified_at is not None,
                    u.password_hash is not None,
                    u.last_login_at,
                )
                for u in users
            ],
            audit=_audit_lines(s, client.id, money) if "audit" in wanted else [],
            tickets=_tickets(s, actor, client.id) if desk else None,
        )
        if not money:
            return detail
        invoices = (
            s.execute(
                select(
                    Invoice.id,
                    Invoice.number,
                    Invoice.issued_on,
                    Invoice.due_on,
                    Invoice.status,
                    Invoice.total,
                    Invoice.balance,
                )
                .where(of_client(Invoice, client.id))
                .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
                .limit(DETAIL_ROWS)
            ).all()
            if "invoices" in wanted
            else []
        )
        owed = s.execute(
            select(func.coalesce(func.sum(Invoice.balance), 0)).where(
                of_client(Invoice, client.id), Invoice.status == "unpaid"
            )
        ).scalar_one()
        credit_lines = (
            credit_history(actor, client.id, limit=DETAIL_ROWS, session=s)
            if "credit" in wanted
            else []
        )
        return replace(
            detail,
            credit=client.credit_balance,
            owed=Decimal(owed).quantize(Decimal("0.01")),
            invoices=[InvoiceLine(*r) for r in invoices],
            credit_lines=[CreditLine(c.at, c.amount, c.kind, c.reason) for c in credit_lines],
        )


# ------------------------------------------------------------------ view as client
def view_as_client(
    actor: Actor,
    client_id: int,
    today: date,
    at: datetime,
    *,
    session: Session | None = None,
) -> ClientEyeView:
    """What the client sees on their home, billing and tickets pages, read-only, audited.

    The reads run as the client (the same scoped functions their pages call) through an
    actor that is never handed out; money needs the staff member's own billing right."""
    require(actor, "clients")
    with transaction(session) as s:
        client = client_by_id(s, client_id)
        eye = Actor(
            user_id=0,  # nothing done with it could be taken for the client's own doing
            role="client",
            client_id=client.id,
            email=f"view-as:{actor.label()}",
            language=client.language,
        )
        summary = client_summary(eye, today, session=s)
        money = actor.can("billing")
        tickets = None
        if actor.can("tickets"):
            tickets = [
                TicketLine(r.id, r.number, r.subject, r.status, r.priority, r.last_reply_at)
                for r in s.execute(
                    scoped(eye, Ticket)
                    .with_only_columns(
                        Ticket.id,
                        Ticket.number,
                        Ticket.subject,
                        Ticket.status,
                        Ticket.priority,
                        Ticket.last_reply_at,
                    )
                    .order_by(Ticket.last_reply_at.desc(), Ticket.id.desc())
                    .limit(DETAIL_ROWS)
                ).all()
            ]
        audit.record(
            s,
            actor,
            "client.viewed_as",
            target_type="client",
            target_id=client.id,
            client_id=client.id,
            at=at,
        )
        return ClientEyeView(
            client_id=client.id,
            client_name=client.company or client.name,
            services=[
                ServiceLine(
                    line.id,
                    line.domain,
                    line.product,
                    line.status,
                    line.cycle,
                    line.next_due_date,
                    line.recurring_amount if money else None,
                )
                for line in summary.services
            ],
            open_tickets=summary.open_tickets or 0,  # the eye acts as the holder: a count
            tickets=tickets,
            billing=client_billing_view(eye, today=today, session=s) if money else None,
            amount_owed=summary.amount_owed if money else None,
            overdue=summary.overdue if money else None,
            credit=summary.credit if money else None,
        )
