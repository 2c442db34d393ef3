"""The owner's settings, the team: users and their access, the security switches, the audit
log and the outgoing mail (ui/settings/page.py draws the tabs)."""

from datetime import datetime, time, timedelta

import pandas as pd
import streamlit as st

from core.access import AREAS, Actor
from core.accounts import team as users
from core.accounts import twofactor
from core.platform import audit, i18n, mail, settings
from core.platform.clock import now
from ui.kit.context import errors_shown, lang, tr
from ui.kit.exports import export_buttons
from ui.settings import saved


def users_tab(actor: Actor) -> None:
    rows = users.list_desk_users(actor)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("col.email"): u.email,
                    tr("col.name"): u.name,
                    tr("col.role"): tr(f"role.{u.role}"),
                    tr("col.permissions"): ", ".join(tr(f"area.{p}") for p in u.permissions),
                    tr("col.active"): u.active,
                    tr("col.two_factor"): u.two_factor,
                    tr("col.last_login"): i18n.moment(u.last_login_at, lang()),
                }
                for u in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.subheader(tr("settings.invite"))
    with st.form("invite_user", clear_on_submit=True):
        c1, c2 = st.columns(2)
        email = c1.text_input(tr("signin.email"), key="invite_email")
        name = c2.text_input(tr("account.name"), key="invite_name")
        role = c1.selectbox(
            tr("col.role"), ["staff", "owner"], format_func=lambda r: tr(f"role.{r}")
        )
        language = c2.selectbox(
            tr("account.language"), i18n.LANGUAGES, format_func=i18n.LANGUAGE_NAMES.get
        )
        perms = st.multiselect(
            tr("col.permissions"),
            AREAS,
            default=["tickets", "clients", "services"],
            format_func=lambda p: tr(f"area.{p}"),
            key="invite_perms",
        )
        if st.form_submit_button(tr("settings.invite_submit")):
            with errors_shown():
                users.invite(
                    actor,
                    role=role,
                    email=email,
                    name=name,
                    permissions=perms,
                    language=language,
                    at=now(),
                )
                saved("settings.invited")

    st.subheader(tr("settings.edit_user"))
    others = [u for u in rows if u.id != actor.user_id]
    if not others:
        st.info(tr("settings.no_other_users"))
    else:
        chosen = st.selectbox(
            tr("col.email"),
            others,
            format_func=lambda u: f"{u.email} ({tr(f'role.{u.role}')})",
            key="edit_user_choice",
        )
        with st.form("edit_user"):
            perms = st.multiselect(
                tr("col.permissions"),
                AREAS,
                default=list(chosen.permissions),
                format_func=lambda p: tr(f"area.{p}"),
                disabled=chosen.role != "staff",
            )
            active = st.checkbox(tr("col.active"), value=chosen.active)
            if st.form_submit_button(tr("action.save")):
                with errors_shown():
                    users.set_access(actor, chosen.id, permissions=perms, active=active, at=now())
                    saved("settings.saved")
        c1, c2 = st.columns(2)
        if c1.button(tr("settings.reset_2fa"), key="reset_2fa", disabled=not chosen.two_factor):
            with errors_shown():
                twofactor.reset_for(actor, chosen.id, now())
                saved("settings.2fa_reset")
        if c2.button(
            tr("settings.unlock"), key="unlock_user", disabled=chosen.locked_until is None
        ):
            with errors_shown():
                users.unlock(actor, chosen.id, now())
                saved("settings.unlocked")


def security_tab(actor: Actor) -> None:
    with settings.snapshot_scope():  # the three switches in one read
        was_2fa = settings.get_bool("security.require_2fa_staff")
        was_signup = settings.get_bool("accounts.self_registration")
        was_verified = settings.get_bool("accounts.require_verified_email")
    with st.form("security_settings"):
        require_2fa = st.checkbox(tr("settings.require_2fa"), value=was_2fa)
        self_signup = st.checkbox(tr("settings.self_registration"), value=was_signup)
        require_verified = st.checkbox(tr("settings.require_verified"), value=was_verified)
        if st.form_submit_button(tr("action.save"), key="save_security"):
            with errors_shown():
                settings.put(actor, "security.require_2fa_staff", require_2fa)
                settings.put(actor, "accounts.self_registration", self_signup)
                settings.put(actor, "accounts.require_verified_email", require_verified)
                saved("settings.saved")


def audit_tab(actor: Actor) -> None:
    with st.form("audit_filters"):
        c1, c2, c3 = st.columns(3)
        who = c1.text_input(tr("settings.audit_actor"), key="audit_actor")
        kind = c2.selectbox(
            tr("settings.audit_action"), [""] + audit.actions(actor), key="audit_action"
        )
        client = c3.number_input(
            tr("settings.audit_client"), min_value=0, step=1, key="audit_client"
        )
        d1, d2 = st.columns(2)
        today = now().date()
        since = d1.date_input(tr("settings.from"), today - timedelta(days=30), key="audit_from")
        until = d2.date_input(tr("settings.to"), today, key="audit_to")
        st.form_submit_button(tr("action.filter"))
    entries, total = audit.search(
        actor,
        actor_email=who or None,
        action=kind or None,
        client_id=int(client) if client else None,
        since=datetime.combine(since, time.min),
        until=datetime.combine(until, time.min) + timedelta(days=1),
    )
    st.caption(tr("settings.audit_count", shown=len(entries), total=total))
    frame = pd.DataFrame(
        [
            {
                tr("col.when"): i18n.moment(e.at, lang()),
                tr("col.actor"): e.actor_label,
                tr("col.action"): e.action,
                tr("col.target"): f"{e.target_type or ''} {e.target_id or ''}".strip(),
                tr("col.client"): e.client_id,
                tr("col.details"): ", ".join(f"{k}={v}" for k, v in (e.details or {}).items()),
            }
            for e in entries
        ]
    )
    st.dataframe(frame, hide_index=True, width="stretch")
    # built when clicked, not on every rerun
    export_buttons(frame, "audit", today, "audit", xlsx=True)


def mail_tab(actor: Actor) -> None:
    status = st.selectbox(
        tr("col.status"),
        ["", "queued", "sent", "failed"],
        format_func=lambda v: tr(f"mail.status_{v or 'all'}"),
        key="outbox_status",
    )
    messages = mail.outbox(actor, status or None)
    if not messages:
        st.info(tr("settings.outbox_empty"))
    for message in messages:
        label = f"{tr(f'mail.status_{message.status}')} · {message.to_addr} · {message.subject}"
        with st.expander(label):
            st.caption(i18n.moment(message.created_at, lang()))
            st.text(message.body_text)
            if message.status == "queued" and message.link_token_hash:
                hand_over_button(actor, message.id)


def hand_over_button(actor: Actor, mail_id: int) -> None:
    """A sign-in mail keeps no link while queued: without SMTP, the owner makes it now and
    passes it on by hand; it is shown this once."""
    st.caption(tr("outbox.link_not_stored"))
    if not st.button(tr("outbox.hand_over"), key=f"outbox_hand_over_{mail_id}"):
        return
    with errors_shown():
        handed = mail.hand_over(actor, mail_id, now())
        if handed is None:
            st.error(tr("outbox.link_dead"))
            return
        st.warning(tr("outbox.handed_over"))
        st.text(handed.body_text)
