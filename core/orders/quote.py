"""What an order will cost before it is placed (issue 16 item 2): the first invoice's lines,
IVA and total, how much of the client's credit it will take, what is left to pay, and so
whether the account is made at once (credit covers it) or once the invoice is paid.

Priced exactly as ``core.orders.place_order`` prices the invoice (``first_invoice``, the IVA
rate of the order day, ``prices_include_tax``) and as issuing it spends credit
(``auto_apply_credit``), so the confirmation the client reads is what then happens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select

from core.access import Actor, parse_id, require, require_permission
from core.billing.ledger import AUTO_APPLY_CREDIT, PRICES_INCLUDE_TAX
from core.catalog.taxes import tax_rates
from core.models import Client, Product, ProductPrice
from core.orders.pricing import business_day, first_invoice
from core.platform import settings
from core.platform.clock import now
from core.platform.db import reading
from core.platform.errors import NotFound, ValidationError
from core.rules.cycles import RECURRING_CYCLES
from core.rules.money import ZERO, invoice_totals, iva_rate, q2


@dataclass(frozen=True)
class QuoteLine:
    kind: str  # "prorata" | "renewal" | "setup"
    period_start: date
    period_end: date | None
    amount: Decimal  # as the invoice line will carry it (before IVA unless prices include it)


@dataclass(frozen=True)
class OrderQuote:
    product: str
    cycle: str
    lines: tuple[QuoteLine, ...]
    subtotal: Decimal
    tax: Decimal
    tax_rate: Decimal
    total: Decimal
    credit_used: Decimal  # the client's credit the invoice will take when issued
    to_pay: Decimal  # what is left for the client to pay
    next_due: date

    @property
    def paid_by_credit(self) -> bool:
        """Credit settles it: the account is made as soon as the order is placed."""
        return self.to_pay == ZERO


def order_quote(
    actor: Actor,
    *,
    product_id: int,
    cycle: str,
    client_id: int | None = None,
    at: date | datetime | None = None,
) -> OrderQuote:
    """The cost of ordering ``product_id`` on ``cycle`` today, and the credit it will use.
    A client quotes for themselves; staff with services name the client. ``at``: the
    moment (default now)."""
    require_permission(actor, "services")
    day = business_day(at or now())
    if actor.is_client:
        client_id = actor.client_id
    else:
        require(actor, "services")
    owner_id = parse_id(client_id)
    with reading() as s:
        client = s.get(Client, owner_id)
        if client is None:
            raise NotFound()
        try:
            key = int(product_id)
        except (TypeError, ValueError):
            raise ValidationError("error.order_plan_invalid") from None
        price = s.scalars(
            select(ProductPrice).where(ProductPrice.product_id == key, ProductPrice.cycle == cycle)
        ).first()
        product = s.get(Product, key)
        if price is None or product is None or not product.active or cycle not in RECURRING_CYCLES:
            raise ValidationError("error.order_plan_invalid")
        plan = first_invoice(
            price=price.price,
            cycle=cycle,
            order_date=day,
            setup_fee=price.setup_fee or ZERO,
            prorata_day=product.prorata_day if product.prorata_enabled else None,
            charge_next_month_day=product.prorata_next_month_after_day,
        )
        rate = iva_rate(day, tax_rates(session=s))
        gross = settings.get_bool(PRICES_INCLUDE_TAX, session=s)
        totals = invoice_totals(
            [(line.amount, rate) for line in plan.lines], prices_include_tax=gross
        )
        use_credit = settings.get_bool(AUTO_APPLY_CREDIT, session=s)
        credit = min(client.credit_balance, totals.total) if use_credit else ZERO
        return OrderQuote(
            product=product.name,
            cycle=cycle,
            lines=tuple(
                QuoteLine(line.kind, line.period_start, line.period_end, q2(line.amount))
                for line in plan.lines
            ),
            subtotal=totals.subtotal,
            tax=totals.tax,
            tax_rate=rate,
            total=totals.total,
            credit_used=q2(max(credit, ZERO)),
            to_pay=q2(totals.total - max(credit, ZERO)),
            next_due=plan.next_due,
        )
