"""New services (orders): a client orders a plan, staff add a service; the account is created
on the panel once the first invoice is paid — billing-rules §1.2 and §2.4.

* **Order.** A client picks a product, a cycle and a domain (their own account only; the server
  is chosen for them: the active one with the fewest live accounts and room left). Staff with the
  services permission and the owner do the same for any client and may choose the server. The
  domain is checked (syntax, IDNA → stored in its ASCII form) and refused when the book already
  has it on a live or pending service, or when the server's panel already has an account for it.
* **First invoice**, made at once: one full cycle from the order date, or — when the product
  has prorata billing — the prorated days to the prorata day (plus one full cycle after the
  "charge next month" cutoff), rounded once (``core.proration.quote_prorata``); plus the setup
  fee, if any. The service waits in "pending" with its first due date already set.
* **Paid → account.** Paying the invoice runs :func:`_on_invoice_paid` in the paying
  transaction (database only); right after commit ``services_provisioning.provision`` creates
  the account (panel first; an account an earlier attempt made is adopted, never created twice)
  and the client gets a welcome mail with the service details and a link to the service's page,
  where they set the cPanel password. The password never goes in the mail. If the panel fails, the
  service stays pending and :func:`provision_pending` (the daily run) completes it, still once.
* **Stale orders.** An order left unpaid for ``orders.cancel_unpaid_days`` days (default 7;
  0 turns it off) is cancelled with its invoice by :func:`cancel_stale`.

The "order" is the pending service itself plus its first invoice, the lines of kind "renewal"
or "prorata" whose period starts on the service's registration date; the audit log keeps
"order.placed" and "order.welcome_sent" so the welcome mail goes out exactly once.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

import idna
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core import audit, mail, panel, services_provisioning, settings
from core.access import SYSTEM, Actor, require
from core.billing import LineInput, business_today, cancel_invoice, create_invoice, issue_invoice
from core.billing_ledger import lock_client, register_paid_hook
from core.clock import now, to_local
from core.config import get_settings
from core.cycles import RECURRING_CYCLES, advance
from core.db import after_commit, reading, transaction
from core.errors import Conflict, DomainError, NotFound, ValidationError
from core.i18n import day as fmt_day
from core.i18n import money as fmt_money
from core.i18n import t
from core.models import (
    AuditEntry,
    Client,
    Invoice,
    InvoiceItem,
    Product,
    ProductPrice,
    Server,
    Service,
)
from core.money import ZERO, q2
from core.proration import quote_prorata
from core.recovery import require_verified

log = logging.getLogger("anfitrion.orders")

CANCEL_UNPAID_DAYS = "orders.cancel_unpaid_days"  # setting: days an unpaid order waits
DEFAULT_CANCEL_UNPAID_DAYS = 7
ORDER_KINDS = ("renewal", "prorata")  # the first invoice's lines (plus "setup")
GONE = ("cancelled", "terminated")  # a domain on such a service is free again
WELCOME_LOOKBACK = timedelta(days=60)
MAX_CLIENTS = 200
_BAD_CHARS = re.compile(r"[\s/@:?#\\]")


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
class FirstLine:
    kind: str  # "prorata" | "renewal" | "setup"
    period_start: date
    period_end: date | None  # the last day covered (inclusive), as renewal lines have it
    amount: Decimal


@dataclass(frozen=True)
class FirstInvoice:
    """The first invoice of an order before tax, and the service's first due date."""

    lines: tuple[FirstLine, ...]
    next_due: date
    anchor_day: int

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


@dataclass(frozen=True)
class PlacedOrder:
    service_id: int
    invoice_id: int
    invoice_number: str
    domain: str
    total: Decimal
    next_due: date
    repeated: bool  # the same order placed a moment ago (a double click)


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


# ------------------------------------------------------------------------ pure parts
def business_day(at: date | datetime | None) -> date:
    """A business calendar date from ``at`` (a date, a naive-UTC datetime, or now)."""
    if at is None:
        return business_today()
    if isinstance(at, datetime):
        return to_local(at, get_settings().tz).date()
    return at


def normalise_domain(text: str | None) -> str:
    """The domain as the panel stores it: lower-case ASCII (IDNA/punycode), no scheme, path,
    trailing dot or leading "www."; ValidationError when it is not a valid domain name."""
    name = (text or "").strip().lower().rstrip(".")
    if name.startswith("www."):
        name = name[4:]
    if not name or len(name) > 253 or _BAD_CHARS.search(name):
        raise ValidationError("error.order_domain_invalid")
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise ValidationError("error.order_domain_invalid") from None
    if not panel.DOMAIN.fullmatch(ascii_name) or ascii_name.replace(".", "").isdigit():
        raise ValidationError("error.order_domain_invalid")
    return ascii_name


