"""The provider's 24/7 support channels: WhatsApp, phone, e-mail, live chat, status page and
knowledge base, each with a label, an order and office hours, configured by the owner.

Targets are validated when saved and stored in a canonical form: a WhatsApp or phone number
as its digits (with a leading ``+`` for phone), an e-mail address lower-cased, and chat,
status and knowledge-base addresses as ``https://`` URLs only (never ``javascript:`` or plain
http). The link a reader follows is built from that: ``https://wa.me/<digits>?text=<prefilled
text>``, ``tel:+<digits>``, ``mailto:<address>``. Office hours use ``core.support.sla``'s text form
("24/7", "closed", "mon-fri 08:00-18:00; sat 09:00-13:00") in the business time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlparse
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.accounts import normalise_email
from core.models import SupportChannel
from core.platform import audit
from core.platform.config import get_settings
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError
from core.platform.i18n import pick, t
from core.rules.sla import (
    DAYS,
    OfficeHours,
    days_spec,
    hhmm,
    is_open_at,
    next_opening,
    parse_hours,
)

KINDS = ("whatsapp", "phone", "email", "chat", "status", "kb")
URL_KINDS = ("chat", "status", "kb")
LABEL_MAX = 100
TARGET_MAX = 300
PREFILL_MAX = 300
_DIGITS = re.compile(r"^\+?[\d\s().-]+$")


@dataclass(frozen=True)
class ChannelView:
    id: int
    kind: str
    label: str  # in the reader's language
    target: str
    url: str
    hours: str  # canonical office-hours text
    hours_text: str  # the same, in the reader's language
    open_now: bool
    opens_text: str | None  # closed now: when it opens next, in the reader's words
    always_open: bool
    prefill: str | None
    sort_order: int
    active: bool
    label_es: str = ""  # the owner's two values, for the settings form
    label_en: str = ""

    @property
    def status_key(self) -> str:
        """The text key of the "open now" / "closed now" indicator."""
        return "support.open_now" if self.open_now else "support.closed_now"


# ----------------------------------------------------------------------- targets
def _digits(value: str) -> str:
    text = (value or "").strip()
    if not _DIGITS.match(text):
        raise ValidationError("error.ticket_channel_phone")
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15:  # E.164 allows at most 15 digits
        raise ValidationError("error.ticket_channel_phone")
    return digits


def _https(value: str) -> str:
    text = (value or "").strip()
    parsed = urlparse(text)
    if (
        parsed.scheme != "https"
        or not parsed.hostname
        or len(text) > TARGET_MAX
        or any(ch.isspace() or ord(ch) < 32 for ch in text)
        or parsed.username
        or parsed.password
    ):
        raise ValidationError("error.ticket_channel_url")
    return text


def clean_target(kind: str, target: str) -> str:
    """The canonical stored form of ``target`` for ``kind``, or ``ValidationError``."""
    if kind not in KINDS:
        raise ValidationError("error.ticket_channel_kind")
    if kind == "whatsapp":
        return _digits(target)
    if kind == "phone":
        return "+" + _digits(target)
    if kind == "email":
        return normalise_email(target)
    return _https(target)


def channel_link(kind: str, target: str, prefill: str | None = None) -> str:
    """The link a reader follows to reach the channel."""
    text = (prefill or "").strip()
    if kind == "whatsapp":
        digits = re.sub(r"\D", "", target)
        return f"https://wa.me/{digits}" + (f"?text={quote(text, safe='')}" if text else "")
    if kind == "phone":
        return "tel:+" + re.sub(r"\D", "", target)
    if kind == "email":
        return f"mailto:{target}" + (f"?subject={quote(text, safe='')}" if text else "")
    return target


# ------------------------------------------------------------------------- hours
def describe_hours(hours: OfficeHours, lang: str) -> str:
    """Office hours for a reader: "24/7", "Cerrado", "lun–vie 08:00–18:00; sáb 09:00–13:00"."""
    if hours.always:
        return t("support.hours_always", lang)
    if hours.closed:
        return t("support.hours_closed", lang)
    parts = []
    for w in hours.windows:
        days = days_spec(w.days)
        if days == "daily":
            days_text = t("support.day.daily", lang)
        else:
            days_text = re.sub(
                r"[a-z]{3}", lambda m: t(f"support.day.{m.group(0)}", lang), days
            ).replace("-", "–")
        parts.append(f"{days_text} {hhmm(w.start)}–{hhmm(w.end)}")
    return "; ".join(parts)


def opens_text(hours: OfficeHours, at: datetime, lang: str, zone: ZoneInfo) -> str | None:
    """ "Abre hoy a las 08:00", "Abre mañana a las 09:00", "Abre el lunes a las 08:00"; None
    when it is open now or has no opening ahead (then "closed" says it all)."""
    opening = next_opening(hours, at, zone)
    if opening is None:
        return None
    local = opening.replace(tzinfo=UTC).astimezone(zone)
    today = at.replace(tzinfo=UTC).astimezone(zone).date()
    time = local.strftime("%H:%M")
    ahead = (local.date() - today).days
    if ahead == 0:
        return t("support.opens_today", lang, time=time)
    if ahead == 1:
        return t("support.opens_tomorrow", lang, time=time)
    day = t(f"support.weekday.{DAYS[local.weekday()]}", lang)
    return t("support.opens_on", lang, day=day, time=time)


def channel_title(kind_name: str, label: str) -> str:
    """ "WhatsApp · Ventas", but only "WhatsApp" when the owner's label is the kind's own
    name (it read "WhatsApp · WhatsApp")."""
    plain = (label or "").strip()
    if not plain or plain.casefold() in kind_name.casefold():
        return kind_name
    if kind_name.casefold() in plain.casefold():
        return plain
    return f"{kind_name} · {plain}"


def is_open(
    channel: SupportChannel | ChannelView, at: datetime, zone: ZoneInfo | None = None
) -> bool:
    """Is the channel attended at ``at`` (naive UTC), in the business time zone?"""
    try:
        hours = parse_hours(channel.hours)
    except ValidationError:
        return False
    return is_open_at(hours, at, zone or get_settings().tz)


def _view(row: SupportChannel, at: datetime, lang: str, zone: ZoneInfo) -> ChannelView:
    try:
        hours = parse_hours(row.hours)
    except ValidationError:
        hours = OfficeHours()  # unreadable hours never claim to be open
    return ChannelView(
        id=row.id,
        kind=row.kind,
        label=pick(row.label, row.label_en, lang),
        target=row.target,
        url=channel_link(row.kind, row.target, row.prefill),
        hours=hours.spec,
        hours_text=describe_hours(hours, lang),
        open_now=is_open_at(hours, at, zone),
        opens_text=opens_text(hours, at, lang, zone),
        always_open=hours.always,
        prefill=row.prefill,
        sort_order=row.sort_order,
        active=row.active,
        label_es=row.label,
        label_en=row.label_en or "",
    )


# ------------------------------------------------------------------------- reads
def list_channels(
    actor: Actor,
    at: datetime,
    *,
    include_inactive: bool = False,
    session: Session | None = None,
) -> list[ChannelView]:
    """The channels in their order, each with "open now" at ``at``. Every role reads the
    active ones; the owner may ask for the inactive ones too (settings)."""
    if include_inactive:
        require_owner(actor)
    zone = get_settings().tz
    stmt = select(SupportChannel).order_by(SupportChannel.sort_order, SupportChannel.id)
    if not include_inactive:
        stmt = stmt.where(SupportChannel.active.is_(True))
    with reading(session) as s:
        return [_view(row, at, actor.language, zone) for row in s.scalars(stmt)]


def for_home(actor: Actor, at: datetime, *, session: Session | None = None) -> list[ChannelView]:
    """What the client's home page shows: the active channels in the owner's order, each
    with its "open now" flag."""
    return list_channels(actor, at, session=session)


# ------------------------------------------------------------------- owner CRUD
def save_channel(
    actor: Actor,
    *,
    channel_id: int | None = None,
    kind: str,
    label: str,
    label_en: str | None = None,
    target: str,
    hours: str = "24/7",
    prefill: str | None = None,
    sort_order: int = 0,
    active: bool = True,
    session: Session | None = None,
) -> int:
    """Create (no id) or change a channel after validating it; returns its id."""
    require_owner(actor)
    stored_target = clean_target(kind, target)
    clean_label = " ".join((label or "").split())[:LABEL_MAX]
    if not clean_label:
        raise ValidationError("error.ticket_channel_label")
    office = parse_hours(hours)
    text = " ".join((prefill or "").split())[:PREFILL_MAX] or None
    with transaction(session) as s:
        if channel_id in (None, ""):
            row = SupportChannel()
            s.add(row)
        else:
            try:
                found = s.get(SupportChannel, int(channel_id))
            except (TypeError, ValueError):
                found = None
            if found is None:
                raise NotFound()
            row = found
        row.kind, row.label, row.target = kind, clean_label, stored_target
        row.label_en = " ".join((label_en or "").split())[:LABEL_MAX] or None
        row.hours, row.prefill = office.spec, text
        row.sort_order, row.active = int(sort_order), bool(active)
        s.flush()
        audit.record(
            s,
            actor,
            "support_channel.saved",
            target_type="support_channel",
            target_id=row.id,
            kind=kind,
            label=clean_label,
            hours=office.spec,
            active=bool(active),
        )
        return row.id


def delete_channel(actor: Actor, channel_id: int, *, session: Session | None = None) -> None:
    require_owner(actor)
    with transaction(session) as s:
        try:
            row = s.get(SupportChannel, int(channel_id))
        except (TypeError, ValueError):
            row = None
        if row is None:
            raise NotFound()
        audit.record(
            s, actor, "support_channel.deleted", target_type="support_channel", target_id=row.id
        )
        s.delete(row)


__all__ = [
    "DAYS",
    "KINDS",
    "ChannelView",
    "channel_link",
    "clean_target",
    "delete_channel",
    "describe_hours",
    "for_home",
    "is_open",
    "list_channels",
    "save_channel",
]
