"""The support desk's configuration: departments, canned replies and the desk rules
(auto-close days, attachment types and size) — owner CRUD, audited.

A department has a name, an optional shared e-mail address (it hears of new tickets and
customer replies), the staff who belong to it (they hear of them too, and may be given its
tickets by a colleague) and whether clients may pick it when opening a ticket. Canned replies
are kept per language; staff insert them into a reply.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, require, require_owner
from core.accounts import normalise_email
from core.models import CannedReply, Department, Ticket, User
from core.platform import audit, settings, uploads
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, NotFound, ValidationError
from core.platform.i18n import LANGUAGES, pick
from core.support.common import (
    AUTOCLOSE_DAYS_KEY,
    MAX_ATTACHMENT_MB,
    attachment_rules,
    set_attachment_rules,
)
from core.support.notices import is_desk

NAME_MAX = 100
TITLE_MAX = 120
CANNED_MAX = 10_000
MAX_AUTOCLOSE_DAYS = 365
MAX_TYPES = 20
_EXTENSION = re.compile(r"^[a-z0-9]{1,10}$")


@dataclass(frozen=True)
class DepartmentView:
    id: int
    name: str  # in the reader's language
    client_visible: bool
    sort_order: int
    email: str | None  # None for a client
    staff_ids: tuple[int, ...]  # empty for a client
    name_es: str = ""  # the owner's two values, for the settings form
    name_en: str = ""


@dataclass(frozen=True)
class CannedView:
    id: int
    title: str
    body: str
    language: str


def _key(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


# --------------------------------------------------------------------- departments
def departments(actor: Actor, *, session: Session | None = None) -> list[DepartmentView]:
    """Clients get the departments they may pick (no addresses, no staff); the desk all."""
    if not actor.is_client:
        require(actor, "tickets")
    stmt = select(Department).order_by(Department.sort_order, Department.name)
    if actor.is_client:
        stmt = stmt.where(Department.client_visible.is_(True))
    with reading(session) as s:
        return [
            DepartmentView(
                id=d.id,
                name=pick(d.name, d.name_en, actor.language),
                client_visible=d.client_visible,
                sort_order=d.sort_order,
                email=None if actor.is_client else d.email,
                staff_ids=() if actor.is_client else tuple(d.staff_ids or ()),
                name_es=d.name,
                name_en=d.name_en or "",
            )
            for d in s.scalars(stmt)
        ]


def save_department(
    actor: Actor,
    *,
    department_id: int | None = None,
    name: str,
    name_en: str | None = None,
    email: str | None = None,
    staff_ids: Iterable[int] = (),
    client_visible: bool = True,
    sort_order: int = 0,
    session: Session | None = None,
) -> int:
    """Create (no id) or change a department; returns its id."""
    require_owner(actor)
    clean_name = " ".join((name or "").split())[:NAME_MAX]
    if not clean_name:
        raise ValidationError("error.ticket_department_name_required")
    address = normalise_email(email) if email and email.strip() else None
    members = sorted({int(i) for i in staff_ids})
    with transaction(session) as s:
        if members:
            users = s.scalars(select(User).where(User.id.in_(members))).all()
            if len(users) != len(members) or not all(is_desk(u) for u in users):
                raise ValidationError("error.ticket_department_staff_invalid")
        dept = Department()
        if department_id not in (None, ""):
            found = s.get(Department, _key(department_id))
            if found is None:
                raise NotFound()
            dept = found
        clash = s.scalars(
            select(Department.id).where(
                func.lower(Department.name) == clean_name.lower(),
                Department.id != (dept.id or 0),
            )
        ).first()
        if clash is not None:
            raise Conflict("error.ticket_department_exists")
        if dept.id is None:
            s.add(dept)
        dept.name = clean_name
        dept.name_en = " ".join((name_en or "").split())[:NAME_MAX] or None
        dept.email = address
        dept.staff_ids = members
        dept.client_visible = bool(client_visible)
        dept.sort_order = int(sort_order)
        s.flush()
        audit.record(
            s,
            actor,
            "department.saved",
            target_type="department",
            target_id=dept.id,
            name=clean_name,
            client_visible=bool(client_visible),
            staff=len(members),
        )
        return dept.id


def delete_department(actor: Actor, department_id: int, *, session: Session | None = None) -> None:
    """Delete a department that has no tickets (else hide it from clients instead)."""
    require_owner(actor)
    with transaction(session) as s:
        dept = s.get(Department, _key(department_id))
        if dept is None:
            raise NotFound()
        used = s.execute(
            select(func.count()).select_from(Ticket).where(Ticket.department_id == dept.id)
        ).scalar_one()
        if used:
            raise Conflict("error.ticket_department_in_use")
        audit.record(s, actor, "department.deleted", target_type="department", target_id=dept.id)
        s.delete(dept)


# ------------------------------------------------------------------- canned replies
def canned_replies(
    actor: Actor, language: str | None = None, *, session: Session | None = None
) -> list[CannedView]:
    """The desk's canned replies, of one language when given, by title."""
    if actor.is_client:
        raise NotFound()
    require(actor, "tickets")
    stmt = select(CannedReply).order_by(CannedReply.title, CannedReply.id)
    if language:
        stmt = stmt.where(CannedReply.language == language)
    with reading(session) as s:
        return [CannedView(c.id, c.title, c.body, c.language) for c in s.scalars(stmt)]


