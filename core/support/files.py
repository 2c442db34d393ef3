"""Files and exports of a ticket: one attachment's content, and the thread as plain text.

A client reaches only files on the non-internal messages of their own tickets; staff reach
every file of a ticket. Anything else is ``NotFound``, by id or by URL.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor
from core.models import TicketMessage, Upload
from core.platform.config import get_settings
from core.platform.db import reading
from core.platform.errors import NotFound
from core.platform.i18n import moment, t
from core.support.common import load
from core.support.views import messages_of


@dataclass(frozen=True)
class FileOut:
    filename: str
    content_type: str
    data: bytes


def attachment(
    actor: Actor, ticket_id: int, upload_id: int, *, session: Session | None = None
) -> FileOut:
    """A file attached to a message of this ticket that the actor may read (a client: not
    one on an internal note); anything else is ``NotFound``."""
    try:
        key = int(upload_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    with reading(session) as s:
        ticket = load(s, actor, ticket_id)
        stmt = select(TicketMessage.attachment_ids).where(TicketMessage.ticket_id == ticket.id)
        if actor.is_client:
            stmt = stmt.where(TicketMessage.internal.is_(False))
        if not any(key in (ids or []) for ids in s.scalars(stmt)):
            raise NotFound()
        upload = s.get(Upload, key)
        if upload is None or upload.client_id != ticket.client_id:
            raise NotFound()
        return FileOut(upload.filename, upload.content_type, upload.data)


def transcript(actor: Actor, ticket_id: int, *, session: Session | None = None) -> str:
    """The thread as plain text in the reader's language (a client's copy has no notes)."""
    lang = actor.language
    tz = get_settings().tz
    with reading(session) as s:
        ticket = load(s, actor, ticket_id)
        messages = messages_of(s, actor, ticket)
    lines = [f"{ticket.number} · {ticket.subject}", ""]
    for msg in messages:
        head = f"{moment(msg.created_at, lang, tz)} · {msg.author}"
        if msg.internal:
            head += f" · {t('tickets.internal_note', lang)}"
        lines += [head, msg.body]
        lines += [f"[{t('tickets.attachment', lang)}: {a.filename}]" for a in msg.attachments]
        lines.append("")
    return "\n".join(lines)
