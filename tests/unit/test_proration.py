"""Plan changes and prorata orders: billing-rules §2 and test vectors (§6)
#12, #20, #21, #22, #23, #25, #26, #27, #28 and #29.

#33 (IVA on the #20 upgrade net) is in tests/unit/test_money.py.
"""

from datetime import date
from decimal import Decimal

import pytest

from core.rules.money import ZERO, q2
from core.rules.proration import ChangeQuote, quote_change, quote_prorata

# --- same cycle (§2.1) ------------------------------------------------------------------------

# (old, new, cycle, anchor, next_due, change_date) → (net, remaining, period, credit, charge)
SAME_CYCLE_VECTORS = [
    # v20: monthly 10 → 20, period 2024-03-01→04-01 (31 d), 15 days left
    (
        ("10.00", "20.00", "monthly", 1, date(2024, 4, 1), date(2024, 3, 17)),
        ("4.84", 15, 31, "4.8387", "9.6774"),
    ),
    # v21: the same change reversed (downgrade)
    (
        ("20.00", "10.00", "monthly", 1, date(2024, 4, 1), date(2024, 3, 17)),
        ("-4.84", 15, 31, "9.6774", "4.8387"),
    ),
    # v22: annual over a leap year, 184 of 366 days left
    (
        ("120.00", "240.00", "annually", 1, date(2025, 1, 1), date(2024, 7, 1)),
        ("60.33", 184, 366, "60.3279", "120.6557"),
    ),
    # v23: 105 days into a 365-day year (260 left); rounding once gives 35.62, not 35.61
    (
        ("50.00", "100.00", "annually", 1, date(2024, 1, 1), date(2023, 4, 16)),
        ("35.62", 260, 365, "35.6164", "71.2329"),
    ),
]


def _same_cycle_quote(old, new, cycle, anchor, next_due, change_date, **kwargs):
    return quote_change(
        old_price=Decimal(old),
        old_cycle=cycle,
        new_price=Decimal(new),
        new_cycle=cycle,
        next_due=next_due,
        anchor_day=anchor,
        change_date=change_date,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("inputs", "expected"), SAME_CYCLE_VECTORS, ids=["v20", "v21", "v22", "v23"]
)
def test_same_cycle_change_prorates_remaining_days(inputs, expected):
    net, remaining, period, credit, charge = expected
    quote = _same_cycle_quote(*inputs)
    assert quote.net == Decimal(net)
    assert (quote.remaining_days, quote.period_days) == (remaining, period)
    # credit/charge are the unrounded informational values
    assert quote.credit.quantize(Decimal("0.0001")) == Decimal(credit)
    assert quote.charge.quantize(Decimal("0.0001")) == Decimal(charge)
    assert quote.next_due == inputs[4]  # due date unchanged
    assert quote.anchor_day == inputs[3]


def test_v23_rounding_credit_and_debit_separately_would_be_a_cent_off():
    quote = _same_cycle_quote(*SAME_CYCLE_VECTORS[3][0])
    assert q2(quote.charge) - q2(quote.credit) == Decimal("35.61")  # the hostineer mistake
    assert quote.net == Decimal("35.62")


def test_v20_upgrade_is_paid_and_adds_no_credit():
    quote = _same_cycle_quote(*SAME_CYCLE_VECTORS[0][0])
    assert quote.payable == Decimal("4.84")
    assert quote.balance_credit(credit_on_downgrade=True) == ZERO


@pytest.mark.parametrize(
    ("credit_on_downgrade", "credit"), [(True, "4.84"), (False, "0.00")], ids=["v21-on", "v21-off"]
)
def test_v21_downgrade_credit_only_when_credit_on_downgrade(credit_on_downgrade, credit):
    quote = _same_cycle_quote(*SAME_CYCLE_VECTORS[1][0])
    assert quote.net == Decimal("-4.84")
    assert quote.payable == ZERO  # nothing to pay, never a refund
    assert quote.balance_credit(credit_on_downgrade) == Decimal(credit)


def test_mode_does_not_matter_when_the_cycle_is_unchanged():
    inputs = SAME_CYCLE_VECTORS[0][0]
    assert _same_cycle_quote(*inputs, mode="keep_due_date") == _same_cycle_quote(*inputs)


def test_change_on_the_first_day_of_the_period_prorates_the_whole_period():
    quote = _same_cycle_quote("10.00", "20.00", "monthly", 1, date(2024, 4, 1), date(2024, 3, 1))
    assert (quote.remaining_days, quote.net) == (31, Decimal("10.00"))


