"""Properties of the billing arithmetic (billing-rules §1.3, §2.1, §4 bug checklist)."""

import calendar
from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.rules.cycles import CYCLE_MONTHS, RECURRING_CYCLES, advance
from core.rules.money import ZERO, q2
from core.rules.proration import quote_change

FAST = settings(max_examples=200, deadline=None)

cycles = st.sampled_from(RECURRING_CYCLES)
anchors = st.integers(min_value=1, max_value=31)
prices = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False, allow_infinity=False)
months = st.integers(min_value=2000 * 12, max_value=2090 * 12)  # months since year 0


def _anchored(month_index: int, anchor: int) -> date:
    year, month0 = divmod(month_index, 12)
    return date(year, month0 + 1, min(anchor, calendar.monthrange(year, month0 + 1)[1]))


@st.composite
def service_periods(draw):
    """A service's current period and a change date inside it."""
    cycle = draw(cycles)
    anchor = draw(anchors)
    next_due = _anchored(draw(months), anchor)
    start = advance(next_due, cycle, anchor, -1)
    offset = draw(st.integers(min_value=0, max_value=(next_due - start).days))
    return cycle, anchor, next_due, date.fromordinal(start.toordinal() + offset)


def _same_cycle(old, new, period):
    cycle, anchor, next_due, change_date = period
    return quote_change(
        old_price=old,
        old_cycle=cycle,
        new_price=new,
        new_cycle=cycle,
        next_due=next_due,
        anchor_day=anchor,
        change_date=change_date,
    )


@FAST
@given(a=prices, b=prices, period=service_periods(), credit_on_downgrade=st.booleans())
def test_downgrade_never_lowers_the_clients_balance(a, b, period, credit_on_downgrade):
    # Paymenter #933: a downgrade that *subtracted* credit. Whatever the prices and dates,
    # moving to a cheaper (or equal) plan never asks the client to pay and never takes credit.
    old, new = max(a, b), min(a, b)
    quote = _same_cycle(old, new, period)
    assert quote.net <= 0
    assert quote.payable == ZERO
    assert quote.balance_credit(credit_on_downgrade) >= 0
    assert quote.balance_credit(credit_on_downgrade) <= q2(old)  # never more than was paid
    assert quote.next_due == period[2]


@FAST
@given(a=prices, b=prices, period=service_periods())
def test_upgrade_never_yields_a_refund(a, b, period):
    # Paymenter #797: an upgrade to a bigger plan must not produce a credit.
    old, new = min(a, b), max(a, b)
    quote = _same_cycle(old, new, period)
    assert quote.net >= 0
    assert quote.balance_credit(credit_on_downgrade=True) == ZERO


@FAST
@given(a=prices, b=prices, period=service_periods())
def test_downgrade_credit_mirrors_the_upgrade_charge(a, b, period):
    # Going up and coming back down on the same day nets to zero for the client.
    assert _same_cycle(a, b, period).net == -_same_cycle(b, a, period).net


@FAST
@given(a=prices, b=prices, period=service_periods())
def test_net_is_the_exact_difference_rounded_once(a, b, period):
    quote = _same_cycle(a, b, period)
    assert abs(quote.net - (quote.charge - quote.credit)) <= Decimal("0.005")


@FAST
@given(cycle=cycles, anchor=anchors, start=months, n=st.integers(min_value=0, max_value=48))
def test_advance_never_drifts_from_the_anchor_over_48_periods(cycle, anchor, start, n):
    first = _anchored(start, anchor)
    # Chained renewals (what the daily run does) ...
    due = first
    for _ in range(n):
        due = advance(due, cycle, anchor)
    # ... equal the direct computation from the first due date ...
    assert due == advance(first, cycle, anchor, n)
    # ... equal the anchor day in the target month, clamped to its length.
    expected = _anchored(start + CYCLE_MONTHS[cycle] * n, anchor)
    assert due == expected
    year, month = due.year, due.month
    assert due.day == min(anchor, calendar.monthrange(year, month)[1])


@FAST
@given(
    cycle=cycles,
    anchor=anchors,
    start=months,
    n=st.integers(min_value=-48, max_value=47),
)
def test_advance_is_strictly_monotonic_and_reversible(cycle, anchor, start, n):
    first = _anchored(start, anchor)
    here = advance(first, cycle, anchor, n)
    after = advance(first, cycle, anchor, n + 1)
    assert here < after
    assert advance(after, cycle, anchor, -1) == here  # period start of the next period
