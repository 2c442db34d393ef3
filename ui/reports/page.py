"""Reports (owner, and staff with the reports right): income, MRR, aging, services, churn and
tickets, each for a date range, with a chart where it reads better, a table, and CSV/XLSX
exports (formula-safe, ``core.insights.reports``). Money reports need the billing right too; the
core
refuses them otherwise, so they are simply not offered here.

Frames are cached for a minute keyed by the report's parameters and the reader's rights;
their tables as shown and exported, formatted once, also by the reader's language.

Used by pages/reports.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from core.access import Actor
from core.insights import reports
from core.platform.clock import now, today
from core.platform.config import get_settings
from ui.kit.charts import draw
from ui.kit.context import lang, money, tr
from ui.kit.exports import export_buttons
from ui.kit.tabs import lazy_tabs
from ui.knowledge import report as kb_report

MONEY_COLUMNS = ("base", "iva", "total", "mrr", "balance", "lost_mrr")


@st.cache_data(ttl=60, show_spinner=False)
def frame_of(
    name: str, rights: tuple, first: date, last: date, on: date, extra: str, _actor: Actor
) -> pd.DataFrame:
    """One report's frame, keyed by its parameters, the day and the reader's rights only."""
    if name == "income":
        return reports.income_by_month(_actor, first, last)
    if name == "mrr":
        return reports.mrr_trend(_actor, first, last, on)
    if name == "aging":
        return reports.aging_detail(_actor, on, issued_from=first, issued_to=last)
    if name == "services":
        return reports.services_by_product(_actor, first, last)
    if name == "churn":
        return reports.churn(_actor, first, last, on)
    if name == "reasons":
        return reports.churn_reasons(_actor, first, last)
    if name == "tickets":
        return reports.ticket_stats(_actor, first, last, now(), extra)
    return reports.ticket_volume(_actor, first, last)


def each(column: pd.Series, fn: Callable[[object], object]) -> pd.Series:
    """``column.map(fn)`` with ``fn`` called once per distinct value: a report of thousands
    of rows holds few distinct amounts, buckets or statuses, and formatting is the cost."""
    memo: dict[object, object] = {}

    def one(value: object) -> object:
        if value not in memo:
            memo[value] = fn(value)
        return memo[value]

    return column.map(one)


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Money as numbers a chart can draw (the frames hold Decimals)."""
    out = frame.copy()
    for column in MONEY_COLUMNS:
        if column in out.columns:
            out[column] = pd.to_numeric(each(out[column], lambda v: None if v is None else str(v)))
    return out


def headed(frame: pd.DataFrame) -> pd.DataFrame:
    """Column names in the reader's language; bucket and status codes as words."""
    out = frame.copy()
    if "bucket" in out.columns:
        out["bucket"] = each(out["bucket"], lambda b: tr(f"kpi.bucket_{b}"))
    if "status" in out.columns:
        out["status"] = each(out["status"], lambda s: tr(f"status.{s}"))
    return out.rename(columns={c: tr(f"reports.col.{c}") for c in out.columns})


def shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as read on screen: money formatted in the reader's locale."""
    out = frame.copy()
    for column in MONEY_COLUMNS:
        if column in out.columns:
            out[column] = each(out[column], lambda v: "" if v is None else money(v))
    return headed(out)


@st.cache_data(ttl=60, show_spinner=False)
def tables_of(
    name: str,
    rights: tuple,
    first: date,
    last: date,
    on: date,
    extra: str,
    language: str,
    _actor: Actor,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One report as read on screen and as exported, keyed like ``frame_of`` plus the
    reader's language: a rerun formats none of its cells again."""
    frame = frame_of(name, rights, first, last, on, extra, _actor)
    if name == "tickets" and extra == "priority" and "group" in frame.columns:
        frame["group"] = each(frame["group"], lambda p: tr(f"tickets.priority.{p}"))
    return shown(frame), headed(frame)


def table(q: Query, name: str, extra: str = "") -> None:
    screen, export = tables_of(name, q.rights, q.first, q.last, q.on, extra, lang(), q.actor)
    if screen.empty:
        st.info(tr("reports.empty"))
    st.dataframe(screen, hide_index=True, width="stretch")
    export_buttons(export, name, q.on, f"reports_{name}", xlsx=True)


def chart(spec: alt.Chart) -> None:
    draw(spec)  # in the reader's locale: "dic 2026", "1.234,50"


@st.cache_data(ttl=60, show_spinner=False)
def drawn_of(
    name: str, rights: tuple, first: date, last: date, on: date, language: str, _actor: Actor
) -> pd.DataFrame | None:
    """What a report's chart draws (None: no chart), keyed like ``tables_of``: money as plain
    numbers and codes as words, prepared once rather than on every rerun."""
    frame = frame_of(name, rights, first, last, on, "", _actor)
    if name == "income":
        data = plain(frame).melt(id_vars=["month"], value_vars=["base", "iva"], var_name="part")
        data["part"] = each(data["part"], lambda p: tr(f"reports.col.{p}"))
        return data
    if name == "mrr":
        return plain(frame)
    if frame.empty and name in ("aging", "services", "volume"):
        return None
    if name == "aging":
        data = plain(frame).groupby("bucket", as_index=False)["balance"].sum()
        data["bucket"] = each(data["bucket"], lambda b: tr(f"kpi.bucket_{b}"))
        return data
    if name == "services":
        data = frame.copy()
        data["status"] = each(data["status"], lambda s: tr(f"status.{s}"))
        return data
    value_vars = ["cancellations", "terminations"] if name == "churn" else ["opened", "closed"]
    data = frame.melt(
        id_vars=["month" if name == "churn" else "day"], value_vars=value_vars, var_name="kind"
    )
    data["kind"] = each(data["kind"], lambda k: tr(f"reports.col.{k}"))
    return data


def drawn(q: Query, name: str) -> pd.DataFrame | None:
    return drawn_of(name, q.rights, q.first, q.last, q.on, lang(), q.actor)


def income(q: Query) -> None:
    data = drawn(q, "income")
    st.caption(tr("reports.income_help"))
    chart(
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=tr("reports.col.month")),
            y=alt.Y("value:Q", title=tr("reports.col.total")),
            color=alt.Color("part:N", title=""),
        )
    )
    table(q, "income")


