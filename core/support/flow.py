"""The moves every ticket action is made of: SLA deadlines, the audit entry, a message in the
thread, close, reopen, status, priority and assignee. Each works on a ticket already loaded
(and locked) by the caller's transaction; ``core.support.tickets`` composes them into actions.

``sla_due_at`` is the next deadline: the first response until staff answer, then the
resolution. ``breached`` is set when a deadline is missed at the moment it is (a late first
answer, a late close); an open ticket past its deadline reads as breached without a write.
A reopened ticket starts a new clock (``sla_started_at``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from core.access import Actor, require
from core.models import Department, Ticket, TicketMessage, User
from core.platform import audit
from core.platform.errors import Forbidden, ValidationError
from core.rules.sla import Policy
from core.support import notices as tickets_mail
from core.support import sla
from core.support.common import STATUSES, check_priority, require_move


def clock_start(ticket: Ticket) -> datetime:
    return ticket.sla_started_at or ticket.created_at


def refresh_due(ticket: Ticket, policy: Policy) -> None:
    """Deadlines from the clock start, the priority and the policy in force."""
    if ticket.status == "closed":
        ticket.sla_due_at = None
        return
    start = clock_start(ticket)
    ticket.resolution_due_at = policy.resolution_due(start, ticket.priority)
    if ticket.first_response_at is None:
        ticket.sla_due_at = policy.first_response_due(start, ticket.priority)
    else:
        ticket.sla_due_at = ticket.resolution_due_at


def ensure_due(s: Session, ticket: Ticket) -> None:
    if ticket.status != "closed" and ticket.resolution_due_at is None:
        refresh_due(ticket, sla.policy(session=s))


def record(
    s: Session, actor: Actor, action: str, ticket: Ticket, at: datetime, **details: Any
) -> None:
    audit.record(
        s,
        actor,
        action,
        target_type="ticket",
        target_id=ticket.id,
        client_id=ticket.client_id,
        at=at,
        number=ticket.number,
        **details,
    )


def add_message(
    s: Session,
    actor: Actor,
    ticket: Ticket,
    body: str,
    ids: list[int],
    internal: bool,
    at: datetime,
) -> TicketMessage:
    msg = TicketMessage(
        ticket_id=ticket.id,
        author_id=actor.user_id or None,
        body=body,
        internal=internal,
        attachment_ids=ids,
        created_at=at,
    )
    s.add(msg)
    s.flush()
    return msg


def require_desk(actor: Actor) -> None:
    """Staff work: a client is refused outright."""
    if actor.is_client:
        raise Forbidden()
    require(actor, "tickets")


def close(s: Session, actor: Actor, ticket: Ticket, at: datetime) -> None:
    require_move(ticket.status, "closed")
    ensure_due(s, ticket)
    if ticket.sla_due_at is not None and at > ticket.sla_due_at:
        ticket.breached = True
    ticket.status = "closed"
    ticket.closed_at = at
    ticket.sla_due_at = None
    record(s, actor, "ticket.closed", ticket, at)


def reopen(s: Session, actor: Actor, ticket: Ticket, at: datetime) -> None:
    require_move(ticket.status, "open")
    ticket.status = "open"
    ticket.closed_at = None
    ticket.sla_started_at = at  # a new clock: the earlier one ended with the close
    ticket.last_reply_at = at
    refresh_due(ticket, sla.policy(session=s))
    record(s, actor, "ticket.reopened", ticket, at)


def change_status(s: Session, actor: Actor, ticket: Ticket, status: str, at: datetime) -> None:
    if status not in STATUSES:
        raise ValidationError("error.ticket_status_invalid")
    if status == ticket.status:
        return
    if status == "closed":
        close(s, actor, ticket, at)
        return
    require_move(ticket.status, status)
    if ticket.status == "closed":
        reopen(s, actor, ticket, at)
    else:
        old, ticket.status = ticket.status, status
        record(s, actor, "ticket.status_changed", ticket, at, old=old, new=status)


def change_priority(s: Session, actor: Actor, ticket: Ticket, priority: str, at: datetime) -> None:
    check_priority(priority)
    if priority == ticket.priority:
        return
    old, ticket.priority = ticket.priority, priority
    refresh_due(ticket, sla.policy(session=s))
    record(s, actor, "ticket.priority_changed", ticket, at, old=old, new=priority)


def change_assignee(
    s: Session, actor: Actor, ticket: Ticket, assignee_id: int | None, at: datetime
) -> None:
    if assignee_id in (None, ""):
        if ticket.assignee_id is not None:
            ticket.assignee_id = None
            record(s, actor, "ticket.unassigned", ticket, at)
        return
    try:
        user = s.get(User, int(assignee_id))
    except (TypeError, ValueError):
        user = None
    if user is None or not tickets_mail.is_desk(user):
        raise ValidationError("error.ticket_assignee_invalid")
    if not actor.is_owner and user.id != actor.user_id:
        dept = s.get(Department, ticket.department_id)
        if dept is None or user.id not in (dept.staff_ids or []):
            raise ValidationError("error.ticket_assignee_not_in_department")
    if ticket.assignee_id == user.id:
        return
    ticket.assignee_id = user.id
    tickets_mail.to_assignee(s, ticket, actor)
    record(s, actor, "ticket.assigned", ticket, at, assignee=user.email)
