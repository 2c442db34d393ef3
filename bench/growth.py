"""How each figure grows from the L book to the XL book (ten times the rows): XL / L.

Issue 20's targets for the growth: a page ≤ 1.5 × its L time (a page reads one screen's worth
of rows, however big the book), the daily run ≤ 12 × (it walks the book, so about ten times
the work) and the exports of all invoices ≤ 12 × (ten times the rows).
"""

from __future__ import annotations

TARGETS = {"pages": 1.5, "automation": 12.0, "export": 12.0}
# The figures compared besides the pages: (part, key in that part of the bench's JSON).
FIGURES = (
    ("automation", "first_s"),
    ("automation", "rerun_s"),
    ("export", "csv_s"),
    ("export", "xlsx_s"),
)


def ratio(large: float | None, base: float | None) -> float | None:
    """``large / base`` to two decimals; None when either figure is missing (a part that
    failed) or the base is zero (nothing to grow from)."""
    if large is None or not base:
        return None
    return round(large / base, 2)


def growth(base: dict, large: dict) -> dict[str, float | None]:
    """``{figure: XL/L}`` for two results of ``python -m bench`` (``base`` at L, ``large``
    at XL): each page's median per role (``pages.<page>.<role>``), the daily run's first
    and second run (``automation.first_s``, ``automation.rerun_s``) and the CSV and XLSX
    exports (``export.csv_s``, ``export.xlsx_s``). A figure measured in only one of the two
    results is left out: there is nothing to compare it with."""
    out: dict[str, float | None] = {}
    base_pages, large_pages = base.get("pages", {}), large.get("pages", {})
    for page in sorted(set(base_pages) & set(large_pages)):
        for role in sorted(set(base_pages[page]) & set(large_pages[page])):
            out[f"pages.{page}.{role}"] = ratio(
                large_pages[page][role].get("median_ms"), base_pages[page][role].get("median_ms")
            )
    for part, key in FIGURES:
        if key in base.get(part, {}) and key in large.get(part, {}):
            out[f"{part}.{key}"] = ratio(large[part][key], base[part][key])
    return out


def target(figure: str) -> float:
    """The growth allowed for ``figure`` (a key of ``growth``'s answer)."""
    return TARGETS[figure.split(".", 1)[0]]


def missed(ratios: dict[str, float | None]) -> dict[str, float | None]:
    """The figures over their target, and those that could not be compared (None)."""
    return {f: r for f, r in ratios.items() if r is None or r > target(f)}
