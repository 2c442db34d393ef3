"""Outgoing mail: an outbox in the database, delivered over SMTP after commit.

``queue`` writes the message in the same transaction as the action that caused it, so a
rolled-back action sends nothing and a committed one is never lost. ``deliver_due`` sends
what is due, one message per short transaction: it claims a row (queued → sending), sends,
then marks it sent. A failure puts it back with an exponential backoff. Without SMTP settings
(the ``make run`` default) messages simply stay queued, readable by the owner in the app.

Templates are Jinja2 text files ``core/platform/mail_templates/<lang>/<name>.txt``: the first line
is
the subject, the rest the body, rendered in the recipient's language.

Nothing that can sign someone in rests in the outbox. A mail carrying a sign-in link
(``?reset=`` or ``?verify=`` and a token: reset, welcome and verification mails) is stored with
``LINK_MARK`` in place of the token and only the token's SHA-256 in ``link_token_hash``. At send
time the sender mints a fresh token into the token row (found by that hash, if still unused and
unexpired), puts it in the link of the message it sends, and keeps only the new hash. A link
whose token has since been used, replaced or expired is not sent at all.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.models import MailAttachment, MailOutbox, Token
from core.platform import audit
from core.platform.clock import now
from core.platform.config import Settings, get_settings
from core.platform.db import after_commit, reading, unit_of_work
from core.platform.errors import NotFound
from core.platform.i18n import normalise

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent / "mail_templates"
MAX_ATTEMPTS = 8
LINK_MARK = "\u27e8token\u27e9"  # where a sign-in link's token goes at send time
# A sign-in link's token (core.accounts.tokens: token_urlsafe(32), 43 characters).
_SIGN_IN_TOKEN = re.compile(r"[?&](?:reset|verify)=([A-Za-z0-9_\-]{20,})")


# Jinja2 is loaded with the first mail rendered, not on import: a daily run with nothing to
# send, started by cron, never needs it.
@cache
def _templates() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        undefined=StrictUndefined,  # a missing variable is a bug, not an empty string in a mail
        autoescape=select_autoescape(enabled_extensions=(), default=False),
        keep_trailing_newline=False,
        # The files ship with the code: compiled once per process, not checked on disk for
        # every message (a daily run renders ~20,000 on its first day).
        auto_reload=False,
    )


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


# The owner's wording of a template (settings, edited in core.catalog) wins over the file.
OVERRIDE_KEY = "mail.template.{lang}.{name}"


@cache
def owner_templates() -> Environment:
    """The sandbox the owner's wording is rendered in (and checked in, ``core.catalog``)."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    return SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False)


def _render_override(
    template: str, lang: str, session: Session | None, context: dict[str, Any]
) -> str | None:
    from core.platform import (
        settings as stored,  # core.platform.settings → audit; imported late on purpose
    )

    source = stored.get_text(OVERRIDE_KEY.format(lang=lang, name=template), session=session)
    if not source.strip():
        return None
    from jinja2 import TemplateError

    try:
        return owner_templates().from_string(source).render(**context)
    except TemplateError:  # checked when saved; never let a bad override stop a mail
        logging.getLogger(__name__).exception("mail template override %s/%s", lang, template)
        return None


def render(
    template: str, language: str, *, session: Session | None = None, **context: Any
) -> Rendered:
    lang = normalise(language)
    settings = get_settings()
    context = {"public_url": settings.public_url, **context}
    text = _render_override(template, lang, session, context)
    if text is None:
        text = _templates().get_template(f"{lang}/{template}.txt").render(**context)
    subject, _, body = text.partition("\n")
    return Rendered(subject.strip(), body.strip() + "\n")


def outbox_values(
    session: Session | None, *, to_addr: str, template: str, language: str, **context: Any
) -> dict[str, Any]:
    """The rendered outbox row of one message, as column values (not yet written); a
    sign-in link's token is replaced by ``LINK_MARK`` and only its hash kept."""
    message = render(template, language, session=session, **context)
    subject, body = message.subject, message.body
    raw = _live_token_in(session, subject + "\n" + body)
    token_hash = None if raw is None else _digest(raw)
    if raw is not None:
        subject, body = subject.replace(raw, LINK_MARK), body.replace(raw, LINK_MARK)
    return {
        "to_addr": to_addr,
        "subject": subject,
        "body_text": body,
        "template": template,
        "language": normalise(language),
        "status": "queued",
        "link_token_hash": token_hash,
        # next_attempt_at: the column's default (now, when the row is written) makes it due
    }


