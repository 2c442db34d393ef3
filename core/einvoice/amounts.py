"""A document's lines and tax totals from an invoice's stored lines, exact to the cent.

Pure. The invoice is authoritative: its lines keep the base and IVA rate they were issued
with (billing-rules §5.1), its tax total is the per-rate IVA (§5.4). The SRI shows both a
per-line ``valor`` and a per-rate ``totalImpuesto``; the per-line values are made to add up
to the per-rate one by giving the rounding remainder to the largest line (research §6
rule 4), so both views of the document agree and ``importeTotal`` is the invoice's total.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from core.einvoice.documents import Line, TaxTotal
from core.rules.money import ZERO, line_tax, q2, sri_iva_code


@dataclass(frozen=True)
class SourceLine:
    code: str
    description: str
    base: Decimal
    rate: Decimal
    tax: Decimal


def _even_out(lines: list[Line], target: Decimal) -> list[Line]:
    """The same lines with the largest one's tax moved so the taxes sum to ``target``."""
    gap = q2(target - sum((line.tax for line in lines), ZERO))
    if gap == 0 or not lines:
        return lines
    biggest = max(range(len(lines)), key=lambda i: (lines[i].base, -i))
    line = lines[biggest]
    fixed = Line(line.code, line.description, line.base, line.rate, line.rate_code,
                 max(ZERO, q2(line.tax + gap)))  # fmt: skip
    return [*lines[:biggest], fixed, *lines[biggest + 1 :]]


def document_lines(
    source: Sequence[SourceLine], tax_total: Decimal
) -> tuple[tuple[Line, ...], tuple[TaxTotal, ...]]:
    """Lines and per-rate totals whose taxes add up to ``tax_total`` (the invoice's)."""
    if not source:
        raise ValueError("a document needs at least one line")
    rates = sorted({line.rate for line in source})  # 15.000 and 15 are one rate
    by_rate: dict[Decimal, list[Line]] = {rate: [] for rate in rates}
    for item in source:
        by_rate[item.rate].append(Line(item.code, item.description, q2(item.base), item.rate,
                                       sri_iva_code(item.rate), q2(item.tax)))  # fmt: skip
    groups = {rate: line_tax(sum((ln.base for ln in lines), ZERO), rate)
              for rate, lines in by_rate.items()}  # fmt: skip
    # A cent of difference between the invoice's tax and the recomputed per-rate tax (an
    # invoice whose prices included IVA) goes to the largest group: the invoice is the truth.
    gap = q2(tax_total - sum(groups.values(), ZERO))
    if gap:
        largest = max(rates, key=lambda r: sum((ln.base for ln in by_rate[r]), ZERO))
        groups[largest] = max(ZERO, q2(groups[largest] + gap))
    lines: list[Line] = []
    taxes: list[TaxTotal] = []
    for rate in rates:
        evened = _even_out(by_rate[rate], groups[rate])
        lines.extend(evened)
        base = sum((ln.base for ln in evened), ZERO)
        taxes.append(TaxTotal(rate, sri_iva_code(rate), base, groups[rate]))
    return tuple(lines), tuple(taxes)


def split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """A credited amount that includes IVA as (base, tax) with base + tax == gross."""
    base = q2(gross * 100 / (100 + rate))
    return base, q2(gross) - base
