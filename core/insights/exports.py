"""Safe exports of a report's frame: CSV (plain and as Excel in Spanish opens it) and XLSX.

Exports are opened in spreadsheets, where a cell beginning with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is executed as a formula (CSV injection). Two ways a text reaches
that position: at the start of its cell, and after a separator or line break inside it, which a
spreadsheet splitting on another separator (``;`` in Spanish locales) or a careless importer
turns into the start of a new cell or row. So every such start in a text gets an apostrophe
before it, which spreadsheets show as plain text, and every text field is quoted.

Numbers are never text: a real amount of -38.81 is written bare, so it stays a number (and
a number cannot be a formula). Only values that are numbers in the frame (int, float,
Decimal) are written bare; a text that merely looks like a number is text, quoted and
neutralised. Columns that look like secrets never leave the database.

Two CSV dialects: the plain one (``,`` and a decimal point, what every program reads) and
the one that Excel and LibreOffice in Spanish open as columns (``;`` and a decimal comma).
Both are UTF-8 with a BOM so accents survive Excel. Money (Decimals) in XLSX gets a currency
format, so it reads as dollars, not as a General number.
"""

from __future__ import annotations

import io
import math
import numbers
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from itertools import chain, islice, repeat
from typing import Any, cast

import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
# A formula start at the start of the text or right after a separator or a line break.
_FORMULA_START = re.compile(r"(^|[,;\t\r\n])(?=[=+\-@\t\r])")
_SECRET_COLUMN = re.compile(r"password|hash|token|secret|totp|recovery|cookie", re.IGNORECASE)
CURRENCY_FORMAT = '"$"#,##0.00;-"$"#,##0.00'


@dataclass(frozen=True)
class Dialect:
    separator: str
    decimal: str
    suffix: str  # added to the file name, so both CSVs can sit in one folder


PLAIN = Dialect(separator=",", decimal=".", suffix="")
SPANISH_EXCEL = Dialect(separator=";", decimal=",", suffix="-excel")


def neutralise(value: object) -> object:
    """One cell made safe: every formula start in a text becomes text; other values stay."""
    if isinstance(value, str):
        return _safe_text(value)
    return value


def _missing(value: object) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _safe_text(text: str) -> str:
    """``neutralise`` for a text, skipping the rewrite when nothing in it could start a
    formula (most cells: a quick scan instead of the substitution)."""
    if text[:1] in _STARTS or _ANY_BREAK.search(text):
        return _FORMULA_START.sub(r"\1'", text)
    return text


_STARTS = frozenset(DANGEROUS_START)
# In texts joined by \0: a formula start at a text's start, or anything ``_quoted`` or
# ``_safe_text`` would change (a quote, a separator, a break).
_PLAIN_RISK = re.compile(r"(?:^|\0)[=+\-@\t\r]|[\",;\t\r\n]")
_ANY_BREAK = re.compile(r"[,;\t\r\n]")


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _float_text(number: float, decimal: str) -> str:
    if not math.isfinite(number):
        return ""
    text = repr(number)
    if "e" in text or "E" in text:  # no exponent: a spreadsheet may not read one
        text = format(Decimal(text), "f")
    return text.replace(".", decimal) if decimal != "." else text


def _cell_writer(dialect: Dialect) -> Callable[[object], str]:
    """One cell as CSV text: numbers bare in the dialect's decimal, dates in ISO form, text
    quoted and neutralised. Dispatch by exact type first: an export has many cells."""
    decimal = dialect.decimal
    texts: dict[str, str] = {}  # a report repeats its statuses and names

    def text(value: str) -> str:
        out = texts.get(value)
        if out is None:
            out = _quoted(_safe_text(value))
            if len(texts) < 100_000:
                texts[value] = out
        return out

    def money(value: Decimal) -> str:
        if not value.is_finite():
            return ""
        out = format(value, "f")
        return out.replace(".", decimal) if decimal != "." else out

    exact: dict[type, Callable[[Any], str]] = {
        str: text,
        Decimal: money,
        int: str,
        float: lambda v: _float_text(v, decimal),
        bool: lambda v: _quoted(str(v).lower()),
        date: date.isoformat,
        datetime: lambda v: v.replace(tzinfo=None, microsecond=0).isoformat(sep=" "),
        type(None): lambda v: "",
    }

    def cell(value: object) -> str:
        write = exact.get(type(value))
        if write is not None:
            return write(value)
        if _missing(value):
            return ""
        if isinstance(value, bool):
            return _quoted(str(value).lower())
        if isinstance(value, numbers.Integral):
            return str(int(value))
        if isinstance(value, numbers.Real):  # numpy's float32 and the like: by its digits
            try:
                return money(Decimal(str(value)))
            except InvalidOperation:
                return text(str(value))
        if isinstance(value, datetime):
            return exact[datetime](value)
        if isinstance(value, date):
            return value.isoformat()
        return text(str(value))

    return cell


