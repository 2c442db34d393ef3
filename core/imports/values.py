"""Reading a source's values the way they were meant (import-sources.md §7): money exact
whatever the column type, zero dates as nothing, HTML entities and latin1 mojibake undone,
billing-cycle spellings of every version, and which password hashes can come over."""

from __future__ import annotations

import contextlib
import html
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


class BadValue(ValueError):
    """A source value that cannot be read; ``code`` is the report's reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def money(value: object) -> Decimal:
    """Exact money from a DECIMAL, a DOUBLE (FOSSBilling) or a VARCHAR (its transaction.amount).

    A float goes through ``str`` so 0.1 stays 0.1 instead of its binary neighbour (§7.9)."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise BadValue("not_a_number") from exc
    if not amount.is_finite():
        raise BadValue("not_a_number")
    return amount.quantize(CENT)


def day(value: object) -> date | None:
    """A date column, or None for ``0000-00-00`` and NULL; years outside 1900-2100 are
    impossible dates (§7.1)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        found = value.date()
    elif isinstance(value, date):
        found = value
    else:
        text = str(value)[:10]
        if text.startswith("0000-00-00"):
            return None
        try:
            found = date.fromisoformat(text)
        except ValueError as exc:
            raise BadValue("impossible_date") from exc
    if not 1900 <= found.year <= 2100:
        raise BadValue("impossible_date")
    return found


def moment(value: object) -> datetime | None:
    """A datetime column: like :func:`day`, keeping the time of day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        found = value
    elif isinstance(value, date):
        found = datetime(value.year, value.month, value.day)
    else:
        text = str(value)
        if text.startswith("0000-00-00"):
            return None
        try:
            found = datetime.fromisoformat(text)
        except ValueError as exc:
            raise BadValue("impossible_date") from exc
    if not 1900 <= found.year <= 2100:
        raise BadValue("impossible_date")
    return found.replace(tzinfo=None)


_MOJIBAKE = re.compile("[\u00c2\u00c3][\u0080-\u00bf]")


def text(value: object) -> str:
    """User text as the person typed it: HTML entities decoded (WHMCS stores many fields
    encoded, §7.16) and UTF-8 read as latin1 repaired (§7.17)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        try:
            raw = value.decode("utf-8")
        except UnicodeDecodeError:
            raw = value.decode("latin-1")
    else:
        raw = str(value)
    found = html.unescape(raw).strip()
    if _MOJIBAKE.search(found):
        # Not mojibake after all (a real "Ã" followed by a symbol): the text stays as it is.
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            found = found.encode("latin-1").decode("utf-8")
    return found


def fit(value: str, size: int) -> tuple[str, bool]:
    """``value`` cut to a column of ``size`` characters, and whether it had to be cut."""
    return (value, False) if len(value) <= size else (value[:size], True)


def flag(value: object) -> bool:
    """A boolean stored as tinyint or as WHMCS's old 'on'/'' text (§7.23)."""
    if isinstance(value, str):
        return value.strip().lower() in {"on", "1", "yes", "true"}
    return bool(value)


# WHMCS spells cycles differently per table and version (§7.5): compare without case,
# hyphens or spaces.
_WHMCS_CYCLES = {
    "monthly": "monthly",
    "quarterly": "quarterly",
    "semiannually": "semiannually",
    "annually": "annually",
    "biennially": "biennially",
    "triennially": "triennially",
    "onetime": "onetime",
    "freeaccount": "free",
    "free": "free",
}


def whmcs_cycle(value: object) -> str:
    key = re.sub(r"[\s\-_]", "", str(value or "")).lower()
    if key not in _WHMCS_CYCLES:
        raise BadValue("unknown_cycle")
    return _WHMCS_CYCLES[key]


# FOSSBilling period codes (§1.3, §7.26): <qty><unit>; only those that are one of our cycles.
_PERIOD_MONTHS = {1: "monthly", 3: "quarterly", 6: "semiannually", 12: "annually"}
_PERIOD_MONTHS.update({24: "biennially", 36: "triennially"})


def period_cycle(value: object) -> str:
    match = re.fullmatch(r"(\d+)([DWMY])", str(value or "").strip().upper())
    if match is None:
        raise BadValue("unknown_cycle")
    qty, unit = int(match.group(1)), match.group(2)
    months = {"M": qty, "Y": qty * 12}.get(unit)
    if months not in _PERIOD_MONTHS:
        raise BadValue("cycle_not_supported")
    return _PERIOD_MONTHS[months]


_BCRYPT = re.compile(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$")


def bcrypt_hash(value: object) -> str | None:
    """The hash if it is bcrypt (clients sign in as before), else None: a reset (§7.18)."""
    found = str(value or "")
    return found if _BCRYPT.match(found) else None


def email(value: object) -> str:
    return text(value).lower()
