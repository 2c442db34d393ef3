"""What every page needs first: who is acting, in which language, and the page's role guard."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import streamlit as st

from core.access import Actor, can_open_page
from core.platform import i18n
from core.platform.config import get_settings
from core.platform.errors import DomainError

ACTOR_KEY = "anfitrion_actor"
T = TypeVar("T")


def current_actor() -> Actor | None:
    return st.session_state.get(ACTOR_KEY)


def lang() -> str:
    actor = current_actor()
    if actor is not None:
        return actor.language
    return st.session_state.get("anfitrion_lang") or get_settings().default_language


def tr(key: str, **params: Any) -> str:
    """The text for ``key`` in the reader's language."""
    return i18n.t(key, lang(), **params)


def tr_count(key: str, count: int, **params: Any) -> str:
    """``tr`` for a text about ``count`` things: "1 servicio", "3 servicios" (i18n.plural)."""
    return i18n.plural(key, count, lang(), **params)


def _left_legacy_pages_mode() -> bool:
    """Streamlit runs a ``pages/`` file by itself (its legacy multipage mode) until some run
    of the server has called ``st.navigation``: on a freshly started server, a deep link
    opened first (``/billing?invoice=7``) would skip dashboard.py and its sign-in form, and
    keep doing so until someone opens ``/``. Leave that mode once; the caller reruns."""
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        return True
    return False


def guard(page: str) -> Actor:
    """The role guard at the top of every page: no actor or no right, no content."""
    from ui.kit.localise import localise_widgets  # it imports this module

    localise_widgets()
    actor = current_actor()
    if actor is None and _left_legacy_pages_mode():
        st.rerun()  # through dashboard.py now: same page (its url path) and query string
    if actor is None or not can_open_page(actor, page):
        st.error(tr("error.page_not_allowed"))
        st.stop()
    if page != "account" and st.session_state.get("anfitrion_needs_2fa_setup"):
        # Staff and the owner reach no desk page before two-factor authentication is on.
        st.error(tr("2fa.setup_required"))
        st.stop()
    return actor


def show_error(exc: Exception) -> None:
    st.error(i18n.error_text(exc, lang()))


def attempt(action: Callable[[], T]) -> T | None:
    """Run a core action; a domain error becomes a translated message instead of a crash."""
    try:
        return action()
    except DomainError as exc:
        show_error(exc)
        return None


@contextmanager
def errors_shown() -> Iterator[None]:
    try:
        yield
    except DomainError as exc:
        show_error(exc)


def money(value: Any) -> str:
    return i18n.money(value, lang())


def day(value: Any) -> str:
    return i18n.day(value, lang())


def money_delta(change: Any) -> dict[str, Any]:
    """``st.metric`` arguments for a change in money: ``delta`` signed first ("-$38,81",
    "+$12,00") and, for no change, grey. Streamlit reads a text delta as a fall only when it
    starts with "-", and Babel's Spanish format puts the sign after the "$" ("$-38,81"),
    which showed a fall as a green rise."""
    if change is None:
        return {"delta": None}
    sign = "-" if change < 0 else "+" if change > 0 else ""
    return {"delta": sign + money(abs(change)), "delta_color": "normal" if sign else "off"}
