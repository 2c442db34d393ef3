"""Home: a client's services and what they owe; the desk's counts for staff and the owner."""

import pandas as pd
import streamlit as st

from core.clock import today
from core.config import get_settings
from core.overview import client_summary, desk_counts
from ui.context import day, guard, money, tr

actor = guard("home")
business_today = today(get_settings().tz)

if actor.is_client:
    summary = client_summary(actor, business_today)
    st.title(tr("home.client_title"))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("home.amount_owed"), money(summary.amount_owed))
    c2.metric(tr("home.overdue"), money(summary.overdue))
    c3.metric(tr("home.credit"), money(summary.credit))
    c4.metric(tr("home.open_tickets"), summary.open_tickets)
    if summary.overdue > 0:
        st.warning(tr("home.overdue_notice", amount=money(summary.overdue)))
    st.subheader(tr("home.my_services"))
    if not summary.services:
        st.info(tr("home.no_services"))
    else:
        frame = pd.DataFrame(
            [
                {
                    tr("col.domain"): s.domain,
                    tr("col.plan"): s.product,
                    tr("col.status"): tr(f"status.{s.status}"),
                    tr("col.cycle"): tr(f"cycle.{s.cycle}"),
                    tr("col.next_due"): day(s.next_due_date),
                    tr("col.recurring"): money(s.recurring_amount),
                    tr("col.balance_due"): money(s.balance_due),
                }
                for s in summary.services
            ]
        )
        st.dataframe(frame, hide_index=True, width="stretch")
else:
    counts = desk_counts(actor, business_today)
    st.title(tr("home.desk_title"))
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("home.clients"), counts.clients)
    c2.metric(tr("home.active_services"), counts.services_by_status.get("active", 0))
    c3.metric(tr("home.suspended_services"), counts.services_by_status.get("suspended", 0))
    c4.metric(tr("home.open_tickets"), counts.open_tickets)
    c5, c6, c7, c8 = st.columns(4)
    c5.metric(tr("home.unassigned_tickets"), counts.unassigned_tickets)
    if actor.can("billing"):
        c6.metric(tr("home.unpaid_invoices"), counts.unpaid_invoices)
        c7.metric(tr("home.receivables"), money(counts.receivables))
        c8.metric(tr("home.overdue_invoices"), counts.overdue_invoices)
    st.subheader(tr("home.services_by_status"))
    st.dataframe(
        pd.DataFrame(
            [
                {tr("col.status"): tr(f"status.{k}"), tr("col.count"): v}
                for k, v in sorted(counts.services_by_status.items())
            ]
        ),
        hide_index=True,
    )
