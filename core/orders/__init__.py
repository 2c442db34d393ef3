"""New services (orders): a client orders a plan, staff add a service; the account is created
on the panel once the first invoice is paid — billing-rules §1.2 and §2.4.

* **Order.** A client picks a product, a cycle and a domain (their own account only; the server
  is chosen for them: the active one with the fewest live accounts and room left). Staff with the
  services permission and the owner do the same for any client and may choose the server. The
  domain is checked (syntax, IDNA → stored in its ASCII form) and refused when the book already
  has it on a live or pending service, or when the server's panel already has an account for it.
* **First invoice**, made at once: one full cycle from the order date, or — when the product
  has prorata billing — the prorated days to the prorata day (plus one full cycle after the
  "charge next month" cutoff), rounded once (``core.rules.proration.quote_prorata``); plus the setup
  fee, if any. The service waits in "pending" with its first due date already set.

The "order" is the pending service itself plus its first invoice, the lines of kind "renewal"
or "prorata" whose period starts on the service's registration date; the audit log keeps
"order.placed" and "order.welcome_sent" so the welcome mail goes out exactly once.

This module places and lists orders. To keep modules near the house size (about 400 lines)
the rest of the area is split by what it does:

* ``core.orders.pricing`` — the pure parts: the order's business day, the domain as stored
  and the first invoice's lines (:func:`~core.orders.pricing.first_invoice`).
* ``core.orders.fulfilment`` — paid → account (the paid hook, ``provision_pending``) and
  stale orders (``cancel_stale``), plus which invoice is an order's first one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import panel
from core.access import SYSTEM, Actor, of_client, parse_id, require, require_permission, visible
from core.accounts.recovery import require_verified
from core.billing import LineInput, create_invoice, issue_invoice
from core.billing.ledger import lock_client
from core.models import Client, Invoice, Product, ProductPrice, Server, Service
from core.orders.fulfilment import order_invoice_id, order_invoice_of
from core.orders.pricing import (
    FirstLine,
    business_day,
    first_invoice,
    normalise_domain,
    unicode_domain,
)
from core.orders.quote import OrderQuote as OrderQuote  # the order's confirmation
from core.orders.quote import order_quote as order_quote
from core.platform import audit
from core.platform.clock import now
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, NotFound, ValidationError
from core.platform.i18n import day as fmt_day
from core.platform.i18n import pick, t
from core.rules.cycles import RECURRING_CYCLES
from core.rules.money import ZERO, q2

GONE = ("cancelled", "terminated")  # a domain on such a service is free again
MAX_CLIENTS = 200
ORDERS_SHOWN = 200  # the newest orders the orders list shows


# ------------------------------------------------------------------------ values
@dataclass(frozen=True)
class Offer:
    """One product on one recurring cycle, as the order forms list it."""

    product_id: int
    product: str
    cycle: str
    price: Decimal
    setup_fee: Decimal
    prorata: bool


@dataclass(frozen=True)
class PlacedOrder:
    service_id: int
    invoice_id: int
    invoice_number: str
    domain: str
    total: Decimal
    next_due: date | None  # the service's next_due_date, which the model allows to be empty
    repeated: bool  # the same order placed a moment ago (a double click)
    credit_used: Decimal = ZERO  # the client's credit the first invoice took
    paid: bool = False  # the first invoice is paid (by credit): the account is being made
    status: str = "pending"  # the service's status as the order returns ("active" once made)


@dataclass(frozen=True)
class OrderRow:
    service_id: int
    client_name: str
    domain: str
    product: str
    cycle: str
    ordered_on: date
    invoice_id: int | None
    invoice_number: str | None
    invoice_status: str | None
    total: Decimal
    problem: str | None  # staff/owner only: the panel's last failure

    @property
    def stage(self) -> str:
        """ "awaiting_payment" or "awaiting_setup" (paid, account not made yet)."""
        return "awaiting_setup" if self.invoice_status == "paid" else "awaiting_payment"


@dataclass(frozen=True)
class Choice:
    id: int
    label: str


@dataclass(frozen=True)
class OrderForm:
    """What the staff "Add a service" form offers."""

    offers: list[Offer]
    clients: list[Choice]
    servers: list[Choice]


# ------------------------------------------------------------------------ reads
def _offers(s: Session, lang: str | None = None) -> list[Offer]:
    rows = s.execute(
        select(Product, ProductPrice)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(
            Product.active.is_(True),
            Product.kind == "hosting",  # add-ons are ordered on a service (core.addons)
            ProductPrice.cycle.in_(RECURRING_CYCLES),
        )
    ).all()
    offers = [
        Offer(
            product_id=p.id,
            product=pick(p.name, p.name_en, lang),
            cycle=price.cycle,
            price=q2(price.price),
            setup_fee=q2(price.setup_fee or ZERO),
            prorata=bool(p.prorata_enabled and p.prorata_day),
        )
        for p, price in rows
    ]
    order = {p.id: (p.sort_order, p.name) for p, _ in rows}
    offers.sort(key=lambda o: (order[o.product_id], RECURRING_CYCLES.index(o.cycle)))
    return offers


def offers(actor: Actor, *, session: Session | None = None) -> list[Offer]:
    """The plans that can be ordered (active products, recurring cycles), catalogue order."""
    require_permission(actor, "services")
    if not actor.is_client:
        require(actor, "services")
    with reading(session) as s:
        return _offers(s, actor.language)


def order_form(
    actor: Actor, client_search: str | None = None, *, session: Session | None = None
) -> OrderForm:
    """The staff "Add a service" form's choices: plans, clients (searched) and servers."""
    require_permission(actor, "billing")
    require_permission(actor, "services")
    require(actor, "services")
    term = (client_search or "").strip().lower().replace("%", "").replace("_", "")
    stmt = select(Client.id, Client.name, Client.email).order_by(Client.name, Client.id)
    if term:
        like = f"%{term}%"
        stmt = stmt.where(
            or_(
                func.lower(Client.name).like(like),
                func.lower(Client.email).like(like),
                func.lower(Client.company).like(like),
            )
        )
    with reading(session) as s:
        clients = [Choice(r[0], f"{r[1]} · {r[2]}") for r in s.execute(stmt.limit(MAX_CLIENTS))]
        servers = [
            Choice(srv.id, srv.name)
            for srv in s.scalars(
                select(Server).where(Server.active.is_(True)).order_by(Server.name)
            )
        ]
        return OrderForm(offers=_offers(s, actor.language), clients=clients, servers=servers)


