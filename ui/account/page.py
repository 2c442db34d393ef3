"""My account: contact and billing details, e-mail, password, language, two-factor auth,
and for a client account's holder its users (ui/account/users.py).

Used by pages/account.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import streamlit as st

from core import accounts
from core.access import Actor
from core.accounts import profile, twofactor
from core.platform import i18n
from core.platform.clock import now
from ui.account.users import users_tab
from ui.auth.signin import NEEDS_2FA_SETUP, sign_out
from ui.kit import flash
from ui.kit.context import errors_shown, tr

FLASH = "anfitrion_flash"


def render(actor: Actor) -> None:
    st.title(tr("account.title"))
    st.caption(tr("account.signed_in_as", email=actor.email))

    flash.show(FLASH)

    # An invited user sees the account's details only with "contact"; only the account's
    # holder manages its users.
    details = actor.is_client and actor.may("contact")
    labels = (
        ([tr("account.details")] if details else [])
        + [tr("account.security"), tr("account.language")]
        + ([tr("client_users.tab")] if actor.is_account_holder else [])
    )
    # ``?section=security`` (the two-factor set-up link) opens the security tab.
    section = {"security": tr("account.security"), "language": tr("account.language")}
    tabs = st.tabs(labels, default=section.get(st.query_params.get("section", "")))
    tab_iter = iter(tabs)

    if details:
        with next(tab_iter):
            current = profile.get_profile(actor)
            with st.form("account_details"):
                st.subheader(tr("account.contact"))
                c1, c2 = st.columns(2)
                name = c1.text_input(tr("account.name"), current.name, max_chars=200)
                company = c2.text_input(tr("account.company"), current.company, max_chars=200)
                phone = c1.text_input(
                    tr("account.phone"), current.phone, placeholder="+593 99 123 4567", key="phone"
                )
                address = c2.text_input(tr("account.address"), current.address, max_chars=300)
                city = c1.text_input(tr("account.city"), current.city, max_chars=100)
                provinces = ("",) + profile.PROVINCES
                province = c2.selectbox(
                    tr("account.province"),
                    provinces,
                    index=provinces.index(current.province) if current.province in provinces else 0,
                )
                country = c1.text_input(tr("account.country"), current.country, max_chars=2)
                st.subheader(tr("account.tax_id"))
                t1, t2 = st.columns(2)
                kind_labels = [tr(f"taxid.{k}") for k in profile.TAX_ID_TYPES]
                kind_label = t1.selectbox(
                    tr("account.tax_id_type"),
                    kind_labels,
                    index=profile.TAX_ID_TYPES.index(current.tax_id_type),
                    key="tax_id_type",
                )
                kind = profile.TAX_ID_TYPES[kind_labels.index(kind_label)]
                number = t2.text_input(
                    tr("account.tax_id_number"), current.tax_id, max_chars=20, key="tax_id_number"
                )
                if st.form_submit_button(tr("action.save"), key="save_details"):
                    changes = profile.Profile(
                        name=name,
                        company=company,
                        email=current.email,
                        phone=phone,
                        address=address,
                        city=city,
                        province=province,
                        country=country,
                        tax_id_type=kind,
                        tax_id=number,
                        verified=current.verified,
                    )
                    with errors_shown():
                        profile.update_profile(actor, changes, now())
                        flash.done(FLASH, "account.details_saved")

    with next(tab_iter):
        st.subheader(tr("account.email"))
        pending = profile.pending_email(actor, now())
        if pending:
            st.info(tr("account.email_pending", email=pending))
        with st.form("account_email", clear_on_submit=True):
            new_email = st.text_input(tr("account.new_email"), key="email_new")
            password_for_email = st.text_input(
                tr("account.current_password"), type="password", key="email_password"
            )
            if st.form_submit_button(tr("account.change_email")):
                with errors_shown():
                    profile.change_email(actor, new_email, password_for_email, now())
                    flash.done(
                        FLASH,
                        "account.email_change_sent",
                        email=new_email.strip().lower(),
                        current=actor.email,
                    )

        st.subheader(tr("account.password"))
        with st.form("account_password", clear_on_submit=True):
            current_pw = st.text_input(
                tr("account.current_password"), type="password", key="pw_current"
            )
            new_pw = st.text_input(tr("account.new_password"), type="password", key="pw_new")
            repeat_pw = st.text_input(
                tr("account.repeat_password"), type="password", key="pw_repeat"
            )
            if st.form_submit_button(tr("account.change_password")):
                if new_pw != repeat_pw:
                    st.error(tr("error.password_mismatch"))
                else:
                    changed = False
                    with errors_shown():
                        accounts.change_password(actor, current_pw, new_pw, now())
                        changed = True
                    if changed:
                        # Every session ended, this one too: sign in again with the new password.
                        sign_out(actor, "account.password_changed")

        st.subheader(tr("2fa.section"))
        if twofactor.is_enabled(actor.user_id):
            st.success(tr("2fa.on"))
            if not twofactor.required_for(actor.role):
                with st.form("disable_2fa", clear_on_submit=True):
                    code = st.text_input(tr("2fa.code"))
                    if st.form_submit_button(tr("2fa.disable")):
                        with errors_shown():
                            twofactor.disable(actor, code, now())
                            flash.done(FLASH, "2fa.disabled")
        else:
            if twofactor.required_for(actor.role):
                st.warning(tr("2fa.setup_required"))
            else:
                st.info(tr("2fa.off"))
            if st.button(tr("2fa.start"), key="start_2fa"):
                with errors_shown():
                    uri, png = twofactor.begin_setup(actor)
                    st.session_state["anfitrion_2fa_setup"] = (uri, png)
            setup = st.session_state.get("anfitrion_2fa_setup")
            if setup:
                st.image(setup[1], caption=tr("2fa.scan"), width=220)
                st.code(setup[0], language=None)
                with st.form("confirm_2fa", clear_on_submit=True):
                    code = st.text_input(tr("2fa.code"), max_chars=6)
                    if st.form_submit_button(tr("2fa.confirm")):
                        with errors_shown():
                            codes = twofactor.confirm_setup(actor, code, now())
                            st.session_state.pop("anfitrion_2fa_setup", None)
                            st.session_state[NEEDS_2FA_SETUP] = False
                            st.session_state["anfitrion_2fa_ok"] = True
                            st.session_state["anfitrion_recovery_codes"] = codes
                            st.rerun()
        codes = st.session_state.pop("anfitrion_recovery_codes", None)
        if codes:
            st.warning(tr("2fa.recovery_once"))
            st.code("\n".join(codes), language=None)

        st.subheader(tr("nav.sign_out"))
        if st.button(tr("account.sign_out_everywhere"), key="account_sign_out"):
            sign_out(actor)

    with next(tab_iter):
        with st.form("account_language"):
            choice = st.selectbox(
                tr("account.language"),
                i18n.LANGUAGES,
                index=i18n.LANGUAGES.index(actor.language),
                format_func=i18n.LANGUAGE_NAMES.get,
                key="language_choice",
            )
            if st.form_submit_button(tr("action.save"), key="save_language"):
                with errors_shown():
                    accounts.set_language(actor, choice, now())
                    flash.done(FLASH, "account.language_saved")

    if actor.is_account_holder:
        with next(tab_iter):
            users_tab(actor)
