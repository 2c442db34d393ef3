"""E-mail accounts (mailboxes) of a service, through the panel, scoped by the actor.

A client reaches only their own services' mailboxes: a foreign service id is ``NotFound``
before anything is asked of the panel, and an address outside the service's domain is refused.
Staff with the "services" permission and the owner reach every service.

Everything the panel would refuse is checked first, so the reader gets a precise message
without a round trip: the local part, that the domain is the service's, the quota against the
plan (``product.mailbox_quota_mb``), the count against ``product.max_mailboxes`` and the
password strength. The panel's own refusals (duplicate, weak password, quota, limit) still
become the same translated messages. Passwords are never stored, logged or audited.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from core import panel, services
from core.access import Actor, get_scoped, parse_id, require_permission
from core.models import Service
from core.panel.whm import Mailbox, PanelRejected, generate_password
from core.platform import audit
from core.platform.clock import now
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, DomainError, NotFound, ValidationError
from core.services import ServiceOption

MIN_PASSWORD = 12
MAX_PASSWORD = 128
MAX_OPTIONS = services.MAX_FOUND
BYTES_PER_MB = 1024 * 1024
# A conservative local part: what cPanel accepts and every mail client can type.
_LOCAL = re.compile(r"[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9_+-])?")
RESERVED_LOCALS = frozenset({"cpanel"})
_ALLOWED = frozenset("._+-")


@dataclass(frozen=True)
class MailboxView:
    address: str
    local: str
    domain: str
    quota_mb: int | None  # None: unlimited
    used_mb: Decimal
    used_percent: Decimal | None  # None when unlimited
    suspended: bool


@dataclass(frozen=True)
class MailboxPage:
    """What the e-mail accounts page shows: the services to pick from, the chosen one and
    its mailboxes. ``error`` is an i18n key when the panel could not list them."""

    options: list[ServiceOption]
    service: ServiceOption | None
    mailboxes: list[MailboxView]
    max_mailboxes: int
    max_quota_mb: int
    writable: bool
    error: str | None


@dataclass(frozen=True)
class CreatedMailbox:
    address: str
    password: str | None  # only when generated here: shown once, never kept


@dataclass(frozen=True)
class _Box:
    """A service as a mailbox call needs it, read before the call."""

    id: int
    client_id: int
    status: str
    domain: str
    username: str
    endpoint: panel.Endpoint
    max_mailboxes: int
    max_quota_mb: int


def _load(actor: Actor, service_id: int, session: Session | None) -> _Box:
    with reading(session) as s:
        svc = get_scoped(s, actor, Service, service_id, "services")
        if svc.status not in ("active", "suspended"):
            raise Conflict("services.error_not_active")
        if svc.server is None:
            raise Conflict("services.error_no_server")
        if not svc.panel_username:
            raise Conflict("services.error_no_account")
        return _Box(
            id=svc.id,
            client_id=svc.client_id,
            status=svc.status,
            domain=svc.domain.strip().lower(),
            username=svc.panel_username,
            endpoint=panel.endpoint(svc.server),
            max_mailboxes=svc.product.max_mailboxes,
            max_quota_mb=svc.product.mailbox_quota_mb,
        )


def _writable(box: _Box) -> _Box:
    if box.status != "active":
        raise Conflict("services.error_not_active")
    return box


def _view(m: Mailbox) -> MailboxView:
    used = (Decimal(m.used_bytes) / BYTES_PER_MB).quantize(Decimal("0.01"))
    quota = int(m.quota_mb) if m.quota_mb else None
    percent = (used * 100 / quota).quantize(Decimal("0.1")) if quota else None
    return MailboxView(
        address=m.address,
        local=m.local,
        domain=m.domain,
        quota_mb=quota,
        used_mb=used,
        used_percent=percent,
        suspended=m.suspended_login or m.suspended_incoming,
    )


def _list(box: _Box) -> list[MailboxView]:
    with panel.calling(box.id, write=False):
        found = panel.client(box.endpoint).list_mailboxes(box.username, box.domain)
    return sorted((_view(m) for m in found), key=lambda v: v.address)


# ------------------------------------------------------------------- validation
def split_address(box_domain: str, address: str, *, name_only: bool = False) -> tuple[str, str]:
    """``local`` or ``local@domain`` → (local, domain), refusing any other domain than the
    service's and any local part cPanel (or a mail client) would choke on, each refusal
    saying what is wrong. ``name_only``: the input was a field asking for the part before
    "@" (the create form), so an "@" with another domain is told as such."""
    raw = (address or "").strip().lower()
    local, at, domain = raw.partition("@")
    domain = domain.rstrip(".") if at else box_domain
    check_local(local)
    if domain != box_domain:
        key = "error.mailbox_local_at" if name_only else "error.mailbox_domain"
        raise ValidationError(key, domain=box_domain)
    return local, domain


def check_local(local: str) -> None:
    """The part before "@": the first rule it breaks, in words the person can act on."""
    if not local:
        raise ValidationError("error.mailbox_local_empty")
    if any(ch.isspace() for ch in local):
        raise ValidationError("error.mailbox_local_space")
    bad = sorted({ch for ch in local if not (ch in _ALLOWED or ch.isascii() and ch.isalnum())})
    if bad:
        raise ValidationError("error.mailbox_local_chars", chars=" ".join(bad))
    if len(local) > 64:
        raise ValidationError("error.mailbox_local_long", n=64)
    if local in RESERVED_LOCALS:
        raise ValidationError("error.mailbox_local_reserved", name=local)
    if not _LOCAL.fullmatch(local) or ".." in local:
        raise ValidationError("error.mailbox_local_dots")


def check_password(password: str, local: str = "") -> None:
    """At least 12 characters from three of: lowercase, uppercase, digits, symbols; not
    built on the mailbox name. A panel demanding more still answers with the same message."""
    if not password or len(password) < MIN_PASSWORD or len(password) > MAX_PASSWORD:
        raise ValidationError("error.mailbox_password_weak", n=MIN_PASSWORD)
    classes = sum(
        any(ch in pool for ch in password)
        for pool in (string.ascii_lowercase, string.ascii_uppercase, string.digits)
    ) + any(not ch.isalnum() for ch in password)
    too_simple = len(set(password)) < 6 or (len(local) >= 3 and local in password.lower())
    if classes < 3 or too_simple or password != password.strip():
        raise ValidationError("error.mailbox_password_weak", n=MIN_PASSWORD)


def _quota(box: _Box, quota_mb: Any) -> int:
    return check_quota(box.max_quota_mb, quota_mb)


def check_quota(max_quota_mb: int, quota_mb: Any) -> int:
    """A whole number of MB from 1 to the plan's maximum; a negative or zero one is told
    apart from one above the plan's limit."""
    try:
        quota = int(str(quota_mb).strip())
    except (TypeError, ValueError):
        raise ValidationError("error.mailbox_quota", max=max_quota_mb) from None
    if quota < 1:
        raise ValidationError("error.mailbox_quota_positive", max=max_quota_mb)
    if quota > max_quota_mb:
        raise ValidationError("error.mailbox_quota", max=max_quota_mb)
    return quota


