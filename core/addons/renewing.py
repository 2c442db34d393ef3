"""Add-ons on the parent's renewal invoice, and what paying an add-on line does."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import billing
from core.access import SYSTEM, Actor
from core.addons import quota
from core.models import AddonCharge, Department, Invoice, InvoiceItem, Service, ServiceAddon
from core.platform import audit
from core.platform.db import after_commit, unit_of_work
from core.platform.i18n import day, pick, t
from core.rules.cycles import advance

log = logging.getLogger("anfitrion.addons")

RENEWING = ("active", "suspended")  # the parent's renewal carries these
IDS_PER_QUERY = 10_000


def line_text(lang: str, name: str, domain: str, start: date, end: date, *, first: bool) -> str:
    key = "addons.first_line" if first else "addons.renewal_line"
    return t(key, lang, addon=name, domain=domain, start=day(start, lang), end=day(end, lang))


def billable(s: Session, service_ids: Iterable[int]) -> list[ServiceAddon]:
    """The add-ons that renew with these services (their period starts are checked by the
    caller against the parent's period)."""
    ids = list(service_ids)
    found: list[ServiceAddon] = []
    # In parts: a daily run on a big book renews ~190,000 services at once (the XL bench's),
    # and PostgreSQL takes at most 65,535 parameters in one statement.
    for i in range(0, len(ids), IDS_PER_QUERY):
        found.extend(
            s.scalars(
                select(ServiceAddon).where(
                    ServiceAddon.service_id.in_(ids[i : i + IDS_PER_QUERY]),
                    ServiceAddon.status.in_(RENEWING),
                )
            )
        )
    return sorted(found, key=lambda addon: addon.id)


def renews(addon: ServiceAddon, start: date) -> bool:
    """Whether the add-on's period starting ``start`` is billed with its parent's."""
    return addon.next_due_date == start and (addon.cancel_at is None or addon.cancel_at > start)


def renewal_lines(
    s: Session, svc: Service, start: date, end: date, lang: str
) -> list[tuple[ServiceAddon, billing.LineInput]]:
    out = []
    for addon in billable(s, [svc.id]):
        if renews(addon, start):
            name = pick(addon.product.name, addon.product.name_en, lang)
            text = line_text(lang, name, svc.domain, start, end, first=False)
            line = billing.LineInput(
                text, addon.recurring_amount, kind="addon", period_start=start, period_end=end
            )
            out.append((addon, line))
    return out


def link(s: Session, invoice_id: int, addons: list[ServiceAddon], start: date, end: date) -> None:
    """Record which of the invoice's add-on lines bills which add-on (lines keep their order)."""
    if not addons:
        return
    items = s.scalars(
        select(InvoiceItem.id)
        .where(InvoiceItem.invoice_id == invoice_id, InvoiceItem.kind == "addon")
        .order_by(InvoiceItem.id)
    ).all()
    for addon, item_id in zip(addons, items, strict=True):
        s.add(
            AddonCharge(
                addon_id=addon.id,
                invoice_item_id=item_id,
                period_start=start,
                period_end=end,
                first=False,
            )
        )
    s.flush()
    invoice = s.get_one(Invoice, invoice_id)
    if invoice.status == "paid":  # paid at once (credit): the hooks ran before the charges
        settle(s, invoice, SYSTEM)


def amounts(s: Session, periods: dict[int, date]) -> dict[int, Decimal]:
    """Per service, what its add-ons add to the renewal starting on ``periods[service]``
    (for the automation preview)."""
    return {sid: amount for sid, (amount, _) in previews(s, periods).items()}


def previews(s: Session, periods: dict[int, date]) -> dict[int, tuple[Decimal, tuple[str, ...]]]:
    """Per service, what its add-ons add to the renewal starting on ``periods[service]`` and
    their lines' descriptions as the invoice will carry them (the owner's preview)."""
    out: dict[int, tuple[Decimal, tuple[str, ...]]] = {}
    for addon in billable(s, periods):
        start = periods[addon.service_id]
        if not renews(addon, start):
            continue
        svc = addon.service
        lang = svc.client.language
        end = advance(start, svc.billing_cycle, svc.anchor_day) - timedelta(days=1)
        name = pick(addon.product.name, addon.product.name_en, lang)
        text = line_text(lang, name, svc.domain, start, end, first=False)
        amount, texts = out.get(addon.service_id, (Decimal("0"), ()))
        out[addon.service_id] = (amount + addon.recurring_amount, (*texts, text))
    return out


def settle(session: Session, invoice: Invoice, actor: Actor) -> None:
    """Billing paid hook: each add-on period paid moves the add-on's next due date past it,
    once (a later period never moves it back); a pending add-on whose first invoice is paid
    starts, and an add-on that needs staff gets a task in the desk's queue after commit."""
    rows = session.execute(
        select(AddonCharge)
        .join(InvoiceItem, InvoiceItem.id == AddonCharge.invoice_item_id)
        .where(InvoiceItem.invoice_id == invoice.id)
        .order_by(AddonCharge.period_start)
    ).scalars()
    for charge in rows:
        addon = session.scalars(
            select(ServiceAddon)
            .where(ServiceAddon.id == charge.addon_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
        if addon.status not in ("pending", *RENEWING):
            continue
        paid_to = charge.period_end + timedelta(days=1)
        if addon.next_due_date is None or paid_to > addon.next_due_date:
            addon.next_due_date = paid_to
        if addon.status == "pending":
            addon.status = "active"
            audit.record(
                session,
                actor,
                "addon.started",
                target_type="service_addon",
                target_id=addon.id,
                client_id=addon.client_id,
                invoice=invoice.number,
            )
            if addon.product.addon_action == "staff":
                after_commit(session, partial(staff_task, addon.id, "start", invoice.paid_at))
            quota.mark(session, addon)  # a quota add-on raises its parent's disk quota


def staff_task(addon_id: int, what: str, at: datetime | None) -> None:
    """A ticket in the desk's queue asking staff to set the add-on up (or remove it). Best
    effort after commit: a failure is logged, the add-on's state is already right."""
    from core.support import tickets  # the desk imports billing; imported when needed

    try:
        with unit_of_work() as s:
            addon = s.get_one(ServiceAddon, addon_id)
            svc = addon.service
            dept = s.scalars(
                select(Department.id).order_by(Department.sort_order, Department.id)
            ).first()
            if dept is None:
                log.warning("add-on %s: no department to queue the staff task in", addon_id)
                return
            name = addon.product.name
            tickets.open_ticket(
                SYSTEM,
                department_id=dept,
                subject=t(f"addons.task_{what}_subject", "es", addon=name, domain=svc.domain),
                body=t(f"addons.task_{what}_body", "es", addon=name, domain=svc.domain),
                service_id=svc.id,
                client_id=svc.client_id,
                at=at or addon.created_at,
                session=s,
            )
    except Exception:  # noqa: BLE001 - the add-on is paid and active; staff see it in the list
        log.warning("add-on %s: the staff task could not be opened", addon_id, exc_info=True)
