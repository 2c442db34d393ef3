"""Tabs that run only the open one (streamlit 1.67 tracked tabs).

``st.tabs(..., key=..., on_change="rerun")`` remembers which tab is open and gives each tab
container ``.open``; a page draws the open tab alone, so a hidden tab runs no query and sends
no widget. Switching tabs is one rerun, like any other widget.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import streamlit as st


def lazy_tabs(
    key: str, labels: Mapping[str, str], *, url_param: str | None = None
) -> dict[str, Any]:
    """``st.tabs`` over ``labels`` (name → label in the reader's language) that tracks the
    open tab; returns name → tab container, draw only the one whose ``.open`` is true.

    The first tab is open by default. With ``url_param`` the open tab's name (not its label,
    which depends on the language) is kept in the URL, ``?<url_param>=<name>``: a link or a
    reload opens that tab, and switching the language keeps it open. The first tab leaves
    the URL clean.
    """
    names = list(labels)
    if url_param is not None:
        wanted = st.query_params.get(url_param)
        # A new session (a link, a reload) or new labels (another language): the URL says.
        if wanted in labels and st.session_state.get(key) not in labels.values():
            st.session_state[key] = labels[wanted]
    containers = st.tabs(list(labels.values()), key=key, on_change="rerun")
    tabs = dict(zip(names, containers, strict=True))
    if url_param is not None:
        current = next((name for name, tab in tabs.items() if tab.open), names[0])
        if current == names[0]:
            if url_param in st.query_params:
                del st.query_params[url_param]
        elif st.query_params.get(url_param) != current:
            st.query_params[url_param] = current
    return tabs


def open_tab(tabs: Mapping[str, Any]) -> str:
    """The name of the open tab."""
    return next((name for name, tab in tabs.items() if tab.open), next(iter(tabs)))


def chosen_tab(key: str, labels: Mapping[str, str], *, url_param: str | None = None) -> str:
    """The name of the tab that ``lazy_tabs(key, labels, url_param=...)`` will open, known
    before it is drawn: for a page whose one read above the tabs depends on the open tab."""
    current = st.session_state.get(key)
    for name, label in labels.items():
        if label == current:
            return name
    if url_param is not None and st.query_params.get(url_param) in labels:
        return st.query_params[url_param]
    return next(iter(labels))
