"""A self-signed signing certificate for the demo business, made at demo load.

The SRI accepts only certificates from an Ecuadorian authority; the sandbox checks only the
signature itself, so a fresh install can issue and sign documents with no setup. The RUC goes
in the subject's serialNumber, where ``core.einvoice.certificates`` looks for it (real
authorities also use their own extensions, which it reads too).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID


def make_p12(
    *,
    ruc: str,
    holder: str,
    password: str,
    not_before: datetime,
    days: int = 730,
    key_size: int = 2048,
) -> bytes:
    """A PKCS#12 with an RSA key and a certificate for ``holder`` and ``ruc`` valid ``days``
    from ``not_before`` (naive UTC), protected by ``password``."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "EC"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, ruc),
            x509.NameAttribute(NameOID.COMMON_NAME, holder),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return pkcs12.serialize_key_and_certificates(
        holder.encode("utf-8"), key, cert, None, BestAvailableEncryption(password.encode("utf-8"))
    )
