"""Billing: a client's invoices, receipts and credit; the back office for billing staff.

Thin on purpose: the role guard, one core read, the rendering, and one core action per
form. User-supplied text (names, descriptions, references, reasons, instructions) is shown
with st.text / st.dataframe, never as markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import automation, billing
from core.billing_ledger import METHODS
from core.billing_views import FILTERS, InvoiceDetail, InvoicePage
from core.clock import today
from core.config import get_settings
from core.receipts import RECEIPT_EXTENSIONS, receipt_file
from core.services import MAX_FOUND
from ui.context import day, errors_shown, guard, money, tr
from ui.tables import plain_table
from ui.tabs import lazy_tabs, open_tab

FLASH = "billing_flash"
PAGE = "billing_page"


def _pdf(actor, invoice_id: int) -> bytes:
    # Imported on click: fpdf2 pulls in fontTools (~1 s), which every visit of this page
    # would otherwise pay on a cold server.
    from core.invoice_pdf import invoice_pdf

    return invoice_pdf(actor, invoice_id)


actor = guard("billing")
staff = actor.can("billing") and not actor.is_client
st.title(tr("page.billing"))

flash = st.session_state.pop(FLASH, None)
if flash:
    st.success(tr(flash[0], **flash[1]))


def done(key: str, **params: str) -> None:
    """After a successful action: remember the message and rerun with fresh data."""
    st.session_state[FLASH] = (key, params)
    st.rerun()


def paid_done(result: billing.PaymentResult) -> None:
    if result.credited > 0:
        done("billing.payment_recorded_credit", amount=money(result.credited))
    else:
        done("billing.payment_recorded")


def open_invoice(invoice_id: int) -> None:
    st.query_params["invoice"] = str(invoice_id)


def close_invoice() -> None:
    st.query_params.pop("invoice", None)


def invoices_table(page: InvoicePage, *, with_client: bool) -> None:
    rows = []
    for r in page.rows:
        row = {tr("billing.col.number"): r.number or tr("billing.draft_number")}
        if with_client:
            row[tr("billing.col.client")] = r.client_name
        status = tr(f"billing.status.{r.status}")
        if r.overdue:
            status = f"{status} · {tr('billing.status.overdue')}"
        row.update(
            {
                tr("billing.col.issued"): day(r.issued_on),
                tr("billing.col.due"): day(r.due_on),
                tr("billing.col.status"): status,
                tr("billing.col.total"): money(r.total),
                tr("billing.col.balance"): money(r.balance),
            }
        )
        rows.append(row)
    if with_client:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        plain_table(rows, right={tr("billing.col.total"), tr("billing.col.balance")})
    labels = {r.id: r.number or f"{tr('billing.draft_number')} #{r.id}" for r in page.rows}
    col1, col2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = col1.selectbox(
        tr("billing.open_invoice"), list(labels), format_func=labels.get, key="billing_open"
    )
    col2.button(tr("billing.open"), key="billing_open_btn", on_click=open_invoice, args=(chosen,))


def pager(page: InvoicePage) -> None:
    st.caption(tr("billing.page_of", page=page.page, pages=page.pages, total=page.total))
    if page.pages > 1:
        st.number_input(tr("billing.page"), min_value=1, max_value=page.pages, step=1, key=PAGE)


def show_detail(d: InvoiceDetail) -> None:
    number = d.number or tr("billing.draft_number")
    st.subheader(tr("billing.invoice_title", number=number))
    st.text(d.client_name)
    status = tr(f"billing.status.{d.status}")
    if d.overdue:
        status = f"{status} · {tr('billing.status.overdue')}"
    st.caption(f"{status} · {tr('billing.issued_on', date=day(d.issued_on))}")
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("billing.total"), money(d.total))
    c2.metric(tr("billing.balance"), money(d.balance))
    c3.metric(tr("billing.col.due"), day(d.due_on))

    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("billing.col.description"): line.description,
                    tr("billing.col.period"): " - ".join(
                        day(x) for x in (line.period_start, line.period_end) if x
                    ),
                    tr("billing.col.iva"): f"{line.tax_rate.normalize():f} %",
                    tr("billing.col.amount"): money(line.amount),
                }
                for line in d.lines
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    totals = [(tr("billing.subtotal"), money(d.subtotal))]
    totals += [(tr("billing.iva", rate=f"{g.rate.normalize():f}"), money(g.tax)) for g in d.taxes]
    totals.append((tr("billing.total"), money(d.total)))
    if d.amount_paid > 0:
        totals.append((tr("billing.amount_paid"), money(d.amount_paid)))
    if d.credit_applied > 0:
        totals.append((tr("billing.credit_applied"), money(d.credit_applied)))
    totals.append((tr("billing.balance"), money(d.balance)))
    st.dataframe(
        pd.DataFrame(totals, columns=[tr("billing.col.concept"), tr("billing.col.amount")]),
        hide_index=True,
    )
    if d.notes:
        st.text(d.notes)
    st.download_button(
        tr("billing.download_pdf"),
        data=lambda: _pdf(actor, d.id),
        file_name=f"{d.number or d.id}.pdf",
        mime="application/pdf",
        on_click="ignore",
        key="billing_pdf",
    )

    if d.payments:
        st.subheader(tr("billing.payments"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("billing.col.date"): day(p.received_on),
                        tr("billing.col.amount"): money(p.amount),
                        tr("billing.col.method"): tr(f"billing.method.{p.method}"),
                        tr("billing.col.reference"): p.reference or "",
                    }
                    for p in d.payments
                ]
            ),
            hide_index=True,
        )
    if d.receipts:
        st.subheader(tr("billing.receipts"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("billing.col.uploaded"): day(r.created_at.date()),
                        tr("billing.col.file"): r.filename,
                        tr("billing.col.amount"): money(r.amount),
                        tr("billing.col.reference"): r.reference or "",
                        tr("billing.col.status"): tr(f"billing.receipt_status.{r.status}"),
                        tr("billing.col.reason"): r.reject_reason or "",
                    }
                    for r in d.receipts
                ]
            ),
            hide_index=True,
        )
        for r in d.receipts:
            st.download_button(
                tr("billing.download_receipt", id=r.id),
                data=lambda rid=r.id: receipt_file(actor, rid).data,
                file_name=r.filename,
                on_click="ignore",
                key=f"billing_receipt_{r.id}",
            )


def client_actions(d: InvoiceDetail) -> None:
    if not d.payable:
        return
    st.subheader(tr("billing.transfer_title"))
    st.text(d.transfer_instructions or tr("billing.transfer_none"))
    with st.form("billing_upload", clear_on_submit=True):
        st.markdown(f"**{tr('billing.upload_title')}**")
        upload = st.file_uploader(
            tr("billing.upload_file", mb=d.receipt_max_mb),
            type=list(RECEIPT_EXTENSIONS),
            max_upload_size=d.receipt_max_mb,  # the browser refuses a larger file at once
        )
        amount = st.text_input(tr("billing.upload_amount"), value=f"{d.balance}")
        reference = st.text_input(tr("billing.upload_reference"))
        if st.form_submit_button(tr("billing.upload_submit")):
            if upload is None:
                st.error(tr("billing.upload_missing"))
            else:
                with errors_shown():
                    billing.upload_receipt(
                        actor,
                        d.id,
                        upload.name,
                        upload.getvalue(),
                        amount=amount,
                        reference=reference,
                    )
                    done("billing.receipt_uploaded")
    if d.credit_balance > 0:
        st.caption(tr("billing.credit_available", amount=money(d.credit_balance)))
        if st.button(tr("billing.apply_credit"), key="billing_apply_credit"):
            with errors_shown():
                spent = billing.apply_credit(actor, invoice_id=d.id)
                done("billing.credit_applied_done", amount=money(spent))


def staff_actions(d: InvoiceDetail) -> None:
    st.caption(tr("billing.client_credit", amount=money(d.credit_balance)))
    if d.status == "draft" and st.button(tr("billing.issue_submit"), key="billing_issue"):
        with errors_shown():
            billing.issue_invoice(actor, d.id)
            done("billing.issued_done")
    if d.payable:
        with st.form("billing_pay"):
            st.markdown(f"**{tr('billing.pay_title')}**")
            amount = st.text_input(tr("billing.pay_amount"), value=f"{d.balance}")
            method = st.selectbox(
                tr("billing.pay_method"), METHODS, format_func=lambda m: tr(f"billing.method.{m}")
            )
            reference = st.text_input(tr("billing.pay_reference"))
            received = st.date_input(tr("billing.pay_date"), value=today(get_settings().tz))
            if st.form_submit_button(tr("billing.pay_submit")):
                with errors_shown():
                    result = billing.record_payment(
                        actor,
                        [d.id],
                        amount,
                        method=method,
                        reference=reference,
                        received_on=received,
                    )
                    paid_done(result)
    if d.status in ("draft", "unpaid"):
        destructive("cancel", d, billing.cancel_invoice, "billing.cancelled_done")
    if d.status == "paid":
        destructive("refund", d, billing.refund_invoice, "billing.refunded_done")


def destructive(name: str, d: InvoiceDetail, action, message: str) -> None:
    """A form for an action that cannot be undone: a reason and a confirmation box."""
    with st.form(f"billing_{name}"):
        st.markdown(f"**{tr(f'billing.{name}_title')}**")
        reason = st.text_input(tr("billing.reason"), key=f"billing_{name}_reason")
        confirm = st.checkbox(tr("billing.confirm"), key=f"billing_{name}_confirm")
        if st.form_submit_button(tr(f"billing.{name}_submit")):
            if not confirm:
                st.error(tr("billing.confirm_needed"))
            else:
                with errors_shown():
                    credited = action(actor, d.id, reason=reason)
                    done(message, amount=money(credited))


# --- one invoice (?invoice=) -----------------------------------------------------------------

invoice_param = st.query_params.get("invoice")
if invoice_param is not None:
    st.button(tr("billing.back"), key="billing_back", on_click=close_invoice)
    detail = None
    with errors_shown():
        detail = billing.invoice_detail(actor, invoice_param)
    if detail is None:
        st.stop()
    show_detail(detail)
    if actor.is_client:
        client_actions(detail)
    elif staff:
        staff_actions(detail)
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
        pager(view.invoices)
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
    client_ids=[state.get(k) for k in ("billing_f_client", "billing_cr_who", "billing_new_who")],
)
clients = {c.id: c for c in view.clients}


def client_label(client_id: int | None) -> str:
    if client_id is None:
        return tr("billing.filter_all")
    c = clients[client_id]
    return (
        f"{c.name} · {c.tax_id or '-'} · {tr('billing.credit_balance')} {money(c.credit_balance)}"
    )


st.text_input(tr("clients.search"), key="billing_client_search")
with st.form("billing_filters"):
    st.markdown(f"**{tr('billing.filters')}**")
    f1, f2, f3, f4 = st.columns(4)
    f1.selectbox(
        tr("billing.filter_status"),
        [None, *FILTERS],
        format_func=lambda v: tr("billing.filter_all") if v is None else tr(f"billing.status.{v}"),
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
pager(view.invoices)

st.subheader(tr("billing.pending_receipts"))
if not view.pending_receipts:
    st.info(tr("billing.no_pending"))
else:
    receipts = {r.id: r for r in view.pending_receipts}
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "#": r.id,
                    tr("billing.col.client"): r.client_name,
                    tr("billing.col.number"): r.invoice_number or "",
                    tr("billing.col.amount"): money(r.amount),
                    tr("billing.col.reference"): r.reference or "",
                    tr("billing.col.file"): r.filename,
                    tr("billing.col.uploaded"): day(r.created_at.date()),
                }
                for r in view.pending_receipts
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    picked = st.selectbox(
        tr("billing.review_receipt"),
        list(receipts),
        format_func=lambda rid: (
            f"#{rid} · {receipts[rid].invoice_number} · {money(receipts[rid].amount)}"
        ),
        key="billing_receipt_pick",
    )
    st.download_button(
        tr("billing.download_receipt", id=picked),
        data=lambda: receipt_file(actor, picked).data,
        file_name=receipts[picked].filename,
        on_click="ignore",
        key="billing_receipt_file",
    )
    with st.form("billing_review"):
        approve = st.radio(
            tr("billing.review_action"),
            [True, False],
            format_func=lambda v: tr("billing.approve") if v else tr("billing.reject"),
            horizontal=True,
        )
        reason = st.text_input(tr("billing.reason"), key="billing_review_reason")
        if st.form_submit_button(tr("billing.review_submit")):
            with errors_shown():
                if approve:
                    billing.approve_receipt(actor, picked)
                    done("billing.receipt_approved")
                else:
                    billing.reject_receipt(actor, picked, reason)
                    done("billing.receipt_rejected")

# Only the open tab runs (ui.tabs).
tabs = lazy_tabs(
    "billing_tab",
    {
        "pay": tr("billing.pay_title"),
        "credit": tr("billing.credit_title"),
        "new": tr("billing.new_invoice_title"),
    },
)
if tabs["pay"].open:
    with tabs["pay"], st.form("billing_pay_many"):
        numbers = st.text_input(tr("billing.pay_numbers"))
        amount = st.text_input(tr("billing.pay_amount"), key="billing_many_amount")
        method = st.selectbox(
            tr("billing.pay_method"),
            METHODS,
            format_func=lambda m: tr(f"billing.method.{m}"),
            key="billing_many_method",
        )
        reference = st.text_input(tr("billing.pay_reference"), key="billing_many_reference")
        received = st.date_input(
            tr("billing.pay_date"), value=today(get_settings().tz), key="billing_many_date"
        )
        if st.form_submit_button(tr("billing.pay_submit")):
            with errors_shown():
                result = billing.record_payment_by_numbers(
                    actor, numbers, amount, method=method, reference=reference, received_on=received
                )
                paid_done(result)

if tabs["credit"].open:
    with tabs["credit"], st.form("billing_credit"):
        who = st.selectbox(
            tr("billing.credit_client"),
            list(clients),
            format_func=client_label,
            key="billing_cr_who",
        )
        add = st.radio(
            tr("billing.credit_operation"),
            [True, False],
            format_func=lambda v: tr("billing.credit_add") if v else tr("billing.credit_remove"),
            horizontal=True,
            key="billing_cr_op",
        )
        amount = st.text_input(tr("billing.credit_amount"), key="billing_cr_amount")
        reason = st.text_input(tr("billing.reason"), key="billing_cr_reason")
        if st.form_submit_button(tr("billing.credit_submit")):
            with errors_shown():
                change = billing.add_credit if add else billing.remove_credit
                balance = change(actor, who, amount, reason)
                done("billing.credit_saved", amount=money(balance))

if tabs["new"].open:
    with tabs["new"], st.form("billing_new"):
        who = st.selectbox(
            tr("billing.credit_client"),
            list(clients),
            format_func=client_label,
            key="billing_new_who",
        )
        description = st.text_input(tr("billing.col.description"), key="billing_new_desc")
        amount = st.text_input(tr("billing.new_amount"), key="billing_new_amount")
        due = st.date_input(
            tr("billing.col.due"), value=today(get_settings().tz), key="billing_new_due"
        )
        if st.form_submit_button(tr("billing.new_submit")):
            with errors_shown():
                new_id = billing.create_invoice(
                    actor,
                    who,
                    [billing.LineInput(description=description, amount=amount)],
                    due_on=due,
                )
                open_invoice(new_id)
                done("billing.invoice_created")

# --- the owner's automation: preview, ledger, holds and approvals, settings -----------------

if actor.is_owner:
    st.divider()
    st.header(tr("automation.title"))
    st.caption(tr("automation.help"))
    business_day = today(get_settings().tz)
    # Only the open tab runs and reads (ui.tabs); ?auto=<tab> opens one from a link.
    auto_tabs = lazy_tabs(
        "auto_tab",
        {name: tr(f"automation.tab_{name}") for name in automation.OWNER_TABS},
        url_param="auto",
    )
    shown = open_tab(auto_tabs)
    auto = automation.owner_view(
        actor,
        today=business_day,
        preview_on=state.get("auto_preview_on"),
        search=state.get("auto_preview_search"),
        run_id=state.get("auto_run"),
        action_search=state.get("auto_action_search"),
        service_search=state.get("auto_hold_search"),
        tab=shown,
    )

    def detail_text(step: str, detail: dict) -> str:
        if "error" in detail:
            return tr(detail["error"], **detail.get("params", {}))
        shown = []
        for k, v in detail.items():
            if k == "reminder":
                v = tr(f"automation.kind.{v}")
            elif k == "type":
                v = tr(f"cancel.kind.{v}")
            shown.append(f"{tr(f'automation.detail.{k}')}: {v}")
        return " · ".join(shown)

    if auto_tabs["preview"].open:
        with auto_tabs["preview"]:
            p1, p2 = st.columns(2)
            p1.date_input(tr("automation.preview_date"), value=None, key="auto_preview_on")
            p2.text_input(tr("automation.search"), key="auto_preview_search")
            if auto.preview_on is None:
                st.info(tr("automation.preview_pick"))
            elif not auto.preview:
                st.info(tr("automation.preview_none", date=day(auto.preview_on)))
            else:
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                tr("automation.col.step"): tr(f"automation.step.{r.step}")
                                + (f" · {tr(f'automation.kind.{r.kind}')}" if r.kind else "")
                                + (f" · {tr('automation.awaiting')}" if r.awaiting else ""),
                                tr("billing.col.client"): r.client_name,
                                tr("automation.col.target"): r.target,
                                tr("billing.col.due"): day(r.due),
                                tr("billing.col.amount"): money(r.amount)
                                if r.amount is not None
                                else "",
                            }
                            for r in auto.preview
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                )

    if auto_tabs["ledger"].open:
        with auto_tabs["ledger"]:
            if not auto.runs:
                st.info(tr("automation.no_runs"))
            else:
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                "#": r.id,
                                tr("automation.col.run_date"): day(r.run_date),
                                tr("automation.col.status"): tr(
                                    f"automation.run_status.{r.status}"
                                ),
                                **{
                                    tr(f"automation.count.{k}"): r.counts.get(k, 0)
                                    for k in (*automation.COUNTS, "awaiting_approval")
                                },
                            }
                            for r in auto.runs
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                )
                run_labels = {None: tr("automation.all_runs")}
                run_labels.update({r.id: f"#{r.id} · {day(r.run_date)}" for r in auto.runs})
                l1, l2 = st.columns(2)
                l1.selectbox(
                    tr("automation.pick_run"),
                    list(run_labels),
                    format_func=run_labels.get,
                    key="auto_run",
                )
                l2.text_input(tr("automation.search"), key="auto_action_search")
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                tr("automation.col.run_date"): day(a.run_date),
                                tr("automation.col.step"): tr(f"automation.step.{a.step}"),
                                tr("automation.col.status"): tr(f"automation.status.{a.status}"),
                                tr("automation.col.target"): a.domain or a.invoice_number or "",
                                tr("billing.col.client"): a.client_name or "",
                                tr("automation.col.detail"): detail_text(a.step, a.detail),
                            }
                            for a in auto.actions
                        ],
                        columns=[
                            tr("automation.col.run_date"),
                            tr("automation.col.step"),
                            tr("automation.col.status"),
                            tr("automation.col.target"),
                            tr("billing.col.client"),
                            tr("automation.col.detail"),
                        ],
                    ),
                    hide_index=True,
                    width="stretch",
                )

    if auto_tabs["hold"].open:
        with auto_tabs["hold"]:
            st.subheader(tr("automation.approvals_title"))
            if not auto.awaiting:
                st.info(tr("automation.approvals_none"))
            else:
                waiting = {a.id: f"{a.domain} · {a.client_name}" for a in auto.awaiting}
                with st.form("auto_approve"):
                    picked = st.selectbox(
                        tr("automation.approve_pick"),
                        list(waiting),
                        format_func=waiting.get,
                        key="auto_approve_pick",
                    )
                    sure = st.checkbox(tr("automation.approve_confirm"), key="auto_approve_ok")
                    if st.form_submit_button(tr("automation.approve_submit")):
                        if not sure:
                            st.error(tr("billing.confirm_needed"))
                        else:
                            with errors_shown():
                                automation.approve_termination(actor, picked, today=business_day)
                                done("automation.approved_done")
            st.subheader(tr("automation.hold_title"))
            if auto.held:
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                tr("automation.col.target"): h.domain,
                                tr("billing.col.client"): h.client_name,
                                tr("automation.col.hold_until"): day(h.hold_until),
                            }
                            for h in auto.held
                        ]
                    ),
                    hide_index=True,
                )
            # A search and the services it finds (at most MAX_FOUND, from SQL), not a list
            # of every service in the book.
            st.text_input(tr("automation.hold_search"), key="auto_hold_search")
            choices = {c.id: c.label for c in auto.services}
            if not choices:
                st.info(tr("automation.hold_none_found"))
            else:
                with st.form("auto_hold"):
                    service_id = st.selectbox(
                        tr("automation.hold_service"),
                        list(choices),
                        format_func=choices.get,
                        key="auto_hold_service",
                        help=tr("automation.hold_search_help", n=MAX_FOUND),
                    )
                    until = st.date_input(
                        tr("automation.hold_until"), value=None, key="auto_hold_until"
                    )
                    st.caption(tr("automation.hold_help"))
                    if st.form_submit_button(tr("automation.hold_submit")):
                        with errors_shown():
                            automation.hold_service(actor, service_id, until, today=business_day)
                            done("automation.hold_done" if until else "automation.hold_lifted")

    if auto_tabs["settings"].open:
        with auto_tabs["settings"], st.form("auto_settings"):
            cfg = auto.settings
            values: dict = {}
            for group, names in automation.SETTINGS_FORM:
                st.markdown(f"**{tr(f'automation.group.{group}')}**")
                for name in names:
                    label = tr(f"automation.setting.{name}")
                    current = cfg[name]
                    if isinstance(current, bool):
                        values[name] = st.checkbox(label, value=current, key=f"auto_set_{name}")
                    elif name == "late_fee_type":
                        fee_types = {
                            v: tr(f"automation.fee_type.{v}") for v in ("percentage", "fixed")
                        }
                        values[name] = st.selectbox(
                            label,
                            list(fee_types),
                            index=0 if current == "percentage" else 1,
                            format_func=fee_types.get,
                            key=f"auto_set_{name}",
                        )
                    elif name in ("late_fee_amount", "late_fee_minimum"):
                        values[name] = st.text_input(
                            label, value=f"{current}", key=f"auto_set_{name}"
                        )
                    else:
                        values[name] = st.number_input(
                            label, value=current, step=1, key=f"auto_set_{name}"
                        )
            st.markdown(f"**{tr('automation.group.per_cycle')}**")
            for cycle in automation.CYCLES:
                key = f"invoice_days_before.{cycle}"
                values[key] = st.number_input(
                    tr("automation.setting.per_cycle", cycle=tr(f"cycle.{cycle}")),
                    value=cfg[key],
                    step=1,
                    key=f"auto_set_{cycle}",
                )
            if st.form_submit_button(tr("automation.settings_submit")):
                with errors_shown():
                    automation.save_settings(actor, values)
                    done("automation.settings_saved")
