"""Plain tables for the client area's lists (services, invoices, tickets).

A client's list is short (one page of 25 at most) and only read, so it is drawn as a
Markdown table: real text in the page, which Ctrl+F finds, a person can select and copy,
and a phone draws cheaply. ``st.dataframe`` paints its cells on a canvas, and building that grid
was about 60 ms of the browser's ~200 ms on every visit of these pages (bench --load, where
ten customers move between them). The desk keeps the sortable grids for its longer lists.

Every cell is escaped: what a customer typed (a ticket's subject, say) is shown as the text
it is, never as a link, an image, code, math or HTML (``PUNCTUATION`` are the characters
CommonMark lets a backslash make literal).
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Mapping, Sequence

import streamlit as st

PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def cell(value: object) -> str:
    """``value`` as one table cell of literal text."""
    text = " ".join(str(value).split())  # a line break would end the row
    return PUNCTUATION.sub(r"\\\1", text) or " "


def markdown_table(rows: Sequence[Mapping[str, object]], right: Collection[str] = ()) -> str:
    """The Markdown of a table whose columns are the first row's keys; the ``right`` ones
    (amounts) are aligned right, so their digits line up."""
    head = list(rows[0])
    lines = [
        "| " + " | ".join(cell(h) for h in head) + " |",
        "|" + "".join(" ---: |" if h in right else " --- |" for h in head),
    ]
    lines += ["| " + " | ".join(cell(row[h]) for h in head) + " |" for row in rows]
    return "\n".join(lines)


def plain_table(rows: Sequence[Mapping[str, object]], right: Collection[str] = ()) -> None:
    """Draw ``rows`` (column → value, the same columns in each) as a plain table."""
    if rows:
        st.markdown(markdown_table(rows, right))
