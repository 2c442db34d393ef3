"""Code 128 as bar widths, for the access key on the RIDE (fpdf2 has no Code 128).

The 49-digit key is encoded in code set C (two digits per symbol) with the odd last digit in
code set B, the shortest form: START C, 24 pairs, CODE B, the digit, the check symbol, STOP.
The check symbol is (start + Σ position × value) mod 103. ``PATTERNS`` is the standard table
(ISO/IEC 15417): each symbol is six alternating bar/space widths of 11 modules; STOP has a
seventh bar (13 modules). A test decodes the drawn barcode with zxing-cpp back to the key.
"""

from __future__ import annotations

_TABLE = (
    "212222 222122 222221 121223 121322 131222 122213 122312 132212 221213 "
    "221312 231212 112232 122132 122231 113222 123122 123221 223211 221132 "
    "221231 213212 223112 312131 311222 321122 321221 312212 322112 322211 "
    "212123 212321 232121 111323 131123 131321 112313 132113 132311 211313 "
    "231113 231311 112133 112331 132131 113123 113321 133121 313121 211331 "
    "231131 213113 213311 213131 311123 311321 331121 312113 312311 332111 "
    "314111 221411 431111 111224 111422 121124 121421 141122 141221 112214 "
    "112412 122114 122411 142112 142211 241211 221114 413111 241112 134111 "
    "111242 121142 121241 114212 124112 124211 411212 421112 421211 212141 "
    "214121 412121 111143 111341 131141 114113 114311 411113 411311 113141 "
    "114131 311141 411131 211412 211214 211232 2331112"
)
PATTERNS = tuple(_TABLE.split())
START_B, START_C, CODE_B, CODE_C, STOP = 104, 105, 100, 99, 106


def symbols(digits: str) -> list[int]:
    """The symbol values for a string of digits, check symbol and STOP included."""
    if not digits.isdigit():
        raise ValueError("only digits are encoded here")
    values = [START_C]
    pairs, rest = divmod(len(digits), 2)
    values += [int(digits[2 * i : 2 * i + 2]) for i in range(pairs)]
    if rest:
        values += [CODE_B, 16 + int(digits[-1])]  # set B: "0" is value 16
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return [*values, check, STOP]


def widths(digits: str) -> list[int]:
    """Alternating bar, space, bar … widths in modules (first and last are bars)."""
    return [int(w) for value in symbols(digits) for w in PATTERNS[value]]
