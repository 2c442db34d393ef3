"""One ticket on the tickets page (``?ticket=<id>``): its header and transcript, the thread with
its attachments, and what the reader may do with it. A client replies, closes or reopens; the
desk replies or adds an internal note (with canned replies), changes status, priority and
assignee, and sees beside the thread the client's services with their billing and live panel
state, and the open invoices.

Like the rest of the page, everything a person typed (subjects, messages, notes, file names,
names, canned replies) is shown with st.text / st.dataframe, never as live markdown or HTML,
so ``<script>`` or ``[x](http://…)`` in a ticket reads literally.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import Actor
from core.platform.clock import now
from core.support import tickets
from ui.kit.context import day, errors_shown, money, tr
from ui.knowledge.suggest import link_buttons
from ui.support.common import (
    REPLY,
    done,
    files,
    kb,
    priority_label,
    status_label,
    uploader,
    when,
)


def thread(actor: Actor, d: tickets.TicketDetail) -> None:
    for m in d.messages:
        with st.container(border=True):
            head = f"{m.author} · {when(m.created_at)}"
            if m.internal:
                head = f"{tr('tickets.internal_note')} · {head}"
            elif m.from_staff and not d.staff_view:
                head = f"{head} · {tr('tickets.from_support')}"
            st.text(head)
            st.text(m.body)
            for a in m.attachments:
                st.text(f"{tr('tickets.attachment')}: {a.filename} ({kb(a.size)})")
                st.download_button(
                    tr("tickets.download"),
                    data=lambda aid=a.id: tickets.attachment(actor, d.id, aid).data,
                    file_name=a.filename,
                    mime=a.content_type,
                    on_click="ignore",
                    key=f"tickets_file_{m.id}_{a.id}",
                )


def header(actor: Actor, d: tickets.TicketDetail) -> None:
    st.subheader(tr("tickets.ticket_title", number=d.number))
    st.text(d.subject)
    facts = [
        tr(f"tickets.status.{d.status}"),
        tr("tickets.priority_is", priority=tr(f"tickets.priority.{d.priority}")),
        d.department,
        d.service_domain or tr("tickets.no_service"),
    ]
    st.text(" · ".join(facts))
    if d.staff_view:
        st.text(f"{tr('tickets.col.client')}: {d.client_name}")
        if d.sla_due_at:
            st.caption(tr("tickets.due_at", when=when(d.sla_due_at)))
        if d.breached:
            st.warning(tr("tickets.sla_breached_long"))
    st.download_button(
        tr("tickets.download_transcript"),
        data=lambda: tickets.transcript(actor, d.id),
        file_name=f"{d.number}.txt",
        mime="text/plain",
        on_click="ignore",
        key="tickets_transcript",
    )


def client_actions(actor: Actor, d: tickets.TicketDetail) -> None:
    if d.closed:
        st.info(tr("tickets.closed_notice"))
        if st.button(tr("tickets.reopen"), key="tickets_reopen"):
            with errors_shown():
                tickets.reopen_ticket(actor, d.id, at=now())
                done("tickets.reopened")
        return
    with st.form("tickets_client_reply"):
        body = st.text_area(tr("tickets.your_reply"), key=REPLY, height=160)
        uploaded = uploader(d.rules, "tickets_client_files")
        if st.form_submit_button(tr("tickets.send_reply")):
            with errors_shown():
                tickets.reply(actor, d.id, body, files=files(uploaded), at=now())
                done("tickets.reply_sent", clear_reply=True)
    if st.button(tr("tickets.close"), key="tickets_close"):
        with errors_shown():
            tickets.close_ticket(actor, d.id, at=now())
            done("tickets.closed_done")


def insert_canned(canned: dict[int, tickets.CannedView]) -> None:
    picked = st.session_state.get("tickets_canned_pick")
    if picked in canned:
        current = st.session_state.get(REPLY) or ""
        st.session_state[REPLY] = (current.rstrip() + "\n\n" if current.strip() else "") + (
            canned[picked].body
        )


def staff_actions(actor: Actor, d: tickets.TicketDetail) -> None:
    canned = {c.id: c for c in d.canned}
    if canned:
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        c1.selectbox(
            tr("tickets.canned"),
            list(canned),
            format_func=lambda cid: f"{canned[cid].title} ({canned[cid].language})",
            key="tickets_canned_pick",
        )
        c2.button(
            tr("tickets.canned_insert"),
            key="tickets_canned_insert",
            on_click=insert_canned,
            args=(canned,),
        )
    link_buttons(actor, d.subject, REPLY)
    with st.form("tickets_staff_reply"):
        body = st.text_area(tr("tickets.message"), key=REPLY, height=180)
        uploaded = uploader(d.rules, "tickets_staff_files")
        b1, b2 = st.columns(2)
        send = b1.form_submit_button(tr("tickets.send_reply_client"), disabled=d.closed)
        note = b2.form_submit_button(tr("tickets.add_note"))
        if send or note:
            with errors_shown():
                if send:
                    tickets.reply(actor, d.id, body, files=files(uploaded), at=now())
                    done("tickets.reply_sent", clear_reply=True)
                else:
                    tickets.add_note(actor, d.id, body, files=files(uploaded), at=now())
                    done("tickets.note_added", clear_reply=True)
    if d.closed:
        st.caption(tr("tickets.closed_staff_hint"))

    statuses = [d.status, *d.next_statuses]
    people = {o.id: o.name for o in d.assignable}
    if d.assignee_id is not None and d.assignee_id not in people:
        people[d.assignee_id] = d.assignee or "?"
    with st.form("tickets_manage"):
        m1, m2, m3 = st.columns(3)
        status = m1.selectbox(tr("tickets.col.status"), statuses, format_func=status_label)
        priority = m2.selectbox(
            tr("tickets.col.priority"),
            tickets.PRIORITIES,
            index=tickets.PRIORITIES.index(d.priority),
            format_func=priority_label,
        )
        choices = [None, *people]
        assignee = m3.selectbox(
            tr("tickets.col.assignee"),
            choices,
            index=choices.index(d.assignee_id),
            format_func=lambda u: tr("tickets.unassigned") if u is None else people[u],
        )
        if st.form_submit_button(tr("tickets.save_changes")):
            with errors_shown():
                tickets.update_ticket(
                    actor, d.id, status=status, priority=priority, assignee_id=assignee, at=now()
                )
                done("tickets.saved")


@st.cache_data(ttl=60, show_spinner=False)
def live_panel(_actor: Actor, user_id: int, ticket_id: int) -> dict[int, tickets.PanelState]:
    """Panel states for a minute (per user and ticket), so every click on the page does not
    call the panel again. ``_actor`` is left out of the cache key (the leading underscore):
    ``user_id`` stands for it there, as when this function read the page's actor."""
    return tickets.panel_states(_actor, ticket_id)


