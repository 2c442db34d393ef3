"""Support tickets: a client's own tickets and threads; the desk's triage queue and ticket view.

Thin on purpose: the role guard, one core read, the rendering, and one core action per form.
Everything a person typed (subjects, messages, notes, file names, names) is shown with
st.text / st.dataframe, or in a client's list as a table with every punctuation character
escaped (ui.kit.tables), never as live markdown or HTML, so ``<script>`` or ``[x](http://…)`` in
a ticket reads literally.

This module keeps the notice after an action, the routing and the tabs' wiring;
what is drawn inside lives in ui/, one module a part, so each stays readable: one ticket with
its thread, actions and the client's context beside it (ui.support.thread), opening a ticket
(ui.support.forms), and what they share (ui.support.common). The ticket list and its pager
stay here, since a client's tickets and the desk's triage queue share them, and so do the
queue's filters and bulk actions.

Used by pages/tickets.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import Actor
from core.platform.clock import now
from core.platform.errors import NotFound
from core.support import tickets
from ui.kit import flash, paging
from ui.kit.context import errors_shown, tr
from ui.kit.ids import query_id
from ui.kit.tables import plain_table
from ui.kit.tabs import lazy_tabs
from ui.support.common import (
    CLEAR,
    FLASH,
    REPLY,
    done,
    leave_ticket,
    priority_label,
    show_ticket,
    status_label,
    when,
)
from ui.support.forms import desk_new_ticket, new_ticket_form
from ui.support.thread import client_actions, context, header, staff_actions, thread

PAGE = "tickets_page"
PER_PAGE = 25


# --- lists -------------------------------------------------------------------------------------


def tickets_table(page: tickets.TicketPage, *, desk: bool) -> None:
    rows = []
    for r in page.rows:
        row = {tr("tickets.col.number"): r.number, tr("tickets.col.subject"): r.subject}
        if desk:
            row[tr("tickets.col.client")] = r.client_name
        if desk:
            row[tr("tickets.col.department")] = r.department
        row[tr("tickets.col.status")] = tr(f"tickets.status.{r.status}")
        if desk:  # a client's list fits a phone; the ticket's own view shows the rest
            row[tr("tickets.col.priority")] = tr(f"tickets.priority.{r.priority}")
        row[tr("tickets.col.last_reply")] = when(r.last_reply_at)
        if desk:
            row[tr("tickets.col.assignee")] = r.assignee or tr("tickets.unassigned")
            row[tr("tickets.col.due")] = when(r.sla_due_at) if r.sla_due_at else "—"
            row[tr("tickets.col.sla")] = tr("tickets.sla_breached") if r.breached else ""
        rows.append(row)
    if desk:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        plain_table(rows)  # a client's own tickets (ui.kit.tables)
    labels = {r.id: f"{r.number} · {r.subject}" for r in page.rows}
    col1, col2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = col1.selectbox(
        tr("tickets.open_ticket"), list(labels), format_func=labels.get, key="tickets_pick"
    )
    col2.button(tr("tickets.open"), key="tickets_open_btn", on_click=show_ticket, args=(chosen,))


def assignee_label(value, staff_names: dict[int, str]) -> str:
    if value is None:
        return tr("tickets.filter_all")
    if value in ("mine", "unassigned"):
        return tr(f"tickets.filter_{value}")
    return staff_names.get(value, "?")


def render(actor: Actor) -> None:
    staff = not actor.is_client
    st.title(tr("page.tickets"))
    if staff and not actor.can("tickets"):
        st.error(tr("error.forbidden"))
        st.stop()

    flash.show(FLASH)
    if st.session_state.pop(CLEAR, False):
        st.session_state[REPLY] = ""

    # --- one ticket (?ticket=) -------------------------------------------------------------------

    if st.query_params.get("ticket") is not None:
        st.button(tr("tickets.back"), key="tickets_back", on_click=leave_ticket)
        ticket_id = query_id("ticket")
        detail = None
        with errors_shown():
            if ticket_id is None:
                raise NotFound()  # a malformed id reads like one that does not exist
            detail = tickets.ticket_view(actor, ticket_id, at=now())
        if detail is None:
            st.stop()
        header(actor, detail)
        if detail.staff_view:
            left, right = st.columns([3, 2])
            with left:
                thread(actor, detail)
                staff_actions(actor, detail)
            with right:
                context(actor, detail)
        else:
            thread(actor, detail)
            client_actions(actor, detail)
        st.stop()

    # --- a client's tickets --------------------------------------------------------------------

    state = st.session_state
    if actor.is_client:
        view = tickets.client_tickets(actor, at=now(), page=state.get(PAGE, 1), per_page=PER_PAGE)
        # Only the open tab is drawn: the new-ticket form is seven widgets the browser would
        # otherwise build, hidden, on every visit to the list (ui.kit.tabs). ``?tab=new`` opens it.
        tabs = lazy_tabs(
            "tickets_client_tab",
            {"list": tr("tickets.my_tickets"), "new": tr("tickets.new_title")},
            url_param="tab",
        )
        if tabs["list"].open:
            with tabs["list"]:
                if not view.tickets.rows:
                    st.info(tr("tickets.none_yet"))
                else:
                    tickets_table(view.tickets, desk=False)
                    paging.pager(view.tickets, PAGE, "tickets")
        if tabs["new"].open:
            with tabs["new"]:
                new_ticket_form(actor, view)
        st.stop()

    # --- the triage queue ----------------------------------------------------------------------

    queue = None
    with errors_shown():
        queue = tickets.triage_queue(
            actor,
            at=now(),
            department_id=state.get("tickets_f_dept"),
            assignee=state.get("tickets_f_assignee"),
            status=state.get("tickets_f_status"),
            priority=state.get("tickets_f_priority"),
            search=state.get("tickets_f_search"),
            page=state.get(PAGE, 1),
            per_page=PER_PAGE,
        )
    if queue is None:
        st.stop()
    dept_names = {d.id: d.name for d in queue.departments}
    staff_names = {o.id: o.name for o in queue.staff}

    desk_new_ticket(actor)

    with st.form("tickets_filters"):
        f1, f2, f3, f4, f5 = st.columns(5)
        f1.selectbox(
            tr("tickets.col.department"),
            [None, *dept_names],
            format_func=lambda v: tr("tickets.filter_all") if v is None else dept_names[v],
            key="tickets_f_dept",
        )
        f2.selectbox(
            tr("tickets.col.assignee"),
            [None, "mine", "unassigned", *staff_names],
            format_func=lambda v: assignee_label(v, staff_names),
            key="tickets_f_assignee",
        )
        f3.selectbox(
            tr("tickets.col.status"),
            [None, *tickets.STATUSES, "all"],
            format_func=lambda v: (
                tr("tickets.filter_every_status") if v == "all" else status_label(v)
            ),
            key="tickets_f_status",
        )
        f4.selectbox(
            tr("tickets.col.priority"),
            [None, *tickets.PRIORITIES],
            format_func=priority_label,
            key="tickets_f_priority",
        )
        f5.text_input(tr("tickets.search"), key="tickets_f_search")
        st.form_submit_button(
            tr("tickets.filter_apply"), on_click=lambda: st.session_state.update({PAGE: 1})
        )

    st.subheader(tr("tickets.queue_title"))
    if not queue.tickets.rows:
        st.info(tr("tickets.queue_empty"))
        st.stop()
    tickets_table(queue.tickets, desk=True)
    paging.pager(queue.tickets, PAGE, "tickets")

    labels = {r.id: f"{r.number} · {r.subject}" for r in queue.tickets.rows}
    with st.form("tickets_bulk"):
        st.markdown(f"**{tr('tickets.bulk_title')}**")
        chosen = st.multiselect(tr("tickets.bulk_pick"), list(labels), format_func=labels.get)
        to = st.selectbox(
            tr("tickets.col.assignee"),
            [None, *staff_names],
            format_func=lambda v: tr("tickets.unassigned") if v is None else staff_names[v],
            key="tickets_bulk_to",
        )
        b1, b2 = st.columns(2)
        bulk_assign = b1.form_submit_button(tr("tickets.bulk_assign"))
        bulk_close = b2.form_submit_button(tr("tickets.bulk_close"))
        if bulk_assign or bulk_close:
            with errors_shown():
                if bulk_assign:
                    count = tickets.bulk_assign(actor, chosen, to, at=now())
                    done("tickets.bulk_assigned", n=str(count))
                else:
                    count = tickets.bulk_close(actor, chosen, at=now())
                    done("tickets.bulk_closed", n=str(count))