def _unicode(ascii_name: str) -> str:
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return ascii_name


def first_invoice(
    *,
    price: Decimal,
    cycle: str,
    order_date: date,
    setup_fee: Decimal = ZERO,
    prorata_day: int | None = None,
    charge_next_month_day: int | None = None,
) -> FirstInvoice:
    """The lines of an order's first invoice (billing-rules §1.2, §2.4).

    Without prorata: one full cycle from the order date, anchored on its day. With a prorata
    day: the prorated days to it (their amount rounded once with the full cycle billed after
    the cutoff), anchored on the prorata day. A setup fee is its own line.
    """
    price = q2(price)
    last = timedelta(days=1)  # periods end the day before the next one starts (inclusive)
    lines: list[FirstLine] = []
    if prorata_day:
        q = quote_prorata(
            price=price,
            cycle=cycle,
            order_date=order_date,
            prorata_day=prorata_day,
            charge_next_month_day=charge_next_month_day,
        )
        full = q2(q.full)
        if q.has_partial:
            target = advance(q.next_due, cycle, q.anchor_day, -1) if full > 0 else q.next_due
            # Rounded once: the total, of which the full cycle is whole cents already.
            lines.append(FirstLine("prorata", order_date, target - last, q.total - full))
            if full > 0:
                lines.append(FirstLine("renewal", target, q.next_due - last, full))
        else:
            lines.append(FirstLine("renewal", order_date, q.next_due - last, q.total))
        next_due, anchor = q.next_due, q.anchor_day
    else:
        anchor = order_date.day
        next_due = advance(order_date, cycle, anchor)
        lines.append(FirstLine("renewal", order_date, next_due - last, price))
    if q2(setup_fee) > 0:
        lines.append(FirstLine("setup", order_date, None, q2(setup_fee)))
    return FirstInvoice(lines=tuple(lines), next_due=next_due, anchor_day=anchor)


# ------------------------------------------------------------------------ reads
def _offers(s: Session) -> list[Offer]:
    rows = s.execute(
        select(Product, ProductPrice)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(Product.active.is_(True), ProductPrice.cycle.in_(RECURRING_CYCLES))
    ).all()
    offers = [
        Offer(
            product_id=p.id,
            product=p.name,
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
    if not actor.is_client:
        require(actor, "services")
    with reading(session) as s:
        return _offers(s)


def order_form(
    actor: Actor, client_search: str | None = None, *, session: Session | None = None
) -> OrderForm:
    """The staff "Add a service" form's choices: plans, clients (searched) and servers."""
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
        return OrderForm(offers=_offers(s), clients=clients, servers=servers)


def _order_invoices(*only: Any) -> Any:
    """pending service id → its first invoice id (the smallest invoice holding an order
    line). Only orders not set up yet (every caller wants those), and only the services
    matching ``only``: narrowed to those services first, so the book's renewal lines are
    never all grouped."""
    return (
        select(
            InvoiceItem.service_id.label("service_id"),
            func.min(InvoiceItem.invoice_id).label("invoice_id"),
        )
        .join(Service, Service.id == InvoiceItem.service_id)
        .where(
            Service.status == "pending",
            *only,
            InvoiceItem.kind.in_(ORDER_KINDS),
            InvoiceItem.period_start == Service.registration_date,
        )
        .group_by(InvoiceItem.service_id)
        .subquery()
    )


def list_orders(actor: Actor, *, session: Session | None = None) -> list[OrderRow]:
    """Orders not set up yet (pending services with their first invoice): a client's own;
    every client's for staff with the services permission and the owner."""
    mine = [Service.client_id == actor.client_id] if actor.is_client else []
    first = _order_invoices(*mine)
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
        .join(Client, Client.id == Service.client_id)
        .join(Product, Product.id == Service.product_id)
        .join(first, first.c.service_id == Service.id)
        .join(Invoice, Invoice.id == first.c.invoice_id)
        .where(Service.status == "pending")
        .order_by(Service.registration_date.desc(), Service.id.desc())
        .limit(200)
    )
    if actor.is_client:
        stmt = stmt.where(Service.client_id == actor.client_id)
    elif not actor.can("services"):
        return []
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
def _offer(s: Session, product_id: Any, cycle: str) -> tuple[Product, ProductPrice]:
    try:
        key = int(product_id)
    except (TypeError, ValueError):
        raise ValidationError("error.order_plan_invalid") from None
    row = s.execute(
        select(Product, ProductPrice)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(Product.id == key, Product.active.is_(True), ProductPrice.cycle == cycle)
    ).first()
    if row is None or cycle not in RECURRING_CYCLES:
        raise ValidationError("error.order_plan_invalid")
    return row[0], row[1]


def _in_book(s: Session, name: str) -> Service | None:
    forms = {name, _unicode(name)}
    return s.scalars(
        select(Service).where(func.lower(Service.domain).in_(forms), Service.status.not_in(GONE))
    ).first()


def _server(s: Session, server_id: Any) -> Server:
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
            Service.client_id == client_id,
            func.lower(Service.domain) == name,
            Service.product_id == product_id,
            Service.billing_cycle == cycle,
            Service.status == "pending",
            Service.registration_date == day,
        )
    ).first()


