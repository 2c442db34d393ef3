"""Settings (owner): users and roles, security, the audit log and the outgoing mail; the
business's details, IVA rates, products, panel servers, the support desk's departments,
canned replies, SLA targets and channels, and the mail templates (automation settings live on
the billing page and are linked from here)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pandas as pd
import streamlit as st

from core import (
    audit,
    catalog,
    i18n,
    mail,
    panel,
    settings,
    sla,
    support_channels,
    tickets_admin,
    tickets_common,
    twofactor,
    uploads,
    users,
)
from core.access import AREAS
from core.clock import now
from core.money import SRI_IVA_CODES
from core.reports import export_csv
from ui.context import errors_shown, guard, lang, money, tr
from ui.tabs import lazy_tabs, open_tab

actor = guard("settings")
st.title(tr("settings.title"))
flash = st.session_state.pop("settings_flash", None)
if flash:
    st.success(tr(flash))


def users_tab() -> None:
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
                st.session_state["settings_flash"] = "settings.invited"
                st.rerun()

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
                    st.session_state["settings_flash"] = "settings.saved"
                    st.rerun()
        c1, c2 = st.columns(2)
        if c1.button(tr("settings.reset_2fa"), key="reset_2fa", disabled=not chosen.two_factor):
            with errors_shown():
                twofactor.reset_for(actor, chosen.id, now())
                st.session_state["settings_flash"] = "settings.2fa_reset"
                st.rerun()
        if c2.button(
            tr("settings.unlock"), key="unlock_user", disabled=chosen.locked_until is None
        ):
            with errors_shown():
                users.unlock(actor, chosen.id, now())
                st.session_state["settings_flash"] = "settings.unlocked"
                st.rerun()


def security_tab() -> None:
    with settings.snapshot_scope():  # the three switches in one read
        was_2fa = settings.get_bool("security.require_2fa_staff", True)
        was_signup = settings.get_bool("accounts.self_registration", False)
        was_verified = settings.get_bool("accounts.require_verified_email", False)
    with st.form("security_settings"):
        require_2fa = st.checkbox(tr("settings.require_2fa"), value=was_2fa)
        self_signup = st.checkbox(tr("settings.self_registration"), value=was_signup)
        require_verified = st.checkbox(tr("settings.require_verified"), value=was_verified)
        if st.form_submit_button(tr("action.save"), key="save_security"):
            with errors_shown():
                settings.put(actor, "security.require_2fa_staff", require_2fa)
                settings.put(actor, "accounts.self_registration", self_signup)
                settings.put(actor, "accounts.require_verified_email", require_verified)
                st.session_state["settings_flash"] = "settings.saved"
                st.rerun()


def audit_tab() -> None:
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
    st.download_button(
        tr("action.export_csv"),
        lambda: export_csv(frame),  # built when clicked, not on every rerun
        file_name="audit.csv",
        mime="text/csv",
        on_click="ignore",
        key="audit_csv",
    )


def mail_tab() -> None:
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


# ============================================================================ the desk
# Business details, IVA, products, servers, the support desk's set-up, automation and mail
# templates (issue 8). Each form calls one core action, which validates and audits it.
def saved(key: str = "settings.saved") -> None:
    st.session_state["settings_flash"] = key
    st.rerun()


def business_tab() -> None:
    with settings.snapshot_scope():  # the details and the logo in one read of the settings
        shop = catalog.business()
        current_logo = catalog.logo()
    with st.form("business_details"):
        b_name = st.text_input(tr("catalog.business_name"), shop.name, key="business_name")
        b_ruc = st.text_input(tr("catalog.business_ruc"), shop.ruc, key="business_ruc")
        b_address = st.text_input(
            tr("catalog.business_address"), shop.address, key="business_address"
        )
        b_transfer = st.text_area(
            tr("catalog.transfer_instructions"),
            shop.transfer_instructions,
            key="business_transfer",
            help=tr("catalog.transfer_help"),
        )
        if st.form_submit_button(tr("action.save"), key="save_business"):
            with errors_shown():
                catalog.save_business(
                    actor,
                    name=b_name,
                    ruc=b_ruc,
                    address=b_address,
                    transfer_instructions=b_transfer,
                )
                saved()
    st.subheader(tr("catalog.logo"))
    if current_logo is not None:
        st.image(current_logo.data, width=160)
    upload = st.file_uploader(
        tr("catalog.logo_upload"), type=["png", "jpg", "jpeg"], key="business_logo_file"
    )
    l1, l2 = st.columns(2)
    if l1.button(tr("catalog.logo_save"), key="business_logo_save", disabled=upload is None):
        with errors_shown():
            catalog.save_logo(actor, upload.name, upload.getvalue())
            saved()
    if l2.button(
        tr("catalog.logo_remove"), key="business_logo_remove", disabled=current_logo is None
    ):
        with errors_shown():
            catalog.remove_logo(actor)
            saved()


def taxes_tab() -> None:
    st.caption(tr("catalog.taxes_help"))
    rate_rows = catalog.tax_rate_rows()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("catalog.rate_from"): i18n.day(r.start, lang())
                    if r.start
                    else tr("catalog.rate_always"),
                    tr("catalog.rate_percent"): f"{r.rate.normalize()} %",
                    tr("catalog.rate_sri"): r.sri_code,
                }
                for r in rate_rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    with st.form("tax_rate_add"):
        t1, t2 = st.columns(2)
        rate_from = t1.date_input(tr("catalog.rate_from"), key="tax_rate_from")
        rate_value = t2.selectbox(
            tr("catalog.rate_percent"),
            sorted(SRI_IVA_CODES),
            index=sorted(SRI_IVA_CODES).index(Decimal("15")),
            format_func=lambda r: f"{r} %",
            key="tax_rate_value",
        )
        if st.form_submit_button(tr("catalog.rate_add"), key="tax_rate_add_submit"):
            with errors_shown():
                kept = [(r.start, r.rate) for r in rate_rows if r.start != rate_from]
                catalog.save_tax_rates(actor, [*kept, (rate_from, rate_value)])
                saved()
    if len(rate_rows) > 1:
        r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
        dropped = r1.selectbox(
            tr("catalog.rate_remove_which"),
            [r.start for r in rate_rows if r.start],
            format_func=lambda d: i18n.day(d, lang()),
            key="tax_rate_remove_choice",
        )
        if r2.button(tr("catalog.rate_remove"), key="tax_rate_remove"):
            with errors_shown():
                catalog.save_tax_rates(
                    actor, [(r.start, r.rate) for r in rate_rows if r.start != dropped]
                )
                saved()


def products_tab() -> None:
    products = catalog.list_products(actor)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("catalog.product"): p.name,
                    tr("catalog.package"): p.whm_package,
                    tr("catalog.prices"): " · ".join(
                        f"{tr(f'cycle.{x.cycle}')} {money(x.price)}" for x in p.prices
                    ),
                    tr("col.active"): p.active,
                    tr("catalog.services"): p.services,
                }
                for p in products
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    by_id = {p.id: p for p in products}
    choice = st.selectbox(
        tr("catalog.product_choice"),
        [0, *by_id],
        format_func=lambda i: by_id[i].name if i else tr("catalog.product_new"),
        key="product_choice",
    )
    editing = by_id.get(choice)
    with st.form(f"product_form_{choice}"):
        p1, p2 = st.columns(2)
        p_name = p1.text_input(tr("catalog.product"), editing.name if editing else "")
        p_package = p2.text_input(tr("catalog.package"), editing.whm_package if editing else "")
        p_description = st.text_area(
            tr("catalog.description"), editing.description if editing else ""
        )
        q1, q2, q3 = st.columns(3)
        p_disk = q1.number_input(
            tr("catalog.disk_mb"), min_value=1, value=editing.disk_mb if editing else 1024
        )
        p_boxes = q2.number_input(
            tr("catalog.max_mailboxes"), min_value=0, value=editing.max_mailboxes if editing else 10
        )
        p_quota = q3.number_input(
            tr("catalog.mailbox_quota_mb"),
            min_value=1,
            value=editing.mailbox_quota_mb if editing else 1024,
        )
        st.markdown(f"**{tr('catalog.prices')}**")
        st.caption(tr("catalog.prices_help"))
        entered: dict[str, tuple[str, str]] = {}
        for cycle in catalog.PRODUCT_CYCLES:
            known = editing.price(cycle) if editing else None
            c1, c2 = st.columns(2)
            entered[cycle] = (
                c1.text_input(
                    tr("catalog.price_for", cycle=tr(f"cycle.{cycle}")),
                    str(known.price) if known else "",
                    key=f"product_{choice}_price_{cycle}",
                ),
                c2.text_input(
                    tr("catalog.setup_for", cycle=tr(f"cycle.{cycle}")),
                    str(known.setup_fee) if known else "",
                    key=f"product_{choice}_setup_{cycle}",
                ),
            )
        others = {p.id: p.name for p in products if p.id != choice}
        p_targets = st.multiselect(
            tr("catalog.targets"),
            list(others),
            default=[t for t in (editing.upgrade_targets if editing else ()) if t in others],
            format_func=others.get,
            help=tr("catalog.targets_help"),
        )
        w1, w2, w3 = st.columns(3)
        p_prorata = w1.checkbox(
            tr("catalog.prorata"), value=editing.prorata_enabled if editing else False
        )
        p_prorata_day = w2.number_input(
            tr("catalog.prorata_day"),
            min_value=1,
            max_value=31,
            value=(editing.prorata_day or 1) if editing else 1,
        )
        p_next_month = w3.number_input(
            tr("catalog.prorata_next_month"),
            min_value=0,
            max_value=31,
            value=(editing.prorata_next_month_after_day or 0) if editing else 0,
            help=tr("catalog.prorata_next_month_help"),
        )
        credit_modes = [None, True, False]
        p_credit = st.selectbox(
            tr("catalog.credit_on_downgrade"),
            credit_modes,
            index=credit_modes.index(editing.credit_on_downgrade) if editing else 0,
            format_func=lambda v: tr(
                "catalog.credit_default" if v is None else "catalog.yes" if v else "catalog.no"
            ),
        )
        v1, v2 = st.columns(2)
        p_order = v1.number_input(
            tr("catalog.sort_order"), value=editing.sort_order if editing else 0, step=1
        )
        p_active = v2.checkbox(tr("col.active"), value=editing.active if editing else True)
        p_reprice = st.checkbox(
            tr("catalog.reprice_existing"),
            value=False,
            help=tr("catalog.reprice_help"),
            disabled=editing is None,
            key=f"product_{choice}_reprice",
        )
        if st.form_submit_button(tr("action.save"), key=f"product_{choice}_save"):
            with errors_shown():
                catalog.save_product(
                    actor,
                    catalog.ProductForm(
                        name=p_name,
                        whm_package=p_package,
                        prices=entered,
                        description=p_description,
                        disk_mb=int(p_disk),
                        max_mailboxes=int(p_boxes),
                        mailbox_quota_mb=int(p_quota),
                        upgrade_targets=p_targets,
                        prorata_enabled=p_prorata,
                        prorata_day=int(p_prorata_day),
                        prorata_next_month_after_day=int(p_next_month) or None,
                        credit_on_downgrade=p_credit,
                        sort_order=int(p_order),
                        active=p_active,
                    ),
                    product_id=editing.id if editing else None,
                    reprice_existing=p_reprice,
                )
                saved()
    pending = catalog.pending_repricing()
    if pending:
        st.caption(tr("catalog.pending_repricing"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("catalog.product"): by_id[r.product_id].name
                        if r.product_id in by_id
                        else r.product_id,
                        tr("col.cycle"): tr(f"cycle.{r.cycle}"),
                        tr("catalog.old_prices"): ", ".join(money(a) for a in r.old_amounts),
                        tr("catalog.new_price"): money(r.amount),
                        tr("catalog.since"): i18n.day(r.since, lang()),
                    }
                    for r in pending
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def servers_tab() -> None:
    servers = panel.list_servers(actor)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("catalog.server_name"): v.name,
                    tr("catalog.server_host"): f"{v.scheme}://{v.hostname}:{v.port}",
                    tr("catalog.server_user"): v.username,
                    tr("catalog.server_credential"): tr(f"catalog.credential_{v.token_source}"),
                    tr("catalog.server_verify_tls"): v.verify_tls,
                    tr("col.active"): v.active,
                    tr("catalog.services"): v.services,
                }
                for v in servers
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    server_by_id = {v.id: v for v in servers}
    server_choice = st.selectbox(
        tr("catalog.server_choice"),
        [0, *server_by_id],
        format_func=lambda i: server_by_id[i].name if i else tr("catalog.server_new"),
        key="server_choice",
    )
    server = server_by_id.get(server_choice)
    if server is not None and st.button(tr("catalog.test_connection"), key="server_test"):
        with errors_shown():
            report = panel.test_connection(actor, server.id)
            st.success(tr("catalog.connection_ok", n=len(report.plans)))
            if report.missing_packages:
                st.warning(tr("catalog.missing_packages"))
                st.text(", ".join(report.missing_packages))
    with st.form(f"server_form_{server_choice}"):
        s1, s2 = st.columns(2)
        s_name = s1.text_input(tr("catalog.server_name"), server.name if server else "")
        s_host = s2.text_input(tr("catalog.server_hostname"), server.hostname if server else "")
        s_port = s1.number_input(
            tr("catalog.server_port"),
            min_value=1,
            max_value=65535,
            value=server.port if server else 2087,
        )
        s_user = s2.text_input(tr("catalog.server_user"), server.username if server else "root")
        schemes = ["https", "http"]
        s_scheme = s1.selectbox(
            tr("catalog.server_scheme"),
            schemes,
            index=schemes.index(server.scheme) if server else 0,
        )
        s_verify = s2.checkbox(
            tr("catalog.server_verify_tls"), value=server.verify_tls if server else True
        )
        s_token = s1.text_input(
            tr("catalog.server_token"),
            "",
            type="password",
            help=tr("catalog.server_token_help"),
            key=f"server_{server_choice}_token",
        )
        s_env = s2.text_input(
            tr("catalog.server_token_env"),
            (server.token_env or "") if server else "",
            help=tr("catalog.server_token_env_help"),
        )
        s_max = s1.number_input(
            tr("catalog.server_max_accounts"),
            min_value=1,
            value=server.max_accounts if server else 500,
        )
        s_active = s2.checkbox(tr("col.active"), value=server.active if server else True)
        if st.form_submit_button(tr("action.save"), key=f"server_{server_choice}_save"):
            with errors_shown():
                panel.save_server(
                    actor,
                    name=s_name,
                    hostname=s_host,
                    port=int(s_port),
                    username=s_user,
                    token=s_token or None,
                    token_env=None if s_token else (s_env or None),
                    verify_tls=s_verify,
                    scheme=s_scheme,
                    max_accounts=int(s_max),
                    active=s_active,
                    server_id=server.id if server else None,
                )
                saved()


def departments_tab() -> None:
    depts = tickets_admin.departments(actor)
    desk_people = {u.id: u.name or u.email for u in users.list_desk_users(actor)}
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("catalog.department"): d.name,
                    tr("col.email"): d.email or "",
                    tr("catalog.department_staff"): ", ".join(
                        desk_people.get(i, str(i)) for i in d.staff_ids
                    ),
                    tr("catalog.client_visible"): d.client_visible,
                    tr("catalog.sort_order"): d.sort_order,
                }
                for d in depts
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    dept_by_id = {d.id: d for d in depts}
    dept_choice = st.selectbox(
        tr("catalog.department_choice"),
        [0, *dept_by_id],
        format_func=lambda i: dept_by_id[i].name if i else tr("catalog.department_new"),
        key="department_choice",
    )
    dept = dept_by_id.get(dept_choice)
    with st.form(f"department_form_{dept_choice}"):
        d_name = st.text_input(tr("catalog.department"), dept.name if dept else "")
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
                    email=d_email,
                    staff_ids=d_staff,
                    client_visible=d_visible,
                    sort_order=int(d_order),
                )
                saved()
    if dept is not None and st.button(tr("catalog.delete"), key="department_delete"):
        with errors_shown():
            tickets_admin.delete_department(actor, dept.id)
            saved()


def canned_tab() -> None:
    replies = tickets_admin.canned_replies(actor)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("catalog.canned_title"): c.title,
                    tr("clients.language"): i18n.LANGUAGE_NAMES.get(c.language, c.language),
                    tr("catalog.canned_body"): c.body[:120],
                }
                for c in replies
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    canned_by_id = {c.id: c for c in replies}
    canned_choice = st.selectbox(
        tr("catalog.canned_choice"),
        [0, *canned_by_id],
        format_func=lambda i: canned_by_id[i].title if i else tr("catalog.canned_new"),
        key="canned_choice",
    )
    canned = canned_by_id.get(canned_choice)
    with st.form(f"canned_form_{canned_choice}"):
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
    if canned is not None and st.button(tr("catalog.delete"), key="canned_delete"):
        with errors_shown():
            tickets_admin.delete_canned_reply(actor, canned.id)
            saved()


def sla_tab() -> None:
    st.caption(tr("catalog.sla_help"))
    with settings.snapshot_scope():
        current_targets = sla.targets()
        current_hours = settings.get_text(sla.BUSINESS_HOURS_KEY, "")
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
    desk_rules_form()


def desk_rules_form() -> None:
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


def channels_tab() -> None:
    channels = support_channels.list_channels(actor, now(), include_inactive=True)
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("catalog.channel_kind"): tr(f"support.kind.{c.kind}"),
                    tr("catalog.channel_label"): c.label,
                    tr("catalog.channel_target"): c.target,
                    tr("catalog.channel_hours"): c.hours_text,
                    tr("col.active"): c.active,
                    tr("catalog.sort_order"): c.sort_order,
                }
                for c in channels
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    channel_by_id = {c.id: c for c in channels}
    channel_choice = st.selectbox(
        tr("catalog.channel_choice"),
        [0, *channel_by_id],
        format_func=lambda i: channel_by_id[i].label if i else tr("catalog.channel_new"),
        key="channel_choice",
    )
    channel = channel_by_id.get(channel_choice)
    with st.form(f"channel_form_{channel_choice}"):
        kinds = list(support_channels.KINDS)
        h1, h2 = st.columns(2)
        ch_kind = h1.selectbox(
            tr("catalog.channel_kind"),
            kinds,
            index=kinds.index(channel.kind) if channel else 0,
            format_func=lambda k: tr(f"support.kind.{k}"),
        )
        ch_label = h2.text_input(tr("catalog.channel_label"), channel.label if channel else "")
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
                    target=ch_target,
                    hours=ch_hours,
                    prefill=ch_prefill,
                    sort_order=int(ch_order),
                    active=ch_active,
                )
                saved()
    if channel is not None and st.button(tr("catalog.delete"), key="channel_delete"):
        with errors_shown():
            support_channels.delete_channel(actor, channel.id)
            saved()


def automation_tab() -> None:
    st.info(tr("catalog.automation_where"))
    st.page_link(
        "pages/billing.py",
        label=tr("catalog.automation_link"),
        icon=":material/schedule:",
        query_params={"auto": "settings"},  # the billing page opens its settings tab
    )


def templates_tab() -> None:
    st.caption(tr("catalog.templates_help"))
    m1, m2 = st.columns(2)
    tpl_name = m1.selectbox(
        tr("catalog.template"),
        catalog.template_names(),
        format_func=lambda n: (
            tr(f"catalog.template_{n}") if i18n.has(f"catalog.template_{n}") else n
        ),
        key="template_name",
    )
    tpl_lang = m2.selectbox(
        tr("clients.language"),
        i18n.LANGUAGES,
        format_func=i18n.LANGUAGE_NAMES.get,
        key="template_lang",
    )
    found_tpl = None
    with errors_shown():
        found_tpl = catalog.template(actor, tpl_name, tpl_lang)
    if found_tpl is not None:
        st.caption(
            tr("catalog.template_variables", names=", ".join(found_tpl.variables))
            if found_tpl.variables
            else tr("catalog.template_no_variables")
        )
        if found_tpl.override:
            st.caption(tr("catalog.template_overridden"))
        draft = st.text_area(
            tr("catalog.template_text"),
            found_tpl.current,
            height=260,
            key=f"template_text_{tpl_name}_{tpl_lang}",
        )
        n1, n2, n3 = st.columns(3)
        if n1.button(tr("catalog.template_preview"), key="template_preview"):
            with errors_shown():
                preview = catalog.preview_template(actor, tpl_name, tpl_lang, draft)
                box = st.container(border=True)
                box.caption(tr("catalog.template_subject"))
                box.text(preview.subject)
                box.caption(tr("catalog.template_body"))
                box.text(preview.body)
        if n2.button(tr("action.save"), key="template_save"):
            with errors_shown():
                catalog.save_template(actor, tpl_name, tpl_lang, draft)
                st.session_state.pop(f"template_text_{tpl_name}_{tpl_lang}", None)
                saved()
        if n3.button(
            tr("catalog.template_reset"), key="template_reset", disabled=not found_tpl.override
        ):
            with errors_shown():
                catalog.save_template(actor, tpl_name, tpl_lang, "")
                st.session_state.pop(f"template_text_{tpl_name}_{tpl_lang}", None)
                saved()


# ============================================================================ the tabs
# Only the open tab runs (ui.tabs): a hidden one reads nothing and draws no widget. The URL
# names the open tab (?tab=audit), so a link or a reload opens it again.
TABS = {
    "users": ("settings.users", users_tab),
    "security": ("settings.security", security_tab),
    "audit": ("settings.audit", audit_tab),
    "mail": ("settings.outbox", mail_tab),
    "business": ("catalog.tab_business", business_tab),
    "taxes": ("catalog.tab_taxes", taxes_tab),
    "products": ("catalog.tab_products", products_tab),
    "servers": ("catalog.tab_servers", servers_tab),
    "departments": ("catalog.tab_departments", departments_tab),
    "canned": ("catalog.tab_canned", canned_tab),
    "sla": ("catalog.tab_sla", sla_tab),
    "channels": ("catalog.tab_channels", channels_tab),
    "automation": ("catalog.tab_automation", automation_tab),
    "templates": ("catalog.tab_templates", templates_tab),
}
tabs = lazy_tabs(
    "settings_tab", {name: tr(label) for name, (label, _) in TABS.items()}, url_param="tab"
)
shown = open_tab(tabs)
with tabs[shown]:
    TABS[shown][1]()
