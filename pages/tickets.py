"""Support tickets: a client's own tickets and threads; the desk's triage queue and ticket view.

Thin on purpose: the role guard, one core read, the rendering, and one core action per form.
Everything a person typed (subjects, messages, notes, file names, names) is shown with
st.text / st.dataframe, or in a client's list as a table with every punctuation character
escaped (ui.tables), never as live markdown or HTML, so ``<script>`` or ``[x](http://…)`` in
a ticket reads literally.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clients, tickets
from core.clock import now
from core.config import get_settings
from core.i18n import moment
from ui.context import day, errors_shown, guard, lang, money, tr
from ui.tables import plain_table
from ui.tabs import lazy_tabs

FLASH = "tickets_flash"
PAGE = "tickets_page"
REPLY = "tickets_reply_body"
CLEAR = "tickets_clear_reply"
PER_PAGE = 25

actor = guard("tickets")
staff = not actor.is_client
st.title(tr("page.tickets"))
if staff and not actor.can("tickets"):
    st.error(tr("error.forbidden"))
    st.stop()

flash = st.session_state.pop(FLASH, None)
if flash:
    st.success(tr(flash[0], **flash[1]))
if st.session_state.pop(CLEAR, False):
    st.session_state[REPLY] = ""


def done(key: str, clear_reply: bool = False, **params: str) -> None:
    """After a successful action: remember the message and rerun with fresh data."""
    st.session_state[FLASH] = (key, params)
    st.session_state[CLEAR] = clear_reply
    st.rerun()


def when(value) -> str:
    return moment(value, lang(), get_settings().tz)


def show_ticket(ticket_id: int) -> None:
    st.query_params["ticket"] = str(ticket_id)


def leave_ticket() -> None:
    st.query_params.pop("ticket", None)


def status_label(status: str | None) -> str:
    return tr("tickets.filter_open_work") if status is None else tr(f"tickets.status.{status}")


def priority_label(priority: str | None) -> str:
    return tr("tickets.filter_all") if priority is None else tr(f"tickets.priority.{priority}")


def kb(size: int) -> str:
    return tr("tickets.size_kb", n=max(1, round(size / 1024)))


def files(uploaded) -> list[tuple[str, bytes]]:
    return [(f.name, f.getvalue()) for f in uploaded or []]


def uploader(rules: tickets.AttachmentRules, key: str):
    return st.file_uploader(
        tr("tickets.attachments", mb=rules.max_mb, n=rules.max_files),
        type=rules.extensions,
        accept_multiple_files=True,
        max_upload_size=rules.max_mb,
        key=key,
    )


# --- lists -------------------------------------------------------------------------------------


def tickets_table(page: tickets.TicketPage, *, desk: bool) -> None:
    rows = []
    for r in page.rows:
        row = {tr("tickets.col.number"): r.number, tr("tickets.col.subject"): r.subject}
        if desk:
            row[tr("tickets.col.client")] = r.client_name
        row.update(
            {
                tr("tickets.col.department"): r.department,
                tr("tickets.col.status"): tr(f"tickets.status.{r.status}"),
                tr("tickets.col.priority"): tr(f"tickets.priority.{r.priority}"),
                tr("tickets.col.last_reply"): when(r.last_reply_at),
            }
        )
        if desk:
            row[tr("tickets.col.assignee")] = r.assignee or tr("tickets.unassigned")
            row[tr("tickets.col.due")] = when(r.sla_due_at) if r.sla_due_at else "—"
            row[tr("tickets.col.sla")] = tr("tickets.sla_breached") if r.breached else ""
        rows.append(row)
    if desk:
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    else:
        plain_table(rows)  # a client's own tickets (ui.tables)
    labels = {r.id: f"{r.number} · {r.subject}" for r in page.rows}
    col1, col2 = st.columns([3, 1], vertical_alignment="bottom")
    chosen = col1.selectbox(
        tr("tickets.open_ticket"), list(labels), format_func=labels.get, key="tickets_pick"
    )
    col2.button(tr("tickets.open"), key="tickets_open_btn", on_click=show_ticket, args=(chosen,))


def pager(page: tickets.TicketPage) -> None:
    st.caption(tr("tickets.page_of", page=page.page, pages=page.pages, total=page.total))
    if page.pages > 1:
        st.number_input(tr("tickets.page"), min_value=1, max_value=page.pages, step=1, key=PAGE)


# --- one ticket ----------------------------------------------------------------------------


def thread(d: tickets.TicketDetail) -> None:
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


def header(d: tickets.TicketDetail) -> None:
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


def client_actions(d: tickets.TicketDetail) -> None:
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


def staff_actions(d: tickets.TicketDetail) -> None:
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
def live_panel(user_id: int, ticket_id: int) -> dict[int, tickets.PanelState]:
    """Panel states for a minute (per user and ticket), so every click on the page does not
    call the panel again."""
    return tickets.panel_states(actor, ticket_id)


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


def context(d: tickets.TicketDetail) -> None:
    ctx = d.context
    if ctx is None:
        return
    st.subheader(tr("tickets.client_context"))
    st.text(d.client_name)
    states: dict[int, tickets.PanelState] = {}
    if any(s.on_panel for s in ctx.services):
        try:
            states = live_panel(actor.user_id, d.id)
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


def new_ticket_form(
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
                done("tickets.opened" if client_id is None else "tickets.opened_for_client")


def desk_new_ticket() -> None:
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
            new_ticket_form(choices, client_id=client_id, form="tickets_desk_new")


ticket_param = st.query_params.get("ticket")
if ticket_param is not None:
    st.button(tr("tickets.back"), key="tickets_back", on_click=leave_ticket)
    detail = None
    with errors_shown():
        detail = tickets.ticket_view(actor, ticket_param, at=now())
    if detail is None:
        st.stop()
    header(detail)
    if detail.staff_view:
        left, right = st.columns([3, 2])
        with left:
            thread(detail)
            staff_actions(detail)
        with right:
            context(detail)
    else:
        thread(detail)
        client_actions(detail)
    st.stop()

# --- a client's tickets --------------------------------------------------------------------

state = st.session_state
if actor.is_client:
    view = tickets.client_tickets(actor, at=now(), page=state.get(PAGE, 1), per_page=PER_PAGE)
    # Only the open tab is drawn: the new-ticket form is seven widgets the browser would
    # otherwise build, hidden, on every visit to the list (ui.tabs). ``?tab=new`` opens it.
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
                pager(view.tickets)
    if tabs["new"].open:
        with tabs["new"]:
            new_ticket_form(view)
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


def assignee_label(value) -> str:
    if value is None:
        return tr("tickets.filter_all")
    if value in ("mine", "unassigned"):
        return tr(f"tickets.filter_{value}")
    return staff_names.get(value, "?")


desk_new_ticket()

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
        format_func=assignee_label,
        key="tickets_f_assignee",
    )
    f3.selectbox(
        tr("tickets.col.status"),
        [None, *tickets.STATUSES, "all"],
        format_func=lambda v: tr("tickets.filter_every_status") if v == "all" else status_label(v),
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
pager(queue.tickets)

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
