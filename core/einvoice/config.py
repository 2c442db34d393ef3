"""The owner's SRI settings, read once per document, and the issuer they describe.

Declared in ``core.platform.settings_registry``; the owner edits them in Settings →
"Facturación electrónica" (``ui/settings``), through :func:`save` which checks each value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.catalog.business_details import BUSINESS_ADDRESS, BUSINESS_NAME, BUSINESS_RUC
from core.einvoice.documents import Issuer
from core.platform import settings
from core.platform.db import transaction
from core.platform.errors import ValidationError

ENVIRONMENT = "einvoice.environment"
ESTABLISHMENT = "einvoice.establishment"
EMISSION_POINT = "einvoice.emission_point"
ACCOUNTING_REQUIRED = "einvoice.accounting_required"
SPECIAL_TAXPAYER = "einvoice.special_taxpayer"
RIMPE = "einvoice.rimpe"
DIGEST = "einvoice.digest"
FINAL_CONSUMER_LIMIT = "einvoice.final_consumer_limit"

ENVIRONMENTS = (1, 2)  # pruebas, producción
DIGESTS = ("sha1", "sha256")
_CODE = re.compile(r"[0-9]{3}")
_SPECIAL = re.compile(r"[A-Za-z0-9]{3,13}")
_RUC = re.compile(r"[0-9]{10}001")


@dataclass(frozen=True)
class EinvoiceSettings:
    environment: int
    establishment: str
    emission_point: str
    accounting_required: bool
    special_taxpayer: str
    rimpe: bool
    digest: str
    final_consumer_limit: Decimal


def read(session: Session | None = None) -> EinvoiceSettings:
    """The settings as they are now (an unreadable stored value reads as its default)."""
    env = settings.get_int(ENVIRONMENT, session=session)
    estab = settings.get_text(ESTABLISHMENT, session=session)
    point = settings.get_text(EMISSION_POINT, session=session)
    digest = settings.get_text(DIGEST, session=session)
    try:
        limit = Decimal(str(settings.get(FINAL_CONSUMER_LIMIT, session=session)))
    except InvalidOperation:
        limit = Decimal("50.00")
    return EinvoiceSettings(
        environment=env if env in ENVIRONMENTS else 1,
        establishment=estab if _CODE.fullmatch(estab) else "001",
        emission_point=point if _CODE.fullmatch(point) else "001",
        accounting_required=settings.get_bool(ACCOUNTING_REQUIRED, session=session),
        special_taxpayer=settings.get_text(SPECIAL_TAXPAYER, session=session).strip(),
        rimpe=settings.get_bool(RIMPE, session=session),
        digest=digest if digest in DIGESTS else "sha1",
        final_consumer_limit=limit,
    )


def issuer(session: Session, conf: EinvoiceSettings) -> Issuer:
    """The business as the documents name it; refuses what the SRI schema cannot take."""
    ruc = settings.get_text(BUSINESS_RUC, session=session).strip()
    if not _RUC.fullmatch(ruc):
        raise ValidationError("einvoice.error.business_ruc")
    address = settings.get_text(BUSINESS_ADDRESS, session=session).strip()
    if not address:
        raise ValidationError("einvoice.error.business_address")
    name = settings.get_text(BUSINESS_NAME, session=session).strip()
    return Issuer(
        ruc=ruc,
        legal_name=name or ruc,
        head_office=address,
        establishment_address=address,
        accounting_required=conf.accounting_required,
        special_taxpayer=conf.special_taxpayer,
        rimpe=conf.rimpe,
    )


def save(actor: Actor, form: EinvoiceSettings, *, session: Session | None = None) -> None:
    """Store the owner's settings after checking every one; nothing is written if one is
    wrong (the error names it)."""
    require_owner(actor)
    if form.environment not in ENVIRONMENTS:
        raise ValidationError("einvoice.error.environment")
    if not _CODE.fullmatch(form.establishment or ""):
        raise ValidationError("einvoice.error.establishment")
    if not _CODE.fullmatch(form.emission_point or ""):
        raise ValidationError("einvoice.error.emission_point")
    special = (form.special_taxpayer or "").strip()
    if special and not _SPECIAL.fullmatch(special):
        raise ValidationError("einvoice.error.special_taxpayer")
    if form.digest not in DIGESTS:
        raise ValidationError("einvoice.error.digest")
    if form.final_consumer_limit < 0:
        raise ValidationError("einvoice.error.final_consumer_limit")
    with transaction(session) as s:
        settings.put(actor, ENVIRONMENT, form.environment, session=s)
        settings.put(actor, ESTABLISHMENT, form.establishment, session=s)
        settings.put(actor, EMISSION_POINT, form.emission_point, session=s)
        settings.put(actor, ACCOUNTING_REQUIRED, bool(form.accounting_required), session=s)
        settings.put(actor, SPECIAL_TAXPAYER, special, session=s)
        settings.put(actor, RIMPE, bool(form.rimpe), session=s)
        settings.put(actor, DIGEST, form.digest, session=s)
        settings.put(actor, FINAL_CONSUMER_LIMIT, form.final_consumer_limit, session=s)
