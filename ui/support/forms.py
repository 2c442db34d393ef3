"""Opening a ticket on the tickets page: the form a client fills in (department, the service it
is about, priority, subject, message, attachments), and the desk's way to open one for a
client who called or wrote: find the client, then the same form.

The page's rule holds here too: what a person typed is shown with st.text / st.dataframe or
the escaped tables of ui.kit.tables, never as live markdown or HTML. These forms show it only as a
select box's options (client names and e-mail addresses, services), which are plain text.
"""

from __future__ import annotations

import streamlit as st

from core import clients
from core.access import Actor
from core.platform.clock import now
from core.support import tickets
from ui.kit.context import errors_shown, tr
from ui.knowledge.suggest import suggestions, ticket_sent
from ui.support.common import done, files, priority_label, show_ticket, uploader


def new_ticket_form(
    actor: Actor,
    view: tickets.ClientTicketsView | tickets.TicketChoices,
    *,
    client_id: int | None = None,
    form: str = "tickets_new",
) -> None:
    """A ticket for a department, about one of the client's services or none: a client
    opens their own; staff open one for ``client_id``."""
    if not view.departments:
        st.info(tr("tickets.no_departments"))
        return
    departments = {d.id: d.name for d in view.departments}
    services = {s.id: s.name for s in view.services}
    subject_key = f"{form}_subject"
    if actor.is_client:
        # Outside the form, so each pause in typing reruns the page and the help centre's
        # best matches for the subject appear before the ticket is sent (issue 19).
        subject = st.text_input(
            tr("tickets.col.subject"), max_chars=200, key=subject_key, live=True
        )
        suggestions(actor, subject)
    with st.form(form):
        dept = st.selectbox(
            tr("tickets.col.department"), list(departments), format_func=departments.get
        )
        service = st.selectbox(
            tr("tickets.affected_service"),
            [None, *services],
            format_func=lambda v: tr("tickets.no_service") if v is None else services[v],
        )
        priority = st.selectbox(
            tr("tickets.col.priority"),
            tickets.PRIORITIES,
            index=tickets.PRIORITIES.index("medium"),
            format_func=priority_label,
        )
        if not actor.is_client:
            subject = st.text_input(tr("tickets.col.subject"), max_chars=200)
        body = st.text_area(tr("tickets.message"), height=180)
        uploaded = uploader(view.rules, f"{form}_files")
        if st.form_submit_button(tr("tickets.submit_new")):
            with errors_shown():
                new_id = tickets.open_ticket(
                    actor,
                    department_id=dept,
                    service_id=service,
                    priority=priority,
                    subject=subject,
                    body=body,
                    files=files(uploaded),
                    client_id=client_id,
                    at=now(),
                )
                show_ticket(new_id)
                if actor.is_client:
                    ticket_sent()
                    st.session_state.pop(subject_key, None)
                done("tickets.opened" if client_id is None else "tickets.opened_for_client")


def desk_new_ticket(actor: Actor) -> None:
    """Staff open a ticket for a client who called or wrote: find the client, then the same
    form a client fills in. Drawn only while switched on, so the queue's reruns stay light."""
    if not st.toggle(tr("tickets.desk_new_title"), key="tickets_dn_open"):
        return
    with st.container(border=True):
        search = st.text_input(tr("tickets.desk_new_search"), key="tickets_dn_search")
        found = None
        with errors_shown():
            found = clients.clients_for_ticket(actor, search or "")
        if found is None:
            return
        if not found.rows:
            st.info(tr("tickets.desk_new_none"))
            return
        names = {c.id: f"{c.name} · {c.email or '-'}" for c in found.rows}
        client_id = st.selectbox(
            tr("tickets.col.client"), list(names), format_func=names.get, key="tickets_dn_client"
        )
        if found.total > len(found.rows):
            st.caption(tr("tickets.desk_new_more", n=found.total))
        choices = None
        with errors_shown():
            choices = tickets.ticket_choices(actor, client_id)
        if choices is not None:
            new_ticket_form(actor, choices, client_id=client_id, form="tickets_desk_new")
