"""A client's contact and billing details, and asking to change one's e-mail address.

Tax identification follows Ecuadorian practice: cédula (10 digits) and RUC (13) are checked
with python-stdnum; a passport is free-form; "consumidor final" carries no number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.access import Actor, require_permission
from core.accounts import normalise_email, prove_password, tokens, user_by_email
from core.accounts.recovery import link
from core.models import Client, User
from core.platform import audit, mail
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError

TAX_ID_TYPES = ("cedula", "ruc", "pasaporte", "consumidor_final")
PROVINCES = (
    "Azuay",
    "Bolívar",
    "Cañar",
    "Carchi",
    "Chimborazo",
    "Cotopaxi",
    "El Oro",
    "Esmeraldas",
    "Galápagos",
    "Guayas",
    "Imbabura",
    "Loja",
    "Los Ríos",
    "Manabí",
    "Morona Santiago",
    "Napo",
    "Orellana",
    "Pastaza",
    "Pichincha",
    "Santa Elena",
    "Santo Domingo de los Tsáchilas",
    "Sucumbíos",
    "Tungurahua",
    "Zamora Chinchipe",
)


@dataclass(frozen=True)
class Profile:
    name: str
    company: str
    email: str
    phone: str
    address: str
    city: str
    province: str
    country: str
    tax_id_type: str
    tax_id: str
    verified: bool


def _client_of(session: Session, actor: Actor) -> Client:
    if not actor.is_client:
        raise NotFound()
    client = session.get(Client, actor.client_id)
    if client is None:
        raise NotFound()
    return client


def get_profile(actor: Actor, *, session: Session | None = None) -> Profile:
    require_permission(actor, "contact")
    with reading(session) as s:
        client = _client_of(s, actor)
        user = s.get_one(User, actor.user_id)
        return Profile(
            name=client.name,
            company=client.company or "",
            email=user.email,
            phone=client.phone or "",
            address=client.address or "",
            city=client.city or "",
            province=client.province or "",
            country=client.country or "EC",
            tax_id_type=client.tax_id_type,
            tax_id=client.tax_id or "",
            verified=user.verified_at is not None,
        )


def clean_tax_id(kind: str, number: str) -> str | None:
    """The normalised tax number for ``kind``, or a translated refusal."""
    number = (number or "").strip().replace("-", "").replace(" ", "")
    if kind not in TAX_ID_TYPES:
        raise ValidationError("error.tax_id_type_invalid")
    if kind == "consumidor_final":
        return None
    if not number:
        raise ValidationError("error.tax_id_required")
    # python-stdnum and phonenumbers are imported when a number is checked: the processes
    # that only import this module on the way (the daily run) skip ~50 ms of their loading.
    from stdnum.ec import ci, ruc
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        if kind == "cedula":
            return ci.validate(number)
        if kind == "ruc":
            return ruc.validate(number)
    except StdnumError:
        raise ValidationError(f"error.{kind}_invalid") from None
    if not (5 <= len(number) <= 20 and number.isalnum()):
        raise ValidationError("error.pasaporte_invalid")
    return number.upper()


def clean_phone(phone: str, country: str) -> str | None:
    phone = (phone or "").strip()
    if not phone:
        return None
    import phonenumbers

    try:
        parsed = phonenumbers.parse(phone, country or "EC")
    except phonenumbers.NumberParseException:
        raise ValidationError("error.phone_invalid") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValidationError("error.phone_invalid")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def update_profile(
    actor: Actor, changes: Profile, at: datetime, *, session: Session | None = None
) -> None:
    """Save contact and billing details; any invalid field refuses the whole change."""
    require_permission(actor, "contact")
    name = changes.name.strip()
    if not name or len(name) > 200:
        raise ValidationError("error.name_required")
    country = (changes.country or "EC").strip().upper()
    if len(country) != 2 or not country.isalpha():
        raise ValidationError("error.country_invalid")
    tax_id = clean_tax_id(changes.tax_id_type, changes.tax_id)
    phone = clean_phone(changes.phone, country)
    with transaction(session) as s:
        client = _client_of(s, actor)
        before = {
            k: getattr(client, k)
            for k in (
                "name",
                "company",
                "phone",
                "address",
                "city",
                "province",
                "country",
                "tax_id_type",
                "tax_id",
            )
        }
        client.name = name
        client.company = changes.company.strip()[:200] or None
        client.phone = phone
        client.address = changes.address.strip()[:300] or None
        client.city = changes.city.strip()[:100] or None
        client.province = changes.province.strip()[:100] or None
        client.country = country
        client.tax_id_type = changes.tax_id_type
        client.tax_id = tax_id
        after = {k: getattr(client, k) for k in before}
        changed = sorted(k for k in before if before[k] != after[k])
        if changed:
            audit.record(
                s,
                actor,
                "profile.updated",
                target_type="client",
                target_id=client.id,
                client_id=client.id,
                at=at,
                fields=",".join(changed),
            )


def change_email(
    actor: Actor, new_email: str, password: str, at: datetime, *, session: Session | None = None
) -> None:
    """Ask to move the account to a new address. Nothing moves yet: a link goes to the new
    address, and only opening it moves the account (recovery.verify_email). Until then
    sign-in and mail stay on the old address, which is told of the request, so a hijacker
    cannot quietly take the account over."""
    address = normalise_email(new_email)
    prove_password(actor, password, at, session=session)
    with transaction(session) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            raise NotFound()
        if address == user.email:
            return
        if user_by_email(s, address) is not None:
            raise ValidationError("error.email_taken")
        raw = tokens.issue(s, user, "email_change", at, email=address)
        mail.queue(
            s,
            to_addr=address,
            template="email_change_confirm",
            language=user.language,
            name=user.name,
            old_email=user.email,
            link=link("verify", raw),
        )
        mail.queue(
            s,
            to_addr=user.email,
            template="email_change_requested",
            language=user.language,
            name=user.name,
            new_email=address,
        )
        audit.record(
            s,
            actor,
            "email.change_requested",
            target_type="user",
            target_id=user.id,
            client_id=user.client_id,
            at=at,
            new=address,
        )


def pending_email(actor: Actor, at: datetime, *, session: Session | None = None) -> str | None:
    """The address a change is waiting to move to (its link not yet opened), if any."""
    with reading(session) as s:
        user = s.get(User, actor.user_id)
        if user is None:
            return None
        token = tokens.pending(s, user, "email_change", at)
        return token.email if token is not None else None


def profile_fields(p: Profile) -> dict:
    return asdict(p)
