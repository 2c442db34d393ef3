"""Who hears of what on the support desk, queued through ``core.platform.mail`` in the action's own
transaction (so a rolled-back reply mails nobody).

* The client hears of staff replies (never of internal notes) and of auto-closing.
* The department's staff, its shared address and the assignee hear of new tickets and of
  customer replies; an assignee hears when someone else gives them a ticket.
The one who acted is never mailed about their own action.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.models import Client, Department, Service, Ticket, User
from core.platform import mail
from core.platform.config import get_settings
from core.platform.i18n import t

STAFF_ROLES = ("staff", "owner")


def is_desk(user: User) -> bool:
    if not user.active or user.role not in STAFF_ROLES:
        return False
    return user.role == "owner" or "tickets" in (user.permissions or [])


def _desk_recipients(session: Session, ticket: Ticket, actor: Actor) -> list[tuple[str, str, str]]:
    """(address, language, name) of the department's staff, its address and the assignee."""
    dept = session.get(Department, ticket.department_id)
    ids = set(dept.staff_ids or []) if dept is not None else set()
    if ticket.assignee_id:
        ids.add(ticket.assignee_id)
    found: dict[str, tuple[str, str, str]] = {}
    if ids:
        for user in session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)):
            if is_desk(user) and user.id != actor.user_id:
                found.setdefault(user.email, (user.email, user.language, user.name))
    if dept is not None and dept.email and dept.email.lower() != actor.email.lower():
        found.setdefault(
            dept.email.lower(), (dept.email, get_settings().default_language, dept.name)
        )
    return list(found.values())


def _context(session: Session, ticket: Ticket, language: str) -> dict[str, str | int]:
    client = session.get(Client, ticket.client_id)
    dept = session.get(Department, ticket.department_id)
    service = session.get(Service, ticket.service_id) if ticket.service_id else None
    return {
        "ticket_id": ticket.id,
        "number": ticket.number,
        "subject": ticket.subject,
        "client_name": (client.company or client.name) if client else "",
        "department": dept.name if dept else "",
        "service": service.domain if service else t("tickets.no_service", language),
        "priority": t(f"tickets.priority.{ticket.priority}", language),
    }


def to_desk(session: Session, ticket: Ticket, actor: Actor, template: str, body: str) -> int:
    """A new ticket or a customer reply, to the department's desk."""
    sent = 0
    for address, language, name in _desk_recipients(session, ticket, actor):
        mail.queue(
            session,
            to_addr=address,
            template=template,
            language=language,
            name=name,
            body=body,
            **_context(session, ticket, language),
        )
        sent += 1
    return sent


def to_client(session: Session, ticket: Ticket, template: str, body: str = "") -> bool:
    """A staff reply (never a note) or the auto-close notice, to the client's contact."""
    client = session.get(Client, ticket.client_id)
    if client is None or not client.email:
        return False
    mail.queue(
        session,
        to_addr=client.email,
        template=template,
        language=client.language,
        name=client.name,
        body=body,
        **_context(session, ticket, client.language),
    )
    return True


def to_assignee(session: Session, ticket: Ticket, actor: Actor) -> bool:
    if not ticket.assignee_id or ticket.assignee_id == actor.user_id:
        return False
    user = session.get(User, ticket.assignee_id)
    if user is None or not is_desk(user):
        return False
    mail.queue(
        session,
        to_addr=user.email,
        template="ticket_assigned",
        language=user.language,
        name=user.name,
        body="",
        **_context(session, ticket, user.language),
    )
    return True
