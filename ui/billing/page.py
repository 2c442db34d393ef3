"""Billing: a client's invoices, receipts and credit; the back office for billing staff.

Thin on purpose: the role guard, the core reads (the owner's view adds the automation
ledger), the rendering, and one core action per form. User-supplied text (names,
descriptions, references, reasons, instructions) is shown with st.text / st.dataframe, or in
a client's list as a table with every punctuation character escaped (ui.kit.tables), never as
live markdown or HTML.

This module keeps the notice after an action (ui.kit.flash), the routing and the tabs'
wiring; what is drawn inside lives in ui/, one module a part, so each stays
readable: one invoice (ui.billing.invoice), the desk's receipts and tabs (ui.billing.desk),
the owner's automation (ui.billing.automation). The invoice list and its pager stay here:
the client and the staff views share them.

Used by pages/billing.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import billing
from core.access import Actor
from core.automation import oversight as automation_owner
from core.billing.views import FILTERS, InvoicePage
from core.platform.clock import today
from core.platform.config import get_settings
from core.platform.errors import NotFound
from ui.billing import FLASH
from ui.billing.automation import hold_tab, ledger_tab, preview_tab, settings_tab
from ui.billing.desk import client_labels, credit_tab, new_invoice_tab, pay_tab, pending_receipts
from ui.billing.einvoices import invoice_documents, register_tab
from ui.billing.invoice import (
    client_actions,
    close_invoice,
    open_invoice,
    show_detail,
    staff_actions,
)
from ui.kit import flash, paging
from ui.kit.context import day, errors_shown, money, tr
from ui.kit.ids import query_id
from ui.kit.tables import plain_table
from ui.kit.tabs import lazy_tabs, open_tab

PAGE = "billing_page"


def invoices_table(page: InvoicePage, *, with_client: bool) -> None:
    rows = []
    for r in page.rows:
        row = {tr("billing.col.number"): r.number or tr("billing.draft_number")}
        if with_client:
            row[tr("billing.col.client")] = r.client_name
        status = tr(f"billing.status.{r.status}")
        if r.overdue:
            status = f"{status} · {tr('billing.status.overdue')}"
        if with_client:
            row.update(
                {
                    tr("billing.col.issued"): day(r.issued_on),
                    tr("billing.col.due"): day(r.due_on),
                    tr("billing.col.status"): status,
                    tr("billing.col.total"): money(r.total),
                    tr("billing.col.balance"): money(r.balance),
                }
            )
        else:
            # A client's list fits a phone (390 px), what matters first; the issue date and
            # the total are in the invoice's own view.
            row.update(
                {
                    tr("billing.col.status"): status,
                    tr("billing.col.due"): day(r.due_on),
                    tr("billing.col.balance"): money(r.balance),
                }
            )
        rows.append(row)
    if with_client:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        plain_table(rows, right={tr("billing.col.balance")})
    labels = {r.id: r.number or f"{tr('billing.draft_number')} #{r.id}" for r in page.rows}
    col1, col2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = col1.selectbox(
        tr("billing.open_invoice"), list(labels), format_func=labels.get, key="billing_open"
    )
    col2.button(tr("billing.open"), key="billing_open_btn", on_click=open_invoice, args=(chosen,))


def render(actor: Actor) -> None:
    staff = actor.can("billing") and not actor.is_client
    st.title(tr("page.billing"))

    flash.show(FLASH)

    # --- one invoice (?invoice=) -----------------------------------------------------------------

    if st.query_params.get("invoice") is not None:
        st.button(tr("billing.back"), key="billing_back", on_click=close_invoice)
        invoice_id = query_id("invoice")
        detail = None
        with errors_shown():
            if invoice_id is None:
                raise NotFound()  # a malformed id reads like one that does not exist
            detail = billing.invoice_detail(actor, invoice_id)
        if detail is None:
            st.stop()
        show_detail(actor, detail)
        if detail.status in ("paid", "refunded"):
            invoice_documents(actor, detail.id)
        if actor.is_client:
            client_actions(actor, detail)
        elif staff:
            staff_actions(actor, detail)
        st.stop()

    # --- a client's invoices ---------------------------------------------------------------------

    if actor.is_client:
        view = billing.client_billing_view(actor, page=st.session_state.get(PAGE, 1))
        c1, c2, c3 = st.columns(3)
        c1.metric(tr("billing.amount_owed"), money(view.amount_owed))
        c2.metric(tr("billing.overdue"), money(view.overdue))
        c3.metric(tr("billing.credit_balance"), money(view.credit_balance))
        st.subheader(tr("billing.my_invoices"))
        if not view.invoices.rows:
            st.info(tr("billing.no_invoices"))
        else:
            invoices_table(view.invoices, with_client=False)
            paging.pager(view.invoices, PAGE, "billing")
        if view.amount_owed > 0:
            # How to pay, where there is something to pay (each unpaid invoice shows it too).
            st.subheader(tr("billing.transfer_title"))
            st.text(view.transfer_instructions or tr("billing.transfer_none"))
        st.stop()

    # --- the back office -------------------------------------------------------------------------

    # The filters' last submitted values (the form below keeps them in session state).
    state = st.session_state
    view = billing.staff_billing_view(
        actor,
        status=state.get("billing_f_status"),
        client_id=state.get("billing_f_client"),
        date_from=state.get("billing_f_from"),
        date_to=state.get("billing_f_to"),
        page=state.get(PAGE, 1),
        # The client lists below offer the clients this search finds (and the ones picked).
        client_search=state.get("billing_client_search"),
        client_ids=[
            state.get(k) for k in ("billing_f_client", "billing_cr_who", "billing_new_who")
        ],
    )
    clients = {c.id: c for c in view.clients}
    client_label = client_labels(clients)

    st.text_input(tr("clients.search"), key="billing_client_search")
    with st.form("billing_filters"):
        st.markdown(f"**{tr('billing.filters')}**")
        f1, f2, f3, f4 = st.columns(4)
        f1.selectbox(
            tr("billing.filter_status"),
            [None, *FILTERS],
            format_func=lambda v: (
                tr("billing.filter_all") if v is None else tr(f"billing.status.{v}")
            ),
            key="billing_f_status",
        )
        f2.selectbox(
            tr("billing.filter_client"),
            [None, *clients],
            format_func=client_label,
            key="billing_f_client",
        )
        f3.date_input(tr("billing.filter_from"), value=None, key="billing_f_from")
        f4.date_input(tr("billing.filter_to"), value=None, key="billing_f_to")
        st.form_submit_button(
            tr("billing.filter_apply"), on_click=lambda: st.session_state.update({PAGE: 1})
        )

    st.subheader(tr("billing.all_invoices"))
    if not view.invoices.rows:
        st.info(tr("billing.no_invoices"))
    else:
        invoices_table(view.invoices, with_client=True)
    paging.pager(view.invoices, PAGE, "billing")

    pending_receipts(actor, view.pending_receipts)

    # Only the open tab runs (ui.kit.tabs).
    tabs = lazy_tabs(
        "billing_tab",
        {
            "pay": tr("billing.pay_title"),
            "credit": tr("billing.credit_title"),
            "new": tr("billing.new_invoice_title"),
            "sri": tr("sri.page.title"),
        },
    )
    if tabs["pay"].open:
        with tabs["pay"]:
            pay_tab(actor)

    if tabs["credit"].open:
        with tabs["credit"]:
            credit_tab(actor, clients)

    if tabs["new"].open:
        with tabs["new"]:
            new_invoice_tab(actor, clients)

    if tabs["sri"].open:
        with tabs["sri"]:
            register_tab(actor)

    # --- the owner's automation: preview, ledger, holds and approvals, settings -----------------

    if actor.is_owner:
        st.divider()
        st.header(tr("automation.title"))
        st.caption(tr("automation.help"))
        business_day = today(get_settings().tz)
        # Only the open tab runs and reads (ui.kit.tabs); ?auto=<tab> opens one from a link.
        auto_tabs = lazy_tabs(
            "auto_tab",
            {name: tr(f"automation.tab_{name}") for name in automation_owner.OWNER_TABS},
            url_param="auto",
        )
        shown = open_tab(auto_tabs)
        auto = automation_owner.owner_view(
            actor,
            today=business_day,
            preview_on=state.get("auto_preview_on"),
            search=state.get("auto_preview_search"),
            run_id=state.get("auto_run"),
            action_search=state.get("auto_action_search"),
            service_search=state.get("auto_hold_search"),
            tab=shown,
        )

        if auto_tabs["preview"].open:
            with auto_tabs["preview"]:
                preview_tab(auto)

        if auto_tabs["ledger"].open:
            with auto_tabs["ledger"]:
                ledger_tab(auto)

        if auto_tabs["hold"].open:
            with auto_tabs["hold"]:
                hold_tab(actor, auto, business_day)

        if auto_tabs["settings"].open:
            with auto_tabs["settings"]:
                settings_tab(actor, auto)
