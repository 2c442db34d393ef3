"""Renewal invoices, the first invoicing step of the daily run (billing-rules §3.1): each
service's next period billed N days before its due date, and the client's mail about it.

The step has a *selection* (what is due on the run date, already-done items left out) and an
*execution* (one item, in its own transaction, recorded under its unique key). The grouped
path for big runs is ``core.automation.renewals``; it shares ``renewal_line`` and
``renewal_notice`` from here. Reminders and late fees are ``core.automation.dunning``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, joinedload

from core import billing
from core.access import SYSTEM
from core.addons import renewing as addons_renewing
from core.automation.items import (
    DONE,
    LIVE,
    SKIPPED,
    Item,
    Outcome,
    fresh,
    link,
    pending_request,
    record,
)
from core.automation.policy import AutomationSettings
from core.models import Client, Invoice, InvoiceItem, Service
from core.platform import mail
from core.platform.db import unit_of_work
from core.platform.errors import Conflict
from core.platform.i18n import day, money, pick, t
from core.rules.cycles import RECURRING_CYCLES, advance


# ------------------------------------------------------------------- 1. renewals
def _renewal_amount(s: Session, svc: Service, start: date) -> Decimal:
    """The amount of a renewal period: the catalogue's repriced amount for periods after a
    price change (``core.catalog.renewal_amount``), else the service's recurring amount."""
    try:
        from core.catalog import renewal_amount
    except ImportError:  # pragma: no cover - the catalogue is optional
        return svc.recurring_amount
    return renewal_amount(s, svc, start)


