"""Billing cycles and due-date arithmetic (pure, no I/O).

Rules implemented here come from ``billing-rules.md``:

* §1.1 — the cycle catalogue: ``monthly`` (1 month), ``quarterly`` (3), ``semiannually`` (6),
  ``annually`` (12), ``biennially`` (24), ``triennially`` (36), plus ``free`` and ``onetime``,
  which never renew and therefore have no due date.
* §1.3 — month-end handling: a service stores an ``anchor_day`` (1–31) taken from its first due
  date. Advancing a due date adds whole calendar months to the *month* of the date and then puts
  the anchor day back, clamped to the length of the target month. The day of the date passed in
  is ignored, so a clamped date (Feb 28 for anchor 31) never "drifts" the schedule: the next step
  lands on Mar 31 again. PHP/Carbon-style overflow (Jan 31 + 1 month = Mar 3) never happens.
* §3.1 — invoice generation happens ``invoice_days_before`` days before the due date, with
  optional per-cycle overrides.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal

# Months covered by one period of each recurring cycle (billing-rules §1.1).
CYCLE_MONTHS: dict[str, int] = {
    "monthly": 1,
    "quarterly": 3,
    "semiannually": 6,
    "annually": 12,
    "biennially": 24,
    "triennially": 36,
}

# Cycles that renew, shortest first.
RECURRING_CYCLES: tuple[str, ...] = tuple(CYCLE_MONTHS)

# Cycles with no renewal and no next due date.
NON_RECURRING_CYCLES: tuple[str, ...] = ("free", "onetime")

ALL_CYCLES: tuple[str, ...] = RECURRING_CYCLES + NON_RECURRING_CYCLES

# billing-rules §3.1: WHMCS default "Invoice Generation" is 14 days before the due date.
DEFAULT_INVOICE_DAYS_BEFORE = 14


def _check_known(cycle: str) -> None:
    if cycle not in CYCLE_MONTHS and cycle not in NON_RECURRING_CYCLES:
        known = ", ".join(ALL_CYCLES)
        raise ValueError(f"unknown billing cycle {cycle!r}; expected one of: {known}")


def is_recurring(cycle: str) -> bool:
    """True for cycles that renew; False for ``free``/``onetime``.

    An unknown cycle raises ``ValueError`` rather than answering False, so a typo can never
    make a paid service look like one that is never invoiced.
    """
    _check_known(cycle)
    return cycle in CYCLE_MONTHS


def cycle_months(cycle: str) -> int:
    """Number of months in one period of a recurring cycle (ValueError otherwise)."""
    _check_known(cycle)
    if cycle not in CYCLE_MONTHS:
        raise ValueError(f"billing cycle {cycle!r} does not renew and has no due date")
    return CYCLE_MONTHS[cycle]


def months_factor(cycle: str) -> Decimal:
    """How many months one period of ``cycle`` covers, as a Decimal.

    Divide a recurring amount by this to get its monthly equivalent (MRR):
    ``monthly = amount / months_factor(cycle)`` — e.g. 120.00 annually → 120.00 / 12 = 10.00.
    The result of the division is unrounded; round once where it is displayed or stored.
    ``free``/``onetime`` raise ValueError: they contribute nothing recurring, so callers filter
    them with :func:`is_recurring` first.
    """
    return Decimal(cycle_months(cycle))


def check_anchor_day(anchor_day: int) -> int:
    """Validate an anchor day (1–31) and return it."""
    if isinstance(anchor_day, bool) or not isinstance(anchor_day, int):
        raise ValueError(f"anchor_day must be an int between 1 and 31, got {anchor_day!r}")
    if not 1 <= anchor_day <= 31:
        raise ValueError(f"anchor_day must be between 1 and 31, got {anchor_day}")
    return anchor_day


def anchored(year: int, month: int, anchor_day: int) -> date:
    """The anchor day in the given month, clamped to the month's last day."""
    last = calendar.monthrange(year, month)[1]
    return date(year, month, min(anchor_day, last))


def add_months(due: date, months: int, anchor_day: int) -> date:
    """Move ``due`` by ``months`` calendar months (may be negative) and re-apply the anchor.

    Only the year and month of ``due`` are used; its day is replaced by the anchor day,
    clamped to the target month (billing-rules §1.3: never chain from a clamped date).
    """
    check_anchor_day(anchor_day)
    index = due.year * 12 + (due.month - 1) + months  # months since year 0
    year, month0 = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError(f"moving {due.isoformat()} by {months} months leaves the calendar")
    return anchored(year, month0 + 1, anchor_day)


def advance(due: date, cycle: str, anchor_day: int, periods: int = 1) -> date:
    """The due date ``periods`` cycles after ``due`` (before it, if ``periods`` is negative).

    ``advance(date(2023, 1, 31), "monthly", 31)`` → 2023-02-28, and
    ``advance(date(2023, 2, 28), "monthly", 31)`` → 2023-03-31 (the anchor is restored).
    The start of the current period is ``advance(next_due, cycle, anchor_day, -1)``.
    ``free``/``onetime`` or an unknown cycle raise ValueError.
    """
    if isinstance(periods, bool) or not isinstance(periods, int):
        raise ValueError(f"periods must be an int, got {periods!r}")
    return add_months(due, cycle_months(cycle) * periods, anchor_day)


def period_bounds(next_due: date, cycle: str, anchor_day: int) -> tuple[date, date]:
    """The current (paid) period of a service as ``(start, end)``.

    ``start`` is one cycle before ``next_due`` (anchored); ``end`` is ``next_due`` itself,
    exclusive: the service is paid for the days ``start <= d < end``.
    """
    return advance(next_due, cycle, anchor_day, -1), next_due


def period_days(next_due: date, cycle: str, anchor_day: int) -> int:
    """Real calendar days of the current period (billing-rules §2.1 day basis)."""
    start, end = period_bounds(next_due, cycle, anchor_day)
    return (end - start).days


def invoice_days_before(
    cycle: str,
    default: int = DEFAULT_INVOICE_DAYS_BEFORE,
    overrides: Mapping[str, int] | None = None,
) -> int:
    """Days before the due date a renewal invoice is generated for ``cycle``.

    A per-cycle override wins over the default (WHMCS "Advanced Settings",
    billing-rules §3.1). Negative values are rejected.
    """
    cycle_months(cycle)  # validates: only recurring cycles get renewal invoices
    days = default if overrides is None else overrides.get(cycle, default)
    if isinstance(days, bool) or not isinstance(days, int) or days < 0:
        raise ValueError(f"invoice days before due must be an int >= 0, got {days!r}")
    return days


def invoice_generation_date(
    next_due: date,
    cycle: str,
    default: int = DEFAULT_INVOICE_DAYS_BEFORE,
    overrides: Mapping[str, int] | None = None,
) -> date:
    """The date the renewal invoice for ``next_due`` is generated (billing-rules §3.1).

    Plain calendar-day subtraction, e.g. due 2024-03-15 with 30 days → 2024-02-14
    (February 2024 has 29 days).
    """
    return next_due - timedelta(days=invoice_days_before(cycle, default, overrides))
