"""Due dates: billing-rules §1 and test vectors #1–#8 and #13 (§6).

Vector #12 (free → paid) is a plan-change quote: tests/unit/test_proration.py.
"""

from datetime import date
from decimal import Decimal

import pytest

from core.rules.cycles import (
    CYCLE_MONTHS,
    RECURRING_CYCLES,
    advance,
    invoice_generation_date,
    is_recurring,
    months_factor,
    period_bounds,
    period_days,
)

# (cycle, anchor_day, current due date, expected next due date)
ADVANCE_VECTORS = [
    ("monthly", 15, date(2024, 1, 15), date(2024, 2, 15)),  # v1
    ("monthly", 31, date(2023, 1, 31), date(2023, 2, 28)),  # v2: not 2023-03-03 (PHP)
    ("monthly", 31, date(2024, 1, 31), date(2024, 2, 29)),  # v3: leap February
    ("monthly", 31, date(2023, 2, 28), date(2023, 3, 31)),  # v4: anchor restored, not 03-28
    ("quarterly", 30, date(2023, 11, 30), date(2024, 2, 29)),  # v5
    ("semiannually", 31, date(2024, 8, 31), date(2025, 2, 28)),  # v6
    ("annually", 29, date(2024, 2, 29), date(2025, 2, 28)),  # v7
    ("biennially", 29, date(2024, 2, 29), date(2026, 2, 28)),  # v7
    ("triennially", 29, date(2024, 2, 29), date(2027, 2, 28)),  # v7
    ("triennially", 10, date(2023, 5, 10), date(2026, 5, 10)),  # v8
]
ADVANCE_IDS = ["v1", "v2", "v3", "v4", "v5", "v6", "v7-annual", "v7-biennial", "v7-triennial", "v8"]


@pytest.mark.parametrize(("cycle", "anchor", "due", "expected"), ADVANCE_VECTORS, ids=ADVANCE_IDS)
def test_renewal_moves_due_date_one_cycle_on_the_anchor_day(cycle, anchor, due, expected):
    assert advance(due, cycle, anchor) == expected


@pytest.mark.parametrize(("cycle", "anchor", "due", "expected"), ADVANCE_VECTORS, ids=ADVANCE_IDS)
def test_previous_due_date_is_one_cycle_back(cycle, anchor, due, expected):
    # A service now due on `expected` was paid from `due`: going back a cycle from a clamped
    # date (2025-02-28, anchor 29) must find the anchor again (2024-02-29).
    assert advance(expected, cycle, anchor, -1) == due


def test_month_end_schedule_never_drifts_to_the_28th():
    # Jan 31 → Feb 28 → Mar 31 → Apr 30 → May 31 (FinSight-AI #681 drift bug)
    due, seen = date(2023, 1, 31), []
    for _ in range(4):
        due = advance(due, "monthly", 31)
        seen.append(due)
    assert seen == [date(2023, 2, 28), date(2023, 3, 31), date(2023, 4, 30), date(2023, 5, 31)]


def test_several_periods_at_once_equal_repeated_renewals():
    assert advance(date(2024, 1, 31), "monthly", 31, periods=3) == date(2024, 4, 30)
    assert advance(date(2024, 2, 29), "annually", 29, periods=4) == date(2028, 2, 29)


def test_period_bounds_give_the_paid_period_in_real_days():
    start, end = period_bounds(date(2024, 4, 1), "monthly", 1)
    assert (start, end) == (date(2024, 3, 1), date(2024, 4, 1))
    assert period_days(date(2024, 4, 1), "monthly", 1) == 31
    assert period_days(date(2025, 1, 1), "annually", 1) == 366  # 2024 is a leap year
    assert period_days(date(2023, 3, 31), "monthly", 31) == 31  # from Feb 28, not Feb 31


# v13: renewal invoice generation date = due − N days, with a per-cycle override.
@pytest.mark.parametrize(
    ("cycle", "overrides", "expected"),
    [
        ("monthly", {"annually": 30}, date(2024, 3, 1)),
        ("annually", {"annually": 30}, date(2024, 2, 14)),  # leap February
    ],
    ids=["v13-default-14", "v13-annual-override-30"],
)
def test_renewal_invoice_is_generated_days_before_due(cycle, overrides, expected):
    assert invoice_generation_date(date(2024, 3, 15), cycle, 14, overrides) == expected


def test_invoice_days_before_cannot_be_negative():
    with pytest.raises(ValueError, match=">= 0"):
        invoice_generation_date(date(2024, 3, 15), "monthly", -1)


def test_catalogue_matches_billing_rules():
    assert CYCLE_MONTHS == {
        "monthly": 1,
        "quarterly": 3,
        "semiannually": 6,
        "annually": 12,
        "biennially": 24,
        "triennially": 36,
    }
    assert tuple(CYCLE_MONTHS) == RECURRING_CYCLES
    assert all(is_recurring(c) for c in RECURRING_CYCLES)
    assert not is_recurring("free")
    assert not is_recurring("onetime")


def test_monthly_equivalent_for_mrr():
    assert Decimal("120.00") / months_factor("annually") == Decimal("10")
    assert Decimal("45.00") / months_factor("quarterly") == Decimal("15")
    assert months_factor("monthly") == 1


@pytest.mark.parametrize("cycle", ["free", "onetime"])
def test_services_without_renewal_have_no_due_date(cycle):
    with pytest.raises(ValueError, match="does not renew"):
        advance(date(2024, 1, 1), cycle, 1)
    with pytest.raises(ValueError, match="does not renew"):
        months_factor(cycle)


def test_unknown_cycle_is_rejected_with_the_known_names():
    with pytest.raises(ValueError, match="unknown billing cycle 'yearly'.*annually"):
        advance(date(2024, 1, 1), "yearly", 1)
    with pytest.raises(ValueError, match="unknown billing cycle"):
        is_recurring("Monthly")


@pytest.mark.parametrize("anchor", [0, 32, -1])
def test_anchor_day_out_of_range_is_rejected(anchor):
    with pytest.raises(ValueError, match="anchor_day"):
        advance(date(2024, 1, 1), "monthly", anchor)
