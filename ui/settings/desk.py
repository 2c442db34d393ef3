"""The owner's settings, the support desk's set-up: departments, canned replies, SLA targets
with the desk rules, and the contact channels (issue 8). Each form calls one core action,
which validates and audits it."""

import streamlit as st

from core.access import Actor
from core.accounts import team as users
from core.platform import i18n, settings, uploads
from core.platform.clock import now
from core.support import channels as support_channels
from core.support import common as tickets_common
from core.support import desk_admin as tickets_admin
from core.support import sla
from ui.kit.context import errors_shown, tr
from ui.kit.crud import crud
from ui.settings import saved
from ui.settings.desk_limits import post_limits_form


def departments_tab(actor: Actor) -> None:
    depts = tickets_admin.departments(actor)
    desk_people = {u.id: u.name or u.email for u in users.list_desk_users(actor)}

    def form(dept, dept_choice: int) -> None:
        # The owner's Spanish and English values (the view's ``name`` is the reader's).
        d_name = st.text_input(tr("catalog.department"), dept.name_es if dept else "")
        d_name_en = st.text_input(
            tr("polish.name_en"),
            dept.name_en if dept else "",
            help=tr("polish.name_en_help"),
            key=f"dept_{dept_choice}_name_en",
        )
        d_email = st.text_input(tr("col.email"), (dept.email or "") if dept else "")
        d_staff = st.multiselect(
            tr("catalog.department_staff"),
            list(desk_people),
            default=[i for i in (dept.staff_ids if dept else ()) if i in desk_people],
            format_func=desk_people.get,
        )
        e1, e2 = st.columns(2)
        d_visible = e1.checkbox(
            tr("catalog.client_visible"), value=dept.client_visible if dept else True
        )
        d_order = e2.number_input(
            tr("catalog.sort_order"), value=dept.sort_order if dept else 0, step=1
        )
        if st.form_submit_button(tr("action.save"), key=f"department_{dept_choice}_save"):
            with errors_shown():
                tickets_admin.save_department(
                    actor,
                    department_id=dept.id if dept else None,
                    name=d_name,
                    name_en=d_name_en,
                    email=d_email,
                    staff_ids=d_staff,
                    client_visible=d_visible,
                    sort_order=int(d_order),
                )
                saved()

    def delete(dept) -> None:
        tickets_admin.delete_department(actor, dept.id)
        saved()

    crud(
        "department",
        depts,
        columns=lambda d: {
            tr("catalog.department"): d.name,
            tr("col.email"): d.email or "",
            tr("catalog.department_staff"): ", ".join(
                desk_people.get(i, str(i)) for i in d.staff_ids
            ),
            tr("catalog.client_visible"): d.client_visible,
            tr("catalog.sort_order"): d.sort_order,
        },
        label=lambda d: d.name,
        form=form,
        delete=delete,
    )


def canned_tab(actor: Actor) -> None:
    replies = tickets_admin.canned_replies(actor)

    def form(canned, canned_choice: int) -> None:
        c_title = st.text_input(tr("catalog.canned_title"), canned.title if canned else "")
        c_language = st.selectbox(
            tr("clients.language"),
            i18n.LANGUAGES,
            index=i18n.LANGUAGES.index(canned.language) if canned else 0,
            format_func=i18n.LANGUAGE_NAMES.get,
        )
        c_body = st.text_area(tr("catalog.canned_body"), canned.body if canned else "")
        if st.form_submit_button(tr("action.save"), key=f"canned_{canned_choice}_save"):
            with errors_shown():
                tickets_admin.save_canned_reply(
                    actor,
                    reply_id=canned.id if canned else None,
                    title=c_title,
                    body=c_body,
                    language=c_language,
                )
                saved()

    def delete(canned) -> None:
        tickets_admin.delete_canned_reply(actor, canned.id)
        saved()

    crud(
        "canned",
        replies,
        columns=lambda c: {
            tr("catalog.canned_title"): c.title,
            tr("clients.language"): i18n.LANGUAGE_NAMES.get(c.language, c.language),
            tr("catalog.canned_body"): c.body[:120],
        },
        label=lambda c: c.title,
        form=form,
        delete=delete,
    )


