"""Services: a client's own services (and each one's usage, cPanel password and sign-in), and
every service with the panel actions for staff with the services permission and the owner.

Thin on purpose: the role guard, one core read, the rendering, and one core action per form.
Texts a user typed (domains, reasons, the panel's own error text) are shown as plain text.

Used by pages/services.py, which guards the role and calls ``render``. A service's staff
actions are ui.services.staff_tools, cancelling one (the client's request, the staff queue)
is ui.services.cancellation.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import orders, services
from core.access import Actor, can_open_page
from core.platform.errors import NotFound
from core.platform.i18n import number
from core.services import credentials as services_credentials
from ui.kit import flash, paging
from ui.kit.context import day, errors_shown, lang, money, tr
from ui.kit.ids import query_id
from ui.kit.tables import plain_table
from ui.services.addons import addons_section
from ui.services.cancellation import cancel_section, cancellation_queue
from ui.services.common import FLASH, RESYNC, done
from ui.services.staff_tools import show_resync, staff_tools

PAGE = "services_page"
PER_PAGE = 25


def open_service(service_id: int) -> None:
    st.query_params["service"] = str(service_id)


def close_service() -> None:
    st.query_params.pop("service", None)


def mb(value: float | None) -> str:
    if value is None:
        return tr("services.unlimited")
    if value >= 1024:
        return tr("services.gb", n=number(round(value / 1024, 1), lang()))
    return tr("services.mb", n=number(round(value), lang()))


def usage_block(used: float, limit: float | None, label: str) -> None:
    st.metric(label, tr("services.usage_of", used=mb(used), limit=mb(limit)))
    if limit:
        st.progress(min(100, int(used * 100 / limit)))


def client_tools(actor: Actor, d: services.ServiceDetail) -> None:
    """Reset the cPanel password, sign in to cPanel or webmail, and the mailboxes link."""
    if d.status != "active" or not d.panel_username or not actor.may("services"):
        return
    st.subheader(tr("services.password_title"))
    st.caption(tr("services.reset_help"))
    if st.button(tr("services.reset_button"), key="services_reset"):
        password = None
        with errors_shown():
            password = services_credentials.reset_panel_password(actor, d.id)
        if password:
            st.success(tr("services.reset_done"))
            st.warning(tr("services.reset_shown_once"))
            st.code(password, language=None)

    st.subheader(tr("services.signin_title"))
    st.caption(tr("services.signin_help"))
    c1, c2 = st.columns(2)
    for column, service, label, open_label in (
        (c1, "cpaneld", "services.signin_cpanel", "services.signin_open_cpanel"),
        (c2, "webmaild", "services.signin_webmail", "services.signin_open_webmail"),
    ):
        with column:
            if st.button(tr(label), key=f"services_signin_{service}"):
                url = None
                with errors_shown():
                    url = services_credentials.sign_in_link(actor, d.id, service)
                if url:
                    st.link_button(tr(open_label), url, type="primary")

    if can_open_page(actor, "email_accounts"):
        st.page_link(
            "pages/email_accounts.py",
            label=tr("services.mailboxes_link"),
            icon=":material/mail:",
            query_params={"service": str(d.id)},
        )


def show_detail(actor: Actor, d: services.ServiceDetail) -> None:
    staff = not actor.is_client
    st.button(tr("services.back"), key="services_back", on_click=close_service)
    st.subheader(d.domain)
    if staff:
        st.text(tr("services.client_line", client=d.client_name))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("col.status"), tr(f"status.{d.status}"))
    c2.metric(tr("col.plan"), d.plan)
    c3.metric(tr("col.next_due"), day(d.next_due_date))
    if d.amount_owed is not None:  # None: an invited user without billing
        c4.metric(tr("col.balance_due"), money(d.amount_owed))
    billed = services.billed_amount(d.status, d.recurring_amount)
    if billed is None:  # an ended service is not billed again: no price to show
        st.caption(tr("services.account_line_ended", username=d.panel_username or "—"))
    else:
        st.caption(
            tr(
                "services.account_line",
                username=d.panel_username or "—",
                cycle=tr(f"cycle.{d.cycle}"),
                amount=money(billed),
            )
        )
    if d.suspend_reason and d.status == "suspended":
        st.warning(tr("services.suspended_notice"))
        st.text(services.suspend_reason_text(d.suspend_reason, lang()))
    if d.panel_error:
        st.warning(tr("services.panel_error_title"))
        st.code(d.panel_error, language=None)

    resynced = st.session_state.pop(RESYNC, None)
    if resynced is not None and resynced.service_id == d.id:
        show_resync(resynced)

    if d.has_account and actor.may("services"):  # core reads usage only for it
        st.subheader(tr("services.usage_title"))
        if d.usage is not None:
            u1, u2 = st.columns(2)
            with u1:
                usage_block(d.usage.disk_used_mb, d.usage.disk_limit_mb, tr("services.disk"))
            with u2:
                usage_block(
                    d.usage.bandwidth_used_mb, d.usage.bandwidth_limit_mb, tr("services.bandwidth")
                )
        elif d.usage_error:
            st.info(tr("services.usage_unavailable", reason=tr(d.usage_error)))
    client_tools(actor, d)
    if actor.is_client and actor.may("services") and actor.may("billing"):
        addons_section(actor, d)  # ordering one bills the account
    if actor.is_client and actor.may("cancellations"):
        cancel_section(actor, d)
    if staff:
        staff_tools(actor, d)


def status_cell(r: services.ServiceRow) -> str:
    """The status, flagged when a cancellation is waiting for its date."""
    text = tr(f"status.{r.status}")
    if r.cancel_on is not None:
        text += " · " + tr("services.cancel_on", date=day(r.cancel_on))
    return text


def show_list(actor: Actor) -> None:
    staff = not actor.is_client
    filters = services.STATUSES if staff else services.CLIENT_FILTERS
    c1, c2 = st.columns([1, 2]) if staff else (st, None)
    status = c1.selectbox(
        tr("services.filter_status"),
        ["", *filters],
        format_func=lambda s: tr(f"status.{s}") if s else tr("services.filter_all"),
        key="services_status",
    )
    search = c2.text_input(tr("services.search"), key="services_search") if c2 else None
    page_no = int(st.session_state.get(PAGE, 1))
    result = None
    with errors_shown():
        result = services.list_services(
            actor, status or None, search, PER_PAGE, (page_no - 1) * PER_PAGE
        )
    if result is None:
        return
    if not result.rows and page_no > 1:
        st.session_state[PAGE] = 1
        st.rerun()
    if not result.rows:
        st.info(tr("services.none"))
        return
    rows = []
    for r in result.rows:
        row = {tr("col.domain"): r.domain}
        if staff:
            row[tr("services.col_client")] = r.client_name
            row[tr("services.col_username")] = r.panel_username or "—"
        if staff:  # a client's list fits a phone: the plan is in the service's view
            row[tr("col.plan")] = r.plan
        row.update(
            {
                tr("col.status"): status_cell(r),
                tr("col.next_due"): day(r.next_due_date),
                tr("col.balance_due"): "—" if r.amount_owed is None else money(r.amount_owed),
            }
        )
        if staff:
            row[tr("services.col_panel")] = "⚠" if r.panel_error else ""
        rows.append(row)
    if staff:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        plain_table(rows, right={tr("col.balance_due")})
    paging.pager(result, PAGE, "services")
    labels = {r.id: r.domain for r in result.rows}
    o1, o2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = o1.selectbox(
        tr("services.choose"), list(labels), format_func=labels.get, key="services_open_choice"
    )
    o2.button(tr("services.open"), key="services_open", on_click=open_service, args=(chosen,))


def add_service_form(actor: Actor) -> None:
    """Staff add a service for a client; its first invoice is issued at once, and the account
    is created on the panel when it is paid (core.orders.fulfilment)."""
    with st.expander(tr("orders.add_title"), icon=":material/add:"):
        search = st.text_input(tr("orders.add_client_search"), key="services_add_search")
        form = None
        with errors_shown():
            form = orders.order_form(actor, search)
        if form is None:
            return
        if not form.clients or not form.offers:
            st.info(tr("orders.add_no_clients" if not form.clients else "error.order_plan_invalid"))
            return
        offers = form.offers
        clients = {c.id: c.label for c in form.clients}
        servers: dict[int | None, str] = {None: tr("orders.server_auto")}
        servers.update({srv.id: srv.label for srv in form.servers})
        with st.form("services_add"):
            client_id = st.selectbox(
                tr("orders.add_client"),
                list(clients),
                format_func=clients.get,
                key="services_add_client",
            )
            pick = st.selectbox(
                tr("orders.choose_plan"),
                list(range(len(offers))),
                format_func=lambda i: tr(
                    "orders.offer",
                    plan=offers[i].product,
                    cycle=tr(f"cycle.{offers[i].cycle}"),
                    price=money(offers[i].price),
                ),
                key="services_add_offer",
            )
            domain = st.text_input(tr("orders.domain"), key="services_add_domain")
            server_id = st.selectbox(
                tr("orders.add_server"),
                list(servers),
                format_func=servers.get,
                key="services_add_server",
            )
            if st.form_submit_button(tr("orders.add_submit"), key="services_add_submit"):
                with errors_shown():
                    offer = offers[pick or 0]
                    placed = orders.place_order(
                        actor,
                        client_id=client_id,
                        product_id=offer.product_id,
                        cycle=offer.cycle,
                        domain=domain,
                        server_id=server_id,
                    )
                    # The truth about the account: made now (the client's credit paid the
                    # invoice) or once the invoice is paid.
                    message = "orders.added_paid" if placed.paid else "orders.added_done"
                    done(
                        message,
                        domain=placed.domain,
                        number=placed.invoice_number,
                        credit=money(placed.credit_used),
                    )


def render(actor: Actor) -> None:
    staff = not actor.is_client
    st.title(tr("services.title_staff") if staff else tr("page.services"))

    flash.show(FLASH)

    if st.query_params.get("service"):
        wanted = query_id("service")
        detail = None
        with errors_shown():
            if wanted is None:
                raise NotFound()  # a malformed id reads like one that does not exist
            detail = services.service_detail(actor, wanted)
        if detail is None:
            st.button(tr("services.back"), key="services_back_missing", on_click=close_service)
        else:
            show_detail(actor, detail)
    else:
        show_list(actor)
        if staff and actor.can("services"):
            add_service_form(actor)
            cancellation_queue(actor)
