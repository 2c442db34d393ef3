"""Ids read from the URL, turned into ``int`` at the boundary: core declares its ids ``int``
(ARCHITECTURE §2 rule 12), and a query parameter is whatever the reader typed."""

from __future__ import annotations

import streamlit as st


def query_id(name: str) -> int | None:
    """``?name=`` as an id, or None when it is missing or not a whole number.

    A page that was given the parameter but gets None back shows its "not found", as for an
    id that does not exist: a malformed id tells the reader nothing more than a foreign one.
    """
    raw = st.query_params.get(name)
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None
