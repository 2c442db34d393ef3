"""Cancelling a service (core.services.cancellations): the client's request, with a cheaper
plan offered first, and the staff queue of requests waiting for their date, with undo.

Part of the services page (ui/services/page.py). The reasons clients typed are shown in a
dataframe, never as markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import services
from core.access import Actor, can_open_page
from core.platform.clock import today
from core.platform.config import get_settings
from core.services import cancellations
from ui.kit.context import day, errors_shown, money, tr
from ui.services.common import done


def cancel_section(actor: Actor, d: services.ServiceDetail) -> None:
    """The client asks to cancel: immediately or at the end of the billing period, with a
    reason; a cheaper plan is offered first, and a box confirms (core.services.cancellations)."""
    options = None
    with errors_shown():
        options = cancellations.cancel_options(actor, d.id, today=today(get_settings().tz))
    if options is None or (options.pending is None and not options.can_request):
        return
    st.subheader(tr("cancel.title"))
    if options.pending is not None:
        when = day(options.pending.effective_date)
        st.info(tr(f"cancel.pending.{options.pending.type}", date=when))
        return
    if options.offer is not None:
        offer = options.offer
        st.info(
            tr(
                "cancel.offer",
                plan=offer.name,
                price=money(offer.price),
                cycle=tr(f"cycle.{offer.cycle}"),
                saving=money(offer.saving),
            )
        )
        if can_open_page(actor, "upgrades"):
            st.page_link(
                "pages/upgrades.py",
                label=tr("cancel.offer_link"),
                icon=":material/upgrade:",
                query_params={"service": str(d.id)},  # the quote for this very service
            )
    kinds = {
        k: tr(f"cancel.type.{k}", date=day(options.end_of_period)) for k in cancellations.TYPES
    }
    with st.form("services_cancel"):
        kind = st.radio(
            tr("cancel.when"), list(kinds), format_func=kinds.get, key="services_cancel_type"
        )
        reason = st.text_area(
            tr("cancel.reason"), max_chars=cancellations.REASON_MAX, key="services_cancel_reason"
        )
        if options.begun_stays_due:  # said before confirming: cancelling does not erase it
            st.caption(tr("cancel.begun_stays_due"))
        confirm = st.checkbox(tr("cancel.confirm"), key="services_cancel_confirm")
        if st.form_submit_button(tr("cancel.submit"), key="services_cancel_submit"):
            if not confirm:
                st.error(tr("cancel.confirm_needed"))
            else:
                with errors_shown():
                    cancellations.request(actor, d.id, kind, reason, today=today(get_settings().tz))
                    done("cancel.requested_done")


def cancellation_queue(actor: Actor) -> None:
    """Staff: the cancellation requests waiting for their date, with undo."""
    st.subheader(tr("cancel.queue_title"))
    rows = None
    with errors_shown():
        rows = cancellations.pending(actor)
    if not rows:
        st.info(tr("cancel.queue_empty"))
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("col.domain"): r.domain,
                    tr("services.col_client"): r.client_name,
                    tr("cancel.col_type"): tr(f"cancel.kind.{r.type}"),
                    tr("cancel.col_effective"): day(r.effective_date),
                    tr("cancel.col_requested"): day(r.requested_at.date()),
                    tr("cancel.col_reason"): r.reason,
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    labels = {r.id: f"{r.domain} · {r.client_name}" for r in rows}
    q1, q2 = st.columns([3, 1], vertical_alignment="bottom")
    picked = q1.selectbox(
        tr("cancel.queue_pick"), list(labels), format_func=labels.get, key="services_cancel_pick"
    )
    if q2.button(tr("cancel.undo"), key="services_cancel_undo"):
        with errors_shown():
            cancellations.undo(actor, picked)
            done("cancel.undone_done")
