"""The SRI access key (clave de acceso): 49 digits ending in a módulo 11 check digit.

Layout (research §1.1): ddmmyyyy + codDoc + RUC + ambiente + estab + ptoEmi + secuencial(9) +
código numérico(8) + tipo de emisión + check digit. Every field must have its exact width:
the SRI rejects a key whose secuencial is not padded to nine digits, so a wrong width is an
error here rather than a silently malformed key.
"""

from __future__ import annotations

import re
from datetime import date

KEY_LENGTH = 49
_DIGITS = re.compile(r"[0-9]+")


def check_digit(first48: str) -> int:
    """Módulo 11 over the 48 digits: weights 2..7 cycling from the rightmost; 11 → 0, 10 → 1."""
    if len(first48) != KEY_LENGTH - 1 or not _DIGITS.fullmatch(first48):
        raise ValueError("the check digit is computed over exactly 48 digits")
    total, factor = 0, 2
    for ch in reversed(first48):
        total += int(ch) * factor
        factor = 2 if factor == 7 else factor + 1
    digit = 11 - total % 11
    return {11: 0, 10: 1}.get(digit, digit)


def _field(name: str, value: str | int, width: int) -> str:
    text = f"{value:0{width}d}" if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(text, str):
        raise ValueError(f"{name} must be {width} digits, got {value!r}")
    if len(text) != width or not _DIGITS.fullmatch(text):
        raise ValueError(f"{name} must be {width} digits, got {value!r}")
    return text


def access_key(
    *,
    issued_on: date,
    doc_type: str,
    ruc: str,
    environment: int | str,
    establishment: str | int,
    emission_point: str | int,
    sequential: int | str,
    numeric_code: int | str,
    emission_type: int | str = 1,
) -> str:
    """The 49-digit key of one document; a field of the wrong width raises ValueError."""
    first48 = "".join(
        (
            issued_on.strftime("%d%m%Y"),
            _field("doc_type", doc_type, 2),
            _field("ruc", ruc, 13),
            _field("environment", environment, 1),
            _field("establishment", establishment, 3),
            _field("emission_point", emission_point, 3),
            _field("sequential", sequential, 9),
            _field("numeric_code", numeric_code, 8),
            _field("emission_type", emission_type, 1),
        )
    )
    return first48 + str(check_digit(first48))


def is_valid_access_key(key: object) -> bool:
    """True for 49 digits whose last one is the módulo 11 check digit of the other 48."""
    if not isinstance(key, str) or len(key) != KEY_LENGTH or not _DIGITS.fullmatch(key):
        return False
    return check_digit(key[:48]) == int(key[48])