def list_orders(actor: Actor, *, session: Session | None = None) -> list[OrderRow]:
    """Orders not set up yet (pending services with their first invoice): a client's own;
    every client's for staff with the services permission and the owner."""
    require_permission(actor, "services")
    if not actor.is_client and not actor.can("services"):
        return []
    mine = [visible(actor, Service)] if actor.is_client else []
    # The newest orders first, their invoices looked up one by one: the pending services
    # are walked newest first on (status, registration_date, id) and the walk stops at the
    # page, so the cost does not grow with the pending services of the whole book.
    first = order_invoice_of()
    newest = (
        select(Service.id.label("service_id"), first.label("invoice_id"))
        .where(Service.status == "pending", *mine, first.is_not(None))
        .order_by(Service.registration_date.desc(), Service.id.desc())
        .limit(ORDERS_SHOWN)
        .subquery()
    )
    stmt = (
        select(
            Service.id,
            Client.name,
            Service.domain,
            Product.name,
            Service.billing_cycle,
            Service.registration_date,
            Invoice.id,
            Invoice.number,
            Invoice.status,
            Invoice.total,
            Service.panel_error,
        )
        .select_from(newest)
        .join(Service, Service.id == newest.c.service_id)
        .join(Client, Client.id == Service.client_id)
        .join(Product, Product.id == Service.product_id)
        .join(Invoice, Invoice.id == newest.c.invoice_id)
        .order_by(Service.registration_date.desc(), Service.id.desc())
    )
    with reading(session) as s:
        return [
            OrderRow(
                service_id=r[0],
                client_name=r[1],
                domain=r[2],
                product=r[3],
                cycle=r[4],
                ordered_on=r[5],
                invoice_id=r[6],
                invoice_number=r[7],
                invoice_status=r[8],
                total=r[9],
                problem=None if actor.is_client else r[10],
            )
            for r in s.execute(stmt).all()
        ]


