"""Home: a client's services and what they owe; for the desk, its counts and the owner's
figures on one screen (MRR and its trend, cash, aging, expected cash-in, churn, tickets).

Money figures need the billing right, in core as well as here; heavy figures are cached for
a minute, keyed by the reader's role and rights and the day (never by a client's data).

Used by pages/home.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import altair as alt
import pandas as pd
import streamlit as st

from core import catalog
from core.access import Actor
from core.insights.kpis import HomeFigures, home_figures
from core.insights.overview import client_summary, desk_counts
from core.insights.revenue import AGING_BUCKETS
from core.platform.clock import now, today
from core.platform.config import get_settings
from ui.home.setup import setup_checklist
from ui.kit.charts import draw
from ui.kit.context import day, money, money_delta, tr
from ui.kit.tables import plain_table
from ui.settings.einvoice import certificate_notice

# The permissions that reach a client's services (core.access.PERMISSION_FOR[Service]).
SERVICE_PARTS = ("services", "mailboxes", "plan_changes", "cancellations")


@st.cache_data(ttl=60, show_spinner=False)
def business_logo() -> tuple[bytes, str] | None:
    found = catalog.logo()
    return (found.data, found.content_type) if found else None


@st.cache_data(ttl=60, show_spinner=False)
def owner_figures(role: str, rights: tuple[str, ...], on: date, _actor: Actor) -> HomeFigures:
    """Keyed by role, rights and day only: the figures are the business's, not a client's."""
    return home_figures(_actor, on, now())


def number(value: object) -> float:
    """A Decimal as a chart value (charts need plain numbers; the figures stay Decimal)."""
    return float(value)  # type: ignore[arg-type]


def chart(spec: alt.Chart) -> None:
    draw(spec)  # in the reader's locale: "dic 2026", "1.234,50"


def render(actor: Actor) -> None:
    business_today = today(get_settings().tz)

    logo = business_logo()
    if logo:
        st.image(logo[0], width=160)

    if actor.is_client:
        summary = client_summary(actor, business_today)
        st.title(tr("home.client_title"))
        # An invited user sees the figures of the parts they were given (None: not given).
        figures = [
            (tr(key), money(value) if isinstance(value, Decimal) else value)
            for key, value in (
                ("home.amount_owed", summary.amount_owed),
                ("home.overdue", summary.overdue),
                ("home.credit", summary.credit),
                ("home.open_tickets", summary.open_tickets),
            )
            if value is not None
        ]
        for column, (label, value) in zip(st.columns(4), figures, strict=False):
            column.metric(label, value)
        if summary.overdue:
            st.warning(tr("home.overdue_notice", amount=money(summary.overdue)))
        if not any(actor.may(p) for p in SERVICE_PARTS):
            st.stop()  # an invited user for tickets, billing or details only
        st.subheader(tr("home.my_services"))
        if not summary.services:
            st.info(tr("home.no_services"))
        else:
            # What matters first, and no more than a phone's width holds (390 px): the plan,
            # cycle and price are in the service's own view.
            plain_table(
                [
                    {
                        tr("col.domain"): s.domain,
                        tr("col.status"): tr(f"status.{s.status}"),
                        tr("col.next_due"): day(s.next_due_date),
                        tr("col.balance_due"): "—"
                        if s.balance_due is None
                        else money(s.balance_due),
                    }
                    for s in summary.services
                ],
                right={tr("col.balance_due")},
            )
        st.stop()

    counts = desk_counts(actor, business_today)
    st.title(tr("home.desk_title"))
    setup_checklist(actor)
    certificate_notice(actor, business_today)  # the owner's, 30 days before it expires
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

    figures = owner_figures(actor.role, tuple(sorted(actor.permissions)), business_today, actor)

    # ------------------------------------------------------------------------ money
    if figures.mrr is not None and figures.mrr_trend and figures.cash and figures.cash_in:
        st.subheader(tr("kpi.money_title"))
        trend, cash, cash_in = figures.mrr_trend, figures.cash, figures.cash_in
        previous = trend[-2].mrr if len(trend) > 1 else None
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(
            tr("kpi.mrr"),
            money(figures.mrr),
            **money_delta(figures.mrr - previous if previous is not None else None),
            help=tr("kpi.mrr_help"),
        )
        m2.metric(
            tr("kpi.cash_this_month"),
            money(cash.this_month),
            **money_delta(cash.this_month - cash.last_month_to_date),
            help=tr("kpi.cash_help", day=day(cash.last_month_start)),
        )
        m3.metric(tr("kpi.cash_last_month"), money(cash.last_month))
        m4.metric(
            tr("kpi.cash_in_30"),
            money(cash_in.total),
            help=tr(
                "kpi.cash_in_help",
                invoices=money(cash_in.invoices),
                renewals=money(cash_in.renewals),
            ),
        )

        left, right = st.columns(2)
        with left:
            st.markdown(f"**{tr('kpi.mrr_trend')}**")
            mrr_frame = pd.DataFrame(
                {
                    tr("kpi.month"): [p.month for p in trend],
                    tr("kpi.mrr"): [number(p.mrr) for p in trend],
                }
            )
            chart(
                alt.Chart(mrr_frame)
                .mark_line(point=True)
                .encode(
                    x=alt.X(f"{tr('kpi.month')}:T", timeUnit="yearmonth", title=tr("kpi.month")),
                    y=alt.Y(f"{tr('kpi.mrr')}:Q"),
                    tooltip=[alt.Tooltip(f"{tr('kpi.mrr')}:Q", format=",.2f")],
                )
            )
        with right:
            st.markdown(f"**{tr('kpi.aging')}**")
            aging = figures.aging or []
            aging_frame = pd.DataFrame(
                {
                    tr("kpi.bucket"): [tr(f"kpi.bucket_{b.bucket}") for b in aging],
                    tr("kpi.amount"): [number(b.amount) for b in aging],
                    tr("kpi.invoices"): [b.invoices for b in aging],
                }
            )
            chart(
                alt.Chart(aging_frame)
                .mark_bar()
                .encode(
                    x=alt.X(
                        f"{tr('kpi.bucket')}:N",
                        sort=[tr(f"kpi.bucket_{b}") for b in AGING_BUCKETS],
                    ),
                    y=alt.Y(f"{tr('kpi.amount')}:Q"),
                    tooltip=[f"{tr('kpi.invoices')}:Q", f"{tr('kpi.amount')}:Q"],
                )
            )

        left, right = st.columns(2)
        with left:
            st.markdown(f"**{tr('kpi.cash_title')}**")
            cash_frame = pd.DataFrame(
                {
                    tr("kpi.period"): [
                        tr("kpi.cash_last_month"),
                        tr("kpi.cash_last_month_to_date"),
                        tr("kpi.cash_this_month"),
                    ],
                    tr("kpi.amount"): [
                        number(cash.last_month),
                        number(cash.last_month_to_date),
                        number(cash.this_month),
                    ],
                }
            )
            chart(
                alt.Chart(cash_frame)
                .mark_bar()
                .encode(
                    x=alt.X(f"{tr('kpi.period')}:N", sort=None),
                    y=alt.Y(f"{tr('kpi.amount')}:Q"),
                )
            )
        with right:
            st.markdown(f"**{tr('kpi.cash_in_title')}**")
            if not cash_in.days:
                st.caption(tr("kpi.nothing_due"))
            else:
                rows = []
                for d in cash_in.days:
                    rows.append((d.day, tr("kpi.from_invoices"), number(d.invoices)))
                    rows.append((d.day, tr("kpi.from_renewals"), number(d.renewals)))
                due_frame = pd.DataFrame(rows, columns=[tr("kpi.day"), tr("kpi.source"), "v"])
                chart(
                    alt.Chart(due_frame)
                    .mark_bar()
                    .encode(
                        x=alt.X(f"{tr('kpi.day')}:T"),
                        y=alt.Y("v:Q", title=tr("kpi.amount")),
                        color=alt.Color(f"{tr('kpi.source')}:N"),
                    )
                )

    # ------------------------------------------------------------------------ churn
    if figures.churn is not None:
        st.subheader(tr("kpi.churn_title"))
        left, right = st.columns([2, 1])
        with left:
            rows = []
            for m in figures.churn:
                rows.append((m.month, tr("kpi.cancellations"), m.cancellations))
                rows.append((m.month, tr("kpi.terminations"), m.terminations))
            churn_frame = pd.DataFrame(rows, columns=[tr("kpi.month"), tr("kpi.kind"), "n"])
            chart(
                alt.Chart(churn_frame)
                .mark_bar()
                .encode(
                    x=alt.X(f"{tr('kpi.month')}:T", timeUnit="yearmonth", title=tr("kpi.month")),
                    y=alt.Y("n:Q", title=tr("kpi.count")),
                    color=alt.Color(f"{tr('kpi.kind')}:N"),
                    xOffset=f"{tr('kpi.kind')}:N",
                )
            )
            latest = figures.churn[-1]
            if latest.lost_mrr is not None:
                st.caption(tr("kpi.lost_mrr_this_month", amount=money(latest.lost_mrr)))
        with right:
            st.markdown(f"**{tr('kpi.reasons')}**")
            if not figures.reasons:
                st.caption(tr("kpi.no_reasons"))
            else:
                st.dataframe(
                    pd.DataFrame(
                        [(r.reason, r.count) for r in figures.reasons],
                        columns=[tr("kpi.reason"), tr("kpi.count")],
                    ),
                    hide_index=True,
                    width="stretch",
                )

    # ---------------------------------------------------------------------- tickets
    if figures.tickets is not None:
        st.subheader(tr("kpi.tickets_title"))
        tickets = figures.tickets
        t1, t2, t3 = st.columns(3)
        t1.metric(tr("kpi.open_tickets"), tickets.open)
        t2.metric(tr("kpi.sla_breaches"), tickets.breached)
        t3.metric(tr("kpi.unassigned"), tickets.unassigned)
        if tickets.by_priority:
            rows = []
            for priority, n in tickets.by_priority.items():
                late = tickets.breached_by_priority.get(priority, 0)
                rows.append((tr(f"tickets.priority.{priority}"), tr("kpi.on_time"), n - late))
                rows.append((tr(f"tickets.priority.{priority}"), tr("kpi.breached"), late))
            chart(
                alt.Chart(pd.DataFrame(rows, columns=[tr("kpi.priority"), tr("kpi.state"), "n"]))
                .mark_bar()
                .encode(
                    y=alt.Y(f"{tr('kpi.priority')}:N"),
                    x=alt.X("n:Q", title=tr("kpi.count")),
                    color=alt.Color(f"{tr('kpi.state')}:N"),
                )
            )

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