def _refusal(box: _Box, address: str) -> Callable[[PanelRejected], DomainError | None]:
    """cPanel's refusal texts (cpanel-api.md §4) → the reader's message."""

    def convert(exc: PanelRejected) -> DomainError | None:
        text = exc.reason.lower()
        if "already exists" in text:
            return Conflict("error.mailbox_exists", address=address)
        if "strength" in text or "too weak" in text:
            return ValidationError("error.mailbox_password_weak", n=MIN_PASSWORD)
        if "maximum number of email accounts" in text:
            return ValidationError("error.mailbox_limit", max=box.max_mailboxes)
        if "quota" in text:
            return ValidationError("error.mailbox_quota", max=box.max_quota_mb)
        if "do not have an email account" in text:
            return NotFound("error.mailbox_not_found", address=address)
        if "do not own the domain" in text:
            return ValidationError("error.mailbox_domain", domain=box.domain)
        return None

    return convert


def _audit(s: Session, actor: Actor, action: str, box: _Box, **details: Any) -> None:
    audit.record(
        s,
        actor,
        action,
        target_type="service",
        target_id=box.id,
        client_id=box.client_id,
        **details,
    )


# ------------------------------------------------------------------------ reads
def list_mailboxes(
    actor: Actor, service_id: int, *, session: Session | None = None
) -> list[MailboxView]:
    """The service's mailboxes with their usage, read from the panel."""
    require_permission(actor, "mailboxes")
    return _list(_load(actor, service_id, session))


