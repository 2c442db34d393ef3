"""One page of a longer list, the same shape for every list the pages page through (clients,
services, invoices, tickets): the rows shown, how many match in all, and where this page is.

A list of the whole book (every invoice, every open ticket) is not counted to its end: that
count reads one index entry per row, and a page's cost must follow what it shows, not the
book's size. ``counted`` stops ``COUNT_AHEAD`` rows past the page; the page then says "more
than N" (``Page.more``), and moving further along counts further."""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

COUNT_AHEAD = 1_000  # rows counted past a page's start; at least the largest page


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int
    more: bool = False  # ``total`` is a floor: more rows match than were counted

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.per_page))


def counted(session: Session, stmt: Select[Any], skip: int) -> tuple[int, bool]:
    """How many rows ``stmt`` matches, counted no further than ``COUNT_AHEAD`` past ``skip``
    (the page's first row): ``(count, True)`` when it stops there, ``(count, False)`` when
    that is all. The count reads at most ``skip + COUNT_AHEAD + 1`` rows."""
    cap = max(0, skip) + COUNT_AHEAD
    found = session.execute(
        select(func.count()).select_from(stmt.limit(cap + 1).subquery())
    ).scalar_one()
    return (cap, True) if found > cap else (int(found), False)
