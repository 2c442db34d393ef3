"""The notice after an action, the same on every page: the action stores it under the page's
session key and reruns with fresh data, and the page pops it and shows it once at the top.

``done`` may carry one ``extra`` value for the page to use beside the message (the plan-changes
page links the invoice an upgrade raised); ``show`` hands it back.
"""

from __future__ import annotations

from typing import Any, NoReturn

import streamlit as st

from ui.kit.context import tr


def done(key: str, message_key: str, extra: Any = None, **params: Any) -> NoReturn:
    """After a successful action: remember the message under ``key`` and rerun."""
    st.session_state[key] = (message_key, params, extra)
    st.rerun()


def show(key: str) -> Any:
    """Pop the notice stored under ``key`` and show it; returns its ``extra`` (None if none)."""
    stored = st.session_state.pop(key, None)
    if not stored:
        return None
    message_key, params, extra = stored
    st.success(tr(message_key, **params))
    return extra