# ------------------------------------------------------------------------ ordering
def _offer(s: Session, product_id: int, cycle: str) -> tuple[Product, ProductPrice]:
    try:
        key = int(product_id)
    except (TypeError, ValueError):
        raise ValidationError("error.order_plan_invalid") from None
    row = s.execute(
        select(Product, ProductPrice)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(
            Product.id == key,
            Product.active.is_(True),
            Product.kind == "hosting",
            ProductPrice.cycle == cycle,
        )
    ).first()
    if row is None or cycle not in RECURRING_CYCLES:
        raise ValidationError("error.order_plan_invalid")
    return row[0], row[1]


def _in_book(s: Session, name: str) -> Service | None:
    forms = {name, unicode_domain(name)}
    return s.scalars(
        select(Service).where(func.lower(Service.domain).in_(forms), Service.status.not_in(GONE))
    ).first()


def _server(s: Session, server_id: int | None) -> Server:
    """The chosen server, or the active one with the fewest live accounts and room left."""
    if server_id not in (None, ""):
        try:
            server = s.get(Server, int(server_id))
        except (TypeError, ValueError):
            server = None
        if server is None or not server.active:
            raise ValidationError("error.order_server_invalid")
        return server
    counts = dict(
        s.execute(
            select(Service.server_id, func.count())
            .where(Service.server_id.is_not(None), Service.status.not_in(GONE))
            .group_by(Service.server_id)
        ).all()
    )
    candidates = [
        srv
        for srv in s.scalars(select(Server).where(Server.active.is_(True)).order_by(Server.id))
        if counts.get(srv.id, 0) < (srv.max_accounts or 0)
    ]
    if not candidates:
        raise Conflict("error.order_no_server")
    return min(candidates, key=lambda srv: (counts.get(srv.id, 0), srv.id))


def _same_order(
    s: Session, client_id: int, name: str, product_id: int, cycle: str, day: date
) -> Service | None:
    """The identical order placed today and not paid yet (a double click)."""
    return s.scalars(
        select(Service).where(
            of_client(Service, client_id),
            func.lower(Service.domain) == name,
            Service.product_id == product_id,
            Service.billing_cycle == cycle,
            Service.status == "pending",
            Service.registration_date == day,
        )
    ).first()


