"""What staff see beside a ticket: the client's services (status, what each owes, live panel
state: suspended or not, disk against the limit) and open invoices with the overdue amount.

The invoices are read here rather than through ``billing.views`` because those reads need the
billing right, and a support agent with only the tickets right must still see that a client
is behind on payments. The panel is read live with short timeouts and no retries, a few
accounts in parallel; any panel failure is "unreachable", never an error on the page.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core import panel
from core.access import Actor, of_client, require
from core.billing.ledger import PAYABLE
from core.models import Invoice, InvoiceItem, Product, Service
from core.panel.whm import WhmClient
from core.platform.clock import to_local
from core.platform.config import get_settings
from core.platform.db import reading
from core.platform.errors import DomainError, Forbidden
from core.support.common import load

log = logging.getLogger("anfitrion.tickets")

LIVE = ("active", "suspended")
PANEL_LOOKUPS = 3  # services looked up live beside one ticket
PANEL_TIMEOUT = (2, 4)  # connect, read (seconds): a slow panel must not hold the page


@dataclass(frozen=True)
class ServiceLine:
    id: int
    domain: str
    plan: str
    status: str
    next_due_date: date | None
    amount_owed: Decimal
    on_panel: bool


@dataclass(frozen=True)
class InvoiceLine:
    id: int
    number: str | None
    due_on: date
    balance: Decimal
    overdue: bool


@dataclass(frozen=True)
class ClientContext:
    services: list[ServiceLine]
    invoices: list[InvoiceLine]
    amount_owed: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class PanelState:
    service_id: int
    reachable: bool
    exists: bool = True
    suspended: bool | None = None
    disk_used_mb: int | None = None
    disk_limit_mb: int | None = None  # None: unlimited (or unknown when unreachable)


def client_context(
    actor: Actor, client_id: int, at: datetime, *, session: Session | None = None
) -> ClientContext:
    """A client's services (with what each owes) and open invoices, for the desk."""
    if actor.is_client:
        raise Forbidden()
    require(actor, "tickets")
    with reading(session) as s:
        return _client_context(s, client_id, at)


def _client_context(s: Session, client_id: int, at: datetime) -> ClientContext:
    owed = dict(
        s.execute(
            select(InvoiceItem.service_id, func.sum(InvoiceItem.amount + InvoiceItem.tax_amount))
            .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
            .where(of_client(Invoice, client_id), Invoice.status.in_(PAYABLE))
            .group_by(InvoiceItem.service_id)
        ).all()
    )
    services = [
        ServiceLine(
            id=svc.id,
            domain=svc.domain,
            plan=plan,
            status=svc.status,
            next_due_date=svc.next_due_date,
            amount_owed=Decimal(owed.get(svc.id) or 0).quantize(Decimal("0.01")),
            on_panel=bool(svc.panel_username) and svc.server_id is not None and svc.status in LIVE,
        )
        for svc, plan in s.execute(
            select(Service, Product.name)
            .join(Product, Product.id == Service.product_id)
            .where(of_client(Service, client_id))
            .order_by(Service.domain, Service.id)
        )
    ]
    today = to_local(at, get_settings().tz).date()
    invoices = [
        InvoiceLine(inv.id, inv.number, inv.due_on, inv.balance, inv.due_on < today)
        for inv in s.scalars(
            select(Invoice)
            .where(of_client(Invoice, client_id), Invoice.status.in_(PAYABLE))
            .order_by(Invoice.due_on, Invoice.id)
        )
    ]
    zero = Decimal("0.00")
    return ClientContext(
        services=services,
        invoices=invoices,
        amount_owed=sum((i.balance for i in invoices), zero),
        overdue=sum((i.balance for i in invoices if i.overdue), zero),
    )


def _probe(service_id: int, ep: panel.Endpoint, username: str) -> PanelState:
    """One quick listaccts read: no retries, short timeouts; any failure is "unreachable"."""
    try:
        with WhmClient(
            ep.base_url, ep.username, ep.token, verify=ep.verify, timeout=PANEL_TIMEOUT, backoff=()
        ) as whm:
            acct = whm.account(username)
    except Exception:  # noqa: BLE001 - a panel problem must never break the ticket page
        log.warning("panel state of service %s could not be read", service_id, exc_info=True)
        return PanelState(service_id, reachable=False)
    if acct is None:
        return PanelState(service_id, reachable=True, exists=False)
    limit = acct.get("disk_limit_mb")
    return PanelState(
        service_id,
        reachable=True,
        suspended=bool(acct.get("suspended")),
        disk_used_mb=round(acct.get("disk_used_mb") or 0),
        disk_limit_mb=None if limit is None else round(limit),
    )


def panel_states(
    actor: Actor, ticket_id: int, *, session: Session | None = None
) -> dict[int, PanelState]:
    """Live panel state (suspended or not, disk against the limit) of the ticket's client's
    accounts, the ticket's own service first, at most ``PANEL_LOOKUPS`` of them, read in
    parallel with short timeouts. Staff only; a panel that fails shows as unreachable."""
    if actor.is_client:
        raise Forbidden()
    targets: list[tuple[int, panel.Endpoint | None, str]] = []
    with reading(session) as s:
        ticket = load(s, actor, ticket_id)
        found = s.scalars(
            select(Service)
            .where(
                of_client(Service, ticket.client_id),
                Service.status.in_(LIVE),
                Service.panel_username.is_not(None),
                Service.server_id.is_not(None),
            )
            .order_by(case((Service.id == (ticket.service_id or 0), 0), else_=1), Service.id)
            .limit(PANEL_LOOKUPS)
        ).all()
        for svc in found:
            try:
                ep = panel.endpoint(svc.server) if svc.server is not None else None
            except DomainError:
                ep = None  # no token, or one that cannot be read
            targets.append((svc.id, ep, svc.panel_username or ""))
    states = {sid: PanelState(sid, reachable=False) for sid, ep, _ in targets if ep is None}
    live = [(sid, ep, user) for sid, ep, user in targets if ep is not None]
    if live:
        with ThreadPoolExecutor(max_workers=len(live)) as pool:
            for state in pool.map(lambda x: _probe(*x), live):
                states[state.service_id] = state
    return states