def _live_token_in(session: Session | None, text: str) -> str | None:
    """The token of the first sign-in link in ``text`` that names a real token: only the
    links our own code issued, never a look-alike a client typed into a ticket (which would
    otherwise be taken for a link, and the mail dropped as dead at send time)."""
    candidates = {_digest(m.group(1)): m.group(1) for m in _SIGN_IN_TOKEN.finditer(text)}
    if not candidates:
        return None
    with reading(session) as s:
        known = s.scalars(select(Token.token_hash).where(Token.token_hash.in_(candidates))).all()
    return candidates[known[0]] if known else None


def _digest(raw: str) -> str:
    """The token's SHA-256, as ``core.accounts.tokens`` stores it."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/pdf", "application/xml"
    data: bytes


def queue(
    session: Session, *, to_addr: str, template: str, language: str, **context: Any
) -> MailOutbox:
    """Queue one message inside the caller's transaction."""
    values = outbox_values(
        session, to_addr=to_addr, template=template, language=language, **context
    )
    row = MailOutbox(**values)
    session.add(row)
    after_commit(session, kick)
    return row


def queue_with_files(session: Session, files: tuple[Attachment, ...], **message: Any) -> MailOutbox:
    """Queue one message with files attached (``message``: what :func:`queue` takes)."""
    row = queue(session, **message)
    session.flush()  # the files point at the message's id
    for item in files:
        session.add(
            MailAttachment(
                mail_id=row.id,
                filename=item.filename,
                content_type=item.content_type,
                data=item.data,
            )
        )
    return row


def attachments_of(session: Session, mail_id: int) -> list[Attachment]:
    rows = session.scalars(
        select(MailAttachment).where(MailAttachment.mail_id == mail_id).order_by(MailAttachment.id)
    ).all()
    return [Attachment(r.filename, r.content_type, r.data) for r in rows]


def kick() -> None:
    """Deliver in the background right after commit, so the user's action never waits on
    (or fails because of) the mail server. Whatever fails stays queued for the next try."""
    settings = get_settings()
    if not settings.smtp_host or settings.mail_delivery != "background":
        return
    threading.Thread(target=_deliver_quietly, name="mail-kick", daemon=True).start()


def _deliver_quietly() -> None:
    try:
        deliver_due()
    except Exception:  # noqa: BLE001 - a background sender must never crash the app
        logging.getLogger(__name__).exception("mail delivery failed; messages stay queued")


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes, capped at 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


@dataclass(frozen=True)
class Outgoing:
    """One message as it goes out: the row's text with its sign-in link filled in (never
    written back)."""

    id: int
    to_addr: str
    subject: str
    body_text: str


def _outgoing(session: Session, row: MailOutbox, at: datetime) -> Outgoing | None:
    """The message of a claimed row; a sign-in link gets a freshly minted token, which
    replaces the one the row's hash names. None when that token is no longer live: the
    link would not work, so the mail is not sent."""
    if not row.link_token_hash:
        return Outgoing(row.id, row.to_addr, row.subject, row.body_text)
    raw = secrets.token_urlsafe(32)
    minted = cast(
        "CursorResult[Any]",
        session.execute(
            update(Token)
            .where(
                Token.token_hash == row.link_token_hash,
                Token.used_at.is_(None),
                Token.expires_at > at,
            )
            .values(token_hash=_digest(raw))
        ),
    ).rowcount
    if not minted:
        row.status, row.last_error, row.link_token_hash = "failed", "LinkNoLongerValid", None
        return None
    row.link_token_hash = _digest(raw)
    return Outgoing(
        row.id,
        row.to_addr,
        row.subject.replace(LINK_MARK, raw),
        row.body_text.replace(LINK_MARK, raw),
    )


