"""A service's panel actions for staff with the services right and the owner: provision,
suspend, unsuspend, change plan, resync (and its report), terminate.

Part of the services page (ui/services/page.py), which shows them under a service's detail.
The panel's own texts in a resync report are shown in a dataframe, never as markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from core.access import Actor
from core.services import provisioning as services_provisioning
from ui.kit.context import errors_shown, tr
from ui.services.common import RESYNC, done


def show_resync(report: services_provisioning.ResyncReport) -> None:
    if report.in_sync:
        st.success(tr("services.resync_in_sync"))
        return
    st.warning(tr("services.resync_differences"))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("services.diff_field"): tr(f"services.diff.{d.field}"),
                    tr("services.diff_database"): d.database,
                    tr("services.diff_panel"): d.panel,
                    tr("services.diff_outcome"): tr(
                        "services.diff_fixed" if d.fixed else "services.diff_reported"
                    ),
                }
                for d in report.differences
            ]
        ),
        hide_index=True,
    )


def staff_tools(actor: Actor, d: services.ServiceDetail) -> None:
    """Provision, suspend, unsuspend, change plan, terminate and resync (services right)."""
    if not actor.can("services"):
        return
    st.subheader(tr("services.actions_title"))
    can_provision = not d.panel_username and d.status in ("pending", "active")
    if can_provision and st.button(tr("services.provision_button"), key="services_provision"):
        with errors_shown():
            made = services_provisioning.provision(actor, d.id)
            done(
                "services.provision_adopted" if made.adopted else "services.provision_done",
                username=made.username,
            )
    if d.status == "active":
        with st.form("services_suspend"):
            reason = st.text_input(tr("services.suspend_reason_input"), key="services_reason")
            if st.form_submit_button(tr("services.suspend_button"), key="services_suspend_submit"):
                with errors_shown():
                    services_provisioning.suspend(actor, d.id, reason)
                    done("services.suspended_done")
    if d.status == "suspended" and st.button(
        tr("services.unsuspend_button"), key="services_unsuspend"
    ):
        with errors_shown():
            services_provisioning.unsuspend(actor, d.id)
            done("services.unsuspended_done")
    if d.status in ("active", "suspended"):
        others = [p for p in d.plan_options if p.id != d.product_id]
        if others:
            with st.form("services_plan"):
                names = {p.id: p.name for p in others}
                target = st.selectbox(
                    tr("services.change_plan_input"),
                    list(names),
                    format_func=names.get,
                    key="services_plan_choice",
                )
                if st.form_submit_button(
                    tr("services.change_plan_button"), key="services_plan_submit"
                ):
                    with errors_shown():
                        services_provisioning.change_plan(actor, d.id, target)
                        done("services.plan_changed_done", plan=names[target])
    if st.button(tr("services.resync_button"), key="services_resync"):
        with errors_shown():
            st.session_state[RESYNC] = services_provisioning.resync(actor, d.id)
            st.rerun()
    if d.status != "terminated":
        st.divider()
        confirm = st.checkbox(tr("services.terminate_confirm"), key="services_terminate_ok")
        if st.button(
            tr("services.terminate_button"),
            key="services_terminate",
            type="primary",
            disabled=not confirm,
        ):
            with errors_shown():
                services_provisioning.terminate(actor, d.id)
                done("services.terminated_done")
