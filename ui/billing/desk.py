"""The billing desk (staff with the billing right, and the owner): the client pickers' labels,
the transfer receipts waiting for review, and the tabs that record a payment by invoice
numbers, add or remove a client's credit, and write a new invoice.

User-supplied text (client names, references, file names, reasons) is shown with st.text /
st.dataframe, never as markdown or HTML.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd
import streamlit as st

from core import billing
from core.access import Actor
from core.billing.ledger import METHODS
from core.billing.receipts import receipt_file
from core.billing.views import ClientOption, PendingReceipt
from core.billing.voided import CHOICES as VOIDED_CHOICES
from core.platform.clock import today
from core.platform.config import get_settings
from ui.billing import done, paid_done
from ui.billing.invoice import open_invoice
from ui.kit.context import day, errors_shown, money, tr


def client_labels(clients: Mapping[int, ClientOption]) -> Callable[[int | None], str]:
    """The client pickers' ``format_func`` over ``clients`` (id → option); None is "all"."""

    def client_label(client_id: int | None) -> str:
        if client_id is None:
            return tr("billing.filter_all")
        c = clients[client_id]
        return (
            f"{c.name} · {c.tax_id or '-'} · {tr('billing.credit_balance')} "
            f"{money(c.credit_balance)}"
        )

    return client_label


def pending_receipts(actor: Actor, pending: list[PendingReceipt]) -> None:
    """The receipts clients uploaded that no one has approved or rejected yet."""
    st.subheader(tr("billing.pending_receipts"))
    if not pending:
        st.info(tr("billing.no_pending"))
    else:
        receipts = {r.id: r for r in pending}
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
                    for r in pending
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
            voided = None
            if receipts[picked].invoice_status == "cancelled":
                # Rule 8: money for a voided invoice is never silently credit; staff choose.
                voided = st.radio(
                    tr("billing.voided_choice"),
                    VOIDED_CHOICES,
                    index=None,
                    format_func=lambda c: tr(f"billing.voided.{c}"),
                    key="billing_review_voided",
                )
            if st.form_submit_button(tr("billing.review_submit")):
                with errors_shown():
                    if approve:
                        billing.approve_receipt(actor, picked, voided=voided)
                        done("billing.receipt_approved")
                    else:
                        billing.reject_receipt(actor, picked, reason)
                        done("billing.receipt_rejected")


def pay_tab(actor: Actor) -> None:
    """One payment for the invoices given by number; what is over becomes the client's
    credit (the notice says how much)."""
    with st.form("billing_pay_many"):
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
        # Rule 8: a voided invoice takes money only when staff say how (else core asks).
        voided = st.radio(
            tr("billing.voided_choice_pay"),
            VOIDED_CHOICES,
            index=None,
            format_func=lambda c: tr(f"billing.voided.{c}"),
            key="billing_many_voided",
        )
        if st.form_submit_button(tr("billing.pay_submit")):
            with errors_shown():
                result = billing.record_payment_by_numbers(
                    actor,
                    numbers,
                    amount,
                    method=method,
                    reference=reference,
                    received_on=received,
                    voided=voided,
                )
                paid_done(result)


def credit_tab(actor: Actor, clients: Mapping[int, ClientOption]) -> None:
    """Add to or take from a client's credit balance; the reason goes to the audit trail."""
    with st.form("billing_credit"):
        who = st.selectbox(
            tr("billing.credit_client"),
            list(clients),
            format_func=client_labels(clients),
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


def new_invoice_tab(actor: Actor, clients: Mapping[int, ClientOption]) -> None:
    """A one-line invoice (numbered and unpaid at once); it opens, so staff see what was made."""
    with st.form("billing_new"):
        who = st.selectbox(
            tr("billing.credit_client"),
            list(clients),
            format_func=client_labels(clients),
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