def _order_invoice_id(s: Session, service: Service) -> int | None:
    return s.scalars(
        select(func.min(InvoiceItem.invoice_id)).where(
            InvoiceItem.service_id == service.id,
            InvoiceItem.kind.in_(ORDER_KINDS),
            InvoiceItem.period_start == service.registration_date,
        )
    ).first()


def place_order(
    actor: Actor,
    *,
    product_id: Any,
    cycle: str,
    domain: str,
    client_id: Any = None,
    server_id: Any = None,
    at: date | datetime | None = None,
    session: Session | None = None,
) -> PlacedOrder:
    """Order a new service and make its first invoice at once.

    A client orders for themselves (another client's id is NotFound; the server is chosen for
    them). Staff with the services permission and the owner name the client and may name the
    server. The same order repeated the same day returns the one already placed.
    """
    day = business_day(at)
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
    try:
        owner_id = int(client_id)
    except (TypeError, ValueError):
        raise NotFound() from None

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
    if any(str(a.get("domain", "")).lower() in (name, _unicode(name)) for a in accounts):
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
        lines = [_line(line, svc, product.name, cycle, lang) for line in plan.lines]
        invoice_id = create_invoice(
            SYSTEM, client.id, lines, issued_on=day, due_on=day, draft=True, session=s
        )
        total = s.get(Invoice, invoice_id).total
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
        issue_invoice(SYSTEM, invoice_id, issued_on=day, due_on=day, session=s)
        return _placed(svc.id, s, repeated=False)


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
        svc = s.get(Service, service_id)
        invoice_id = _order_invoice_id(s, svc)
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
        )


# ------------------------------------------------------------------------ paid → account
def _is_order_invoice(s: Session, invoice_id: int) -> list[int]:
    """Pending services whose first (order) invoice is ``invoice_id``."""
    return list(
        s.scalars(
            select(Service.id)
            .join(InvoiceItem, InvoiceItem.service_id == Service.id)
            .where(
                InvoiceItem.invoice_id == invoice_id,
                InvoiceItem.kind.in_(ORDER_KINDS),
                InvoiceItem.period_start == Service.registration_date,
                Service.status == "pending",
            )
            .distinct()
        )
    )


@register_paid_hook
def _on_invoice_paid(session: Session, invoice: Invoice, actor: Actor) -> None:
    """Inside the paying transaction: database only. The account is created right after
    commit; if that fails, :func:`provision_pending` retries."""
    for service_id in _is_order_invoice(session, invoice.id):
        audit.record(
            session,
            actor,
            "order.paid",
            target_type="service",
            target_id=service_id,
            client_id=invoice.client_id,
            invoice=invoice.id,
        )
        after_commit(session, partial(_provision_after_commit, service_id))


def _provision_after_commit(service_id: int) -> None:
    try:
        _provision_one(service_id, None)
    except Exception:  # noqa: BLE001 - the payment is committed; the daily run retries
        log.exception("order for service %s: set-up failed now; it stays pending", service_id)


def _welcomed(s: Session, service_id: int) -> bool:
    return (
        s.scalars(
            select(AuditEntry.id).where(
                AuditEntry.action == "order.welcome_sent",
                AuditEntry.target_type == "service",
                AuditEntry.target_id == service_id,
            )
        ).first()
        is not None
    )


