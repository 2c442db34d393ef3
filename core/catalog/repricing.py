"""Repricing: moving existing services to a product's new price. Split from
``core.catalog`` (which re-exports every public name here) to keep modules near the house
size; behaviour is unchanged. Its paid hook is listed in ``core.billing.hooks``.

When a product's price changes, existing services keep their recurring amount. When the
owner asks to move them too, a rule is stored (``catalog.repricing``): services of that
product and cycle that pay one of the old prices get the new one **from their next renewal**:

1. :func:`renewal_amount` gives the amount to bill for a renewal period: the new price for a
   period starting on or after the change date, the recurring amount otherwise. The daily run
   calls it when it issues a renewal invoice, so the first renewal after the change is billed
   at the new price and the period in progress never is.
2. When a renewal invoice for such a period is paid (the :func:`reprice_on_renewal` paid
   hook), the service's ``recurring_amount`` becomes the new price, so MRR, quotes and later
   renewals follow. Before that, the current period's amount stays what the client paid for.

An invoice already issued is never re-priced. Services with a negotiated amount (not one of
the old list prices) are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.models import Invoice, InvoiceItem, Service
from core.platform import audit, settings
from core.platform.db import reading

REPRICING_KEY = "catalog.repricing"


@dataclass(frozen=True)
class Repricing:
    product_id: int
    cycle: str
    amount: Decimal
    old_amounts: tuple[Decimal, ...]
    since: date


def _rules(session: Session) -> list[Repricing]:
    raw = settings.get(REPRICING_KEY, session=session)
    rules: list[Repricing] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            rules.append(
                Repricing(
                    product_id=int(item["product_id"]),
                    cycle=str(item["cycle"]),
                    amount=Decimal(str(item["amount"])),
                    old_amounts=tuple(Decimal(str(a)) for a in item["old"]),
                    since=date.fromisoformat(str(item["since"])),
                )
            )
        except (KeyError, TypeError, ValueError, InvalidOperation):
            continue
    return rules


def _store_rules(s: Session, actor: Actor, rules: list[Repricing]) -> None:
    settings.put(
        actor,
        REPRICING_KEY,
        [
            {
                "product_id": r.product_id,
                "cycle": r.cycle,
                "amount": str(r.amount),
                "old": [str(a) for a in r.old_amounts],
                "since": r.since.isoformat(),
            }
            for r in rules
        ],
        session=s,
    )


def add_repricing(
    s: Session,
    actor: Actor,
    product_id: int,
    changed: Mapping[str, tuple[Decimal, Decimal]],
    day: date,
) -> None:
    """Store a rule per changed cycle (``catalog.products.save_product`` with
    ``reprice_existing``), inside the transaction that changes the prices."""
    rules = _rules(s)
    for cycle, (old, new) in changed.items():
        current = next((r for r in rules if (r.product_id, r.cycle) == (product_id, cycle)), None)
        olds = {old}
        since = day
        if current is not None:
            # A second change before every service renewed: the old prices still waiting move
            # straight to the newest one.
            olds |= set(current.old_amounts) | {current.amount}
            since = min(current.since, day)
            rules.remove(current)
        olds.discard(new)
        if olds:
            rules.append(Repricing(product_id, cycle, new, tuple(sorted(olds)), since))
    _store_rules(s, actor, rules)


def pending_repricing(*, session: Session | None = None) -> list[Repricing]:
    with reading(session) as s:
        return _rules(s)


def _rule_for(rules: list[Repricing], service: Service) -> Repricing | None:
    for rule in rules:
        if (
            rule.product_id == service.product_id
            and rule.cycle == service.billing_cycle
            and service.recurring_amount in rule.old_amounts
        ):
            return rule
    return None


def renewal_amount(session: Session, service: Service, period_start: date) -> Decimal:
    """The amount to bill for the renewal period starting ``period_start``: the repriced
    amount when a rule covers the service and the period starts on or after the change,
    else the service's recurring amount. For the daily run's renewal invoices."""
    return renewal_price(
        session, service.product_id, service.billing_cycle, service.recurring_amount, period_start
    )


def renewal_price(
    session: Session, product_id: int, cycle: str, recurring: Decimal, period_start: date
) -> Decimal:
    """:func:`renewal_amount` from the service's columns (the daily run's grouped path)."""
    rules = settings.memoised(REPRICING_KEY, lambda: tuple(_rules(session)))
    for rule in rules:
        if rule.product_id == product_id and rule.cycle == cycle and recurring in rule.old_amounts:
            return rule.amount if period_start >= rule.since else recurring
    return recurring


def reprice_on_renewal(session: Session, invoice: Invoice, actor: Actor) -> None:
    """A paid renewal for a period on or after a price change moves the service to the new
    price (module notes). Cheap when there is no rule: one setting read."""
    rules = _rules(session)
    if not rules:
        return
    items = session.scalars(
        select(InvoiceItem).where(
            InvoiceItem.invoice_id == invoice.id,
            InvoiceItem.kind == "renewal",
            InvoiceItem.service_id.is_not(None),
        )
    ).all()
    for item in items:
        service = session.get(Service, item.service_id)
        if service is None:
            continue
        rule = _rule_for(rules, service)
        if rule is None or item.period_start is None or item.period_start < rule.since:
            continue
        before = service.recurring_amount
        service.recurring_amount = rule.amount
        audit.record(
            session,
            actor,
            "service.repriced",
            target_type="service",
            target_id=service.id,
            client_id=service.client_id,
            old=before,
            new=rule.amount,
            invoice=invoice.number,
        )
