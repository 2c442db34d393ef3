"""Ordering an add-on: its first invoice, prorated to the parent's next due date."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core import billing
from core.access import SYSTEM, Actor, get_scoped, parse_id, require_permission
from core.addons.catalog import fits, price_for
from core.addons.pricing import first_amount
from core.addons.renewing import line_text, settle
from core.billing.ledger import lock_client
from core.models import AddonCharge, Invoice, InvoiceItem, Product, Service, ServiceAddon
from core.platform import audit
from core.platform.clock import to_local
from core.platform.config import get_settings
from core.platform.db import unit_of_work
from core.platform.errors import Conflict, ValidationError
from core.platform.i18n import pick, t
from core.rules.cycles import advance, is_recurring

LIVE = ("pending", "active", "suspended")


def order(actor: Actor, service_id: int, product_id: int, *, at: datetime) -> tuple[int, int]:
    """Order add-on ``product_id`` on the actor's service; returns (add-on id, invoice id).

    The first invoice carries the setup fee and the days from today to the parent's next due
    date; when the parent's renewal for that date is already invoiced, it also carries the
    add-on's next full period (the parent's invoice was made without it). The add-on starts
    when that invoice is paid (``renewing.settle``)."""
    require_permission(actor, "services")
    require_permission(actor, "billing")  # an order is an invoice on the account
    today = to_local(at, get_settings().tz).date()
    with unit_of_work() as s:
        svc = get_scoped(s, actor, Service, service_id)
        lock_client(s, svc.client_id)
        due = svc.next_due_date
        if svc.status != "active" or due is None or not is_recurring(svc.billing_cycle):
            raise Conflict("addons.error_parent_not_active")
        if due <= today:
            raise Conflict("addons.error_parent_overdue")
        product = s.get(Product, parse_id(product_id))
        price = price_for(s, product.id, svc.billing_cycle) if product else None
        if (
            product is None
            or not product.active
            or price is None
            or not fits(product, svc.product_id)
        ):
            raise ValidationError("addons.error_not_offered")
        taken = s.scalars(
            select(ServiceAddon.id).where(
                ServiceAddon.service_id == svc.id,
                ServiceAddon.product_id == product.id,
                ServiceAddon.status.in_(LIVE),
            )
        ).first()
        if taken is not None:
            raise Conflict("addons.error_taken")
        lang = svc.client.language
        name = pick(product.name, product.name_en, lang)
        cycle, anchor = svc.billing_cycle, svc.anchor_day
        lines: list[billing.LineInput] = []
        periods: list[tuple | None] = []
        if price.setup_fee > 0:
            text = t("addons.setup_line", lang, addon=name, domain=svc.domain)
            lines.append(billing.LineInput(text, price.setup_fee, kind="setup"))
            periods.append(None)
        end = due - timedelta(days=1)
        amount = first_amount(price.price, cycle, anchor, today, due)
        lines.append(
            billing.LineInput(
                line_text(lang, name, svc.domain, today, end, first=True),
                amount,
                kind="addon",
                period_start=today,
                period_end=end,
            )
        )
        periods.append((today, end, True))
        parent_billed = s.scalars(
            select(InvoiceItem.id).where(
                InvoiceItem.service_id == svc.id,
                InvoiceItem.kind == "renewal",
                InvoiceItem.period_start == due,
            )
        ).first()
        if parent_billed is not None:
            end = advance(due, cycle, anchor) - timedelta(days=1)
            text = line_text(lang, name, svc.domain, due, end, first=False)
            lines.append(
                billing.LineInput(text, price.price, kind="addon", period_start=due, period_end=end)
            )
            periods.append((due, end, False))
        addon = ServiceAddon(
            client_id=svc.client_id,
            service_id=svc.id,
            product_id=product.id,
            status="pending",
            recurring_amount=price.price,
            next_due_date=today,
        )
        s.add(addon)
        s.flush()
        invoice_id = billing.create_invoice(
            SYSTEM, svc.client_id, lines, issued_on=today, due_on=today, session=s, at=at
        )
        items = s.scalars(
            select(InvoiceItem).where(InvoiceItem.invoice_id == invoice_id).order_by(InvoiceItem.id)
        ).all()
        for item, period in zip(items, periods, strict=True):
            if period is not None:
                start, stop, first = period
                s.add(
                    AddonCharge(
                        addon_id=addon.id,
                        invoice_item_id=item.id,
                        period_start=start,
                        period_end=stop,
                        first=first,
                    )
                )
        s.flush()
        audit.record(
            s,
            actor,
            "addon.ordered",
            target_type="service_addon",
            target_id=addon.id,
            client_id=svc.client_id,
            service=svc.id,
            product=product.id,
            invoice=invoice_id,
            at=at,
        )
        invoice = s.get_one(Invoice, invoice_id)
        if invoice.status == "paid":  # paid by credit at once: its hooks ran before the charges
            settle(s, invoice, actor)
        return addon.id, invoice_id