def sla_tab(actor: Actor) -> None:
    st.caption(tr("catalog.sla_help"))
    with settings.snapshot_scope():
        current_targets = sla.targets()
        current_hours = settings.get_text(sla.BUSINESS_HOURS_KEY)
    with st.form("sla_targets"):
        chosen_targets: dict[str, tuple[int, int]] = {}
        for priority in sla.PRIORITIES:
            first_h, resolution_h = current_targets[priority]
            g1, g2 = st.columns(2)
            chosen_targets[priority] = (
                int(
                    g1.number_input(
                        tr("catalog.sla_first", priority=tr(f"tickets.priority.{priority}")),
                        min_value=1,
                        max_value=sla.MAX_TARGET_HOURS,
                        value=first_h,
                        key=f"sla_first_{priority}",
                    )
                ),
                int(
                    g2.number_input(
                        tr("catalog.sla_resolution", priority=tr(f"tickets.priority.{priority}")),
                        min_value=1,
                        max_value=sla.MAX_TARGET_HOURS,
                        value=resolution_h,
                        key=f"sla_resolution_{priority}",
                    )
                ),
            )
        hours_text = st.text_input(
            tr("catalog.sla_hours"),
            current_hours,
            help=tr("catalog.sla_hours_help"),
            key="sla_business_hours",
        )
        if st.form_submit_button(tr("action.save"), key="sla_save"):
            with errors_shown():
                sla.set_targets(actor, chosen_targets)
                sla.set_business_hours(actor, hours_text)
                saved()
    desk_rules_form(actor)
    post_limits_form(actor)


def desk_rules_form(actor: Actor) -> None:
    """Auto-close days and the attachment rules (the SLA tab's second form)."""
    rules = tickets_admin.desk_rules()
    known = ", ".join(uploads.extensions(uploads.FILE_TYPES))
    st.subheader(tr("catalog.desk_rules"))
    with st.form("desk_rules"):
        r1, r2 = st.columns(2)
        days = r1.number_input(
            tr("catalog.autoclose_days"),
            min_value=0,
            max_value=tickets_admin.MAX_AUTOCLOSE_DAYS,
            value=min(rules.autoclose_days, tickets_admin.MAX_AUTOCLOSE_DAYS),
            step=1,
            help=tr("catalog.autoclose_days_help"),
            key="desk_autoclose_days",
        )
        max_mb = r2.number_input(
            tr("catalog.attachment_max_mb"),
            min_value=1,
            max_value=tickets_common.MAX_ATTACHMENT_MB,
            value=rules.attachment_max_mb,
            step=1,
            key="desk_attachment_max_mb",
        )
        types_text = st.text_input(
            tr("catalog.attachment_types"),
            ", ".join(rules.attachment_types),
            help=tr("catalog.attachment_types_help", known=known),
            key="desk_attachment_types",
        )
        if st.form_submit_button(tr("action.save"), key="desk_rules_save"):
            with errors_shown():
                tickets_admin.save_desk_rules(
                    actor,
                    autoclose_days=int(days),
                    attachment_types=types_text,
                    attachment_max_mb=int(max_mb),
                )
                saved()


def channels_tab(actor: Actor) -> None:
    channels = support_channels.list_channels(actor, now(), include_inactive=True)

    def form(channel, channel_choice: int) -> None:
        kinds = list(support_channels.KINDS)
        h1, h2 = st.columns(2)
        ch_kind = h1.selectbox(
            tr("catalog.channel_kind"),
            kinds,
            index=kinds.index(channel.kind) if channel else 0,
            format_func=lambda k: tr(f"support.kind.{k}"),
        )
        ch_label = h2.text_input(tr("catalog.channel_label"), channel.label_es if channel else "")
        ch_label_en = h2.text_input(
            tr("polish.label_en"),
            channel.label_en if channel else "",
            help=tr("polish.name_en_help"),
        )
        ch_target = h1.text_input(
            tr("catalog.channel_target"),
            channel.target if channel else "",
            help=tr("catalog.channel_target_help"),
        )
        ch_hours = h2.text_input(
            tr("catalog.channel_hours"),
            channel.hours if channel else "24/7",
            help=tr("catalog.sla_hours_help"),
        )
        ch_prefill = st.text_input(
            tr("catalog.channel_prefill"), (channel.prefill or "") if channel else ""
        )
        k1, k2 = st.columns(2)
        ch_order = k1.number_input(
            tr("catalog.sort_order"), value=channel.sort_order if channel else 0, step=1
        )
        ch_active = k2.checkbox(tr("col.active"), value=channel.active if channel else True)
        if st.form_submit_button(tr("action.save"), key=f"channel_{channel_choice}_save"):
            with errors_shown():
                support_channels.save_channel(
                    actor,
                    channel_id=channel.id if channel else None,
                    kind=ch_kind,
                    label=ch_label,
                    label_en=ch_label_en,
                    target=ch_target,
                    hours=ch_hours,
                    prefill=ch_prefill,
                    sort_order=int(ch_order),
                    active=ch_active,
                )
                saved()

    def delete(channel) -> None:
        support_channels.delete_channel(actor, channel.id)
        saved()

    crud(
        "channel",
        channels,
        columns=lambda c: {
            tr("catalog.channel_kind"): tr(f"support.kind.{c.kind}"),
            tr("catalog.channel_label"): c.label,
            tr("catalog.channel_target"): c.target,
            tr("catalog.channel_hours"): c.hours_text,
            tr("col.active"): c.active,
            tr("catalog.sort_order"): c.sort_order,
        },
        label=lambda c: c.label,
        form=form,
        delete=delete,
    )
