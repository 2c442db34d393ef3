"""Report frames and safe exports.

Exports are opened in spreadsheets, where a cell beginning with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is executed as a formula (CSV injection). Every text cell that
starts so is prefixed with an apostrophe, which spreadsheets show as plain text. Columns that
look like secrets never leave the database.
"""

from __future__ import annotations

import io
import re

import pandas as pd

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
_SECRET_COLUMN = re.compile(r"password|hash|token|secret|totp|recovery|cookie", re.IGNORECASE)


def neutralise(value: object) -> object:
    """One cell made safe: text that a spreadsheet would run as a formula becomes text."""
    if isinstance(value, str) and value.startswith(DANGEROUS_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy without secret-looking columns and with every text cell neutralised."""
    keep = [c for c in frame.columns if not _SECRET_COLUMN.search(str(c))]
    clean = frame[keep].copy()
    clean.columns = [neutralise(str(c)) for c in clean.columns]
    for column in clean.columns:
        if clean[column].dtype == object or pd.api.types.is_string_dtype(clean[column]):
            clean[column] = clean[column].map(neutralise)
    return clean


def export_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM, so Excel opens accents correctly."""
    return safe_frame(frame).to_csv(index=False).encode("utf-8-sig")


def export_xlsx(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    safe_frame(frame).to_excel(buffer, index=False, engine="openpyxl")
    return buffer.getvalue()
