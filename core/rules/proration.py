"""Upgrade/downgrade and prorata quotes (pure, no I/O) — billing-rules §2.

Arithmetic is exact (``Fraction``) until the single half-up rounding of the amount the client
pays (``net`` / ``total``); the ``credit``/``charge``/``partial`` fields are the unrounded
intermediate values, for display only. Days are real calendar days of the current period:
``period_days = days(prev_due, next_due)`` with ``prev_due = advance(next_due, cycle, -1)``
and ``remaining_days = days(change_date, next_due)`` (change date counted, due date not).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from core.rules.cycles import advance, anchored, check_anchor_day, cycle_months, is_recurring
from core.rules.money import ZERO, Number, from_fraction, q2, to_fraction

CHANGE_MODES = ("switch_now", "keep_due_date")


@dataclass(frozen=True)
class ChangeQuote:
    """Price of a plan change made on ``change_date``.

    * ``credit`` — unused value of the old recurring amount (unrounded);
    * ``charge`` — value of the new plan being bought (unrounded);
    * ``net`` — ``charge − credit`` rounded once, half-up, 2 decimals. Positive: the client
      pays it; negative: a downgrade credit (see :meth:`balance_credit`);
    * ``next_due`` / ``anchor_day`` — the service's due date and anchor after the change;
    * ``remaining_days`` / ``period_days`` — days left in, and length of, the *old* period.
    """

    credit: Decimal
    charge: Decimal
    net: Decimal
    next_due: date
    remaining_days: int
    period_days: int
    anchor_day: int

    @property
    def payable(self) -> Decimal:
        """What the upgrade invoice charges: ``net`` if positive, else 0.00."""
        return max(self.net, ZERO)

    def balance_credit(self, credit_on_downgrade: bool) -> Decimal:
        """Credit to add to the client's balance (billing-rules §0.6, §2.1).

        ``−net`` for a downgrade when ``credit_on_downgrade`` is on, else 0.00 — never a
        negative number, so applying a quote can never lower the client's balance.
        """
        if credit_on_downgrade and self.net < 0:
            return -self.net
        return ZERO


def _price(value: Number, name: str) -> Fraction:
    exact = to_fraction(value)  # TypeError for floats
    if exact < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return exact


def _check_mode(mode: str) -> None:
    if mode not in CHANGE_MODES:
        raise ValueError(f"unknown cycle change mode {mode!r}; expected one of {CHANGE_MODES}")


def _new_cycle_start(
    price: Fraction, cycle: str, change_date: date, credit: Fraction, days: tuple[int, int]
) -> ChangeQuote:
    """Credit ``credit`` and charge one full new cycle starting on ``change_date``."""
    anchor = change_date.day
    return ChangeQuote(
        credit=from_fraction(credit),
        charge=from_fraction(price),
        net=q2(price - credit),
        next_due=advance(change_date, cycle, anchor),
        remaining_days=days[0],
        period_days=days[1],
        anchor_day=anchor,
    )


def quote_change(
    *,
    old_price: Number,
    old_cycle: str,
    new_price: Number,
    new_cycle: str,
    next_due: date | None,
    anchor_day: int | None,
    change_date: date,
    mode: str = "switch_now",
) -> ChangeQuote:
    """Quote an upgrade/downgrade of a service (billing-rules §2.1 and §2.3).

    ``old_price`` is the service's current recurring amount (including options), compared
    like with like against ``new_price`` for ``new_cycle``.

    * Same cycle (§2.1): ``net = (new − old) × remaining ÷ period_days``; due date unchanged;
      ``mode`` is irrelevant.
    * Cycle change, ``switch_now`` (default, §2.3): credit the unused old value, charge one
      full new cycle; ``next_due = advance(change_date, new_cycle)``, anchor reset to the
      change date's day.
    * Cycle change, ``keep_due_date`` (WHMCS-compatible): the new cycle's price per day is
      ``new_price ÷ days(change_date, advance(change_date, new_cycle))``, charged for the
      remaining days; due date and anchor unchanged.
    * From ``free`` (§1.1): nothing to credit, the first paid cycle is charged in full from
      the change date (``next_due``/``anchor_day`` may be None and are ignored).

    Raises ValueError for a negative price, an unknown mode or cycle, a change from
    ``onetime`` or to ``free``/``onetime`` (not a plan change: cancel and order instead), a
    free plan with a price, or a ``change_date`` outside the current period.
    """
    _check_mode(mode)
    old = _price(old_price, "old_price")
    new = _price(new_price, "new_price")
    if not is_recurring(new_cycle):
        raise ValueError(
            f"cannot change to the {new_cycle!r} cycle: it has no due date to prorate against"
        )

    if old_cycle == "free":
        if old != 0:
            raise ValueError(f"a free service has no price, got old_price {old_price}")
        return _new_cycle_start(new, new_cycle, change_date, Fraction(0), (0, 0))
    if not is_recurring(old_cycle):
        raise ValueError(
            f"cannot prorate a change from the {old_cycle!r} cycle: it has no billing period"
        )

    if next_due is None or anchor_day is None:
        raise ValueError("next_due and anchor_day are required for a recurring service")
    check_anchor_day(anchor_day)
    period_start = advance(next_due, old_cycle, anchor_day, -1)
    if change_date > next_due:
        raise ValueError(
            f"change date {change_date.isoformat()} is after the next due date "
            f"{next_due.isoformat()}: renew the service first"
        )
    if change_date < period_start:
        raise ValueError(
            f"change date {change_date.isoformat()} is before the current period starts "
            f"({period_start.isoformat()})"
        )
    period_days = (next_due - period_start).days
    remaining = (next_due - change_date).days
    share = Fraction(remaining, period_days)  # unused part of the current period
    credit = old * share

    if new_cycle == old_cycle:
        return ChangeQuote(
            credit=from_fraction(credit),
            charge=from_fraction(new * share),
            net=q2((new - old) * share),
            next_due=next_due,
            remaining_days=remaining,
            period_days=period_days,
            anchor_day=anchor_day,
        )

    if mode == "switch_now":
        return _new_cycle_start(new, new_cycle, change_date, credit, (remaining, period_days))

    # keep_due_date: new price per day measured on a new-cycle period starting today.
    new_period_days = (advance(change_date, new_cycle, change_date.day) - change_date).days
    charge = new * Fraction(remaining, new_period_days)
    return ChangeQuote(
        credit=from_fraction(credit),
        charge=from_fraction(charge),
        net=q2(charge - credit),
        next_due=next_due,
        remaining_days=remaining,
        period_days=period_days,
        anchor_day=anchor_day,
    )


@dataclass(frozen=True)
class ProrataQuote:
    """First invoice of a new order on a product with prorata billing (billing-rules §2.4).

    * ``partial`` — unrounded price of the days from the order date to the prorata date
      (0 when the order falls on the prorata day: no partial line);
    * ``full`` — price of the full cycle also billed now (one cycle on the prorata day or
      after the "charge next month" cutoff, else 0);
    * ``total`` — ``partial + full`` rounded once, half-up, 2 decimals;
    * ``next_due`` / ``anchor_day`` — the new service's first due date and its anchor
      (the prorata day);
    * ``partial_days`` / ``period_days`` — days billed by ``partial`` and the length of the
      cycle period ending on the prorata date it was measured against.
    """

    partial: Decimal
    full: Decimal
    total: Decimal
    next_due: date
    partial_days: int
    period_days: int
    anchor_day: int

    @property
    def has_partial(self) -> bool:
        """Whether the first invoice carries a prorated line."""
        return self.partial_days > 0


def _next_prorata_date(order_date: date, prorata_day: int) -> date:
    """The first prorata day strictly after ``order_date`` (clamped to month end)."""
    this_month = anchored(order_date.year, order_date.month, prorata_day)
    if this_month > order_date:
        return this_month
    year, month = divmod(order_date.year * 12 + order_date.month, 12)  # next month
    return anchored(year, month + 1, prorata_day)


def quote_prorata(
    *,
    price: Number,
    cycle: str,
    order_date: date,
    prorata_day: int,
    charge_next_month_day: int | None = None,
) -> ProrataQuote:
    """Quote the first invoice of a new order aligned to ``prorata_day`` (§2.4).

    * Order on the prorata day (clamped: Feb 28 counts as day 31 in a 28-day February):
      one full cycle, ``next_due = advance(order_date, cycle)``.
    * Otherwise ``target`` = next prorata day after the order; ``partial = price ×
      days(order_date, target) ÷ days(advance(target, cycle, −1), target)``.
    * If ``order_date.day > charge_next_month_day`` (strictly after the cutoff) the first
      invoice also carries one full cycle and ``next_due = advance(target, cycle)``; else
      ``next_due = target``. ``None`` disables the cutoff.
    """
    exact = _price(price, "price")
    cycle_months(cycle)  # ValueError unless recurring
    check_anchor_day(prorata_day)
    if charge_next_month_day is not None:
        try:
            check_anchor_day(charge_next_month_day)
        except ValueError:
            raise ValueError(
                "charge_next_month_day must be None or a day between 1 and 31, "
                f"got {charge_next_month_day!r}"
            ) from None

    if order_date == anchored(order_date.year, order_date.month, prorata_day):
        return ProrataQuote(
            partial=ZERO,
            full=from_fraction(exact),
            total=q2(exact),
            next_due=advance(order_date, cycle, prorata_day),
            partial_days=0,
            period_days=0,
            anchor_day=prorata_day,
        )

    target = _next_prorata_date(order_date, prorata_day)
    period_days = (target - advance(target, cycle, prorata_day, -1)).days
    partial_days = (target - order_date).days
    partial = exact * Fraction(partial_days, period_days)
    after_cutoff = charge_next_month_day is not None and order_date.day > charge_next_month_day
    full = exact if after_cutoff else Fraction(0)
    return ProrataQuote(
        partial=from_fraction(partial),
        full=from_fraction(full),
        total=q2(partial + full),
        next_due=advance(target, cycle, prorata_day) if after_cutoff else target,
        partial_days=partial_days,
        period_days=period_days,
        anchor_day=prorata_day,
    )