def _provision_one(service_id: int, session: Session | None) -> bool:
    """Create the account (panel first) and send the welcome mail, each exactly once."""
    with reading(session) as s:
        svc = s.get(Service, service_id)
        if svc is None:
            return False
        status, username = svc.status, svc.panel_username
    if status == "pending":
        try:
            services_provisioning.provision(SYSTEM, service_id, session=session)
        except DomainError as exc:
            log.warning("order for service %s: panel step failed (%s)", service_id, exc.key)
            return False
    elif status != "active" or not username:
        return False
    with transaction(session) as s:
        svc = s.scalars(
            select(Service)
            .where(Service.id == service_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if svc is None or svc.status != "active" or not svc.panel_username:
            return False
        if _welcomed(s, svc.id):
            return False
        client = s.get(Client, svc.client_id)
        lang = client.language
        mail.queue(
            s,
            to_addr=client.email,
            template="order_welcome",
            language=lang,
            name=client.name,
            domain=svc.domain,
            plan=svc.product.name,
            cycle=t(f"cycle.{svc.billing_cycle}", lang),
            amount=fmt_money(svc.recurring_amount, lang),
            next_due=fmt_day(svc.next_due_date, lang),
            username=svc.panel_username,
            link=f"{get_settings().public_url}/services?service={svc.id}",
        )
        audit.record(
            s,
            SYSTEM,
            "order.welcome_sent",
            target_type="service",
            target_id=svc.id,
            client_id=svc.client_id,
            username=svc.panel_username,
        )
    return True


def provision_pending(at: date | datetime, session: Session | None = None) -> int:
    """Set up every paid order still without its account (the panel failed, or the process
    stopped before the after-commit step), and send a welcome mail that was never sent.
    Returns how many orders were completed now; a re-run completes none twice."""
    business_day(at)  # validates the argument; the work does not depend on the date
    first = _order_invoices()
    since = now() - WELCOME_LOOKBACK
    with reading(session) as s:
        paid = list(
            s.scalars(
                select(Service.id)
                .join(first, first.c.service_id == Service.id)
                .join(Invoice, Invoice.id == first.c.invoice_id)
                .where(Service.status == "pending", Invoice.status == "paid")
                .order_by(Service.id)
            )
        )
        placed = select(AuditEntry.target_id).where(
            AuditEntry.action == "order.placed",
            AuditEntry.target_type == "service",
            AuditEntry.at >= since,
        )
        welcomed = select(AuditEntry.target_id).where(
            AuditEntry.action == "order.welcome_sent", AuditEntry.target_type == "service"
        )
        unwelcomed = list(
            s.scalars(
                select(Service.id)
                .where(
                    Service.status == "active",
                    Service.panel_username.is_not(None),
                    Service.id.in_(placed),
                    Service.id.not_in(welcomed),
                )
                .order_by(Service.id)
            )
        )
    done = 0
    for service_id in dict.fromkeys(paid + unwelcomed):
        try:
            if _provision_one(service_id, session):
                done += 1
        except DomainError as exc:
            log.warning("order for service %s not completed: %s", service_id, exc.key)
    return done


def cancel_stale(at: date | datetime, session: Session | None = None) -> int:
    """Cancel orders unpaid for ``orders.cancel_unpaid_days`` days (0: never), with their
    invoice, and orders whose invoice was cancelled. Returns how many were cancelled."""
    day = business_day(at)
    days = settings.get_int(CANCEL_UNPAID_DAYS, DEFAULT_CANCEL_UNPAID_DAYS, session=session)
    first = _order_invoices()
    with reading(session) as s:
        rows = s.execute(
            select(Service.id, Service.registration_date, Invoice.status)
            .join(first, first.c.service_id == Service.id)
            .join(Invoice, Invoice.id == first.c.invoice_id)
            .where(Service.status == "pending", Invoice.status != "paid")
            .order_by(Service.id)
        ).all()
    due = [
        sid
        for sid, ordered, status in rows
        if status in ("cancelled", "refunded")
        or (days > 0 and status in ("draft", "unpaid") and day >= ordered + timedelta(days=days))
    ]
    cancelled = 0
    for service_id in due:
        try:
            with transaction(session) as s:
                if _cancel_one(s, service_id, days):
                    cancelled += 1
        except DomainError as exc:
            log.warning("order for service %s not cancelled: %s", service_id, exc.key)
    return cancelled


def _cancel_one(s: Session, service_id: int, days: int) -> bool:
    svc = s.get(Service, service_id)
    if svc is None or svc.status != "pending":
        return False
    invoice_id = _order_invoice_id(s, svc)
    invoice = s.get(Invoice, invoice_id) if invoice_id else None
    if invoice is not None and invoice.status in ("draft", "unpaid"):
        try:
            cancel_invoice(SYSTEM, invoice.id, reason="order not paid in time", session=s)
        except Conflict:
            return False  # paid a moment ago: provision_pending takes it
    elif invoice is not None and invoice.status == "paid":
        return False
    svc = s.scalars(
        select(Service)
        .where(Service.id == service_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if svc is None or svc.status != "pending":
        return False
    svc.status = "cancelled"
    svc.next_due_date = svc.next_invoice_date = None
    audit.record(
        s,
        SYSTEM,
        "order.cancelled",
        target_type="service",
        target_id=svc.id,
        client_id=svc.client_id,
        domain=svc.domain,
        invoice=invoice_id,
        unpaid_days=days,
    )
    return True
