"""The "Usuarios" tab of a client's "Mi cuenta": the account's holder invites people with
their own sign-in, limited to some parts of the account, edits what they may do and revokes
them (core.accounts.client_users). Shown only to the holder (ui/account/page.py).
"""

from __future__ import annotations

import streamlit as st

from core.access import CLIENT_PERMISSIONS, Actor
from core.accounts import client_users
from core.platform import i18n
from core.platform.clock import now
from ui.kit import flash
from ui.kit.context import errors_shown, lang, tr
from ui.kit.tables import plain_table

FLASH = "anfitrion_flash"


def _perm(p: str) -> str:
    return tr(f"client_users.perm.{p}")


def _status(row: client_users.ClientUserRow) -> str:
    if not row.active:
        return tr("client_users.status.revoked")
    return tr("client_users.status.active" if row.has_password else "client_users.status.pending")


def users_tab(actor: Actor) -> None:
    st.caption(tr("client_users.intro"))
    rows = client_users.list_users(actor)
    if not rows:
        st.info(tr("client_users.none"))
    plain_table(
        [
            {
                tr("client_users.col.email"): r.email,
                tr("client_users.col.name"): r.name,
                tr("client_users.col.permissions"): ", ".join(_perm(p) for p in r.permissions),
                tr("client_users.col.status"): _status(r),
                tr("client_users.col.two_factor"): "✓" if r.two_factor else "—",
                tr("client_users.col.last_login"): i18n.moment(r.last_login_at, lang())
                if r.last_login_at
                else "—",
            }
            for r in rows
        ]
    )

    st.subheader(tr("client_users.invite_title"))
    with st.form("client_user_invite", clear_on_submit=True):
        c1, c2 = st.columns(2)
        email = c1.text_input(tr("client_users.email"), max_chars=254, key="cu_email")
        name = c2.text_input(tr("client_users.name"), max_chars=200, key="cu_name")
        language = c1.selectbox(
            tr("client_users.language"),
            i18n.LANGUAGES,
            index=i18n.LANGUAGES.index(actor.language),
            format_func=i18n.LANGUAGE_NAMES.get,
            key="cu_language",
        )
        perms = st.multiselect(
            tr("client_users.permissions"), CLIENT_PERMISSIONS, format_func=_perm, key="cu_perms"
        )
        if st.form_submit_button(tr("client_users.invite")):
            with errors_shown():
                client_users.invite(
                    actor,
                    email=email,
                    name=name,
                    permissions=perms,
                    language=language,
                    at=now(),
                )
                flash.done(FLASH, "client_users.invited", email=email.strip().lower())

    live = [r for r in rows if r.active]
    if not live:
        return
    st.subheader(tr("client_users.edit_title"))
    chosen = st.selectbox(
        tr("client_users.pick"), live, format_func=lambda r: r.email, key="cu_pick"
    )
    with st.form("client_user_edit"):
        new_perms = st.multiselect(
            tr("client_users.permissions"),
            CLIENT_PERMISSIONS,
            default=list(chosen.permissions),
            format_func=_perm,
            key=f"cu_edit_perms_{chosen.membership_id}",
        )
        if st.form_submit_button(tr("client_users.save")):
            with errors_shown():
                client_users.set_permissions(actor, chosen.membership_id, new_perms, now())
                flash.done(FLASH, "client_users.saved")
    confirm = st.checkbox(
        tr("client_users.revoke_confirm"), key=f"cu_revoke_ok_{chosen.membership_id}"
    )
    if st.button(tr("client_users.revoke"), key="cu_revoke", disabled=not confirm):
        with errors_shown():
            client_users.revoke(actor, chosen.membership_id, now())
            flash.done(FLASH, "client_users.revoked")