def mailbox_page(
    actor: Actor,
    service_id: int | None = None,
    *,
    search: str | None = None,
    session: Session | None = None,
) -> MailboxPage:
    """Everything the e-mail accounts page reads, in one call. ``service_id`` None picks the
    first of the actor's services; a foreign or malformed id is NotFound. A panel that cannot
    answer leaves the list empty and names the reason in ``error``."""
    require_permission(actor, "mailboxes")
    chosen: int | None = None
    if service_id not in (None, ""):
        chosen = parse_id(service_id)
    with reading(session) as s:
        if chosen is not None:
            get_scoped(s, actor, Service, chosen, "services")  # NotFound before anything else
        # At most MAX_OPTIONS for the desk (a search finds the rest), from the domain index.
        options = services.find_services(
            actor,
            None if actor.is_client else search,
            on_panel=True,
            keep=chosen,
            limit=MAX_OPTIONS,
            session=s,
        )
    service = next((o for o in options if o.id == chosen), None)
    if service is None and chosen is None and options:
        service = options[0]
    if service is None:
        return MailboxPage(options, None, [], 0, 0, False, None)
    try:
        box = _load(actor, service.id, session)
    except DomainError as exc:
        return MailboxPage(options, service, [], 0, 0, False, exc.key)
    try:
        boxes, error = _list(box), None
    except DomainError as exc:
        boxes, error = [], exc.key
    return MailboxPage(
        options=options,
        service=service,
        mailboxes=boxes,
        max_mailboxes=box.max_mailboxes,
        max_quota_mb=box.max_quota_mb,
        writable=box.status == "active" and error is None,
        error=error,
    )


# ----------------------------------------------------------------------- writes
def create_mailbox(
    actor: Actor,
    service_id: int,
    local: str,
    password: str | None = None,
    quota_mb: Any = None,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> CreatedMailbox:
    """Create ``local@<service domain>``. With no password a strong one is generated and
    returned once; ``quota_mb`` defaults to the plan's maximum per mailbox. ``at``: the
    action's moment (default now), stamped on a panel failure's note."""
    require_permission(actor, "mailboxes")
    at = at or now()
    box = _writable(_load(actor, service_id, session))
    name, domain = split_address(box.domain, local, name_only=True)
    address = f"{name}@{domain}"
    quota = _quota(box, box.max_quota_mb if quota_mb in (None, "") else quota_mb)
    generated = None
    if not password:
        password = generated = generate_password(16)
    check_password(password, name)
    existing = _list(box)
    if any(m.address == address for m in existing):
        raise Conflict("error.mailbox_exists", address=address)
    if len(existing) >= box.max_mailboxes:
        raise ValidationError("error.mailbox_limit", max=box.max_mailboxes)
    with panel.calling(
        box.id,
        write=True,
        at=at,
        session=session,
        note_rejected=False,
        rejected=_refusal(box, address),
    ):
        panel.client(box.endpoint).add_mailbox(box.username, name, domain, password, quota)
    with transaction(session) as s:
        _audit(s, actor, "mailbox.created", box, address=address, quota_mb=quota)
    return CreatedMailbox(address=address, password=generated)


def change_password(
    actor: Actor,
    service_id: int,
    address: str,
    password: str,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    require_permission(actor, "mailboxes")
    at = at or now()  # the action's moment, stamped on a panel failure's note
    box = _writable(_load(actor, service_id, session))
    name, domain = split_address(box.domain, address)
    full = f"{name}@{domain}"
    check_password(password, name)
    with panel.calling(
        box.id,
        write=True,
        at=at,
        session=session,
        note_rejected=False,
        rejected=_refusal(box, full),
    ):
        panel.client(box.endpoint).set_mailbox_password(box.username, name, domain, password)
    with transaction(session) as s:
        _audit(s, actor, "mailbox.password_changed", box, address=full)


def change_quota(
    actor: Actor,
    service_id: int,
    address: str,
    quota_mb: Any,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    require_permission(actor, "mailboxes")
    at = at or now()  # the action's moment, stamped on a panel failure's note
    box = _writable(_load(actor, service_id, session))
    name, domain = split_address(box.domain, address)
    full = f"{name}@{domain}"
    quota = _quota(box, quota_mb)
    with panel.calling(
        box.id,
        write=True,
        at=at,
        session=session,
        note_rejected=False,
        rejected=_refusal(box, full),
    ):
        panel.client(box.endpoint).set_mailbox_quota(box.username, name, domain, quota)
    with transaction(session) as s:
        _audit(s, actor, "mailbox.quota_changed", box, address=full, quota_mb=quota)


def delete_mailbox(
    actor: Actor,
    service_id: int,
    address: str,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """Delete the mailbox and its mail (the page asks for confirmation). A mailbox that is
    already gone counts as deleted. ``at``: the action's moment (default now), stamped on a
    panel failure's note."""
    require_permission(actor, "mailboxes")
    at = at or now()
    box = _writable(_load(actor, service_id, session))
    name, domain = split_address(box.domain, address)
    full = f"{name}@{domain}"
    with panel.calling(
        box.id,
        write=True,
        at=at,
        session=session,
        note_rejected=False,
        rejected=_refusal(box, full),
    ):
        panel.client(box.endpoint).delete_mailbox(box.username, name, domain)
    with transaction(session) as s:
        _audit(s, actor, "mailbox.deleted", box, address=full)