def place_order(
    actor: Actor,
    *,
    product_id: int,
    cycle: str,
    domain: str,
    client_id: int | None = None,
    server_id: int | None = None,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> PlacedOrder:
    """Order a new service and make its first invoice at once.

    A client orders for themselves (another client's id is NotFound; the server is chosen for
    them). Staff with the services permission and the owner name the client and may name the
    server. The same order repeated the same day returns the one already placed. ``at``: the
    moment (default now; a date gives the day, and the moment is read now).
    """
    require_permission(actor, "billing")
    require_permission(actor, "services")
    moment = at if isinstance(at, datetime) else now()
    day = business_day(at or moment)
    name = normalise_domain(domain)
    if actor.is_client:
        require_verified(actor, session=session)
        if client_id not in (None, "") and str(client_id) != str(actor.client_id):
            raise NotFound()
        client_id, server_id = actor.client_id, None
    else:
        require(actor, "services")
        if client_id in (None, ""):
            raise ValidationError("error.order_client_required")
    owner_id = parse_id(client_id)

    with reading(session) as s:
        if s.get(Client, owner_id) is None:
            raise NotFound()
        product, _ = _offer(s, product_id, cycle)
        repeat = _same_order(s, owner_id, name, product.id, cycle, day)
        if repeat is not None:
            return _placed(repeat.id, s, repeated=True)
        if _in_book(s, name) is not None:
            raise Conflict("error.order_domain_taken", domain=name)
        server = _server(s, server_id)
        ep = panel.endpoint(server)
        chosen_server = server.id

    # The panel is asked with no transaction open (ARCHITECTURE §2 rule 6).
    with panel.calling(None, write=False):
        accounts = panel.client(ep).list_accounts()
    if any(str(a.get("domain", "")).lower() in (name, unicode_domain(name)) for a in accounts):
        raise Conflict("error.order_domain_on_server", domain=name)

    with transaction(session) as s:
        client = lock_client(s, owner_id)  # two orders of one client queue behind each other
        repeat = _same_order(s, owner_id, name, product.id, cycle, day)
        if repeat is not None:
            return _placed(repeat.id, s, repeated=True)
        if _in_book(s, name) is not None:
            raise Conflict("error.order_domain_taken", domain=name)
        product, price = _offer(s, product.id, cycle)
        plan = first_invoice(
            price=price.price,
            cycle=cycle,
            order_date=day,
            setup_fee=price.setup_fee or ZERO,
            prorata_day=product.prorata_day if product.prorata_enabled else None,
            charge_next_month_day=product.prorata_next_month_after_day,
        )
        svc = Service(
            client_id=client.id,
            product_id=product.id,
            server_id=chosen_server,
            domain=name,
            status="pending",
            billing_cycle=cycle,
            recurring_amount=q2(price.price),
            anchor_day=plan.anchor_day,
            registration_date=day,
            next_due_date=plan.next_due,
        )
        s.add(svc)
        s.flush()
        lang = client.language
        # The lines are written in the client's language, the plan's name too.
        plan_name = pick(product.name, product.name_en, lang)
        lines = [_line(line, svc, plan_name, cycle, lang) for line in plan.lines]
        invoice_id = create_invoice(
            SYSTEM, client.id, lines, issued_on=day, due_on=day, draft=True, session=s, at=moment
        )
        total = s.get_one(Invoice, invoice_id).total
        svc.first_payment_amount = total
        audit.record(
            s,
            actor,
            "order.placed",
            target_type="service",
            target_id=svc.id,
            client_id=client.id,
            domain=name,
            product=product.name,
            cycle=cycle,
            invoice=invoice_id,
            total=total,
        )
        s.flush()
        # Issuing applies the client's credit and settles a zero total: the paid hook then
        # finds this order and provisions it after commit.
        issue_invoice(SYSTEM, invoice_id, issued_on=day, due_on=day, session=s, at=moment)
        placed_id = svc.id
    # Read after commit, so a service paid by credit and set up meanwhile says "active".
    return _placed(placed_id, session, repeated=False)


def _line(line: FirstLine, svc: Service, product: str, cycle: str, lang: str) -> LineInput:
    params = {
        "product": product,
        "domain": svc.domain,
        "cycle": t(f"cycle.{cycle}", lang),
        "start": fmt_day(line.period_start, lang),
        "end": fmt_day(line.period_end, lang),
    }
    return LineInput(
        description=t(f"orders.line_{line.kind}", lang, **params),
        amount=line.amount,
        kind=line.kind,
        service_id=svc.id,
        period_start=line.period_start,
        period_end=line.period_end,
    )


def _placed(service_id: int, session: Session | None, *, repeated: bool) -> PlacedOrder:
    with reading(session) as s:
        svc = s.get_one(Service, service_id)
        invoice_id = order_invoice_id(s, svc)
        invoice = s.get(Invoice, invoice_id) if invoice_id is not None else None
        if invoice is None:  # pragma: no cover - an order always has its invoice
            raise NotFound()
        return PlacedOrder(
            service_id=svc.id,
            invoice_id=invoice.id,
            invoice_number=invoice.number or "",
            domain=svc.domain,
            total=invoice.total,
            next_due=svc.next_due_date,
            repeated=repeated,
            credit_used=invoice.credit_applied,
            paid=invoice.status == "paid",
            status=svc.status,
        )