def mrr(q: Query) -> None:
    data = drawn(q, "mrr")
    st.caption(tr("kpi.mrr_help"))
    chart(
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=tr("reports.col.month")),
            y=alt.Y("mrr:Q", title=tr("reports.col.mrr")),
        )
    )
    table(q, "mrr")


def aging(q: Query) -> None:
    data = drawn(q, "aging")
    st.caption(tr("reports.aging_help"))
    if data is not None:
        chart(
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("bucket:N", title=tr("reports.col.bucket"), sort=None),
                y=alt.Y("balance:Q", title=tr("reports.col.balance")),
            )
        )
    table(q, "aging")


def services(q: Query) -> None:
    data = drawn(q, "services")
    st.caption(tr("reports.services_help" if q.money_ok else "reports.services_help_counts"))
    if data is not None:
        chart(
            alt.Chart(data)
            .mark_bar()
            .encode(
                x=alt.X("product:N", title=tr("reports.col.product")),
                y=alt.Y("services:Q", title=tr("reports.col.services")),
                color=alt.Color("status:N", title=tr("reports.col.status")),
            )
        )
    table(q, "services")


def churn(q: Query) -> None:
    chart(
        alt.Chart(drawn(q, "churn"))
        .mark_bar()
        .encode(
            x=alt.X("month:O", title=tr("reports.col.month")),
            y=alt.Y("value:Q", title=tr("reports.col.count")),
            color=alt.Color("kind:N", title=""),
            xOffset="kind:N",
        )
    )
    table(q, "churn")
    st.subheader(tr("reports.reasons"))
    table(q, "reasons")


def tickets(q: Query) -> None:
    group = st.segmented_control(
        tr("reports.group_by"),
        ["department", "staff", "priority"],
        default="department",
        format_func=lambda g: tr(f"reports.group_{g}"),
        key="reports_ticket_group",
    )
    table(q, "tickets", group or "department")
    data = drawn(q, "volume")
    st.subheader(tr("reports.volume"))
    if data is not None:
        chart(
            alt.Chart(data)
            .mark_line(point=True)
            .encode(
                x=alt.X("day:T", title=tr("reports.col.day")),
                y=alt.Y("value:Q", title=tr("reports.col.count")),
                color=alt.Color("kind:N", title=""),
            )
        )
    table(q, "volume")


@dataclass(frozen=True)
class Query:
    """What every report on the page is read for: who asks, with which rights, over which
    days, and whether money may be shown."""

    actor: Actor
    rights: tuple
    first: date
    last: date
    on: date  # the business's today
    money_ok: bool


def knowledge(q: Query) -> None:
    kb_report.render(q.actor, q.first, q.last)


def render(actor: Actor) -> None:
    st.title(tr("page.reports"))
    business_today = today(get_settings().tz)
    rights = (actor.role, tuple(sorted(actor.permissions)))

    with st.form("reports_range"):
        c1, c2 = st.columns(2)
        first = c1.date_input(
            tr("reports.from"), business_today - timedelta(days=364), key="reports_from"
        )
        last = c2.date_input(tr("reports.to"), business_today, key="reports_to")
        st.form_submit_button(tr("action.filter"))
    if first > last:
        first, last = last, first

    money_ok = actor.can("billing")
    query = Query(actor, rights, first, last, business_today, money_ok)

    names = (["income", "mrr", "aging"] if money_ok else []) + [
        "services",
        "churn",
        "tickets",
        "knowledge",
    ]
    if not money_ok:
        st.caption(tr("reports.no_money"))
    # Only the open tab runs (ui.kit.tabs): its report alone is read, formatted and drawn. The URL
    # names it (?report=aging), so a link or a reload opens it again.
    tabs = lazy_tabs("reports_tab", {n: tr(f"reports.tab_{n}") for n in names}, url_param="report")

    for name, body in (
        ("income", income),
        ("mrr", mrr),
        ("aging", aging),
        ("services", services),
        ("churn", churn),
        ("tickets", tickets),
        ("knowledge", knowledge),
    ):
        if name in tabs and tabs[name].open:
            with tabs[name]:
                body(query)