def test_change_on_the_due_date_costs_nothing():
    quote = _same_cycle_quote("10.00", "20.00", "monthly", 1, date(2024, 4, 1), date(2024, 4, 1))
    assert (quote.remaining_days, quote.net) == (0, ZERO)


# --- cycle change (§2.3) ----------------------------------------------------------------------


def _cycle_change(mode=None, **overrides):
    args = {
        "old_price": Decimal("120.00"),
        "old_cycle": "annually",
        "new_price": Decimal("45.00"),
        "new_cycle": "quarterly",
        "next_due": date(2025, 1, 1),
        "anchor_day": 1,
        "change_date": date(2024, 7, 1),
    }
    args.update(overrides)
    return quote_change(**args) if mode is None else quote_change(**args, mode=mode)


def test_v25_keep_due_date_charges_new_daily_price_until_old_due_date():
    quote = _cycle_change("keep_due_date")
    assert quote.charge == Decimal("90.00")  # 45 / 92 days (Jul 1 → Oct 1) × 184
    assert q2(quote.credit) == Decimal("60.33")
    assert quote.net == Decimal("29.67")
    assert (quote.next_due, quote.anchor_day) == (date(2025, 1, 1), 1)  # due date stays


@pytest.mark.parametrize("mode", [None, "switch_now"], ids=["v26-default", "v26-explicit"])
def test_v26_switch_now_is_the_default_and_starts_the_new_cycle_today(mode):
    quote = _cycle_change(mode)
    assert quote.charge == Decimal("45.00")  # one full new quarter
    assert quote.net == Decimal("-15.33")  # 45.00 − 60.3279
    assert quote.balance_credit(credit_on_downgrade=True) == Decimal("15.33")
    assert quote.payable == ZERO
    assert quote.next_due == date(2024, 10, 1)
    assert quote.anchor_day == 1


def test_v26_cross_check_published_switch_now_arithmetic():
    # [KB-Hostineer]: 100/yr, 30 days in (335 of 365 left), new plan 50 for a full new cycle:
    # credit 91.78, net −41.78. Under our rules this arithmetic applies when the cycle changes.
    quote = _cycle_change(
        old_price=Decimal("100.00"),
        new_price=Decimal("50.00"),
        new_cycle="biennially",
        next_due=date(2024, 1, 1),
        change_date=date(2023, 1, 31),
    )
    assert q2(quote.credit) == Decimal("91.78")
    assert quote.net == Decimal("-41.78")
    assert quote.next_due == date(2025, 1, 31)


def test_switch_now_resets_anchor_to_change_day_and_clamps():
    quote = _cycle_change(
        old_price=Decimal("10.00"),
        old_cycle="monthly",
        new_price=Decimal("100.00"),
        new_cycle="annually",
        next_due=date(2024, 2, 29),
        anchor_day=31,
        change_date=date(2024, 2, 29),
    )
    assert quote.remaining_days == 0
    assert quote.net == Decimal("100.00")
    assert (quote.next_due, quote.anchor_day) == (date(2025, 2, 28), 29)


# --- v12: free → paid --------------------------------------------------------------------------


def test_v12_free_to_paid_charges_a_full_first_cycle_from_upgrade_date():
    quote = quote_change(
        old_price=Decimal("0"),
        old_cycle="free",
        new_price=Decimal("10.00"),
        new_cycle="monthly",
        next_due=None,
        anchor_day=None,
        change_date=date(2024, 1, 1),
    )
    assert quote.net == Decimal("10.00")
    assert quote.credit == ZERO
    assert (quote.next_due, quote.anchor_day) == (date(2024, 2, 1), 1)


# --- invalid input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"old_price": Decimal("-1")}, "old_price must be >= 0"),
        ({"new_price": Decimal("-0.01")}, "new_price must be >= 0"),
        ({"change_date": date(2025, 1, 2)}, "after the next due date"),
        ({"change_date": date(2023, 12, 31)}, "before the current period starts"),
        ({"mode": "prorate"}, "unknown cycle change mode"),
        ({"new_cycle": "weekly"}, "unknown billing cycle"),
        ({"old_cycle": "yearly"}, "unknown billing cycle"),
        ({"new_cycle": "free"}, "cannot change to the 'free' cycle"),
        ({"new_cycle": "onetime"}, "cannot change to the 'onetime' cycle"),
        ({"old_cycle": "onetime"}, "cannot prorate a change from the 'onetime' cycle"),
        ({"old_cycle": "free"}, "a free service has no price"),
        ({"next_due": None}, "next_due and anchor_day are required"),
        ({"anchor_day": 32}, "anchor_day"),
    ],
)
def test_invalid_change_is_rejected_with_a_clear_message(overrides, message):
    mode = overrides.pop("mode", None)
    with pytest.raises(ValueError, match=message):
        _cycle_change(mode, **overrides)


