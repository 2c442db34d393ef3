"""A service's add-ons (core.addons): the ones it has, ordering one that fits (its first
invoice prorated to the service's next due date) and ending one at the end of its period.

Part of the services page (ui/services/page.py), for the client who owns the service.
"""

from __future__ import annotations

import streamlit as st

from core import addons, services
from core.access import Actor
from core.platform.clock import now
from ui.kit.context import day, errors_shown, lang, money, tr
from ui.kit.tables import plain_table
from ui.services.common import done


def _state(view: addons.AddonView) -> str:
    if view.note:
        return tr(f"addons.note_{view.note}")
    if view.cancel_at is not None and view.status in ("active", "suspended"):
        return tr("addons.ends_on", date=day(view.cancel_at))
    return tr(f"addons.status.{view.status}")


def addons_section(actor: Actor, d: services.ServiceDetail) -> None:
    """The service's add-ons, the order form and the cancel-at-period-end form."""
    have: list[addons.AddonView] = []
    offers: list[addons.AddonOffer] = []
    with errors_shown():
        have = addons.of_service(actor, d.id, lang())
        # Ordering one needs services and billing (core.addons.ordering): no form without.
        ordering = d.status == "active" and actor.may("services") and actor.may("billing")
        offers = addons.offers(actor, d.id, lang()) if ordering else []
    if not have and not offers:
        return
    st.subheader(tr("addons.title"))
    if have:
        plain_table(
            [
                {
                    tr("addons.col.name"): v.name,
                    tr("addons.col.state"): _state(v),
                    tr("addons.col.price"): money(v.amount),
                    tr("col.next_due"): day(v.next_due) if v.status != "pending" else "—",
                }
                for v in have
            ],
            right=(tr("addons.col.price"),),
        )
    else:
        st.caption(tr("addons.none"))
    free = [o for o in offers if not o.taken]
    if free:
        labels = {
            o.product_id: tr(
                "addons.offer",
                name=o.name,
                price=money(o.price),
                cycle=tr(f"cycle.{d.cycle}"),
                setup=money(o.setup_fee),
            )
            for o in free
        }
        with st.form("addons_order"):
            choice = st.selectbox(
                tr("addons.choose"), list(labels), format_func=labels.get, key="addons_product"
            )
            st.caption(tr("addons.prorated_help", date=day(d.next_due_date)))
            if st.form_submit_button(tr("addons.order"), key="addons_order_submit"):
                with errors_shown():
                    addons.order(actor, d.id, int(choice), at=now())
                    done("addons.ordered_done")
    running = {v.id: v.name for v in have if v.status == "active" and v.cancel_at is None}
    if running and actor.may("cancellations"):  # core refuses it without
        with st.form("addons_cancel"):
            which = st.selectbox(
                tr("addons.cancel_which"),
                list(running),
                format_func=running.get,
                key="addons_cancel_id",
            )
            confirm = st.checkbox(tr("addons.cancel_confirm"), key="addons_cancel_confirm")
            if st.form_submit_button(tr("addons.cancel"), key="addons_cancel_submit"):
                if not confirm:
                    st.error(tr("addons.cancel_confirm_needed"))
                else:
                    with errors_shown():
                        end = addons.cancel_at_period_end(actor, int(which), at=now())
                        done("addons.cancelled_done", date=day(end))
