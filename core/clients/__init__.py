"""Clients at the desk: search, and the values the client pages read and submit.

Search (``clients`` right) matches, in SQL and paged: name or company (contains), e-mail
(prefix; the contact address or a sign-in address), RUC or cédula (prefix of the digits, so a
cédula finds its RUC), domain (prefix, ``www.``/scheme/path ignored), and an invoice or ticket
number (exact; digits alone are read as ``F0000012``/``T000012``). E-mail, tax id, domain and
the numbers are indexed columns.

A client's whole picture and "view as client" are ``core.clients.detail``; creating and
editing clients and set-password links are ``core.clients.records``. Both were split from this
module to keep modules near the house size, and both use its values and ``_client``; behaviour
is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from core.access import Actor, parse_id, require
from core.billing.views import ClientBillingView
from core.models import Client, Invoice, Service, Ticket, User
from core.platform.db import reading
from core.platform.errors import Forbidden, NotFound
from core.platform.paging import Page, counted
from core.platform.sequences import FORMATS

MAX_PER_PAGE = 100


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


ClientPage = Page[ClientRow]


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
    skip = (page - 1) * per_page
    with reading(session) as s:
        # Counted no further than a thousand past the page (paging.counted): counting every
        # client on each rerun grew with the book (issue 20, XL/L).
        total, more = counted(s, stmt.with_only_columns(Client.id), skip)
        rows = s.scalars(stmt.order_by(Client.name, Client.id).limit(per_page).offset(skip)).all()
        return Page(
            rows=[
                ClientRow(c.id, c.name, c.company, c.email, c.tax_id_type, c.tax_id, c.city)
                for c in rows
            ],
            total=int(total),
            page=page,
            per_page=per_page,
            more=more,
        )


# ------------------------------------------------------------------------ one client
# Shared by clients.detail and clients.records (desk reads, after their permission check),
# so that every page given a client id from the URL or a form answers a malformed or unknown
# one the same way: NotFound.
def client_by_id(s: Session, client_id: int) -> Client:
    client = s.get(Client, parse_id(client_id))
    if client is None:
        raise NotFound()
    return client
