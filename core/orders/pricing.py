"""The pure parts of an order (billing-rules §1.2 and §2.4): the business day it is placed on,
the domain name as the panel stores it, and the lines of its first invoice.

They read no database and call no panel, so the money and dates of a first invoice are tested
on their own (``tests/unit/test_orders_pure.py``) against the billing rules' vectors.
``core.orders`` places orders with them; ``core.orders.fulfilment`` reads the business day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import idna

from core import panel
from core.platform.clock import to_local
from core.platform.config import get_settings
from core.platform.errors import ValidationError
from core.rules.cycles import advance
from core.rules.money import ZERO, q2
from core.rules.proration import quote_prorata

_BAD_CHARS = re.compile(r"[\s/@:?#\\]")


# ------------------------------------------------------------------------ values
@dataclass(frozen=True)
class FirstLine:
    kind: str  # "prorata" | "renewal" | "setup"
    period_start: date
    period_end: date | None  # the last day covered (inclusive), as renewal lines have it
    amount: Decimal


@dataclass(frozen=True)
class FirstInvoice:
    """The first invoice of an order before tax, and the service's first due date."""

    lines: tuple[FirstLine, ...]
    next_due: date
    anchor_day: int

    @property
    def amount(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)


# ------------------------------------------------------------------------ pure parts
def business_day(at: date | datetime) -> date:
    """A business calendar date from ``at`` (a date, or a naive-UTC datetime)."""
    if isinstance(at, datetime):
        return to_local(at, get_settings().tz).date()
    return at


def normalise_domain(text: str | None) -> str:
    """The domain as the panel stores it: lower-case ASCII (IDNA/punycode), no scheme, path,
    trailing dot or leading "www."; ValidationError when it is not a valid domain name."""
    name = (text or "").strip().lower().rstrip(".")
    if name.startswith("www."):
        name = name[4:]
    if not name or len(name) > 253 or _BAD_CHARS.search(name):
        raise ValidationError("error.order_domain_invalid")
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError, ValueError):
        raise ValidationError("error.order_domain_invalid") from None
    if not panel.DOMAIN.fullmatch(ascii_name) or ascii_name.replace(".", "").isdigit():
        raise ValidationError("error.order_domain_invalid")
    return ascii_name


def unicode_domain(ascii_name: str) -> str:
    """The readable (Unicode) form of a stored ASCII domain, or the name itself when it has
    none: a domain is "taken" in either form."""
    try:
        return idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError, ValueError):
        return ascii_name


def first_invoice(
    *,
    price: Decimal,
    cycle: str,
    order_date: date,
    setup_fee: Decimal = ZERO,
    prorata_day: int | None = None,
    charge_next_month_day: int | None = None,
) -> FirstInvoice:
    """The lines of an order's first invoice (billing-rules §1.2, §2.4).

    Without prorata: one full cycle from the order date, anchored on its day. With a prorata
    day: the prorated days to it (their amount rounded once with the full cycle billed after
    the cutoff), anchored on the prorata day. A setup fee is its own line.
    """
    price = q2(price)
    last = timedelta(days=1)  # periods end the day before the next one starts (inclusive)
    lines: list[FirstLine] = []
    if prorata_day:
        q = quote_prorata(
            price=price,
            cycle=cycle,
            order_date=order_date,
            prorata_day=prorata_day,
            charge_next_month_day=charge_next_month_day,
        )
        full = q2(q.full)
        if q.has_partial:
            target = advance(q.next_due, cycle, q.anchor_day, -1) if full > 0 else q.next_due
            # Rounded once: the total, of which the full cycle is whole cents already.
            lines.append(FirstLine("prorata", order_date, target - last, q.total - full))
            if full > 0:
                lines.append(FirstLine("renewal", target, q.next_due - last, full))
        else:
            lines.append(FirstLine("renewal", order_date, q.next_due - last, q.total))
        next_due, anchor = q.next_due, q.anchor_day
    else:
        anchor = order_date.day
        next_due = advance(order_date, cycle, anchor)
        lines.append(FirstLine("renewal", order_date, next_due - last, price))
    if q2(setup_fee) > 0:
        lines.append(FirstLine("setup", order_date, None, q2(setup_fee)))
    return FirstInvoice(lines=tuple(lines), next_due=next_due, anchor_day=anchor)
