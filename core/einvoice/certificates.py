"""The business's signing certificate: uploaded by the owner, kept encrypted, read to sign.

The .p12 and its password are stored as two settings, each encrypted with the vault
(``core.platform.vault``): a database backup without the install's SECRET_KEY reveals
neither, and the audit log records only that they changed. Electronic invoicing is on when a
certificate is stored. What the owner sees is :class:`CertificateInfo` — holder, RUC, expiry —
never the file or the password; :func:`expiry_warning` is the 30-day notice on their home and
settings pages (research §6 rule 10).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from cryptography import x509
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.einvoice.signing import CertificateError, SigningPair, load_pair
from core.platform import audit, settings, vault
from core.platform.db import reading, transaction
from core.platform.errors import ValidationError

CERTIFICATE = "einvoice.certificate_secret"
PASSWORD = "einvoice.certificate_password"  # noqa: S105 - a setting's name
WARN_DAYS = 30
MAX_BYTES = 64 * 1024
_RUC = re.compile(rb"(?<![0-9])([0-9]{10}001)(?![0-9])")


@dataclass(frozen=True)
class CertificateInfo:
    holder: str
    ruc: str  # "" when the certificate names none we can find
    issuer: str
    not_before: datetime  # naive UTC
    not_after: datetime  # naive UTC

    def days_left(self, on: date) -> int:
        return (self.not_after.date() - on).days


def _ruc_of(cert: x509.Certificate) -> str:
    """The RUC a certificate names: in the subject (serialNumber, UID, any attribute), or in
    an authority's own extension (Security Data, BCE and UANATACA keep it in private OIDs)."""
    for attr in cert.subject:
        value = attr.value if isinstance(attr.value, str) else attr.value.decode("latin-1")
        found = _RUC.search(value.encode("ascii", "ignore"))
        if found:
            return found.group(1).decode("ascii")
    for ext in cert.extensions:
        if isinstance(ext.value, x509.UnrecognizedExtension):
            found = _RUC.search(ext.value.value)
            if found:
                return found.group(1).decode("ascii")
    return ""


def _holder(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    value = names[0].value if names else cert.subject.rfc4514_string()
    return value if isinstance(value, str) else value.decode("utf-8", "replace")


def describe(pair: SigningPair) -> CertificateInfo:
    cert = pair.certificate
    return CertificateInfo(
        holder=_holder(cert),
        ruc=_ruc_of(cert),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc.replace(tzinfo=None),
        not_after=cert.not_valid_after_utc.replace(tzinfo=None),
    )


def sealed(p12: bytes, password: str) -> tuple[str, str]:
    """The two stored values, encrypted: the .p12 (base64 inside) and its password."""
    return vault.encrypt(base64.b64encode(p12).decode("ascii")), vault.encrypt(password)


def upload(
    actor: Actor, p12: bytes, password: str, *, at: datetime, session: Session | None = None
) -> CertificateInfo:
    """Check and store the owner's .p12 and its password (both encrypted). A file that does
    not open with the password, holds no signing certificate or has expired is refused and
    nothing is stored."""
    require_owner(actor)
    if not p12 or len(p12) > MAX_BYTES:
        raise ValidationError("einvoice.error.certificate_size", kb=MAX_BYTES // 1024)
    try:
        info = describe(load_pair(p12, password))
    except CertificateError as exc:
        raise ValidationError(f"einvoice.error.{exc.key}") from None
    if info.not_after <= at:
        raise ValidationError("einvoice.error.certificate_expired")
    sealed_p12, sealed_password = sealed(p12, password)
    with transaction(session) as s:
        settings.put(actor, CERTIFICATE, sealed_p12, session=s)
        settings.put(actor, PASSWORD, sealed_password, session=s)
        audit.record(
            s,
            actor,
            "einvoice.certificate_uploaded",
            target_type="setting",
            holder=info.holder,
            ruc=info.ruc,
            not_after=info.not_after.isoformat(),
        )
    return info


def is_configured(session: Session | None = None) -> bool:
    """Electronic invoicing is on: a certificate is stored."""
    return bool(settings.get_text(CERTIFICATE, session=session))


@lru_cache(maxsize=4)
def _opened(encrypted_p12: str, encrypted_password: str) -> tuple[bytes, str, SigningPair]:
    # Decrypting and opening a .p12 costs far more than a signature; a document run signs
    # many with the same one. Keyed by the stored ciphertexts, so a new upload is a new entry.
    p12 = base64.b64decode(vault.decrypt(encrypted_p12))
    password = vault.decrypt(encrypted_password) if encrypted_password else ""
    return p12, password, load_pair(p12, password)


def signing_material(session: Session | None = None) -> tuple[bytes, str, SigningPair] | None:
    """(p12, password, opened pair) of the stored certificate, or None when there is none."""
    with reading(session) as s:
        stored = settings.get_text(CERTIFICATE, session=s)
        password = settings.get_text(PASSWORD, session=s)
    if not stored:
        return None
    return _opened(stored, password)


def current(session: Session | None = None) -> CertificateInfo | None:
    """What the owner sees of the stored certificate (None when there is none, or when it
    no longer opens, e.g. after SECRET_KEY changed)."""
    try:
        material = signing_material(session)
    except (ValueError, CertificateError):
        return None
    return None if material is None else describe(material[2])


def expiry_warning(actor: Actor, on: date, *, session: Session | None = None) -> int | None:
    """Days left when the owner should be warned (the certificate expires within
    ``WARN_DAYS`` days, or has expired: then a negative count); None otherwise and for
    anyone but the owner."""
    if actor.role != "owner":
        return None
    info = current(session)
    if info is None:
        return None
    left = info.days_left(on)
    return left if left <= WARN_DAYS else None
