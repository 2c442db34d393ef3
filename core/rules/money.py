"""Money: Decimal construction, the one rounding rule, Ecuadorian IVA, payment allocation.

House rules (ARCHITECTURE §2.4, billing-rules "Conventions" and §5.4):

* money is ``Decimal`` end to end; binary floats are refused at the door (:func:`D`);
* "round" means ROUND_HALF_UP (away from zero on .5) to 2 decimals, applied once at the
  documented point (:func:`q2`); exact intermediate values may be ``Fraction``;
* IVA rates are **percentages** (``Decimal("15")`` means 15 %), the way the SRI XML writes
  ``tarifa`` and the way we store the rate on each invoice line. The rate is chosen by the
  fiscal document's issue date from a dated table (billing-rules §5.1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeAlias

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)

# Enough digits to quantize any realistic amount without InvalidOperation.
_CTX = Context(prec=60, rounding=ROUND_HALF_UP)

# Money input accepted by D(): never a float.
Number: TypeAlias = Decimal | int | str
# Dated rate table: (first day in force, percent), sorted by date.
RateTable: TypeAlias = Sequence[tuple[date, Decimal]]


# --------------------------------------------------------------------------------------------
# Construction and rounding
# --------------------------------------------------------------------------------------------


def D(x: Number) -> Decimal:  # noqa: N802 - short, conventional name for a money constructor
    """A finite Decimal from a ``str``, ``int`` or ``Decimal``.

    Floats (and bools) raise TypeError: ``D(0.1)`` would silently carry binary error.
    Unparseable strings, NaN and infinities raise ValueError.
    """
    if isinstance(x, bool) or not isinstance(x, Decimal | int | str):
        raise TypeError(f"money must be Decimal, int or str, not {type(x).__name__}")
    try:
        value = Decimal(x.strip()) if isinstance(x, str) else Decimal(x)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {x!r}") from None
    if not value.is_finite():
        raise ValueError(f"money must be a finite number, got {x!r}")
    return value


def q2(x: Number | Fraction) -> Decimal:
    """Round half-up (away from zero on .5) to 2 decimals.

    Accepts an exact ``Fraction`` too, rounded exactly (no intermediate truncation), so
    a value computed with ``Fraction`` arithmetic is rounded only once.
    """
    if isinstance(x, Fraction):
        sign = -1 if x < 0 else 1
        scaled = abs(x) * 100
        cents, rest = divmod(scaled.numerator, scaled.denominator)
        if 2 * rest >= scaled.denominator:  # .5 or more: away from zero
            cents += 1
        return Decimal(sign * cents).scaleb(-2)
    return D(x).quantize(CENT, rounding=ROUND_HALF_UP, context=_CTX)


def to_fraction(x: Number) -> Fraction:
    """An exact Fraction from money input (same type rules as :func:`D`)."""
    return Fraction(D(x))


def from_fraction(x: Fraction) -> Decimal:
    """An unrounded Decimal view of an exact Fraction (28 significant digits).

    For informational values such as a proration credit before rounding; never round this
    again to obtain a charged amount — round the Fraction with :func:`q2` instead.
    """
    return Decimal(x.numerator) / Decimal(x.denominator)


# --------------------------------------------------------------------------------------------
# IVA (Ecuador), billing-rules §5.1 and §5.4
# --------------------------------------------------------------------------------------------

# General IVA rate by issue date, as (first day in force, percent), oldest first.
# 12 % until 2024-03-31; 15 % from 2024-04-01 (Decreto Ejecutivo 198). Earlier temporary
# rates (e.g. 14 % in 2016-2017) are not modelled: no document of ours predates 2024.
IVA_RATES: tuple[tuple[date, Decimal], ...] = (
    (date.min, Decimal("12")),
    (date(2024, 4, 1), Decimal("15")),
)

# SRI ``codigoPorcentaje`` for each IVA percentage (tax ``codigo`` 2 = IVA).
SRI_IVA_CODES: dict[Decimal, str] = {
    Decimal("0"): "0",
    Decimal("12"): "2",
    Decimal("14"): "3",
    Decimal("15"): "4",
    Decimal("5"): "5",
    Decimal("13"): "10",
}


def iva_rate(on: date, rates: RateTable | None = None) -> Decimal:
    """IVA percentage in force on ``on`` (the fiscal document's issue date).

    ``rates`` is an optional dated table ``[(start_date, percent), ...]`` sorted by start
    date (default :data:`IVA_RATES`), so a settings screen can supply its own.
    """
    table = IVA_RATES if rates is None else rates
    if not table:
        raise ValueError("the IVA rate table is empty")
    found: Decimal | None = None
    previous: date | None = None
    for start, rate in table:
        if previous is not None and start <= previous:
            raise ValueError("IVA rate table must be sorted by strictly increasing start date")
        previous = start
        if start <= on:
            found = _check_rate(rate)
    if found is None:
        raise ValueError(f"no IVA rate in force on {on.isoformat()}")
    return found


def sri_iva_code(rate: Number) -> str:
    """SRI ``codigoPorcentaje`` of an IVA percentage (e.g. 15 → "4", 12 → "2")."""
    value = D(rate)
    try:
        return SRI_IVA_CODES[value]
    except KeyError:
        raise ValueError(f"no SRI IVA code for a {value} % rate") from None


def _check_rate(rate: Number) -> Decimal:
    value = D(rate)
    if value < 0:
        raise ValueError(f"tax rate must be >= 0 %, got {value}")
    return value


def split_inclusive(gross: Number, rate: Number) -> tuple[Decimal, Decimal]:
    """Split a tax-inclusive amount into ``(base, tax)``, both 2 decimals.

    base = round(gross ÷ (1 + rate/100)); tax = gross − base, so base + tax == gross exactly
    and the client pays the price that was shown.
    """
    gross2 = q2(gross)
    r = _check_rate(rate)
    base = q2(Fraction(gross2) * 100 / (100 + Fraction(r)))
    return base, gross2 - base


def line_tax(amount: Number, rate: Number, *, prices_include_tax: bool = False) -> Decimal:
    """IVA of a single line, rounded half-up to 2 decimals (the per-line XML value).

    The line base is rounded to 2 decimals first (§5.4), then taxed:
    ``line_tax(Decimal("10.00"), Decimal("15"))`` → 1.50. With ``prices_include_tax`` the
    amount is the gross price and the tax part of it is returned.
    """
    if prices_include_tax:
        return split_inclusive(amount, rate)[1]
    r = _check_rate(rate)
    return q2(Fraction(q2(amount)) * Fraction(r) / 100)


@dataclass(frozen=True)
class LineTax:
    """One invoice line after rounding: its 2-decimal base and its own (per-line) IVA."""

    base: Decimal
    rate: Decimal
    tax: Decimal


@dataclass(frozen=True)
class RateTotal:
    """Base and IVA of all lines sharing one rate (SRI ``totalConImpuestos`` entry)."""

    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class InvoiceTotals:
    """Invoice totals. ``tax`` is the sum of per-rate taxes, the amount actually charged.

    ``lines`` keep the per-line IVA for the XML detail; their sum may differ from ``tax`` by
    a cent (billing-rules vector #34) — that is expected, the per-rate value is authoritative.
    """

    lines: tuple[LineTax, ...]
    by_rate: tuple[RateTotal, ...]
    subtotal: Decimal
    tax: Decimal
    total: Decimal


def invoice_totals(
    lines: Iterable[tuple[Number, Number]], *, prices_include_tax: bool = False
) -> InvoiceTotals:
    """Totals of ``(amount, rate_percent)`` lines, rounding exactly as billing-rules §5.4.

    Tax-exclusive (default): each line base is rounded to 2 decimals; bases are grouped by
    rate; IVA is computed per rate on the grouped base and rounded once.
    Tax-inclusive: gross amounts are grouped by rate and each group is split once with
    :func:`split_inclusive`, so the invoice total equals the sum of the prices shown.
    """
    per_line: list[LineTax] = []
    grouped: dict[Decimal, Decimal] = {}  # rate → sum of rounded line amounts
    for amount, rate in lines:
        r = _check_rate(rate)
        rounded = q2(amount)
        if prices_include_tax:
            base, tax = split_inclusive(rounded, r)
        else:
            base, tax = rounded, line_tax(rounded, r)
        per_line.append(LineTax(base=base, rate=r, tax=tax))
        grouped[r] = grouped.get(r, ZERO) + rounded

    by_rate: list[RateTotal] = []
    for r in sorted(grouped):
        if prices_include_tax:
            base, tax = split_inclusive(grouped[r], r)
        else:
            base, tax = grouped[r], line_tax(grouped[r], r)
        by_rate.append(RateTotal(rate=r, base=base, tax=tax))

    subtotal = sum((g.base for g in by_rate), ZERO)
    tax = sum((g.tax for g in by_rate), ZERO)
    return InvoiceTotals(
        lines=tuple(per_line),
        by_rate=tuple(by_rate),
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
    )


# --------------------------------------------------------------------------------------------
# Late fee (billing-rules §3.4) and payment/credit allocation (§3.2)
# --------------------------------------------------------------------------------------------

LATE_FEE_TYPES = ("percentage", "fixed")


def late_fee(base: Number, *, fee_type: str, amount: Number, minimum: Number = ZERO) -> Decimal:
    """The single late fee of an invoice, rounded half-up to 2 decimals.

    ``percentage``: ``base × amount / 100``; ``fixed``: ``amount``. A computed fee below
    ``minimum`` is raised to it. ``amount`` 0 disables the fee (WHMCS), whatever the minimum.
    """
    if fee_type not in LATE_FEE_TYPES:
        raise ValueError(f"unknown late fee type {fee_type!r}; expected one of {LATE_FEE_TYPES}")
    value, floor, total = D(amount), D(minimum), D(base)
    if value < 0 or floor < 0 or total < 0:
        raise ValueError("late fee base, amount and minimum must be >= 0")
    if value == 0:
        return ZERO
    fee = Fraction(total) * Fraction(value) / 100 if fee_type == "percentage" else Fraction(value)
    return q2(max(fee, Fraction(floor)))


@dataclass(frozen=True)
class Allocation:
    """How an amount was spread over open balances, in the order given.

    ``applied[i]`` went to ``balances[i]``; ``remaining[i]`` is what is still owed (0.00 means
    paid); ``unapplied`` is what was left over (an overpayment to book as credit, or credit
    that stays in the client's balance).
    """

    applied: tuple[Decimal, ...]
    remaining: tuple[Decimal, ...]
    unapplied: Decimal


def _cents(x: Number, what: str) -> Decimal:
    value = D(x)
    if value < 0:
        raise ValueError(f"{what} must be >= 0, got {value}")
    if q2(value) != value:
        raise ValueError(f"{what} must be whole cents, got {value}")
    return q2(value)


def allocate(amount: Number, balances: Iterable[Number]) -> Allocation:
    """Apply ``amount`` (a payment or available credit) to open balances in order.

    Partial payment leaves a balance; an excess becomes ``unapplied`` (WHMCS semantics:
    partial payments allowed, overpayment → credit, credit applied even partially).
    """
    left = _cents(amount, "amount")
    applied: list[Decimal] = []
    remaining: list[Decimal] = []
    for raw in balances:
        owed = _cents(raw, "balance")
        take = min(left, owed)
        applied.append(take)
        remaining.append(owed - take)
        left -= take
    return Allocation(applied=tuple(applied), remaining=tuple(remaining), unapplied=left)
