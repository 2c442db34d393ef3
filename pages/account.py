"""My account: language, password and sign-out (contact details and 2FA grow here later)."""

import streamlit as st

from core import accounts, i18n
from core.clock import now
from ui.context import errors_shown, guard, tr
from ui.signin import sign_out

actor = guard("account")
st.title(tr("account.title"))
st.caption(tr("account.signed_in_as", email=actor.email))

st.subheader(tr("account.language"))
with st.form("account_language"):
    choice = st.selectbox(
        tr("account.language"),
        i18n.LANGUAGES,
        index=i18n.LANGUAGES.index(actor.language),
        format_func=i18n.LANGUAGE_NAMES.get,
    )
    if st.form_submit_button(tr("action.save")):
        with errors_shown():
            accounts.set_language(actor, choice, now())
            st.session_state["anfitrion_flash"] = "account.language_saved"
        st.rerun()

if st.session_state.pop("anfitrion_flash", None) == "account.language_saved":
    st.success(tr("account.language_saved"))

st.subheader(tr("account.password"))
with st.form("account_password", clear_on_submit=True):
    current = st.text_input(tr("account.current_password"), type="password")
    new = st.text_input(tr("account.new_password"), type="password")
    repeat = st.text_input(tr("account.repeat_password"), type="password")
    if st.form_submit_button(tr("account.change_password")):
        if new != repeat:
            st.error(tr("error.password_mismatch"))
        else:
            changed = False
            with errors_shown():
                accounts.change_password(actor, current, new, now())
                changed = True
            if changed:
                # Every session ended, this one too: sign in again with the new password.
                sign_out(st.session_state["anfitrion_auth"], actor, "account.password_changed")

st.subheader(tr("nav.sign_out"))
if st.button(tr("account.sign_out_everywhere"), key="account_sign_out"):
    sign_out(st.session_state["anfitrion_auth"], actor)
