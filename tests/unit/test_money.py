"""Money, IVA and allocation: billing-rules §3.2, §3.4, §5 and test vectors (§6)
#15, #16, #17, #18, #32, #33 and #34.

Not here: #35 (SRI number `001-002-000000123` and the 49-digit access key) belongs to the SRI
factura module (fiscal numbering and access-key check digit), not to money arithmetic.
"""

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from core.rules.money import (
    IVA_RATES,
    ZERO,
    D,
    allocate,
    invoice_totals,
    iva_rate,
    late_fee,
    line_tax,
    q2,
    split_inclusive,
    sri_iva_code,
)
from core.rules.proration import quote_change

# --- Decimal construction and the single rounding rule ----------------------------------------


def test_floats_are_refused_so_binary_error_never_reaches_an_invoice():
    with pytest.raises(TypeError, match="float"):
        D(0.1)
    with pytest.raises(TypeError):
        q2(0.045)
    with pytest.raises(TypeError):
        D(True)


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", ""])
def test_non_numbers_are_refused(bad):
    with pytest.raises(ValueError):
        D(bad)


def test_d_accepts_str_int_and_decimal():
    assert D("10.50") == Decimal("10.50")
    assert D(" 7 ") == Decimal(7)
    assert D(Decimal("0.01")) == Decimal("0.01")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.045", "0.05"),  # Python round(0.045, 2) gives 0.04
        ("0.015", "0.02"),  # Python round(0.015, 2) gives 0.01
        ("0.125", "0.13"),  # not banker's rounding (0.12)
        ("-0.045", "-0.05"),  # away from zero on .5
        ("4.8387", "4.84"),
        ("2", "2.00"),
    ],
)
def test_q2_rounds_half_up_to_cents(value, expected):
    result = q2(D(value))
    assert result == Decimal(expected)
    assert result.as_tuple().exponent == -2


def test_q2_rounds_an_exact_fraction_only_once():
    assert q2(Fraction(10 * 15, 31)) == Decimal("4.84")
    assert q2(Fraction(1, 200)) == Decimal("0.01")  # exactly 0.005 → up
    assert q2(Fraction(-1, 200)) == Decimal("-0.01")
    assert q2(Fraction(1, 3)) == Decimal("0.33")


# --- v32: IVA rate chosen by issue date -------------------------------------------------------


@pytest.mark.parametrize(
    ("issued", "rate", "tax", "sri_code"),
    [
        (date(2024, 3, 31), Decimal("12"), Decimal("1.20"), "2"),
        (date(2024, 4, 1), Decimal("15"), Decimal("1.50"), "4"),
    ],
    ids=["v32-12pct-before-2024-04-01", "v32-15pct-from-2024-04-01"],
)
def test_iva_switches_to_15_percent_on_2024_04_01(issued, rate, tax, sri_code):
    assert iva_rate(issued) == rate
    assert line_tax(Decimal("10.00"), iva_rate(issued)) == tax
    assert sri_iva_code(iva_rate(issued)) == sri_code


def test_custom_rate_table_from_settings_is_honoured():
    table = [(date(2020, 1, 1), Decimal("12")), (date(2030, 1, 1), Decimal("13"))]
    assert iva_rate(date(2029, 12, 31), table) == Decimal("12")
    assert iva_rate(date(2030, 1, 1), table) == Decimal("13")
    with pytest.raises(ValueError, match="no IVA rate in force"):
        iva_rate(date(2019, 12, 31), table)


def test_rate_table_must_be_sorted_and_non_empty():
    with pytest.raises(ValueError, match="sorted"):
        iva_rate(date(2024, 5, 1), [(date(2024, 4, 1), Decimal(15)), (date(2000, 1, 1), 12)])
    with pytest.raises(ValueError, match="empty"):
        iva_rate(date(2024, 5, 1), [])


def test_default_table_is_data_that_callers_can_extend():
    assert IVA_RATES[-1] == (date(2024, 4, 1), Decimal("15"))


def test_unknown_rate_has_no_sri_code():
    with pytest.raises(ValueError, match="no SRI IVA code"):
        sri_iva_code(Decimal("7"))


# --- v33: IVA on a proration amount ----------------------------------------------------------


def test_v33_iva_on_upgrade_net():
    quote = quote_change(
        old_price=Decimal("10.00"),
        old_cycle="monthly",
        new_price=Decimal("20.00"),
        new_cycle="monthly",
        next_due=date(2024, 4, 1),
        anchor_day=1,
        change_date=date(2024, 3, 17),
    )
    assert quote.net == Decimal("4.84")  # vector #20
    # The vector taxes the net at 15 % (a factura issued from 2024-04-01 on).
    rate = iva_rate(date(2024, 4, 1))
    totals = invoice_totals([(quote.net, rate)])
    assert line_tax(quote.net, rate) == Decimal("0.73")  # 0.726 → 0.73
    assert (totals.tax, totals.total) == (Decimal("0.73"), Decimal("5.57"))


# --- v34: rounding point -----------------------------------------------------------------------


