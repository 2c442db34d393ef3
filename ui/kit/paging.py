"""The pager under a paged list (core.platform.paging.Page): "page X of Y (N in all)" and, when
there is more than one page, a number box bound to the page's session key, which the page reads
on its next run to ask core for that page."""

from __future__ import annotations

import streamlit as st

from core.platform.paging import Page
from ui.kit.context import tr, tr_count


def pager(page: Page, key: str, area: str, *, caption: bool = True) -> None:
    """``area`` names the i18n keys: ``<area>.page_of`` (the caption, with ``.one`` for a
    total of one; ``<area>.page_of_more`` when the total is a floor) and ``<area>.page`` (the
    number box's label, which may name ``{pages}``)."""
    if caption:
        # A list of the whole book is counted only so far (core.platform.paging.counted):
        # "page 1 of 40+ · more than 1,000 invoices".
        where = {"page": page.page, "pages": page.pages, "total": page.total}
        st.caption(
            tr_count(f"{area}.page_of_more", page.total, **where)
            if page.more
            else tr_count(f"{area}.page_of", page.total, **where)
        )
    if page.pages > 1:
        # No min/max on the widget: out of range, the browser says so in Streamlit's English
        # ("The value must be…"); a number past either end is taken as the nearest page.
        st.session_state.setdefault(key, 1)  # the widget's start (it has no min to start at)
        st.number_input(
            tr(f"{area}.page", pages=page.pages),
            step=1,
            key=key,
            on_change=_clamp,
            args=(key, page.pages),
        )


def _clamp(key: str, pages: int) -> None:
    value = st.session_state.get(key) or 1
    st.session_state[key] = min(max(1, int(value)), pages)