def panel_text(state: tickets.PanelState | None, on_panel: bool) -> tuple[str, str]:
    if not on_panel:
        return "—", "—"
    if state is None or not state.reachable:
        return tr("tickets.panel_unreachable"), "—"
    if not state.exists:
        return tr("tickets.panel_missing"), "—"
    label = tr("tickets.panel_suspended" if state.suspended else "tickets.panel_active")
    limit = tr("tickets.unlimited") if state.disk_limit_mb is None else f"{state.disk_limit_mb}"
    return label, tr("tickets.disk_of", used=state.disk_used_mb, limit=limit)


def context(actor: Actor, d: tickets.TicketDetail) -> None:
    ctx = d.context
    if ctx is None:
        return
    st.subheader(tr("tickets.client_context"))
    st.text(d.client_name)
    states: dict[int, tickets.PanelState] = {}
    if any(s.on_panel for s in ctx.services):
        try:
            states = live_panel(actor, actor.user_id, d.id)
        except Exception:  # noqa: BLE001 - the panel must never break the ticket page
            states = {}
    rows = []
    for s in ctx.services:
        panel, disk = panel_text(states.get(s.id), s.on_panel)
        rows.append(
            {
                tr("col.domain"): s.domain,
                tr("col.plan"): s.plan,
                tr("col.status"): tr(f"status.{s.status}"),
                tr("tickets.col.panel"): panel,
                tr("tickets.col.disk"): disk,
                tr("col.next_due"): day(s.next_due_date),
                tr("col.balance_due"): money(s.amount_owed),
            }
        )
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        st.info(tr("tickets.client_no_services"))
    c1, c2 = st.columns(2)
    c1.metric(tr("tickets.open_invoices_total"), money(ctx.amount_owed))
    c2.metric(tr("tickets.overdue_total"), money(ctx.overdue))
    if ctx.invoices:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("tickets.col.invoice"): i.number or f"#{i.id}",
                        tr("col.next_due"): day(i.due_on),
                        tr("col.balance_due"): money(i.balance),
                        tr("tickets.col.overdue"): tr("tickets.yes") if i.overdue else "",
                    }
                    for i in ctx.invoices
                ]
            ),
            hide_index=True,
            width="stretch",
        )
