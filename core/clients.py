"""Clients at the desk: search, a client's whole picture, creating and editing clients,
set-password links, and seeing the client area exactly as the client sees it.

Search (``clients`` right) matches, in SQL and paged: name or company (contains), e-mail
(prefix; the contact address or a sign-in address), RUC or cédula (prefix of the digits, so a
cédula finds its RUC), domain (prefix, ``www.``/scheme/path ignored), and an invoice or ticket
number (exact; digits alone are read as ``F0000012``/``T000012``). E-mail, tax id, domain and
the numbers are indexed columns.

"View as client": staff read the client's home, services, invoices and tickets through the
same scoped reads the client's own pages use, with a client actor that never leaves this
module, so the result is what the client sees and nothing can be done with it. Every look
is audited (``client.viewed_as``). Money stays behind the ``billing`` right here too.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from math import ceil
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from core import audit
from core.access import Actor, require, scoped
from core.accounts import normalise_email
from core.billing_views import ClientBillingView, client_billing_view
from core.credit import credit_history
from core.db import reading, transaction
from core.errors import Forbidden, NotFound, ValidationError
from core.i18n import LANGUAGES
from core.models import AuditEntry, Client, Invoice, Product, Service, Ticket, User
from core.overview import client_summary
from core.profile import TAX_ID_TYPES, clean_phone, clean_tax_id
from core.recovery import create_client_account, send_set_passwordlink
from core.sequences import FORMATS

MAX_PER_PAGE = 100
DETAIL_ROWS = 50
NOTES_MAX = 5000
# Audit actions about money, hidden from staff without the billing right.
MONEY_ACTIONS = ("invoice.", "payment.", "credit.", "receipt.", "service.repriced")


# ------------------------------------------------------------------------ values
@dataclass(frozen=True)
class ClientRow:
    id: int
    name: str
    company: str | None
    email: str
    tax_id_type: str
    tax_id: str | None
    city: str | None


@dataclass(frozen=True)
class ClientPage:
    rows: list[ClientRow]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


@dataclass(frozen=True)
class ServiceLine:
    id: int
    domain: str
    plan: str
    status: str
    cycle: str
    next_due_date: date | None
    recurring_amount: Decimal | None  # None without the billing right


@dataclass(frozen=True)
class InvoiceLine:
    id: int
    number: str | None
    issued_on: date
    due_on: date
    status: str
    total: Decimal
    balance: Decimal


@dataclass(frozen=True)
class TicketLine:
    id: int
    number: str
    subject: str
    status: str
    priority: str
    last_reply_at: datetime


@dataclass(frozen=True)
class CreditLine:
    at: datetime
    amount: Decimal
    kind: str
    reason: str | None


@dataclass(frozen=True)
class UserLine:
    id: int
    email: str
    active: bool
    verified: bool
    has_password: bool
    last_login_at: datetime | None


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    details: dict[str, Any]


@dataclass(frozen=True)
class ClientDetail:
    id: int
    name: str
    company: str
    email: str
    phone: str
    address: str
    city: str
    province: str
    country: str
    tax_id_type: str
    tax_id: str
    language: str
    notes: str
    created_at: datetime
    services: list[ServiceLine]
    users: list[UserLine]
    audit: list[AuditLine]
    credit: Decimal | None = None  # billing right only, like the three below
    owed: Decimal | None = None
    invoices: list[InvoiceLine] | None = None
    credit_lines: list[CreditLine] | None = None
    tickets: list[TicketLine] | None = None  # tickets right only


@dataclass
class ClientForm:
    """A client's details as the desk's form submits them."""

    name: str
    email: str
    company: str = ""
    phone: str = ""
    address: str = ""
    city: str = ""
    province: str = ""
    country: str = "EC"
    tax_id_type: str = "consumidor_final"
    tax_id: str = ""
    language: str = "es"
    notes: str = ""


@dataclass(frozen=True)
class ClientEyeView:
    """The client area as the client sees it, for reading only."""

    client_id: int
    client_name: str
    services: list[ServiceLine]
    open_tickets: int
    tickets: list[TicketLine] | None  # tickets right only
    billing: ClientBillingView | None  # billing right only
    amount_owed: Decimal | None = None
    overdue: Decimal | None = None
    credit: Decimal | None = None


# ------------------------------------------------------------------------ search
def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _host(text: str) -> str:
    host = text.strip().lower()
    for prefix in ("https://", "http://"):
        if host.startswith(prefix):
            host = host[len(prefix) :]
    host = host.split("/", 1)[0]
    return host[4:] if host.startswith("www.") else host


def _like(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "")


def _conditions(query: str) -> list[ColumnElement[bool]]:
    q = query.strip()
    low = _like(q.lower())
    conds: list[ColumnElement[bool]] = [
        func.lower(Client.name).like(f"%{low}%"),
        func.lower(Client.company).like(f"%{low}%"),
        Client.email.like(f"{low}%"),
        Client.id.in_(
            select(User.client_id).where(User.client_id.is_not(None), User.email.like(f"{low}%"))
        ),
    ]
    digits = _digits(q)
    if len(digits) >= 4 and len(digits) >= len(q.replace("-", "").replace(" ", "")):
        conds.append(Client.tax_id.like(f"{digits}%"))
    elif q.isalnum() and 5 <= len(q) <= 20:
        conds.append(Client.tax_id == q.upper())  # a passport
    host = _like(_host(q))
    if host and all(ch.isalnum() or ch in ".-" for ch in host):
        conds.append(
            Client.id.in_(select(Service.client_id).where(Service.domain.like(f"{host}%")))
        )
    numbers = {q, q.upper()}
    if digits and digits == q and len(q) <= 9:
        numbers |= {FORMATS["invoice"].format(int(q)), FORMATS["ticket"].format(int(q))}
    conds.append(Client.id.in_(select(Invoice.client_id).where(Invoice.number.in_(numbers))))
    conds.append(Client.id.in_(select(Ticket.client_id).where(Ticket.number.in_(numbers))))
    return conds


def search_clients(
    actor: Actor,
    query: str = "",
    *,
    page: int = 1,
    per_page: int = 25,
    session: Session | None = None,
) -> ClientPage:
    """Clients matching ``query`` (module notes), by name, one page of them with the total."""
    require(actor, "clients")
    return _search(query, page, per_page, session)


def clients_for_ticket(
    actor: Actor, query: str = "", *, per_page: int = 20, session: Session | None = None
) -> ClientPage:
    """The same search for the desk opening a ticket for a client who called: staff who
    handle tickets may lack the client records' permission, and still need to name one."""
    if actor.is_client:
        raise Forbidden()
    require(actor, "tickets")
    return _search(query, 1, per_page, session)


