"""Support tickets: opening, the reply thread, internal notes, assignment, status and priority,
close and reopen, bulk actions and the daily auto-close.

Who may do what:

* a client: open a ticket in a department that clients may pick, about one of their own
  services (a foreign service or ticket id is ``NotFound``); reply, close and reopen their own.
* staff with the tickets right and the owner: every ticket; reply, add internal notes (never
  shown, mailed or exported to a client), assign (staff: themselves or another member of the
  ticket's department; the owner: anyone on the desk), set status and priority, bulk assign
  and bulk close.

Each ticket carries its SLA (``core.support.sla``): ``sla_due_at`` is the next deadline (the first
response until staff answer, then the resolution), ``breached`` records a deadline missed.
Times are passed in (``at``, naive UTC) so tests pin them.

The desk is split by job: ``common`` (statuses, transition table, loader, texts,
attachment rules), ``flow`` (the moves actions are made of), ``notices`` (who
hears of what), ``views`` (lists, queue, thread), ``context`` (the client's
services, invoices and live panel state beside a ticket), ``files`` (attachments,
transcript), ``desk_admin`` (departments, canned replies) and ``stats`` (report
frames). The public names are re-exported here so pages import one module.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from core.access import Actor, get_scoped, require_permission
from core.accounts import recovery
from core.models import Client, Department, Service, Ticket
from core.platform.db import transaction
from core.platform.errors import NotFound, ValidationError
from core.platform.sequences import next_number
from core.support import flow, limits, sla
from core.support import notices as tickets_mail
from core.support.autoclose import AUTOCLOSE_GROUP, autoclose_waiting  # noqa: F401 - the run
from core.support.common import (  # noqa: F401 - re-exported for pages
    AUTOCLOSE_DAYS_KEY,
    OPEN_STATUSES,
    PRIORITIES,
    STATUSES,
    TRANSITIONS,
    WAITING_ON_CUSTOMER,
    AttachmentRules,
    NewFile,
    attachment_rules,
    can_move,
    check_priority,
    clean_body,
    clean_subject,
    is_breached,
    load,
    require_move,
    set_attachment_rules,
    store_files,
)
from core.support.context import ClientContext, PanelState, panel_states  # noqa: F401
from core.support.desk_admin import (  # noqa: F401 - re-exported for pages
    CannedView,
    DepartmentView,
    canned_replies,
    delete_canned_reply,
    delete_department,
    departments,
    save_canned_reply,
    save_department,
)
from core.support.files import FileOut, attachment, transcript  # noqa: F401 - re-exported
from core.support.stats import stats_by, volume_by_day  # noqa: F401 - re-exported
from core.support.views import (  # noqa: F401 - re-exported for pages
    ASSIGNEE_FILTERS,
    Attachment,
    ClientTicketsView,
    MessageView,
    QueueView,
    TicketChoices,
    TicketDetail,
    TicketPage,
    TicketRow,
    client_tickets,
    ticket_choices,
    ticket_view,
    triage_queue,
)


# ------------------------------------------------------------------------ opening
def _service_for(s: Session, actor: Actor, client_id: int, service_id: int | None) -> int | None:
    if service_id in (None, ""):
        return None
    if actor.is_client:
        return get_scoped(s, actor, Service, service_id).id  # a foreign id is NotFound
    try:
        service = s.get(Service, int(service_id))
    except (TypeError, ValueError):
        raise NotFound() from None
    if service is None:
        raise NotFound()
    if service.client_id != client_id:
        raise ValidationError("error.ticket_service_not_clients")
    return service.id


def open_ticket(
    actor: Actor,
    *,
    department_id: int,
    subject: str,
    body: str,
    priority: str = "medium",
    service_id: int | None = None,
    client_id: int | None = None,
    files: Sequence[NewFile] = (),
    at: datetime,
    session: Session | None = None,
) -> int:
    """A new ticket; returns its id. A client opens their own (in a department clients may
    pick, about one of their services); staff open one for ``client_id``. One bad attachment
    and nothing is stored."""
    require_permission(actor, "tickets")
    subject_text, body_text = clean_subject(subject), clean_body(body)
    check_priority(priority)
    with transaction(session) as s:
        if actor.is_client:
            recovery.require_verified(actor, session=s)
            limits.check_post(s, actor, "new", at)
            owner_id = actor.client_id
        else:
            flow.require_desk(actor)
            if client_id is None or s.get(Client, int(client_id)) is None:
                raise ValidationError("error.ticket_client_required")
            owner_id = int(client_id)
        try:
            dept = s.get(Department, int(department_id))
        except (TypeError, ValueError):
            dept = None
        if dept is None or (actor.is_client and not dept.client_visible):
            raise ValidationError("error.ticket_department_invalid")
        assert owner_id is not None
        ticket = Ticket(
            number=next_number(s, "ticket"),
            client_id=owner_id,
            department_id=dept.id,
            service_id=_service_for(s, actor, owner_id, service_id),
            subject=subject_text,
            status="open",
            priority=priority,
            breached=False,
            last_reply_at=at,
            created_at=at,
        )
        s.add(ticket)
        s.flush()
        flow.refresh_due(ticket, sla.policy(session=s))
        ids = store_files(s, actor, ticket, files)
        flow.add_message(s, actor, ticket, body_text, ids, False, at)
        if not actor.is_client:  # opened by staff: that message is the first response
            ticket.status = "answered"
            ticket.first_response_at = at
            ticket.sla_due_at = ticket.resolution_due_at
            tickets_mail.to_client(s, ticket, "ticket_reply", body_text)
        tickets_mail.to_desk(s, ticket, actor, "ticket_new", body_text)
        flow.record(s, actor, "ticket.opened", ticket, at, priority=priority, files=len(ids))
        return ticket.id


# ------------------------------------------------------------------------- thread
def reply(
    actor: Actor,
    ticket_id: int,
    body: str,
    *,
    files: Sequence[NewFile] = (),
    at: datetime,
    session: Session | None = None,
) -> int:
    """A reply in the thread; returns the message id. Staff replies answer the ticket and
    mail the client; a customer reply mails the desk. A closed ticket takes no replies
    until it is reopened."""
    require_permission(actor, "tickets")
    text = clean_body(body)
    with transaction(session) as s:
        ticket = load(s, actor, ticket_id, lock=True)
        if ticket.status == "closed":
            raise ValidationError("error.ticket_closed")
        limits.check_post(s, actor, "reply", at)
        flow.ensure_due(s, ticket)
        if actor.is_client:
            # Adding to one's own unanswered ticket leaves it open.
            new = "open" if ticket.status == "open" else "customer_reply"
        else:
            new = "answered"
        if new != ticket.status:
            require_move(ticket.status, new)
        ids = store_files(s, actor, ticket, files)
        msg = flow.add_message(s, actor, ticket, text, ids, False, at)
        ticket.status = new
        ticket.last_reply_at = at
        if actor.is_client:
            tickets_mail.to_desk(s, ticket, actor, "ticket_customer_reply", text)
        else:
            if ticket.first_response_at is None:
                if ticket.sla_due_at is not None and at > ticket.sla_due_at:
                    ticket.breached = True
                ticket.first_response_at = at
                ticket.sla_due_at = ticket.resolution_due_at
            tickets_mail.to_client(s, ticket, "ticket_reply", text)
        flow.record(s, actor, "ticket.replied", ticket, at, files=len(ids))
        return msg.id


def add_note(
    actor: Actor,
    ticket_id: int,
    body: str,
    *,
    files: Sequence[NewFile] = (),
    at: datetime,
    session: Session | None = None,
) -> int:
    """An internal note: staff only, no status change, no mail, never shown to the client."""
    flow.require_desk(actor)
    text = clean_body(body)
    with transaction(session) as s:
        ticket = load(s, actor, ticket_id, lock=True)
        ids = store_files(s, actor, ticket, files)
        msg = flow.add_message(s, actor, ticket, text, ids, True, at)
        flow.record(s, actor, "ticket.note_added", ticket, at, files=len(ids))
        return msg.id


# -------------------------------------------------------------- status and people
def close_ticket(
    actor: Actor, ticket_id: int, *, at: datetime, session: Session | None = None
) -> None:
    """Close a ticket (a client: their own)."""
    require_permission(actor, "tickets")
    with transaction(session) as s:
        ticket = load(s, actor, ticket_id, lock=True)
        flow.close(s, actor, ticket, at)


def reopen_ticket(
    actor: Actor, ticket_id: int, *, at: datetime, session: Session | None = None
) -> None:
    """Reopen a closed ticket (a client: their own); its SLA clock starts again."""
    require_permission(actor, "tickets")
    with transaction(session) as s:
        ticket = load(s, actor, ticket_id, lock=True)
        flow.reopen(s, actor, ticket, at)
        if actor.is_client:
            tickets_mail.to_desk(s, ticket, actor, "ticket_customer_reply", "")


def set_status(
    actor: Actor, ticket_id: int, status: str, *, at: datetime, session: Session | None = None
) -> None:
    """Staff set a status by hand, along the transition table."""
    flow.require_desk(actor)
    with transaction(session) as s:
        flow.change_status(s, actor, load(s, actor, ticket_id, lock=True), status, at)


def set_priority(
    actor: Actor, ticket_id: int, priority: str, *, at: datetime, session: Session | None = None
) -> None:
    """Staff change the priority; the SLA deadlines follow."""
    flow.require_desk(actor)
    with transaction(session) as s:
        flow.change_priority(s, actor, load(s, actor, ticket_id, lock=True), priority, at)


def assign(
    actor: Actor,
    ticket_id: int,
    assignee_id: int | None,
    *,
    at: datetime,
    session: Session | None = None,
) -> None:
    """Give the ticket to a member of the desk (None: nobody)."""
    flow.require_desk(actor)
    with transaction(session) as s:
        flow.change_assignee(s, actor, load(s, actor, ticket_id, lock=True), assignee_id, at)


def update_ticket(
    actor: Actor,
    ticket_id: int,
    *,
    status: str,
    priority: str,
    assignee_id: int | None,
    at: datetime,
    session: Session | None = None,
) -> list[str]:
    """The staff form: status, priority and assignee in one action; returns what changed."""
    flow.require_desk(actor)
    with transaction(session) as s:
        ticket = load(s, actor, ticket_id, lock=True)
        before = (ticket.status, ticket.priority, ticket.assignee_id)
        flow.change_priority(s, actor, ticket, priority, at)
        flow.change_status(s, actor, ticket, status, at)
        flow.change_assignee(s, actor, ticket, assignee_id, at)
        after = (ticket.status, ticket.priority, ticket.assignee_id)
        names = ("status", "priority", "assignee")
        return [n for n, old, new in zip(names, before, after, strict=True) if old != new]


def _many(s: Session, actor: Actor, ticket_ids: Iterable[int]) -> list[Ticket]:
    ids = list(dict.fromkeys(ticket_ids))
    if not ids:
        raise ValidationError("error.ticket_none_selected")
    return [load(s, actor, tid, lock=True) for tid in ids]


def bulk_assign(
    actor: Actor,
    ticket_ids: Iterable[int],
    assignee_id: int | None,
    *,
    at: datetime,
    session: Session | None = None,
) -> int:
    """Assign several tickets at once: all of them or, on any refusal, none."""
    flow.require_desk(actor)
    with transaction(session) as s:
        found = _many(s, actor, ticket_ids)
        for ticket in found:
            flow.change_assignee(s, actor, ticket, assignee_id, at)
        return len(found)


def bulk_close(
    actor: Actor, ticket_ids: Iterable[int], *, at: datetime, session: Session | None = None
) -> int:
    """Close several tickets at once (those already closed are left as they are)."""
    flow.require_desk(actor)
    with transaction(session) as s:
        closed = 0
        for ticket in _many(s, actor, ticket_ids):
            if ticket.status != "closed":
                flow.close(s, actor, ticket, at)
                closed += 1
        return closed