def _send(settings: Settings, row: Outgoing, files: list[Attachment] | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = row.to_addr
    msg["Subject"] = row.subject
    # A stable Message-ID lets a receiving server drop a duplicate after a crash mid-send.
    msg["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain="anfitrion")
    msg.set_content(row.body_text)
    for item in files or []:
        kind, _, sub = item.content_type.partition("/")
        msg.add_attachment(item.data, maintype=kind, subtype=sub, filename=item.filename)
    host, port = settings.smtp_host or "", settings.smtp_port
    if settings.smtp_security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=20, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=20)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(msg)


def deliver_due(at: datetime | None = None, limit: int = 50) -> dict[str, int]:
    """Send the queued messages that are due. Returns counts of sent and failed."""
    settings = get_settings()
    counts = {"sent": 0, "failed": 0}
    if not settings.smtp_host:
        return counts
    at = at or now()
    # Imported here: the business area (core.catalog) sits above the platform and imports it.
    from core.catalog.business_details import INVOICE_MAILS, missing_details

    with unit_of_work() as s:
        stmt = select(MailOutbox.id).where(
            MailOutbox.status == "queued", MailOutbox.next_attempt_at <= at
        )
        if missing_details(session=s):
            # No invoice reaches a client before the business's details are set: those
            # mails stay queued until they are (the rule: core.catalog.business_details).
            stmt = stmt.where(MailOutbox.template.not_in(INVOICE_MAILS))
        ids = s.scalars(stmt.order_by(MailOutbox.id).limit(limit)).all()
    for mail_id in ids:
        with unit_of_work() as s:
            # Claim it: only one sender moves a row from queued to sending.
            claimed = cast(
                "CursorResult[Any]",
                s.execute(
                    update(MailOutbox)
                    .where(MailOutbox.id == mail_id, MailOutbox.status == "queued")
                    .values(status="sending", attempts=MailOutbox.attempts + 1)
                ),
            ).rowcount
            row = s.get(MailOutbox, mail_id) if claimed else None
            message = _outgoing(s, row, at) if row is not None else None
            files = attachments_of(s, mail_id) if row is not None else []
        if row is None:
            continue
        if message is None:  # its link's token was used, replaced or expired meanwhile
            counts["failed"] += 1
            continue
        try:
            _send(settings, message, files)
        except (OSError, smtplib.SMTPException) as exc:
            with unit_of_work() as s:
                fresh = s.get_one(MailOutbox, mail_id)
                fresh.last_error = type(exc).__name__  # never the server's text: may echo data
                fresh.status = "failed" if fresh.attempts >= MAX_ATTEMPTS else "queued"
                fresh.next_attempt_at = at + backoff(fresh.attempts)
            counts["failed"] += 1
            continue
        with unit_of_work() as s:
            fresh = s.get_one(MailOutbox, mail_id)
            fresh.status = "sent"
            fresh.sent_at = at
            fresh.last_error = None
        counts["sent"] += 1
    return counts


def recover_stuck(
    older_than: timedelta = timedelta(minutes=10), *, at: datetime | None = None
) -> int:
    """Messages left in 'sending' by a crash go back to the queue (the daily run and the CLI
    call this; ``at``: the moment, default now).

    A crash between SMTP acceptance and the 'sent' mark may deliver one twice; the stable
    Message-ID above lets receiving servers discard that duplicate.
    """
    at = at or now()
    with unit_of_work() as s:
        return cast(
            "CursorResult[Any]",
            s.execute(
                update(MailOutbox)
                .where(MailOutbox.status == "sending", MailOutbox.next_attempt_at < at - older_than)
                .values(status="queued")
            ),
        ).rowcount


def hand_over(actor: Actor, mail_id: int, at: datetime) -> Outgoing | None:
    """The owner delivers a queued sign-in mail by hand (no SMTP yet: an invited colleague
    waits for a welcome link): its link is minted now, returned once to be passed on, and
    the message counts as sent, so no other link for it goes out later. None when its
    token is no longer live. Nothing of the link is stored; the hand-over is audited."""
    require_owner(actor)
    with unit_of_work() as s:
        row = s.get(MailOutbox, int(mail_id))
        if row is None or row.status != "queued" or not row.link_token_hash:
            raise NotFound()
        message = _outgoing(s, row, at)
        if message is None:
            return None
        row.status, row.sent_at, row.last_error = "sent", at, None
        audit.record(
            s,
            actor,
            "mail.link_handed_over",
            target_type="mail",
            target_id=row.id,
            at=at,
            to=row.to_addr,
            template=row.template,
        )
        return message


_LINK_TOKEN = re.compile(r"([?&](?:reset|verify)=)[A-Za-z0-9_\-]+")


def outbox(actor: Actor, status: str | None = None, limit: int = 100) -> list[MailOutbox]:
    """The owner's view of outgoing mail, newest first.

    Without SMTP (the ``make run`` default) this is how messages reach anyone, so they are
    shown whole, except for sign-in links: their token is minted only when a message is
    sent, so none rests here to read (older sent ones are masked too)."""
    require_owner(actor)
    with reading() as s:
        stmt = select(MailOutbox).order_by(MailOutbox.id.desc()).limit(limit)
        if status:
            stmt = stmt.where(MailOutbox.status == status)
        rows = list(s.scalars(stmt).all())
    for row in rows:
        row.body_text = _LINK_TOKEN.sub(r"\1…", row.body_text.replace(LINK_MARK, "…"))
    return rows