def test_v34_tax_is_rounded_per_rate_group_not_per_line():
    totals = invoice_totals([(Decimal("0.10"), Decimal("15"))] * 3)
    assert sum(line.tax for line in totals.lines) == Decimal("0.06")  # 0.015 → 0.02, ×3
    assert totals.tax == Decimal("0.05")  # 0.045 → 0.05, the amount charged
    assert totals.by_rate[0].base == Decimal("0.30")
    assert totals.total == Decimal("0.35")


def test_line_bases_are_rounded_before_grouping():
    # An exact proration amount (4.8387…) is billed as 4.84 and taxed as 4.84.
    totals = invoice_totals([(Decimal("4.838709677"), 15), (Decimal("10.00"), 15)])
    assert totals.subtotal == Decimal("14.84")
    assert totals.tax == Decimal("2.23")  # 14.84 × 0.15 = 2.226


def test_mixed_rates_are_taxed_per_group():
    totals = invoice_totals([("10.00", 15), ("10.00", 0), ("5.00", 15)])
    assert [(g.rate, g.base, g.tax) for g in totals.by_rate] == [
        (Decimal(0), Decimal("10.00"), ZERO),
        (Decimal(15), Decimal("15.00"), Decimal("2.25")),
    ]
    assert totals.total == Decimal("27.25")


def test_tax_inclusive_prices_keep_the_price_the_client_saw():
    base, tax = split_inclusive(Decimal("11.50"), Decimal("15"))
    assert (base, tax) == (Decimal("10.00"), Decimal("1.50"))
    assert line_tax(Decimal("11.50"), 15, prices_include_tax=True) == Decimal("1.50")
    totals = invoice_totals([("9.99", 15)] * 3, prices_include_tax=True)
    assert totals.total == Decimal("29.97")
    assert totals.subtotal == Decimal("26.06")  # 29.97 / 1.15 = 26.0609
    assert totals.tax == Decimal("3.91")


def test_negative_rate_is_rejected():
    with pytest.raises(ValueError, match=">= 0"):
        line_tax(Decimal("10.00"), Decimal("-1"))


# --- v15: late fee ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "fee_type", "amount", "minimum", "expected"),
    [
        ("40.00", "percentage", "10", "5.00", "5.00"),  # 4.00 < 5.00 → minimum
        ("40.00", "fixed", "10.00", "0.00", "10.00"),
        ("5.00", "percentage", "10", "1.00", "1.00"),  # docs case: computed 0.50
    ],
    ids=["v15-percentage-minimum", "v15-fixed", "v15-docs-minimum"],
)
def test_late_fee(base, fee_type, amount, minimum, expected):
    fee = late_fee(D(base), fee_type=fee_type, amount=D(amount), minimum=D(minimum))
    assert fee == Decimal(expected)


def test_late_fee_amount_zero_disables_the_fee():
    assert late_fee("40.00", fee_type="percentage", amount="0", minimum="5.00") == ZERO


def test_late_fee_percentage_rounds_half_up():
    assert late_fee("0.45", fee_type="percentage", amount="10") == Decimal("0.05")  # 0.045


def test_unknown_late_fee_type_is_rejected():
    with pytest.raises(ValueError, match="unknown late fee type"):
        late_fee("40.00", fee_type="percent", amount="10")


# --- v16, v17, v18: payments and credit ------------------------------------------------------


def test_v16_partial_payment_then_overpayment_goes_to_credit():
    first = allocate(Decimal("60.00"), [Decimal("100.00")])
    assert first.remaining == (Decimal("40.00"),)  # still unpaid, balance 40.00
    assert first.unapplied == ZERO
    second = allocate(Decimal("50.00"), first.remaining)
    assert second.applied == (Decimal("40.00"),)
    assert second.remaining == (ZERO,)  # paid
    assert second.unapplied == Decimal("10.00")  # +10.00 credit


def test_v17_credit_is_applied_even_partially():
    applied = allocate(Decimal("25.00"), [Decimal("40.00")])
    assert applied.applied == (Decimal("25.00"),)
    assert applied.remaining == (Decimal("15.00"),)  # 15.00 still due
    assert applied.unapplied == ZERO  # all credit used


def test_v18_one_payment_for_several_invoices_in_listed_order():
    result = allocate(Decimal("100.00"), [Decimal("60.00"), Decimal("30.00")])
    assert result.applied == (Decimal("60.00"), Decimal("30.00"))
    assert result.remaining == (ZERO, ZERO)  # both paid
    assert result.unapplied == Decimal("10.00")  # 10.00 credit


def test_payment_short_of_the_first_invoice_leaves_later_ones_untouched():
    result = allocate(Decimal("50.00"), [Decimal("60.00"), Decimal("30.00")])
    assert result.applied == (Decimal("50.00"), ZERO)
    assert result.remaining == (Decimal("10.00"), Decimal("30.00"))


@pytest.mark.parametrize(
    ("amount", "balances"), [("-1.00", ["10.00"]), ("1.00", ["-10.00"]), ("1.005", ["10.00"])]
)
def test_allocation_refuses_negative_or_fractional_cent_amounts(amount, balances):
    with pytest.raises(ValueError):
        allocate(amount, balances)
