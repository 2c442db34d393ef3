"""The business as invoices and the client area show it: name, RUC, address, the bank
transfer instructions, and the logo. Split from ``core.catalog`` (which re-exports every public
name here) to keep modules near the house size; behaviour is unchanged.

* **Business details** (``business.name``, ``business.ruc``, ``business.address``,
  ``billing.transfer_instructions``) — read by the invoice PDF and the billing page.
* **Logo** (``business.logo_upload_id``, PNG or JPEG up to ``LOGO_MAX_MB``) — kept in the ``upload``
  table rather than on disk so every replica serves it; shown at the top of the home page.

:func:`clean_line` and :func:`clean_block` are the owner-text cleaners that
``core.catalog.products`` also uses for a product's name and description.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.accounts.profile import clean_tax_id
from core.billing.ledger import TRANSFER_INSTRUCTIONS
from core.models import Upload
from core.platform import settings, settings_registry, uploads
from core.platform.db import reading, transaction
from core.platform.errors import ValidationError

BUSINESS_NAME = "business.name"
BUSINESS_RUC = "business.ruc"
BUSINESS_ADDRESS = "business.address"
BUSINESS_LOGO = "business.logo_upload_id"
DEFAULT_BUSINESS_NAME: str = settings_registry.default(BUSINESS_NAME)

LOGO_TYPES = ("png", "jpg")
# One figure for the check here and the uploader's own limit (which counts whole MB): the
# field said 512 KB while the widget said 10 MB.
LOGO_MAX_MB = 1
LOGO_MAX_BYTES = LOGO_MAX_MB * 1024 * 1024
LOGO_MAX_SIDE = 4000
NAME_MAX = 200
ADDRESS_MAX = 300
INSTRUCTIONS_MAX = 2000


# The details every invoice a client receives must carry (issue 16 item 20), in the order the
# owner's first-run checklist lists them; each is filled in on Settings → Business.
REQUIRED_DETAILS = (BUSINESS_NAME, BUSINESS_RUC, BUSINESS_ADDRESS, TRANSFER_INSTRUCTIONS)

# THE RULE for mailing invoices before the business is set up (core.platform.mail holds to it):
# a mail that carries an invoice to a client — the renewal invoice, its payment reminders, a
# late fee (INVOICE_MAILS) — is not sent while any of REQUIRED_DETAILS is missing. It is
# queued as usual and held in the outbox (status "queued"), and goes out with the first
# delivery after the owner fills the details in: a client never receives an invoice from
# "Anfitrión" with no RUC and no way to pay, and no notice is lost meanwhile. Every other mail
# (sign-in, tickets, service notices) is sent as usual. The name counts as missing until the
# owner saves one: the default is the product's name, not the business's.
INVOICE_MAILS = ("renewal_invoice", "payment_reminder", "late_fee_added")


def missing_details(*, session: Session | None = None) -> list[str]:
    """The keys of REQUIRED_DETAILS not set yet, in checklist order (empty: ready)."""
    with reading(session) as s:
        # Stored values, not the readers': an unset name reads as the product's default.
        values = {
            BUSINESS_NAME: settings.stored(BUSINESS_NAME, session=s),
            BUSINESS_RUC: settings.stored(BUSINESS_RUC, session=s),
            BUSINESS_ADDRESS: settings.stored(BUSINESS_ADDRESS, session=s),
            TRANSFER_INSTRUCTIONS: settings.stored(TRANSFER_INSTRUCTIONS, session=s),
        }
    return [key for key in REQUIRED_DETAILS if not str(values[key] or "").strip()]


@dataclass(frozen=True)
class Business:
    name: str
    ruc: str
    address: str
    transfer_instructions: str
    has_logo: bool


def business(*, session: Session | None = None) -> Business:
    """The business's details as invoices and the client area show them (anyone may read)."""
    with reading(session) as s:
        return Business(
            name=settings.get_text(BUSINESS_NAME, session=s) or DEFAULT_BUSINESS_NAME,
            ruc=settings.get_text(BUSINESS_RUC, session=s),
            address=settings.get_text(BUSINESS_ADDRESS, session=s),
            transfer_instructions=settings.get_text(TRANSFER_INSTRUCTIONS, session=s),
            has_logo=settings.stored(BUSINESS_LOGO, session=s) is not None,
        )


def clean_line(value: str | None, limit: int) -> str:
    text = " ".join((value or "").replace("\r", " ").replace("\n", " ").split())
    return "".join(ch for ch in text if ch.isprintable())[:limit]


def clean_block(value: str | None, limit: int) -> str:
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = "".join(ch for ch in text if ch == "\n" or ch.isprintable())
    if len(text) > limit:
        raise ValidationError("catalog.error_text_too_long", n=limit)
    return text


def save_business(
    actor: Actor,
    *,
    name: str,
    ruc: str,
    address: str,
    transfer_instructions: str,
    session: Session | None = None,
) -> Business:
    """Store the business's details (owner). The RUC is checked like a client's (13 digits,
    valid check digit); an empty RUC is allowed until the business has one."""
    require_owner(actor)
    clean_name = clean_line(name, NAME_MAX)
    if not clean_name:
        raise ValidationError("catalog.error_business_name")
    number = (ruc or "").strip()
    clean_ruc = clean_tax_id("ruc", number) if number else ""
    clean_address = clean_line(address, ADDRESS_MAX)
    instructions = clean_block(transfer_instructions, INSTRUCTIONS_MAX)
    with transaction(session) as s:
        settings.put(actor, BUSINESS_NAME, clean_name, session=s)
        settings.put(actor, BUSINESS_RUC, clean_ruc or "", session=s)
        settings.put(actor, BUSINESS_ADDRESS, clean_address, session=s)
        settings.put(actor, TRANSFER_INSTRUCTIONS, instructions, session=s)
        return business(session=s)


def save_logo(actor: Actor, filename: str, data: bytes, *, session: Session | None = None) -> int:
    """Store the business logo (owner): PNG or JPEG, at most 512 KB; returns the upload id."""
    require_owner(actor)
    kind = uploads.check(data, filename, LOGO_TYPES, LOGO_MAX_BYTES, errors="catalog.error_logo")
    _check_image(data)
    with transaction(session) as s:
        row = uploads.store(
            s,
            client_id=None,
            filename=filename,
            data=data,
            content_type=kind,
            uploaded_by=actor.user_id or None,
        )
        settings.put(actor, BUSINESS_LOGO, row.id, session=s)
        return row.id


def _check_image(data: bytes) -> None:
    """The bytes must decode as a picture of sensible size (magic bytes are not enough: a
    page showing an undecodable "PNG" would fail for every reader)."""
    from PIL import Image, UnidentifiedImageError  # Pillow: a dependency of fpdf2

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            width, height = picture.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError("catalog.error_logo_type", n=1, types="png, jpg") from None
    if not (1 <= width <= LOGO_MAX_SIDE and 1 <= height <= LOGO_MAX_SIDE):
        raise ValidationError("catalog.error_logo_size", side=LOGO_MAX_SIDE)


def remove_logo(actor: Actor, *, session: Session | None = None) -> None:
    require_owner(actor)
    settings.put(actor, BUSINESS_LOGO, None, session=session)


def logo(*, session: Session | None = None) -> uploads.StoredFile | None:
    """The business logo, or None (public: it is shown to everyone)."""
    with reading(session) as s:
        upload_id = settings.get_int(BUSINESS_LOGO, session=s)
        if not upload_id:
            return None
        row = s.get(Upload, upload_id)
        if row is None or row.client_id is not None:
            return None
        return uploads.StoredFile(row.filename, row.content_type, row.data)
