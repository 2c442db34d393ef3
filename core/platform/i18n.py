"""Spanish and English texts, and Babel formatting of money (USD) and dates.

Catalogs live in ``core/platform/locales/<lang>/<area>.json``, one file per business area so that
modules grow their texts without touching each other's. Every key must exist in both
languages (a test enforces it). Spanish is the default; a missing key falls back to Spanish
and then to the key itself, so a gap is visible instead of crashing a page.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

LOCALES_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("es", "en")
DEFAULT = "es"
BABEL_LOCALE = {"es": "es_EC", "en": "en_US"}
LANGUAGE_NAMES = {"es": "Español", "en": "English"}


@cache
def catalog(lang: str) -> dict[str, str]:
    """All texts of one language, merged from its area files."""
    merged: dict[str, str] = {}
    for path in sorted((LOCALES_DIR / lang).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for key, text in data.items():
            if key in merged:
                raise ValueError(f"text key {key!r} is defined twice ({path.name})")
            merged[key] = text
    return merged


def has(key: str) -> bool:
    return key in catalog(DEFAULT)


def normalise(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT


def t(key: str, lang: str | None = DEFAULT, **params: Any) -> str:
    """The text for ``key`` in ``lang``, with ``{name}`` placeholders filled in."""
    lang = normalise(lang)
    text = catalog(lang).get(key) or catalog(DEFAULT).get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def plural(key: str, count: int, lang: str | None = DEFAULT, **params: Any) -> str:
    """``key`` for a count: the text under ``<key>.one`` when ``count`` is 1 and the language
    has one ("1 servicio"), else ``<key>`` itself, written for other counts ("3 servicios").
    Spanish and English need only these two forms; ``count`` is passed as ``{n}`` too."""
    one = f"{key}.one"
    if count == 1 and one in catalog(normalise(lang)):
        key = one
    return t(key, lang, **{"n": count, **params})


def pick(spanish: str, english: str | None, lang: str | None) -> str:
    """An owner's text in the reader's language: its English value for an English reader
    when the owner gave one, else the Spanish (plan, department and channel names)."""
    if normalise(lang) == "en" and english and english.strip():
        return english
    return spanish


def money(amount: Decimal | int | str | None, lang: str | None = DEFAULT) -> str:
    """USD in the reader's locale: ``$1.234,50`` in Spanish, ``$1,234.50`` in English."""
    value = Decimal(str(amount if amount is not None else "0"))
    return _currency(value, BABEL_LOCALE[normalise(lang)])


# Babel formatting costs ~0.1 ms a call, and a page or the daily run formats the same few
# prices and days thousands of times: the results are pure functions of their arguments.
@lru_cache(maxsize=8192)
def _currency(value: Decimal, locale: str) -> str:
    return format_currency(value, "USD", locale=locale)


@lru_cache(maxsize=8192)
def _date(value: date, fmt: str, locale: str) -> str:
    return format_date(value, fmt, locale=locale)


def number(value: Decimal | int, lang: str | None = DEFAULT) -> str:
    return format_decimal(value, locale=BABEL_LOCALE[normalise(lang)])


def day(value: date | None, lang: str | None = DEFAULT, fmt: str = "medium") -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):  # a datetime is a date too; keep it out of the cache
        return format_date(value, fmt, locale=BABEL_LOCALE[normalise(lang)])
    return _date(value, fmt, BABEL_LOCALE[normalise(lang)])


def moment(value: datetime | None, lang: str | None = DEFAULT, tz: Any = None) -> str:
    """A stored naive-UTC timestamp, shown in the business time zone."""
    if value is None:
        return "—"
    from core.platform.clock import to_local

    local = to_local(value, tz or "America/Guayaquil")
    return format_datetime(local, "short", locale=BABEL_LOCALE[normalise(lang)])


def error_text(exc: Exception, lang: str | None = DEFAULT) -> str:
    """The reader's message for a domain error (or a generic one for anything else)."""
    key = getattr(exc, "key", "error.generic")
    params = dict(getattr(exc, "params", {}) or {})
    # Core hands over text keys, not text (``hint_keys=(...)`` → ``{hint}``), so a message
    # built of several sentences is still read in the reader's language.
    for name in [n for n in params if n.endswith("_keys")]:
        params[name[: -len("_keys")]] = " ".join(t(k, lang) for k in params.pop(name))
    return t(key, lang, **params)
