"""The desk's changes to client records: creating a client (with a sign-in account and a
welcome mail that lets them set a password), editing their contact and billing details and
notes, and mailing a link to set a new password.

Create and update read the form through one cleaner (``_clean``), so both accept exactly the
same input and nothing is written before every field is valid; both are audited. The desk
never sees or sets a password. Split from ``core.clients`` (which keeps ``ClientForm``) to
keep modules near the house size; behaviour is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, of_client, require
from core.accounts import normalise_email
from core.accounts.profile import TAX_ID_TYPES, clean_phone, clean_tax_id
from core.accounts.recovery import create_client_account, send_set_passwordlink
from core.clients import ClientForm, client_by_id
from core.models import Client, User
from core.platform import audit
from core.platform.db import transaction
from core.platform.errors import NotFound, ValidationError
from core.platform.i18n import LANGUAGES

NOTES_MAX = 5000


# -------------------------------------------------------------------- create/edit
@dataclass(frozen=True)
class _Clean:
    name: str
    email: str
    company: str | None
    phone: str | None
    address: str | None
    city: str | None
    province: str | None
    country: str
    tax_id_type: str
    tax_id: str | None
    language: str
    notes: str | None


def _line(value: str | None, limit: int) -> str | None:
    text = " ".join((value or "").replace("\r", " ").replace("\n", " ").split())
    return text[:limit] or None


def _clean(form: ClientForm) -> _Clean:
    name = _line(form.name, 200)
    if not name:
        raise ValidationError("error.name_required")
    country = (form.country or "EC").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationError("error.country_invalid")
    if form.language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    if form.tax_id_type not in TAX_ID_TYPES:
        raise ValidationError("error.tax_id_type_invalid")
    notes = (form.notes or "").replace("\r\n", "\n").strip()
    if len(notes) > NOTES_MAX:
        raise ValidationError("clients.error_notes_too_long", n=NOTES_MAX)
    return _Clean(
        name=name,
        email=normalise_email(form.email),
        company=_line(form.company, 200),
        phone=clean_phone(form.phone, country),
        address=_line(form.address, 300),
        city=_line(form.city, 100),
        province=_line(form.province, 100),
        country=country,
        tax_id_type=form.tax_id_type,
        tax_id=clean_tax_id(form.tax_id_type, form.tax_id),
        language=form.language,
        notes=notes or None,
    )


FIELDS = (
    "name",
    "email",
    "company",
    "phone",
    "address",
    "city",
    "province",
    "country",
    "tax_id_type",
    "tax_id",
    "language",
    "notes",
)


def create_client(
    actor: Actor, form: ClientForm, at: datetime, *, session: Session | None = None
) -> int:
    """A new client with a sign-in account; a welcome mail lets them set a password.
    Every field is validated first (tax id with its check digit, phone by country)."""
    require(actor, "clients")
    clean = _clean(form)
    with transaction(session) as s:
        client_id = create_client_account(
            actor,
            name=clean.name,
            email=clean.email,
            language=clean.language,
            company=clean.company,
            at=at,
            session=s,
        )
        client = s.get(Client, client_id)
        for name in FIELDS:
            setattr(client, name, getattr(clean, name))
        audit.record(
            s,
            actor,
            "client.created",
            target_type="client",
            target_id=client_id,
            client_id=client_id,
            at=at,
            name=clean.name,
            email=clean.email,
        )
        return client_id


def update_client(
    actor: Actor,
    client_id: int,
    form: ClientForm,
    at: datetime,
    *,
    session: Session | None = None,
) -> list[str]:
    """Save a client's contact and billing details and notes; returns the changed fields.
    The sign-in address is the client's own to change (it must be verified)."""
    require(actor, "clients")
    clean = _clean(form)
    with transaction(session) as s:
        client = client_by_id(s, client_id)
        changed = [n for n in FIELDS if getattr(client, n) != getattr(clean, n)]
        for name in changed:
            setattr(client, name, getattr(clean, name))
        if changed:
            audit.record(
                s,
                actor,
                "client.updated",
                target_type="client",
                target_id=client.id,
                client_id=client.id,
                at=at,
                fields=",".join(changed),
            )
        return changed


def send_password_link(
    actor: Actor, client_id: int, at: datetime, *, session: Session | None = None
) -> str:
    """Mail the client's (first active) sign-in account a link to set a new password; the
    desk never sees or sets a password. Returns the address it went to."""
    require(actor, "clients")
    with transaction(session) as s:
        client = client_by_id(s, client_id)
        user = s.scalars(
            select(User).where(of_client(User, client.id), User.active.is_(True)).order_by(User.id)
        ).first()
        if user is None:
            raise NotFound("clients.error_no_user")
        send_set_passwordlink(actor, user.id, at, session=s)
        return user.email
