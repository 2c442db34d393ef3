"""The dated IVA table (``billing.iva_rates``): ``core.billing`` taxes every new invoice at the
rate this table gives for the issue date (:func:`tax_rates`); without a stored table the
built-in ``money.IVA_RATES`` applies. The first row reaches back to any earlier date, so an
invoice is never left without a rate. Only rates the SRI has a ``codigoPorcentaje`` for are
taken.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.platform import settings
from core.platform.db import transaction
from core.platform.errors import ValidationError
from core.rules.money import IVA_RATES, SRI_IVA_CODES, RateTable, iva_rate

log = logging.getLogger(__name__)

TAX_RATES_KEY = "billing.iva_rates"  # [["2024-04-01", "15"], ...]
MAX_RATE = Decimal("100")


def _parse_rates(raw: object) -> tuple[tuple[date, Decimal], ...] | None:
    """A stored table, or None when it is missing or malformed (the default applies)."""
    if not isinstance(raw, list) or not raw:
        return None
    rows: list[tuple[date, Decimal]] = []
    try:
        for start, rate in raw:
            rows.append((date.fromisoformat(str(start)), Decimal(str(rate))))
    except (TypeError, ValueError, InvalidOperation):
        return None
    rows.sort()
    if any(a[0] == b[0] for a, b in zip(rows, rows[1:], strict=False)):
        return None
    # The earliest rate reaches back to any earlier issue date.
    rows[0] = (date.min, rows[0][1])
    return tuple(rows)


def tax_rates(*, session: Session | None = None) -> RateTable:
    """The IVA table in force: the owner's (setting ``billing.iva_rates``) or the built-in."""
    return settings.memoised(  # parsed once per snapshot scope (the daily run)
        TAX_RATES_KEY,
        lambda: _parse_rates(settings.get(TAX_RATES_KEY, session=session)) or IVA_RATES,
    )


def iva_rate_on(on: date, *, session: Session | None = None) -> Decimal:
    """The IVA percentage for a document issued on ``on``, from the table in force."""
    return iva_rate(on, tax_rates(session=session))


@dataclass(frozen=True)
class TaxRateRow:
    start: date | None  # None: "since always" (the first row)
    rate: Decimal
    sri_code: str


def tax_rate_rows(*, session: Session | None = None) -> list[TaxRateRow]:
    return [
        TaxRateRow(None if start == date.min else start, rate, SRI_IVA_CODES.get(rate, "?"))
        for start, rate in tax_rates(session=session)
    ]


def save_tax_rates(
    actor: Actor,
    rows: Sequence[tuple[date | str | None, Decimal | str | int]],
    *,
    session: Session | None = None,
) -> list[TaxRateRow]:
    """Store the dated IVA table (owner). Each row is (first day in force, percent); a row
    without a date is the rate since always (only one may lack it). Rates must have an SRI
    code (0, 5, 12, 13, 14, 15 %)."""
    require_owner(actor)
    parsed: list[tuple[date, Decimal]] = []
    for start, rate in rows:
        if start in (None, ""):
            day = date.min
        elif isinstance(start, date):
            day = start
        else:
            try:
                day = date.fromisoformat(str(start).strip())
            except ValueError:
                raise ValidationError("catalog.error_rate_date") from None
        try:
            value = Decimal(str(rate).strip().replace(",", "."))
        except InvalidOperation:
            raise ValidationError("catalog.error_rate_value") from None
        if not value.is_finite() or value < 0 or value > MAX_RATE:
            raise ValidationError("catalog.error_rate_value")
        if value.normalize() not in {k.normalize() for k in SRI_IVA_CODES}:
            raise ValidationError("catalog.error_rate_sri", rate=str(value.normalize()))
        parsed.append((day, value))
    if not parsed:
        raise ValidationError("catalog.error_rates_empty")
    parsed.sort()
    if any(a[0] == b[0] for a, b in zip(parsed, parsed[1:], strict=False)):
        raise ValidationError("catalog.error_rate_duplicate")
    stored = [[start.isoformat(), str(rate.normalize())] for start, rate in parsed]
    with transaction(session) as s:
        settings.put(actor, TAX_RATES_KEY, stored, session=s)
        return tax_rate_rows(session=s)