def save_canned_reply(
    actor: Actor,
    *,
    reply_id: int | None = None,
    title: str,
    body: str,
    language: str,
    session: Session | None = None,
) -> int:
    require_owner(actor)
    clean_title = " ".join((title or "").split())[:TITLE_MAX]
    text = (body or "").replace("\r\n", "\n").strip()
    if not clean_title or not text:
        raise ValidationError("error.ticket_canned_required")
    if len(text) > CANNED_MAX:
        raise ValidationError("error.ticket_body_too_long", n=CANNED_MAX)
    if language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    with transaction(session) as s:
        if reply_id in (None, ""):
            row = CannedReply()
            s.add(row)
        else:
            found = s.get(CannedReply, _key(reply_id))
            if found is None:
                raise NotFound()
            row = found
        row.title, row.body, row.language = clean_title, text, language
        s.flush()
        audit.record(s, actor, "canned_reply.saved", target_type="canned_reply", target_id=row.id)
        return row.id


def delete_canned_reply(actor: Actor, reply_id: int, *, session: Session | None = None) -> None:
    require_owner(actor)
    with transaction(session) as s:
        row = s.get(CannedReply, _key(reply_id))
        if row is None:
            raise NotFound()
        audit.record(s, actor, "canned_reply.deleted", target_type="canned_reply", target_id=row.id)
        s.delete(row)


# ----------------------------------------------------------------------- desk rules
@dataclass(frozen=True)
class DeskRules:
    autoclose_days: int  # 0: auto-closing is off
    attachment_types: tuple[str, ...]  # names of ``uploads.FILE_TYPES``
    attachment_max_mb: int


def desk_rules(*, session: Session | None = None) -> DeskRules:
    """The rules the desk works by now (what ``autoclose_waiting`` and ``attachment_rules``
    read, defaults included). Settings are not customer data: anyone in core may read them."""
    with reading(session) as s:
        days = settings.get_int(AUTOCLOSE_DAYS_KEY, session=s)
        rules = attachment_rules(session=s)
        return DeskRules(max(0, days), rules.types, rules.max_mb)


def _whole(value: Any, low: int, high: int, key: str, **params: Any) -> int:
    """A whole number in ``low..high`` (a digit string too; never a bool or 2.5)."""
    try:
        number = int(value)
        exact = isinstance(value, str) or number == value
    except (TypeError, ValueError):
        raise ValidationError(key, **params) from None
    if isinstance(value, bool) or not exact or not low <= number <= high:
        raise ValidationError(key, **params)
    return number


def _clean_types(value: str | Iterable[str]) -> list[str]:
    """Extensions (a comma-separated text or a list; case and a leading dot ignored) as the
    file type names the uploader knows (``jpeg`` is ``jpg``), in order, without repeats."""
    items = value.split(",") if isinstance(value, str) else list(value or ())
    wanted = [str(item).strip().lstrip(".").lower() for item in items]
    wanted = [ext for ext in wanted if ext]
    if not 1 <= len(wanted) <= MAX_TYPES:
        raise ValidationError("error.ticket_attachment_types_count", n=MAX_TYPES)
    by_extension = {
        ext.lstrip("."): name
        for name, kind in uploads.FILE_TYPES.items()
        for ext in kind.extensions
    }
    known = ", ".join(uploads.extensions(uploads.FILE_TYPES))
    chosen: list[str] = []
    for ext in wanted:
        if not _EXTENSION.match(ext):
            raise ValidationError("error.ticket_attachment_extension_invalid", ext=ext[:20])
        name = by_extension.get(ext)
        if name is None:  # attachment_rules would drop it: refuse rather than ignore it
            raise ValidationError("error.ticket_attachment_extension_unknown", ext=ext, known=known)
        if name not in chosen:
            chosen.append(name)
    return chosen


def save_desk_rules(
    actor: Actor,
    *,
    autoclose_days: Any,
    attachment_types: str | Iterable[str],
    attachment_max_mb: Any,
    session: Session | None = None,
) -> DeskRules:
    """The owner sets the days an answered ticket waits before it closes by itself (0: never),
    the attachment types allowed and the size limit per file (MB); all three or none."""
    require_owner(actor)
    days = _whole(
        autoclose_days,
        0,
        MAX_AUTOCLOSE_DAYS,
        "error.ticket_autoclose_days_invalid",
        n=MAX_AUTOCLOSE_DAYS,
    )
    types = _clean_types(attachment_types)
    max_mb = _whole(
        attachment_max_mb, 1, MAX_ATTACHMENT_MB, "error.ticket_attachment_limit_invalid"
    )
    with transaction(session) as s:
        settings.put(actor, AUTOCLOSE_DAYS_KEY, days, session=s)
        set_attachment_rules(actor, types, max_mb, session=s)  # the one writer of those two
        return desk_rules(session=s)