def export_csv(frame: pd.DataFrame, dialect: Dialect = PLAIN) -> bytes:
    """The frame as CSV: text quoted and neutralised, numbers bare in the dialect's decimal,
    rows ended by CRLF (RFC 4180), UTF-8 with a BOM so Excel opens accents correctly."""
    keep = [c for c in frame.columns if not _SECRET_COLUMN.search(str(c))]
    columns = [frame[name].astype(object).tolist() for name in keep]
    return _csv(keep, columns, dialect)


def export_columns_csv(
    header: Sequence[str], parts: Iterable[Sequence[Sequence[object]]], dialect: Dialect = PLAIN
) -> bytes:
    """``export_csv`` for values as a query gives them, without a frame: the same cells,
    the same safety. ``parts``: the rows in parts, each part a list of columns (one per name
    in ``header``, all as long), written part by part, so a query read in parts never has
    all its rows alive at once."""
    keep = [i for i, name in enumerate(header) if not _SECRET_COLUMN.search(str(name))]
    cell = _cell_writer(dialect)
    lines = [dialect.separator.join(cell(header[i]) for i in keep)]
    for columns in parts:
        lines.extend(_lines([columns[i] for i in keep], cell, dialect))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


# Types whose equal values always print alike, so a column of one of them can be written
# through a table of its distinct values (Decimal('5.0') == Decimal('5.00') and 0.0 == -0.0
# print apart, so neither type is here).
_TABLED = frozenset({str, int, bool, date, datetime, type(None)})


def _csv(header: Sequence[object], columns: Sequence[Sequence[object]], dialect: Dialect) -> bytes:
    cell = _cell_writer(dialect)
    lines = [dialect.separator.join(cell(str(name)) for name in header)]
    lines.extend(_lines(columns, cell, dialect))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _lines(
    columns: Sequence[Sequence[object]], cell: Callable[[object], str], dialect: Dialect
) -> Iterator[str]:
    texts = [_texts(column, cell, dialect) for column in columns]
    return map(dialect.separator.join, zip(*texts, strict=True))


def _texts(column: Sequence[object], cell: Callable[[object], str], dialect: Dialect) -> list[str]:
    """One column's cells as CSV text, as ``cell`` writes each, by the quickest way its
    values allow (an export of a whole book is millions of cells)."""
    kinds = set(map(type, column))
    if kinds == {Decimal} and all(map(Decimal.is_finite, cast("Sequence[Decimal]", column))):
        # Amounts: their own digits, as ``cell`` writes a finite Decimal, at C speed.
        texts = list(map(format, column, repeat("f")))
        if dialect.decimal != ".":
            texts = list(map(str.replace, texts, repeat("."), repeat(dialect.decimal)))
        return texts
    if kinds == {str}:
        # A \0 of a text's own can only make this check stricter (a formula start after it).
        joined = "\0".join(cast("Sequence[str]", column))
        if not _PLAIN_RISK.search(joined):
            # No formula start, separator, break or quote in any of them (invoice numbers,
            # names): each text is quoted as it is, which is what ``cell`` would write.
            return list(map('"{}"'.format, column))
    kinds.discard(type(None))
    if len(kinds) <= 1 and kinds <= _TABLED:  # one type: True and 1 never share a key
        distinct = set(column)
        if 2 * len(distinct) <= len(column):
            # Statuses, dates, ids repeat: each distinct value written once, then looked up.
            table = {value: cell(value) for value in distinct}
            return list(map(table.__getitem__, column))
    return list(map(cell, column))


def export_csv_spanish(frame: pd.DataFrame) -> bytes:
    """The CSV that Excel (and LibreOffice) in Spanish open as columns: ``;`` separated,
    decimal comma."""
    return export_csv(frame, SPANISH_EXCEL)


