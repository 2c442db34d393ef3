"""What every part of the support desk shares: its words, the status transition table, the
scoped ticket loader, text cleaning and the attachment rules.

Statuses: ``open`` (new, nobody answered yet), ``answered`` (staff replied; waiting on the
customer), ``customer_reply`` (the customer wrote back), ``in_progress``, ``on_hold`` and
``closed``. Only the moves in ``TRANSITIONS`` happen; a reply moves a ticket by itself (staff:
→ answered, customer: → customer_reply), ``close`` and ``reopen`` do what they say, and staff
may set any other allowed status by hand.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.access import Actor, parse_id, require_owner, scoped
from core.models import Ticket
from core.platform import settings, settings_registry, uploads
from core.platform.errors import NotFound, ValidationError
from core.support.sla import PRIORITIES

STATUSES = ("open", "answered", "customer_reply", "in_progress", "on_hold", "closed")
OPEN_STATUSES = tuple(s for s in STATUSES if s != "closed")
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"answered", "in_progress", "on_hold", "closed"}),
    "answered": frozenset({"customer_reply", "in_progress", "on_hold", "closed"}),
    "customer_reply": frozenset({"answered", "in_progress", "on_hold", "closed"}),
    "in_progress": frozenset({"answered", "customer_reply", "on_hold", "closed"}),
    "on_hold": frozenset({"answered", "customer_reply", "in_progress", "closed"}),
    "closed": frozenset({"open"}),  # reopen
}
WAITING_ON_CUSTOMER = "answered"

AUTOCLOSE_DAYS_KEY = "tickets.autoclose_days"
ATTACHMENT_TYPES_KEY = "tickets.attachment_types"
DEFAULT_ATTACHMENT_TYPES: tuple[str, ...] = tuple(settings_registry.default(ATTACHMENT_TYPES_KEY))
ATTACHMENT_MAX_MB_KEY = "tickets.attachment_max_mb"
MAX_ATTACHMENT_MB = 50
MAX_FILES = 5  # per message
SUBJECT_MAX = 200
BODY_MAX = 20_000
ATTACHMENT_ERRORS = "error.ticket_attachment"

__all__ = ["PRIORITIES", "STATUSES", "OPEN_STATUSES", "TRANSITIONS"]

NewFile = tuple[str, bytes]  # (file name, content) as the page's uploader gives them


# --------------------------------------------------------------------- transitions
def can_move(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


def require_move(current: str, new: str) -> None:
    if not can_move(current, new):
        raise ValidationError("error.ticket_transition")


def check_priority(priority: str) -> str:
    if priority not in PRIORITIES:
        raise ValidationError("error.ticket_priority_invalid")
    return priority


# ------------------------------------------------------------------------- loading
def load(session: Session, actor: Actor, ticket_id: int, *, lock: bool = False) -> Ticket:
    """A ticket the actor may see (a client: their own; staff: with the tickets right), or
    ``NotFound``; ``lock`` takes the row for the rest of the transaction."""
    key = parse_id(ticket_id)
    stmt = scoped(actor, Ticket, "tickets").where(Ticket.id == key)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    ticket = session.scalars(stmt).first()
    if ticket is None:
        raise NotFound()
    return ticket


# -------------------------------------------------------------------------- texts
def _printable(text: str, keep: str = "") -> str:
    return "".join(ch for ch in text if ch in keep or unicodedata.category(ch)[0] != "C")


def clean_subject(text: str | None) -> str:
    """One line (a subject goes into mail headers), trimmed and cut to the column."""
    line = " ".join(_printable((text or "").replace("\n", " ").replace("\r", " ")).split())
    if not line:
        raise ValidationError("error.ticket_subject_required")
    return line[:SUBJECT_MAX]


def clean_body(text: str | None) -> str:
    body = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    body = _printable(body, keep="\n\t").strip()
    if not body:
        raise ValidationError("error.ticket_body_required")
    if len(body) > BODY_MAX:
        raise ValidationError("error.ticket_body_too_long", n=BODY_MAX)
    return body


# ---------------------------------------------------------------------- attachments
@dataclass(frozen=True)
class AttachmentRules:
    types: tuple[str, ...]
    max_mb: int
    max_files: int

    @property
    def extensions(self) -> list[str]:
        return uploads.extensions(self.types)


def attachment_rules(*, session: Session | None = None) -> AttachmentRules:
    raw = settings.get(ATTACHMENT_TYPES_KEY, session=session)
    listed = raw if isinstance(raw, list) else []
    types = tuple(t for t in listed if t in uploads.FILE_TYPES)
    max_mb = settings.get_int(ATTACHMENT_MAX_MB_KEY, session=session)
    return AttachmentRules(
        types=types or DEFAULT_ATTACHMENT_TYPES,
        max_mb=min(max(1, max_mb), MAX_ATTACHMENT_MB),
        max_files=MAX_FILES,
    )


def set_attachment_rules(
    actor: Actor, types: Sequence[str], max_mb: int, *, session: Session | None = None
) -> None:
    """The owner chooses the allowed file types (names of ``uploads.FILE_TYPES``) and the
    size limit per file (MB)."""
    require_owner(actor)
    chosen = [t for t in dict.fromkeys(types)]
    if not chosen or any(t not in uploads.FILE_TYPES for t in chosen):
        raise ValidationError("error.ticket_attachment_types_invalid")
    try:
        mb = int(max_mb)
    except (TypeError, ValueError):
        raise ValidationError("error.ticket_attachment_limit_invalid") from None
    if not 1 <= mb <= MAX_ATTACHMENT_MB:
        raise ValidationError("error.ticket_attachment_limit_invalid")
    settings.put(actor, ATTACHMENT_TYPES_KEY, chosen, session=session)
    settings.put(actor, ATTACHMENT_MAX_MB_KEY, mb, session=session)


def store_files(
    session: Session, actor: Actor, ticket: Ticket, files: Sequence[NewFile]
) -> list[int]:
    """Check every file first, then store them all: one bad file stores none."""
    if not files:
        return []
    rules = attachment_rules(session=session)
    if len(files) > rules.max_files:
        raise ValidationError("error.ticket_attachment_count", n=rules.max_files)
    limit = rules.max_mb * uploads.MB
    checked = [
        (name, data, uploads.check(data, name, rules.types, limit, errors=ATTACHMENT_ERRORS, n=i))
        for i, (name, data) in enumerate(files, start=1)
    ]
    return [
        uploads.store(
            session,
            client_id=ticket.client_id,
            filename=name,
            data=data,
            content_type=kind,
            uploaded_by=actor.user_id or None,
        ).id
        for name, data, kind in checked
    ]


def is_breached(breached: bool, status: str, sla_due_at: datetime | None, at: datetime) -> bool:
    """A deadline was missed, or the next one has passed while the ticket is open."""
    return breached or (status != "closed" and sla_due_at is not None and sla_due_at < at)