def _search(query: str, page: int, per_page: int, session: Session | None) -> ClientPage:
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    stmt = select(Client)
    if (query or "").strip():
        stmt = stmt.where(or_(*_conditions(query)))
    with reading(session) as s:
        total = s.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = s.scalars(
            stmt.order_by(Client.name, Client.id).limit(per_page).offset((page - 1) * per_page)
        ).all()
        return ClientPage(
            rows=[
                ClientRow(c.id, c.name, c.company, c.email, c.tax_id_type, c.tax_id, c.city)
                for c in rows
            ],
            total=int(total),
            page=page,
            per_page=per_page,
        )


# ------------------------------------------------------------------------ detail
def _client(s: Session, client_id: Any) -> Client:
    try:
        key = int(client_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    client = s.get(Client, key)
    if client is None:
        raise NotFound()
    return client


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
        .where(Service.client_id == client_id)
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
        .where(Ticket.client_id == client_id)
        .order_by(Ticket.last_reply_at.desc(), Ticket.id.desc())
        .limit(DETAIL_ROWS)
    ).all()
    return [TicketLine(*r) for r in rows]


def _audit_lines(s: Session, client_id: int, money: bool) -> list[AuditLine]:
    stmt = select(AuditEntry).where(AuditEntry.client_id == client_id)
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
    client_id: Any,
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
        client = _client(s, client_id)
        users = (
            s.scalars(select(User).where(User.client_id == client.id).order_by(User.id)).all()
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
                .where(Invoice.client_id == client.id)
                .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
                .limit(DETAIL_ROWS)
            ).all()
            if "invoices" in wanted
            else []
        )
        owed = s.execute(
            select(func.coalesce(func.sum(Invoice.balance), 0)).where(
                Invoice.client_id == client.id, Invoice.status == "unpaid"
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
            credit_lines=[
                CreditLine(c.created_at, c.amount, c.kind, c.reason) for c in credit_lines
            ],
        )


# -------------------------------------------------------------------- create/edit
@dataclass(frozen=True)
class _Clean:
    name: str
    email: str
    company: str | None
    phone: str | None
    address: str | None
    city: str | None
    province: str | None
    country: str
    tax_id_type: str
    tax_id: str | None
    language: str
    notes: str | None


def _line(value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").replace("\r", " ").replace("\n", " ").split())
    return text[:limit] or None


def _clean(form: ClientForm) -> _Clean:
    name = _line(form.name, 200)
    if not name:
        raise ValidationError("error.name_required")
    country = (form.country or "EC").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationError("error.country_invalid")
    if form.language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    if form.tax_id_type not in TAX_ID_TYPES:
        raise ValidationError("error.tax_id_type_invalid")
    notes = (form.notes or "").replace("\r\n", "\n").strip()
    if len(notes) > NOTES_MAX:
        raise ValidationError("clients.error_notes_too_long", n=NOTES_MAX)
    return _Clean(
        name=name,
        email=normalise_email(form.email),
        company=_line(form.company, 200),
        phone=clean_phone(form.phone, country),
        address=_line(form.address, 300),
        city=_line(form.city, 100),
        province=_line(form.province, 100),
        country=country,
        tax_id_type=form.tax_id_type,
        tax_id=clean_tax_id(form.tax_id_type, form.tax_id),
        language=form.language,
        notes=notes or None,
    )


FIELDS = (
    "name",
    "email",
    "company",
    "phone",
    "address",
    "city",
    "province",
    "country",
    "tax_id_type",
    "tax_id",
    "language",
    "notes",
)


def create_client(
    actor: Actor, form: ClientForm, at: datetime, *, session: Session | None = None
) -> int:
    """A new client with a sign-in account; a welcome mail lets them set a password.
    Every field is validated first (tax id with its check digit, phone by country)."""
    require(actor, "clients")
    clean = _clean(form)
    with transaction(session) as s:
        client_id = create_client_account(
            actor,
            name=clean.name,
            email=clean.email,
            language=clean.language,
            company=clean.company,
            at=at,
            session=s,
        )
        client = s.get(Client, client_id)
        for name in FIELDS:
            setattr(client, name, getattr(clean, name))
        audit.record(
            s,
            actor,
            "client.created",
            target_type="client",
            target_id=client_id,
            client_id=client_id,
            at=at,
            name=clean.name,
            email=clean.email,
        )
        return client_id


def update_client(
    actor: Actor,
    client_id: Any,
    form: ClientForm,
    at: datetime,
    *,
    session: Session | None = None,
) -> list[str]:
    """Save a client's contact and billing details and notes; returns the changed fields.
    The sign-in address is the client's own to change (it must be verified)."""
    require(actor, "clients")
    clean = _clean(form)
    with transaction(session) as s:
        client = _client(s, client_id)
        changed = [n for n in FIELDS if getattr(client, n) != getattr(clean, n)]
        for name in changed:
            setattr(client, name, getattr(clean, name))
        if changed:
            audit.record(
                s,
                actor,
                "client.updated",
                target_type="client",
                target_id=client.id,
                client_id=client.id,
                at=at,
                fields=",".join(changed),
            )
        return changed


def send_password_link(
    actor: Actor, client_id: Any, at: datetime, *, session: Session | None = None
) -> str:
    """Mail the client's (first active) sign-in account a link to set a new password; the
    desk never sees or sets a password. Returns the address it went to."""
    require(actor, "clients")
    with transaction(session) as s:
        client = _client(s, client_id)
        user = s.scalars(
            select(User).where(User.client_id == client.id, User.active.is_(True)).order_by(User.id)
        ).first()
        if user is None:
            raise NotFound("clients.error_no_user")
        send_set_passwordlink(actor, user.id, at, session=s)
        return user.email


# ------------------------------------------------------------------ view as client
def view_as_client(
    actor: Actor,
    client_id: Any,
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
        client = _client(s, client_id)
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
            open_tickets=summary.open_tickets,
            tickets=tickets,
            billing=client_billing_view(eye, today=today, session=s) if money else None,
            amount_owed=summary.amount_owed if money else None,
            overdue=summary.overdue if money else None,
            credit=summary.credit if money else None,
        )
