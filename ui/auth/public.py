"""What a signed-out visitor can do: set a password from a link, verify an address, ask for
a reset link, and (when the owner allows it) open an account."""

from __future__ import annotations

import streamlit as st

from core.accounts import recovery
from core.platform import settings
from core.platform.clock import now
from core.platform.errors import DomainError
from ui.kit.context import lang, show_error, tr

LANDING = "anfitrion_landing"


def set_landing(kind: str, title_key: str, body_key: str, next_key: str = "", **params) -> None:
    """A confirmation that stays until read: what happened (``body_key``) and what to do
    next. Kept in the session, not shown once, because the cookie component's rerun right
    after a link opens would otherwise wipe it within a second."""
    st.session_state[LANDING] = (kind, title_key, body_key, next_key, params)


def show_landing() -> None:
    stored = st.session_state.get(LANDING)
    if not stored:
        return
    kind, title_key, body_key, next_key, params = stored
    box = st.container(border=True, key="anfitrion_landing_box")
    box.subheader(tr(title_key))
    (box.error if kind == "error" else box.success)(tr(body_key, **params))
    if next_key:
        box.info(tr(next_key))
    if box.button(tr("landing.dismiss"), key="anfitrion_landing_dismiss"):
        st.session_state.pop(LANDING, None)
        st.rerun()


def end_landing() -> None:
    """Signed in: the landing has done its job."""
    st.session_state.pop(LANDING, None)


def handle_verify_link() -> None:
    """``?verify=TOKEN`` works signed in or out; the parameter leaves the URL afterwards.
    It verifies an address, or completes a change of address (which ends every session)."""
    raw = st.query_params.get("verify")
    if not raw:
        return
    del st.query_params["verify"]
    try:
        outcome = recovery.verify_email(raw, now())
    except DomainError as exc:
        set_landing("error", "verify.failed_title", exc.key, "verify.failed_next", **exc.params)
        return
    if outcome.moved:
        set_landing("success", "verify.moved_title", "verify.moved", email=outcome.email)
    else:
        set_landing("success", "verify.done_title", "verify.done", email=outcome.email)


def reset_form(raw: str) -> None:
    """The set-password form behind a reset or welcome link."""
    st.title(tr("reset.title"))
    if not recovery.reset_link_is_valid(raw, now()):
        st.error(tr("error.token_invalid"))
        if st.button(tr("reset.back_to_sign_in")):
            del st.query_params["reset"]
            st.rerun()
        return
    with st.form("reset_password"):
        new = st.text_input(tr("account.new_password"), type="password")
        repeat = st.text_input(tr("account.repeat_password"), type="password")
        st.caption(tr("reset.rules"))
        if st.form_submit_button(tr("reset.submit")):
            if new != repeat:
                st.error(tr("error.password_mismatch"))
                return
            try:
                recovery.reset_password(raw, new, now())
            except DomainError as exc:
                show_error(exc)
                return
            del st.query_params["reset"]
            set_landing("success", "reset.done_title", "reset.done")
            st.rerun()


def forgot_form() -> None:
    with st.expander(tr("forgot.title")):
        with st.form("forgot_password", clear_on_submit=True):
            email = st.text_input(tr("signin.email"), key="forgot_email")
            if st.form_submit_button(tr("forgot.submit")):
                # The same reply whether or not the address has an account.
                recovery.request_reset(email, now())
                st.success(tr("forgot.sent"))


def register_form() -> None:
    if not settings.get_bool("accounts.self_registration"):
        return
    with st.expander(tr("register.title")):
        with st.form("register", clear_on_submit=False):
            name = st.text_input(tr("register.name"))
            email = st.text_input(tr("signin.email"), key="register_email")
            password = st.text_input(tr("signin.password"), type="password", key="register_pw")
            if st.form_submit_button(tr("register.submit")):
                try:
                    recovery.register(
                        name=name, email=email, password=password, language=lang(), at=now()
                    )
                except DomainError as exc:
                    show_error(exc)
                else:
                    st.success(tr("register.sent"))
