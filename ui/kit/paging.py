"""The pager under a paged list (core.platform.paging.Page): "page X of Y (N in all)" and, when
there is more than one page, a number box bound to the page's session key, which the page reads
on its next run to ask core for that page."""

from __future__ import annotations

import streamlit as st

from core.platform.paging import Page
from ui.kit.context import tr, tr_count


def pager(page: Page, key: str, area: str, *, caption: bool = True) -> None:
    """``area`` names the i18n keys: ``<area>.page_of`` (the caption, with ``.one`` for a
    total of one) and ``<area>.page`` (the
    number box's label, which may name ``{pages}``)."""
    if caption:
        st.caption(
            tr_count(
                f"{area}.page_of", page.total, page=page.page, pages=page.pages, total=page.total
            )
        )
    if page.pages > 1:
        st.number_input(
            tr(f"{area}.page", pages=page.pages),
            min_value=1,
            max_value=page.pages,
            step=1,
            key=key,
        )
