"""What a signed-out visitor can do: set a password from a link, verify an address, ask for
a reset link, and (when the owner allows it) open an account."""

from __future__ import annotations

import streamlit as st

from core.accounts import recovery
from core.platform import settings
from core.platform.clock import now
from core.platform.errors import DomainError
from ui.kit.context import lang, show_error, tr


def handle_verify_link() -> None:
    """``?verify=TOKEN`` works signed in or out; the parameter leaves the URL afterwards."""
    raw = st.query_params.get("verify")
    if not raw:
        return
    del st.query_params["verify"]
    try:
        recovery.verify_email(raw, now())
        st.session_state["anfitrion_notice"] = "verify.done"
    except DomainError as exc:
        show_error(exc)


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
            st.session_state["anfitrion_notice"] = "reset.done"
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
