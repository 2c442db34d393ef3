"""One invoice on the billing page (``?invoice=<id>``): what it says, its PDF, its payments and
receipts, and what the reader may do with it: a client pays by transfer (uploads a receipt)
or spends credit; billing staff issue a draft, record a payment, cancel or refund.

Like the rest of the page, user-supplied text (names, descriptions, references, reasons,
transfer instructions, notes) is shown with st.text / st.dataframe, never as markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import billing
from core.access import Actor
from core.billing.invoice_view import InvoiceDetail
from core.billing.ledger import METHODS
from core.billing.receipts import RECEIPT_EXTENSIONS, receipt_file
from core.billing.voided import reopen_invoice
from core.platform.clock import today
from core.platform.config import get_settings
from ui.billing import done, paid_done
from ui.kit.context import day, errors_shown, money, tr


def _pdf(actor: Actor, invoice_id: int) -> bytes:
    # Imported on click: fpdf2 pulls in fontTools (~1 s), which every visit of this page
    # would otherwise pay on a cold server.
    from core.billing.pdf import invoice_pdf

    return invoice_pdf(actor, invoice_id)


def open_invoice(invoice_id: int) -> None:
    """The open invoice lives in the URL (``?invoice=``): a link or a reload opens it again."""
    st.query_params["invoice"] = str(invoice_id)


def close_invoice() -> None:
    st.query_params.pop("invoice", None)


def show_detail(actor: Actor, d: InvoiceDetail) -> None:
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


def client_actions(actor: Actor, d: InvoiceDetail) -> None:
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
        # The balance is offered until a receipt is sent; after a successful upload the
        # field starts empty (it kept the amount, as if nothing had been sent).
        sent = any(r.status == "pending" for r in d.receipts)
        # No key: the widget's identity includes its value, so the new default takes over.
        amount = st.text_input(tr("billing.upload_amount"), value="" if sent else f"{d.balance}")
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


def staff_actions(actor: Actor, d: InvoiceDetail) -> None:
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
    if d.status == "cancelled" and st.button(tr("billing.reopen_submit"), key="billing_reopen"):
        with errors_shown():
            reopen_invoice(actor, d.id)
            done("billing.reopened_done")
    if d.status in ("draft", "unpaid"):
        destructive(actor, "cancel", d, billing.cancel_invoice, "billing.cancelled_done")
    if d.status == "paid":
        destructive(actor, "refund", d, billing.refund_invoice, "billing.refunded_done")


def destructive(actor: Actor, name: str, d: InvoiceDetail, action, message: str) -> None:
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