def export_name(report: str, on: date, extension: str, dialect: Dialect = PLAIN) -> str:
    """The download's file name: the report's (translated) name and the day, e.g.
    ``ingresos-2026-12-04.csv``, so a folder of exports reads by itself."""
    slug = re.sub(r"[^a-z0-9]+", "-", report.lower()).strip("-") or "export"
    return f"{slug}-{on.isoformat()}{dialect.suffix}.{extension}"


# An Excel sheet holds 1,048,576 rows; XlsxWriter silently drops the rows past it, so an
# export longer than that goes on in further sheets, each under the header. Tests lower it.
SHEET_ROWS = 1_048_576


def export_xlsx(frame: pd.DataFrame) -> bytes:
    """The frame as XLSX (``export_columns_xlsx``): the header in bold, then the rows as they
    are: numbers stay numbers, money (Decimals) in a currency format, dates stay dates, missing
    values are empty cells, and text is always written as text (never read back as a formula
    or a link)."""
    columns = [
        frame.iloc[:, i].astype(object).where(frame.iloc[:, i].notna(), None).tolist()
        for i in range(frame.shape[1])
    ]
    return export_columns_xlsx([str(name) for name in frame.columns], [columns])


def export_columns_xlsx(
    header: Sequence[str], parts: Iterable[Sequence[Sequence[object]]]
) -> bytes:
    """``export_xlsx`` for values as a query gives them (``parts`` as ``export_columns_csv``
    takes them): secret-looking columns left out, every text neutralised. Rows past a sheet's
    ``SHEET_ROWS`` go on in "Sheet2", "Sheet3", … (the names Excel gives), each with the header.

    Written with XlsxWriter row by row in its constant-memory mode, which streams each row
    to a temporary file instead of keeping a styled cell object for every value, and part by
    part: the export of a whole book (millions of invoices) holds one part and the file."""
    keep = [i for i, name in enumerate(header) if not _SECRET_COLUMN.search(str(name))]
    names = [_safe_text(str(header[i])) for i in keep]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
            "remove_timezone": True,
        },
    )
    formats = _Formats(
        bold=book.add_format({"bold": True, "align": "center", "valign": "top"}),
        day=book.add_format({"num_format": "yyyy-mm-dd"}),
        stamp=book.add_format({"num_format": "yyyy-mm-dd h:mm:ss"}),
        currency=book.add_format({"num_format": CURRENCY_FORMAT}),
    )
    rows = chain.from_iterable(zip(*[part[i] for i in keep], strict=True) for part in parts)
    below_header = max(SHEET_ROWS - 1, 1)
    first = next(rows, None)  # a row is a tuple, never None
    sheets = 0
    while sheets == 0 or first is not None:  # an empty export still has its header
        sheets += 1
        sheet = _headed_sheet(book, sheets, names, formats)
        if first is not None:
            _fill(sheet, chain((first,), islice(rows, below_header - 1)), formats)
            first = next(rows, None)
    book.close()
    return buffer.getvalue()


@dataclass(frozen=True)
class _Formats:
    bold: Format
    day: Format
    stamp: Format
    currency: Format


def _headed_sheet(
    book: Workbook, number: int, names: Sequence[str], formats: _Formats
) -> Worksheet:
    sheet = book.add_worksheet(f"Sheet{number}")
    for c, name in enumerate(names):
        sheet.write_string(0, c, name, formats.bold)
    return sheet


def _fill(sheet: Worksheet, rows: Iterable[Sequence[object]], formats: _Formats) -> None:
    """Rows into ``sheet`` from its second row on, each cell by its type, texts neutralised."""
    text, when, number, anything = (
        sheet.write_string,
        sheet.write_datetime,
        sheet.write_number,
        sheet.write,
    )
    day, stamp, currency = formats.day, formats.stamp, formats.currency
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                text(r, c, _safe_text(value))
            elif isinstance(value, Decimal):
                number(r, c, value, currency)  # XlsxWriter writes the Decimal's digits
            elif isinstance(value, datetime):
                when(r, c, value, stamp)
            elif isinstance(value, date):
                when(r, c, value, day)
            else:
                try:
                    anything(r, c, value)
                except TypeError:  # a type a sheet has no cell for: its (safe) text
                    text(r, c, _safe_text(str(value)))
