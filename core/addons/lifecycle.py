"""An add-on's life after it is ordered: the client ends it at period end, it follows its
parent (suspension, reactivation, termination, cancellation), and a plan change ends what
no longer fits the new plan (saying why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import billing
from core.access import SYSTEM, Actor, get_scoped, require_any, require_permission, scoped
from core.addons import quota
from core.addons.catalog import fits
from core.addons.renewing import RENEWING, staff_task
from core.billing.ledger import lock_client
from core.models import AddonCharge, Invoice, InvoiceItem, Service, ServiceAddon
from core.platform import audit
from core.platform.db import after_commit, reading, unit_of_work
from core.platform.errors import Conflict
from core.platform.i18n import pick
from core.services.leaving_invoices import reprice

LIVE = ("pending", *RENEWING)


@dataclass(frozen=True)
class AddonView:
    id: int
    name: str
    status: str
    amount: Decimal
    next_due: date | None
    cancel_at: date | None
    note: str | None


def of_service(actor: Actor, service_id: int, lang: str = "es") -> list[AddonView]:
    """The service's add-ons, as its owner (or staff) sees them; an invited user needs
    "services" or "cancellations" (the service's page, where they are listed and ended)."""
    require_any(actor, "services", "cancellations")
    with reading() as s:
        svc = get_scoped(s, actor, Service, service_id)
        rows = s.scalars(
            scoped(actor, ServiceAddon)
            .where(ServiceAddon.service_id == svc.id)
            .order_by(ServiceAddon.id)
        ).all()
        return [
            AddonView(
                a.id,
                pick(a.product.name, a.product.name_en, lang),
                a.status,
                a.recurring_amount,
                a.next_due_date,
                a.cancel_at,
                a.note,
            )
            for a in rows
        ]


def _drop_unpaid_charges(
    s: Session, actor: Actor, addon: ServiceAddon, start: date, why: str
) -> None:
    """Periods of the add-on from ``start`` on that sit on unpaid invoices leave them (an
    invoice left with nothing is cancelled): nobody pays for a period that will not run."""
    rows = s.execute(
        select(AddonCharge, InvoiceItem.invoice_id)
        .join(InvoiceItem, InvoiceItem.id == AddonCharge.invoice_item_id)
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(
            AddonCharge.addon_id == addon.id,
            AddonCharge.period_start >= start,
            Invoice.status.in_(("unpaid", "draft")),
            Invoice.amount_paid == 0,
        )
    ).all()
    for charge, invoice_id in rows:
        item = s.get_one(InvoiceItem, charge.invoice_item_id)
        invoice = s.get_one(Invoice, invoice_id)
        s.delete(charge)
        s.flush()
        if len(invoice.items) == 1:
            billing.cancel_invoice(SYSTEM, invoice_id, reason=why, session=s)
            continue
        s.delete(item)
        s.flush()
        s.refresh(invoice, ["items"])
        reprice(invoice)
        audit.record(
            s,
            actor,
            "invoice.line_removed",
            target_type="invoice",
            target_id=invoice.id,
            client_id=invoice.client_id,
            lines=f"{item.description} {item.amount}"[:500],
            reason=why,
            total=invoice.total,
        )


def cancel_at_period_end(actor: Actor, addon_id: int, *, at: datetime) -> date:
    """The client ends an add-on when its paid period ends; returns that day. A renewal of it
    already on an unpaid invoice leaves the invoice."""
    require_permission(actor, "cancellations")
    with unit_of_work() as s:
        addon = get_scoped(s, actor, ServiceAddon, addon_id)
        lock_client(s, addon.client_id)
        if addon.status not in RENEWING or addon.next_due_date is None:
            raise Conflict("addons.error_not_cancellable")
        if addon.cancel_at is not None:
            raise Conflict("addons.error_already_cancelled")
        end = addon.next_due_date
        addon.cancel_at = end
        _drop_unpaid_charges(s, actor, addon, end, "addon cancelled at period end")
        audit.record(
            s,
            actor,
            "addon.cancel_requested",
            target_type="service_addon",
            target_id=addon.id,
            client_id=addon.client_id,
            effective=end.isoformat(),
            at=at,
        )
        return end


def end(
    s: Session, actor: Actor, addon: ServiceAddon, status: str, on: date, note: str | None
) -> None:
    """The add-on stops (cancelled or terminated) on ``on``."""
    was_running = addon.status in RENEWING
    addon.status, addon.ended_on = status, on
    addon.note = note or addon.note
    _drop_unpaid_charges(s, actor, addon, on, note or f"addon {status}")
    audit.record(
        s,
        actor,
        f"addon.{status}",
        target_type="service_addon",
        target_id=addon.id,
        client_id=addon.client_id,
        on=on.isoformat(),
    )
    if was_running and addon.product.addon_action == "staff":
        after_commit(s, partial(staff_task, addon.id, "end", None))
    if was_running:
        quota.mark(s, addon)  # its space leaves the parent's disk quota


def follow_parent(s: Session, service_id: int, status: str, on: date) -> None:
    """The parent's new ``status`` carried to its add-ons, in the parent's transaction."""
    addons = s.scalars(
        select(ServiceAddon).where(
            ServiceAddon.service_id == service_id, ServiceAddon.status.in_(LIVE)
        )
    ).all()
    for addon in addons:
        if status == "suspended" and addon.status == "active":
            addon.status = "suspended"
        elif status == "active" and addon.status == "suspended":
            addon.status = "active"
        elif status in ("terminated", "cancelled"):
            end(s, SYSTEM, addon, status, on, None)


def misfits(s: Session, service_id: int, new_product_id: int) -> list[ServiceAddon]:
    """The service's running add-ons that do not fit ``new_product_id`` (for the plan-change
    page to say, before the client confirms, which add-ons would end)."""
    return [
        addon
        for addon in s.scalars(
            select(ServiceAddon).where(
                ServiceAddon.service_id == service_id, ServiceAddon.status.in_(LIVE)
            )
        )
        if not fits(addon.product, new_product_id)
    ]


def ending_with(
    actor: Actor, service_id: int, to_product_id: int, to_cycle: str, lang: str = "es"
) -> list[tuple[str, str]]:
    """Before a plan change is confirmed: the add-ons it would end, each with its reason
    (``misfit`` or ``cycle``, as :func:`end_misfits` decides). Those not listed are kept."""
    with reading() as s:
        svc = get_scoped(s, actor, Service, service_id)
        wrong_plan = {a.id for a in misfits(s, svc.id, to_product_id)}
        out = []
        for addon in s.scalars(
            select(ServiceAddon)
            .where(ServiceAddon.service_id == svc.id, ServiceAddon.status.in_(LIVE))
            .order_by(ServiceAddon.id)
        ):
            reason = (
                "misfit"
                if addon.id in wrong_plan
                else "cycle"
                if to_cycle != svc.billing_cycle
                else None
            )
            if reason is not None:
                out.append((pick(addon.product.name, addon.product.name_en, lang), reason))
        return out


def end_misfits(
    s: Session, actor: Actor, service_id: int, new_product_id: int, cycle_changed: bool, on: date
) -> list[int]:
    """After a plan change: add-ons that fit the new plan are kept; the others end at once
    with the reason as their note (``misfit``: not offered on that plan; ``cycle``: the
    billing cycle changed, so its periods no longer match the plan's). Returns their ids."""
    gone = []
    wrong_plan = {addon.id for addon in misfits(s, service_id, new_product_id)}
    for addon in s.scalars(
        select(ServiceAddon).where(
            ServiceAddon.service_id == service_id, ServiceAddon.status.in_(LIVE)
        )
    ).all():
        if addon.id in wrong_plan:
            end(s, actor, addon, "cancelled", on, "misfit")
        elif cycle_changed:
            end(s, actor, addon, "cancelled", on, "cycle")
        else:
            continue
        gone.append(addon.id)
    return gone
