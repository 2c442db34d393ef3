"""The owner's automation on the billing page: one tab each for the preview of a run, the
ledger of past runs, approvals and holds, and the settings of the daily run. The page draws
the tabs and makes the one read (``automation.oversight.owner_view``); these draw a tab's content.

User-supplied text (client names, domains) is shown with st.dataframe, never as markdown or
HTML.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core import automation
from core.access import Actor
from core.automation import oversight as automation_owner
from core.automation import policy as automation_settings
from core.automation.oversight import AutomationView
from core.services import MAX_FOUND
from ui.billing import done
from ui.kit.context import day, errors_shown, money, tr


def detail_text(step: str, detail: dict) -> str:
    """A ledger action's detail in the reader's language: its error, or each field named."""
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


def preview_tab(auto: AutomationView) -> None:
    """What a run on the chosen date would do, computed now without writing anything."""
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
                        tr("billing.col.amount"): money(r.amount) if r.amount is not None else "",
                        tr("automation.col.addons"): " · ".join(r.lines),
                    }
                    for r in auto.preview
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def ledger_tab(auto: AutomationView) -> None:
    """The runs so far, and what each did (all runs, or the one picked)."""
    if not auto.runs:
        st.info(tr("automation.no_runs"))
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": r.id,
                        tr("automation.col.run_date"): day(r.run_date),
                        tr("automation.col.status"): tr(f"automation.run_status.{r.status}"),
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


def hold_tab(actor: Actor, auto: AutomationView, business_day: date) -> None:
    """Terminations waiting for the owner's approval, and services kept from automatic
    suspension and termination until a date."""
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
                        automation_owner.approve_termination(actor, picked, today=business_day)
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
            until = st.date_input(tr("automation.hold_until"), value=None, key="auto_hold_until")
            st.caption(tr("automation.hold_help"))
            if st.form_submit_button(tr("automation.hold_submit")):
                with errors_shown():
                    automation_owner.hold_service(actor, service_id, until, today=business_day)
                    done("automation.hold_done" if until else "automation.hold_lifted")


def settings_tab(actor: Actor, auto: AutomationView) -> None:
    """The daily run's settings, group by group, then the days before renewal per cycle."""
    with st.form("auto_settings"):
        cfg = auto.settings
        values: dict = {}
        for group, names in automation_settings.SETTINGS_FORM:
            st.markdown(f"**{tr(f'automation.group.{group}')}**")
            for name in names:
                label = tr(f"automation.setting.{name}")
                current = cfg[name]
                if isinstance(current, bool):
                    values[name] = st.checkbox(label, value=current, key=f"auto_set_{name}")
                elif name == "late_fee_type":
                    fee_types = {v: tr(f"automation.fee_type.{v}") for v in ("percentage", "fixed")}
                    values[name] = st.selectbox(
                        label,
                        list(fee_types),
                        index=0 if current == "percentage" else 1,
                        format_func=fee_types.get,
                        key=f"auto_set_{name}",
                    )
                elif name in ("late_fee_amount", "late_fee_minimum"):
                    values[name] = st.text_input(label, value=f"{current}", key=f"auto_set_{name}")
                else:
                    values[name] = st.number_input(
                        label, value=current, step=1, key=f"auto_set_{name}"
                    )
        st.markdown(f"**{tr('automation.group.per_cycle')}**")
        for cycle in automation_settings.CYCLES:
            key = f"invoice_days_before.{cycle}"
            values[key] = st.number_input(
                tr("automation.setting.per_cycle", cycle=tr(f"cycle.{cycle}")),
                value=cfg[key],
                step=1,
                key=f"auto_set_{cycle}",
            )
        if st.form_submit_button(tr("automation.settings_submit")):
            with errors_shown():
                automation_owner.save_settings(actor, values)
                done("automation.settings_saved")
