"""The add-on's first invoice, pure: the days left of the parent's current period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from core.rules.cycles import advance
from core.rules.money import q2


def first_amount(
    price: Decimal, cycle: str, anchor_day: int, order_day: date, due: date
) -> Decimal:
    """``price`` × days(order_day, due) ÷ days of the parent's period ending on ``due``
    (billing-rules §2.4, the prorata target being the parent's next due date), rounded once."""
    period_start = advance(due, cycle, anchor_day, -1)
    days = (due - period_start).days
    left = (due - order_day).days
    if left <= 0 or days <= 0:
        raise ValueError("the order day must fall before the parent's next due date")
    return q2(Fraction(price) * Fraction(min(left, days), days))