def test_float_prices_are_refused():
    with pytest.raises(TypeError, match="float"):
        _cycle_change(new_price=45.0)


def test_quote_is_immutable():
    quote = _cycle_change()
    assert isinstance(quote, ChangeQuote)
    with pytest.raises(AttributeError):
        quote.net = Decimal("0")  # type: ignore[misc]


# --- prorata orders (§2.4) --------------------------------------------------------------------


# Product: prorata day 1, charge next month after day 20, monthly 30.00.
@pytest.mark.parametrize(
    ("order_date", "total", "next_due", "partial_days"),
    [
        (date(2024, 3, 10), "21.29", date(2024, 4, 1), 22),  # 30 × 22/31
        (date(2024, 3, 25), "36.77", date(2024, 5, 1), 7),  # 30 × 7/31 + 30.00
        (date(2024, 3, 1), "30.00", date(2024, 4, 1), 0),  # on the day: no partial line
    ],
    ids=["v27", "v28", "v29"],
)
def test_prorata_first_invoice(order_date, total, next_due, partial_days):
    quote = quote_prorata(
        price=Decimal("30.00"),
        cycle="monthly",
        order_date=order_date,
        prorata_day=1,
        charge_next_month_day=20,
    )
    assert quote.total == Decimal(total)
    assert quote.next_due == next_due
    assert quote.partial_days == partial_days
    assert quote.has_partial == (partial_days > 0)
    assert quote.anchor_day == 1


def test_order_on_the_cutoff_day_does_not_pay_next_month():
    # billing-rules §8.5: strictly after the cutoff (d.day > C)
    quote = quote_prorata(
        price="30.00",
        cycle="monthly",
        order_date=date(2024, 3, 20),
        prorata_day=1,
        charge_next_month_day=20,
    )
    assert (quote.full, quote.next_due) == (ZERO, date(2024, 4, 1))
    assert quote.total == Decimal("11.61")  # 30 × 12/31 = 11.6129


def test_prorata_without_cutoff_never_bills_the_next_cycle_upfront():
    quote = quote_prorata(
        price="30.00", cycle="monthly", order_date=date(2024, 3, 31), prorata_day=1
    )
    assert (quote.total, quote.next_due) == (Decimal("0.97"), date(2024, 4, 1))  # 30 × 1/31


def test_prorata_day_31_is_clamped_in_short_months():
    # Feb 28 2023 is the (clamped) prorata day 31: a full cycle, next due Mar 31.
    on_day = quote_prorata(
        price="31.00", cycle="monthly", order_date=date(2023, 2, 28), prorata_day=31
    )
    assert (on_day.has_partial, on_day.next_due) == (False, date(2023, 3, 31))
    # Feb 10 → target Feb 28; the period ending Feb 28 started Jan 31 (28 days).
    before = quote_prorata(
        price="28.00", cycle="monthly", order_date=date(2023, 2, 10), prorata_day=31
    )
    assert (before.next_due, before.partial_days, before.period_days) == (date(2023, 2, 28), 18, 28)
    assert before.total == Decimal("18.00")


def test_prorata_longer_cycle_uses_the_cycle_period_ending_at_the_target():
    quote = quote_prorata(
        price="366.00", cycle="annually", order_date=date(2024, 3, 10), prorata_day=1
    )
    assert (quote.partial_days, quote.period_days) == (22, 366)  # 2023-04-01 → 2024-04-01
    assert quote.total == Decimal("22.00")
    assert quote.next_due == date(2024, 4, 1)


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"price": Decimal("-1")}, ValueError, "price must be >= 0"),
        ({"cycle": "onetime"}, ValueError, "does not renew"),
        ({"cycle": "fortnightly"}, ValueError, "unknown billing cycle"),
        ({"prorata_day": 0}, ValueError, "anchor_day"),
        ({"charge_next_month_day": 40}, ValueError, "charge_next_month_day"),
        ({"price": 30.0}, TypeError, "float"),
    ],
)
def test_invalid_prorata_input_is_rejected(overrides, error, message):
    args = {
        "price": Decimal("30.00"),
        "cycle": "monthly",
        "order_date": date(2024, 3, 10),
        "prorata_day": 1,
        "charge_next_month_day": 20,
    }
    args.update(overrides)
    with pytest.raises(error, match=message):
        quote_prorata(**args)
