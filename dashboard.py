"""Anfitrión entry point: settings, the sign-in gate, and the pages this role may use.

Run with ``make run`` (or ``streamlit run dashboard.py``). Only the pages handed to
``st.navigation`` exist for a session; each page also keeps its own role guard
(streamlit-notes §2.2a), because AppTest and ``st.switch_page`` can still reach a file.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core import accounts
from core.access import PAGES_BY_ROLE, pages_for
from core.accounts import recovery
from core.platform import i18n
from core.platform.clock import now
from core.platform.config import ConfigError, get_settings
from ui.auth.acting_for import account_selector
from ui.auth.public import show_landing
from ui.auth.signin import NEEDS_2FA_SETUP, VERIFIED, gate, sign_out
from ui.kit.context import lang, tr
from ui.kit.localise import localise_widgets, page_style
from ui.knowledge.reader import render_public as public_help

PAGES_DIR = Path(__file__).resolve().parent / "pages"
ALL_PAGES = sorted({stem for stems in PAGES_BY_ROLE.values() for stem in stems})
PAGE_ICONS = {
    "home": ":material/home:",
    "services": ":material/dns:",
    "billing": ":material/receipt_long:",
    "tickets": ":material/support_agent:",
    "email_accounts": ":material/mail:",
    "upgrades": ":material/upgrade:",
    "account": ":material/person:",
    "support": ":material/call:",
    "clients": ":material/groups:",
    "reports": ":material/monitoring:",
    "settings": ":material/settings:",
    "help": ":material/help:",
}
PUBLIC_PAGES = {"help": public_help}  # what a signed-out visitor reads instead of signing in


def _signin_page_for(stem: str):
    """A stand-in for ``stem`` while signed out: the gate above draws the form, and the URL
    (``/billing?invoice=7``) stays as asked, so after sign-in the real page opens there."""

    def page() -> None:
        return None

    page.__name__ = f"signin_{stem}"
    return page


def setup_first(stem: str, account):
    """Stands in for a desk page until two-factor authentication is on: says why, and opens
    the account page's security section in one click."""

    def page() -> None:
        st.title(tr("2fa.section"))
        st.warning(tr("2fa.setup_required"))
        st.page_link(
            account,
            label=tr("2fa.setup_go"),
            icon=":material/lock:",
            query_params={"section": "security"},
        )

    page.__name__ = f"setup_2fa_{stem}"
    return page


# The tab icon is an emoji, drawn by the browser itself: a ":material/…:" icon is fetched
# from fonts.gstatic.com on every page switch, so each customer's browser would call Google
# on every click (and, offline, fail on every click).
st.set_page_config(page_title="Anfitrión", page_icon="🌐", layout="wide")
localise_widgets()
page_style()

try:
    settings = get_settings()
except ConfigError as exc:
    st.error(f"Configuration error: {exc}")
    st.stop()


def _asked_public_page() -> bool:
    """Whether the browser asked for a page a visitor may read without signing in (/help):
    there the sign-in form moves to the sidebar and the page itself takes the main area."""
    url = st.context.url or ""
    return url.rstrip("/").rsplit("/", 1)[-1] in PUBLIC_PAGES


if _asked_public_page() and not st.session_state.get("authentication_status"):
    with st.sidebar:
        actor = gate(settings)
else:
    actor = gate(settings)


def page_title(stem: str) -> str:
    """Clients read "My services"; the desk reads "Services" (every client's)."""
    if actor is not None and not actor.is_client and i18n.has(f"page_desk.{stem}"):
        return tr(f"page_desk.{stem}")
    return tr(f"page.{stem}")


if actor is None:
    with st.sidebar:
        choice = st.selectbox(
            tr("account.language"),
            i18n.LANGUAGES,
            index=i18n.LANGUAGES.index(lang()),
            format_func=i18n.LANGUAGE_NAMES.get,
            key="anfitrion_lang_choice",
        )
        if choice != lang():
            st.session_state["anfitrion_lang"] = choice
            st.rerun()
    asked = st.navigation(
        [
            st.Page(
                PUBLIC_PAGES.get(stem) or _signin_page_for(stem),
                title=tr("page.help") if stem in PUBLIC_PAGES else tr("signin.title"),
                url_path=stem,
                default=stem == "home",
            )
            for stem in ALL_PAGES
        ],
        position="hidden",
    )
    if asked.url_path in PUBLIC_PAGES:
        asked.run()
    st.stop()

# A page file that a later release adds becomes reachable once it exists on disk.
available = [stem for stem in pages_for(actor) if (PAGES_DIR / f"{stem}.py").exists()]
if st.session_state.get(NEEDS_2FA_SETUP):
    # Staff and the owner set up two-factor authentication before reaching any desk page.
    # Every page of the role keeps its address (a hidden stand-in that points to the set-up),
    # so the rerun after sign-in, a bookmark or a reload never meets "Page not found".
    account = st.Page(
        PAGES_DIR / "account.py",
        title=page_title("account"),
        icon=PAGE_ICONS["account"],
        url_path="account",
    )
    pages = [account] + [
        st.Page(
            setup_first(stem, account),
            title=page_title(stem),
            url_path=stem,
            default=stem == "home",
            visibility="hidden",
        )
        for stem in available
        if stem != "account"
    ]
else:
    pages = [
        st.Page(
            PAGES_DIR / f"{stem}.py",
            title=page_title(stem),
            icon=PAGE_ICONS[stem],
            url_path=stem,
            default=stem == "home",
        )
        for stem in available
    ]
navigation = st.navigation(pages)

notice = st.session_state.pop("anfitrion_notice", None)
if notice:
    st.success(tr(notice))
show_landing()  # a verification link opened while signed in
if actor.is_client and not st.session_state.get(VERIFIED):
    banner = st.container(border=True)
    banner.warning(tr("verify.banner", email=actor.email))
    if banner.button(tr("verify.resend"), key="anfitrion_resend_verification"):
        sent = recovery.resend_verification(actor, now())
        banner.info(tr("verify.resent" if sent else "verify.too_many"))

with st.sidebar:
    st.caption(tr("nav.signed_in_as", email=actor.email, role=tr(f"role.{actor.role}")))
    if actor.is_client:
        account_selector(actor)
    new_lang = st.segmented_control(
        tr("account.language"),
        i18n.LANGUAGES,
        default=actor.language,
        format_func=i18n.LANGUAGE_NAMES.get,
        key="anfitrion_nav_lang",
    )
    if new_lang and new_lang != actor.language:
        accounts.set_language(actor, new_lang, now())
        st.rerun()
    if st.button(tr("nav.sign_out"), key="anfitrion_sign_out", icon=":material/logout:"):
        sign_out(actor)

navigation.run()
