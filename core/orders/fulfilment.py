"""Paid orders become accounts; unpaid ones are cancelled — billing-rules §1.2 and §2.4.

* **Paid → account.** Paying the invoice runs :func:`provision_paid_order` in the paying
  transaction (database only); right after commit ``services.provisioning.provision``
  creates the account (panel first; an account an earlier attempt made is adopted, never
  created twice) and the client gets a welcome mail with the service details and a link to
  the service's page, where they set the cPanel password. The password never goes in the
  mail. If the panel fails, the service stays pending and :func:`provision_pending` (the
  daily run) completes it, still once.
* **Stale orders.** An order left unpaid for ``orders.cancel_unpaid_days`` days (default 7;
  0 turns it off) is cancelled with its invoice by :func:`cancel_stale`.

It also says which invoice is an order's first invoice (:func:`order_invoices`,
:func:`order_invoice_of`, :func:`order_invoice_id`), the one definition ``core.orders``
lists and places orders with.
Placing, listing and the order forms are in ``core.orders``; this module never imports it, so
``core.orders`` can import it. Its paid hook is listed in ``core.billing.hooks``.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import SYSTEM, Actor
from core.billing import cancel_invoice
from core.models import AuditEntry, Client, Invoice, InvoiceItem, Service
from core.orders.pricing import business_day
from core.platform import audit, mail, settings
from core.platform.clock import now
from core.platform.config import get_settings
from core.platform.db import after_commit, reading, transaction
from core.platform.errors import Conflict, DomainError
from core.platform.i18n import day as fmt_day
from core.platform.i18n import money as fmt_money
from core.platform.i18n import t
from core.services import provisioning as services_provisioning

# The logger keeps the name it had before this module was split from core.orders, so log
# filters and alerts on "anfitrion.orders" still see these lines.
log = logging.getLogger("anfitrion.orders")

CANCEL_UNPAID_DAYS = "orders.cancel_unpaid_days"  # setting: days an unpaid order waits
ORDER_KINDS = ("renewal", "prorata")  # the first invoice's lines (plus "setup")
WELCOME_LOOKBACK = timedelta(days=60)


# ------------------------------------------------------------------------ the order's invoice
def order_line(registered: Any) -> tuple[Any, Any]:
    """The conditions that make an invoice line an order's: an order kind, for the period
    that starts the day its service was registered (a later renewal starts on a due date)."""
    return InvoiceItem.kind.in_(ORDER_KINDS), InvoiceItem.period_start == registered


def order_invoices() -> Any:
    """pending service id → its first invoice id (the smallest invoice holding an order
    line). Only orders not set up yet (every caller wants those): narrowed to the pending
    services first, so the book's renewal lines are never all grouped."""
    return (
        select(
            InvoiceItem.service_id.label("service_id"),
            func.min(InvoiceItem.invoice_id).label("invoice_id"),
        )
        .join(Service, Service.id == InvoiceItem.service_id)
        .where(Service.status == "pending", *order_line(Service.registration_date))
        .group_by(InvoiceItem.service_id)
        .subquery()
    )


def order_invoice_of() -> Any:
    """The id of the outer query's service's first (order) invoice, as a correlated
    subquery: a list that shows a page of orders looks up only that page's invoices (one
    index probe each) instead of grouping the order lines of every pending service."""
    return (
        select(func.min(InvoiceItem.invoice_id))
        .where(
            InvoiceItem.service_id == Service.id,
            *order_line(Service.registration_date),
        )
        .correlate(Service)
        .scalar_subquery()
    )


def order_invoice_id(s: Session, service: Service) -> int | None:
    """The id of ``service``'s first (order) invoice, or None."""
    return s.scalars(
        select(func.min(InvoiceItem.invoice_id)).where(
            InvoiceItem.service_id == service.id,
            *order_line(service.registration_date),
        )
    ).first()


# ------------------------------------------------------------------------ paid → account
def _is_order_invoice(s: Session, invoice_id: int) -> list[int]:
    """Pending services whose first (order) invoice is ``invoice_id``."""
    return list(
        s.scalars(
            select(Service.id)
            .join(InvoiceItem, InvoiceItem.service_id == Service.id)
            .where(
                InvoiceItem.invoice_id == invoice_id,
                *order_line(Service.registration_date),
                Service.status == "pending",
            )
            .distinct()
        )
    )


# Listed in ``core.billing.hooks.PAID_HOOKS``.
def provision_paid_order(session: Session, invoice: Invoice, actor: Actor) -> None:
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
        after_commit(session, partial(_provision_after_commit, service_id, invoice.paid_at))


def _provision_after_commit(service_id: int, at: datetime | None) -> None:
    try:
        _provision_one(service_id, None, at)
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


def _provision_one(service_id: int, session: Session | None, at: datetime | None) -> bool:
    """Create the account (panel first) and send the welcome mail, each exactly once; ``at``
    is the moment of the action (the payment's, or the daily run's; None only for a paid
    invoice that was never stamped, such as an imported one: provisioning then uses now)."""
    with reading(session) as s:
        svc = s.get(Service, service_id)
        if svc is None:
            return False
        status, username = svc.status, svc.panel_username
    if status == "pending":
        try:
            services_provisioning.provision(SYSTEM, service_id, session=session, at=at)
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
        client = s.get_one(Client, svc.client_id)
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


def provision_pending(
    at: date | datetime, session: Session | None = None, *, moment: datetime | None = None
) -> int:
    """Set up every paid order still without its account (the panel failed, or the process
    stopped before the after-commit step), and send a welcome mail that was never sent.
    Returns how many orders were completed now; a re-run completes none twice. ``moment``:
    when (default now; the daily run passes its own), the end of the welcome look-back."""
    moment = moment or now()
    business_day(at)  # validates the argument; the work does not depend on the date
    first = order_invoices()
    since = moment - WELCOME_LOOKBACK
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
            if _provision_one(service_id, session, moment):
                done += 1
        except DomainError as exc:
            log.warning("order for service %s not completed: %s", service_id, exc.key)
    return done


def cancel_stale(at: date | datetime, session: Session | None = None) -> int:
    """Cancel orders unpaid for ``orders.cancel_unpaid_days`` days (0: never), with their
    invoice, and orders whose invoice was cancelled. Returns how many were cancelled."""
    day = business_day(at)
    days = settings.get_int(CANCEL_UNPAID_DAYS, session=session)
    first = order_invoices()
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
    invoice_id = order_invoice_id(s, svc)
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