def select_renewals(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    """Services whose next renewal invoice is due to be generated (§3.1): N days before
    the due date (per-cycle overrides), not yet billed, no cancellation request."""
    window = or_(
        *(
            and_(
                Service.billing_cycle == cycle,
                Service.next_due_date <= today + timedelta(days=cfg.days_before(cycle)),
            )
            for cycle in RECURRING_CYCLES
        )
    )
    widest = max(cfg.days_before(cycle) for cycle in RECURRING_CYCLES)
    statuses = LIVE if cfg.continuous_invoicing else ("active",)
    stmt = (
        select(
            Service.id,
            Service.client_id,
            Client.name,
            Service.domain,
            Service.next_due_date,
            Service.billing_cycle,
            Service.anchor_day,
            Service.recurring_amount,
        )
        .join(Client, Client.id == Service.client_id)
        .where(
            Service.status.in_(statuses),
            Service.next_due_date.is_not(None),
            # The widest window, implied by ``window``: a range on the (status, due) index.
            Service.next_due_date <= today + timedelta(days=widest),
            window,
            ~pending_request(Service.id),
        )
        .order_by(Service.id)
    )
    if not cfg.continuous_invoicing:
        billed = exists(
            select(InvoiceItem.id).where(
                InvoiceItem.service_id == Service.id,
                InvoiceItem.kind == "renewal",
                InvoiceItem.period_start == Service.next_due_date,
            )
        )
        stmt = stmt.where(~billed)
    rows = s.execute(stmt).all()
    periods: dict[int, set[date]] = {}
    if cfg.continuous_invoicing and rows:
        for sid, period in s.execute(
            select(InvoiceItem.service_id, InvoiceItem.period_start).where(
                InvoiceItem.kind == "renewal",
                InvoiceItem.service_id.in_([r[0] for r in rows]),
            )
        ):
            # Renewal lines always carry their service and period (the IN filter and the kind).
            assert sid is not None and period is not None
            periods.setdefault(sid, set()).add(period)
    items = []
    for sid, client_id, name, domain, due, cycle, anchor, amount in rows:
        assert due is not None  # selected with next_due_date IS NOT NULL
        start: date | None = due
        if cfg.continuous_invoicing:  # the oldest period not billed yet, one per run
            start, billed_periods = None, periods.get(sid, set())
            candidate = due
            for _ in range(120):
                if candidate - timedelta(days=cfg.days_before(cycle)) > today:
                    break
                if candidate not in billed_periods:
                    start = candidate
                    break
                candidate = advance(candidate, cycle, anchor)
        if start is None:
            continue
        items.append(
            Item(
                step="renewal",
                key=f"renewal:{sid}:{start.isoformat()}",
                client_id=client_id,
                client_name=name,
                target=domain,
                service_id=sid,
                due=max(start, today),
                amount=amount,
                period_start=start,
            )
        )
    return _with_addons(s, fresh(s, items))


def _with_addons(s: Session, items: list[Item]) -> list[Item]:
    """Each renewal's amount with what its add-ons add, and their lines (the owner's
    preview shows both)."""
    extra = addons_renewing.previews(
        s, {i.service_id: i.period_start for i in items if i.service_id and i.period_start}
    )
    out = []
    for i in items:
        if i.service_id in extra:
            amount, lines = extra[i.service_id]
            i = replace(i, amount=(i.amount or 0) + amount, lines=lines)
        out.append(i)
    return out


def do_renewal(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    assert item.period_start is not None and item.service_id is not None
    with unit_of_work() as s:
        svc = s.get(
            Service,
            item.service_id,
            options=[joinedload(Service.client), joinedload(Service.product)],
        )
        statuses = LIVE if cfg.continuous_invoicing else ("active",)
        if svc is None or svc.status not in statuses or svc.next_due_date is None:
            return Outcome(SKIPPED)
        if svc.next_due_date > item.period_start:  # paid meanwhile: nothing to bill
            return Outcome(SKIPPED)
        client = svc.client
        lang = client.language
        start = item.period_start
        description, end = renewal_line(
            lang,
            pick(svc.product.name, svc.product.name_en, lang),  # the line is in the client's
            svc.domain,
            start,
            svc.billing_cycle,
            svc.anchor_day,
        )
        line = billing.LineInput(
            description=description,
            amount=_renewal_amount(s, svc, start),
            kind="renewal",
            service_id=svc.id,
            period_start=start,
            period_end=end,
        )
        # The service's add-ons renew with it, on the same invoice (issue 19).
        extras = addons_renewing.renewal_lines(s, svc, start, end, lang)
        try:
            invoice_id = billing.create_invoice(
                SYSTEM,
                client.id,
                [line, *(extra for _, extra in extras)],
                issued_on=today,
                due_on=max(start, today),
                session=s,
                at=at,
            )
        except Conflict:  # this period is already on an invoice (made by hand, say)
            return Outcome(SKIPPED)
        addons_renewing.link(s, invoice_id, [addon for addon, _ in extras], start, end)
        invoice = s.get_one(Invoice, invoice_id)
        record(s, run_id, item, invoice_id=invoice_id, number=invoice.number, total=invoice.total)
        mail.queue(
            s,
            **renewal_notice(
                client.email,
                lang,
                client.name,
                svc.domain,
                invoice.id,
                invoice.number or "",
                invoice.total,
                invoice.balance,
                invoice.due_on,
                paid=invoice.status == "paid",
            ),
        )
    return Outcome(DONE)


def renewal_line(
    lang: str, plan: str, domain: str, start: date, cycle: str, anchor: int
) -> tuple[str, date]:
    """The renewal line's description and the period's last day (both renewal paths)."""
    end = advance(start, cycle, anchor) - timedelta(days=1)
    text = t(
        "automation.renewal_line",
        lang,
        plan=plan,
        domain=domain,
        start=day(start, lang),
        end=day(end, lang),
    )
    return text, end


def renewal_notice(
    to_addr: str,
    lang: str,
    name: str,
    domain: str,
    invoice_id: int,
    number: str,
    total: Decimal,
    balance: Decimal,
    due: date,
    *,
    paid: bool,
) -> dict[str, Any]:
    """The client's "renewal invoice" mail, as ``mail.queue`` / ``mail.outbox_values`` take
    it (both renewal paths)."""
    return {
        "to_addr": to_addr,
        "template": "renewal_invoice",
        "language": lang,
        "name": name,
        "number": number,
        "domain": domain,
        "total": money(total, lang),
        "balance": money(balance, lang),
        "due": day(due, lang),
        "paid": paid,
        "link": link(invoice_id),
    }
