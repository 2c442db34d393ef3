"""E-mail accounts: the mailboxes of one of the client's services (the owner: any service),
with their usage, and create, change password, change quota and delete (after confirmation).

Thin on purpose: the role guard, one core read, the rendering, and one core action per form.
Passwords typed here go straight to the panel: never kept, never shown back.

Used by pages/email_accounts.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import Actor
from core.platform.errors import NotFound, ValidationError
from core.platform.i18n import number
from core.services import mailboxes
from ui.kit import flash
from ui.kit.context import errors_shown, lang, tr
from ui.kit.ids import query_id

FLASH = "mail_flash"
PICK = "mail_service"


def done(key: str, **params: str) -> None:
    flash.done(FLASH, key, **params)


def pick() -> None:
    st.query_params["service"] = str(st.session_state[PICK])


def render(actor: Actor) -> None:
    st.title(tr("page.email_accounts"))

    flash.show(FLASH)

    search = None
    if not actor.is_client:
        search = st.text_input(tr("mailboxes.search"), key="mail_search")

    # No ?service= (or an empty one) picks the first service; a malformed one is not found.
    service_id = query_id("service")
    view = None
    with errors_shown():
        if service_id is None and st.query_params.get("service"):
            raise NotFound()
        view = mailboxes.mailbox_page(actor, service_id, search=search)
    if view is None:
        st.stop()
    if view.service is None:
        st.info(tr("mailboxes.no_services"))
        st.stop()

    labels = {
        o.id: o.domain if actor.is_client else f"{o.domain} · {o.client_name}" for o in view.options
    }
    ids = list(labels)
    st.selectbox(
        tr("mailboxes.choose_service"),
        ids,
        index=ids.index(view.service.id),
        format_func=labels.get,
        key=PICK,
        on_change=pick,
    )
    domain = view.service.domain

    if view.error:
        st.error(tr(view.error))
        st.stop()

    st.caption(
        tr(
            "mailboxes.limits",
            count=len(view.mailboxes),
            max=view.max_mailboxes,
            quota=view.max_quota_mb,
        )
    )
    if not view.mailboxes:
        st.info(tr("mailboxes.none"))
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("mailboxes.col_address"): m.address,
                        tr("mailboxes.col_used"): tr("mailboxes.mb", n=number(m.used_mb, lang())),
                        tr("mailboxes.col_quota"): tr("mailboxes.mb", n=number(m.quota_mb, lang()))
                        if m.quota_mb
                        else tr("mailboxes.unlimited"),
                        tr("mailboxes.col_percent"): f"{number(m.used_percent, lang())} %"
                        if m.used_percent is not None
                        else "—",
                    }
                    for m in view.mailboxes
                ]
            ),
            hide_index=True,
            width="stretch",
        )

    if not view.writable:
        st.info(tr("mailboxes.read_only"))
        st.stop()

    service_id = view.service.id
    addresses = [m.address for m in view.mailboxes]

    st.subheader(tr("mailboxes.create_title"))
    with st.form("mail_create", clear_on_submit=True):
        local = st.text_input(tr("mailboxes.local_part", domain=domain), key="mail_new_local")
        password = st.text_input(
            tr("mailboxes.password"),
            type="password",
            help=tr("mailboxes.password_help"),
            key="mail_new_password",
        )
        # No min/max on the widget: the browser would answer an out-of-range number with
        # Streamlit's own English message; core says what is wrong, in the reader's language.
        quota = st.number_input(
            tr("mailboxes.quota", max=view.max_quota_mb),
            value=view.max_quota_mb,
            step=50,
            key="mail_new_quota",
        )
        if st.form_submit_button(tr("mailboxes.create_button"), key="mail_create_submit"):
            with errors_shown():
                # The name and the quota are told first: an empty password is not "weak".
                mailboxes.split_address(domain, local, name_only=True)
                mailboxes.check_quota(view.max_quota_mb, quota)
                if not password:
                    raise ValidationError("error.mailbox_password_missing")
                made = mailboxes.create_mailbox(actor, service_id, local, password, quota)
                done("mailboxes.created_done", address=made.address)

    if addresses:
        st.subheader(tr("mailboxes.password_title"))
        with st.form("mail_password", clear_on_submit=True):
            address = st.selectbox(tr("mailboxes.address"), addresses, key="mail_pw_address")
            new = st.text_input(tr("mailboxes.new_password"), type="password", key="mail_pw_new")
            repeat = st.text_input(
                tr("mailboxes.repeat_password"), type="password", key="mail_pw_repeat"
            )
            if st.form_submit_button(tr("mailboxes.password_button"), key="mail_pw_submit"):
                if new != repeat:
                    st.error(tr("error.mailbox_password_mismatch"))
                else:
                    with errors_shown():
                        mailboxes.change_password(actor, service_id, address, new)
                        done("mailboxes.password_done", address=address)

        st.subheader(tr("mailboxes.quota_title"))
        with st.form("mail_quota"):
            address = st.selectbox(tr("mailboxes.address"), addresses, key="mail_quota_address")
            new_quota = st.number_input(
                tr("mailboxes.quota", max=view.max_quota_mb),
                value=view.max_quota_mb,
                step=50,
                key="mail_quota_value",
            )
            if st.form_submit_button(tr("mailboxes.quota_button"), key="mail_quota_submit"):
                with errors_shown():
                    mailboxes.change_quota(actor, service_id, address, new_quota)
                    done("mailboxes.quota_done", address=address)

        st.subheader(tr("mailboxes.delete_title"))
        doomed = st.selectbox(tr("mailboxes.address"), addresses, key="mail_delete_address")
        confirm = st.checkbox(tr("mailboxes.delete_confirm", address=doomed), key="mail_delete_ok")
        if st.button(
            tr("mailboxes.delete_button"), key="mail_delete", type="primary", disabled=not confirm
        ):
            with errors_shown():
                mailboxes.delete_mailbox(actor, service_id, doomed)
                st.session_state.pop("mail_delete_ok", None)
                done("mailboxes.deleted_done", address=doomed)
