"""XAdES-BES enveloped signature in the profile SRI-authorised documents carry (research §3).

A small signer on lxml + cryptography, the approach Odoo ships, chosen over the libraries
the research names: python-xmlsig/xades is proven only at old pins, signxml's XAdES emits
``SigningCertificateV2`` and warns it will leave SHA-1, endesive's XAdES layout for the SRI
is unknown, and python-xmlsec needs a native library while still leaving XAdES to us. Here
every byte of the layout is ours: C14N 1.0 inclusive, RSA-SHA1 with SHA-1 digests by
default (RSA-SHA256/SHA-256 with ``digest="sha256"``), three references — SignedProperties,
the KeyInfo (``#Certificate…``) and ``#comprobante`` with the enveloped transform — and the
``etsi:`` QualifyingProperties with SigningTime, SigningCertificate (CertDigest + IssuerSerial)
and a DataObjectFormat for the document.

Digests are taken in document context (the Signature already appended to the document), so
inherited namespace declarations are part of each canonical form, as a verifier sees them.
Nothing is re-indented after signing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from lxml import etree

from core.platform.clock import now

DS = "http://www.w3.org/2000/09/xmldsig#"
ETSI = "http://uri.etsi.org/01903/v1.3.2#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
ALGORITHMS = {
    # digest name → (DigestMethod URI, SignatureMethod URI, hashlib name, cryptography hash)
    "sha1": (
        "http://www.w3.org/2000/09/xmldsig#sha1",
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        "sha1",
        hashes.SHA1,
    ),
    "sha256": (
        "http://www.w3.org/2001/04/xmlenc#sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "sha256",
        hashes.SHA256,
    ),
}
ECUADOR = timezone(timedelta(hours=-5))  # SigningTime as real documents write it


class CertificateError(ValueError):
    """The .p12 cannot sign: wrong password, no RSA key, or no signing certificate that
    matches the key. ``key`` names the reason for a translated message."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class SigningPair:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def _can_sign(cert: x509.Certificate) -> bool:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True  # no KeyUsage restricts nothing
    return bool(usage.digital_signature)


def load_pair(p12: bytes, password: str) -> SigningPair:
    """The private key and the certificate to sign with, from a PKCS#12 file.

    Research §3.4 (3): a Banco Central file holds several certificates; the one chosen has
    digitalSignature in its KeyUsage and the private key's public half. Expiry is not checked
    here (the owner is warned before it; the SRI refuses an expired one)."""
    try:
        loaded = pkcs12.load_pkcs12(p12, password.encode("utf-8") if password else None)
    except (ValueError, TypeError):
        raise CertificateError("certificate_unreadable") from None
    key = loaded.key
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CertificateError("certificate_no_rsa_key")
    public = key.public_key().public_numbers()
    candidates = [loaded.cert.certificate] if loaded.cert is not None else []
    candidates += [c.certificate for c in loaded.additional_certs]
    for cert in candidates:
        cert_key = cert.public_key()
        if (
            isinstance(cert_key, rsa.RSAPublicKey)
            and cert_key.public_numbers() == public
            and _can_sign(cert)
        ):
            return SigningPair(key, cert)
    raise CertificateError("certificate_no_signing_cert")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _int_b64(value: int) -> str:
    """Big-endian unsigned, minimal length (research §3.4 (5))."""
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def _c14n(node: etree._Element) -> bytes:
    return etree.tostring(node, method="c14n", exclusive=False, with_comments=False)


def _el(
    parent: etree._Element, ns: str, tag: str, text: str | None = None, **attrs: str
) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ns}}}{tag}", **attrs)
    if text is not None:
        node.text = text
    return node


def _digest(parent: etree._Element, uri: str, value: str) -> None:
    _el(parent, DS, "DigestMethod", Algorithm=uri)
    _el(parent, DS, "DigestValue", value)


def sign(
    xml: bytes,
    p12: bytes,
    password: str,
    *,
    digest: str = "sha1",
    signing_time: datetime | None = None,
    pair: SigningPair | None = None,
) -> bytes:
    """``xml`` (a comprobante whose root has ``id="comprobante"``) with its XAdES-BES
    signature appended as the root's last child. ``pair`` skips reading the .p12 again
    (the issuer caches it); ``signing_time`` (aware) defaults to now: a direct call is an
    entry point of its own (the sandbox's and the tests' signing)."""
    if digest not in ALGORITHMS:
        raise ValueError(f"digest must be one of {sorted(ALGORITHMS)}")
    digest_uri, signature_uri, hash_name, hash_cls = ALGORITHMS[digest]
    pair = pair or load_pair(p12, password)
    root = etree.fromstring(xml, etree.XMLParser(remove_blank_text=False, resolve_entities=False))
    if root.get("id") != "comprobante":
        raise ValueError('the document root must carry id="comprobante"')

    def hashed(data: bytes) -> str:
        return _b64(hashlib.new(hash_name, data).digest())

    # The enveloped transform removes the Signature: the document's digest is that of the
    # document as it is now, before the Signature is appended (with no tail text).
    document_digest = hashed(_c14n(root))

    n = str(secrets.randbelow(900_000) + 100_000)
    sig_id = f"Signature{n}"
    props_id = f"{sig_id}-SignedProperties{n}"
    cert_id = f"Certificate{n}"
    ref_id = f"Reference-ID-{n}"
    cert_der = pair.certificate.public_bytes(serialization.Encoding.DER)
    numbers = pair.key.public_key().public_numbers()
    when = (signing_time or now().replace(tzinfo=UTC)).astimezone(ECUADOR)

    signature = etree.SubElement(
        root, f"{{{DS}}}Signature", nsmap={"ds": DS, "etsi": ETSI}, Id=sig_id
    )
    signed_info = _el(signature, DS, "SignedInfo", Id=f"Signature-SignedInfo{n}")
    _el(signed_info, DS, "CanonicalizationMethod", Algorithm=C14N)
    _el(signed_info, DS, "SignatureMethod", Algorithm=signature_uri)
    props_ref = _el(
        signed_info,
        DS,
        "Reference",
        Id=f"SignedPropertiesID{n}",
        Type=SIGNED_PROPERTIES_TYPE,
        URI=f"#{props_id}",
    )
    cert_ref = _el(signed_info, DS, "Reference", URI=f"#{cert_id}")
    doc_ref = _el(signed_info, DS, "Reference", Id=ref_id, URI="#comprobante")
    transforms = _el(doc_ref, DS, "Transforms")
    _el(transforms, DS, "Transform", Algorithm=ENVELOPED)
    signature_value = _el(signature, DS, "SignatureValue", Id=f"SignatureValue{n}")

    key_info = _el(signature, DS, "KeyInfo", Id=cert_id)
    x509_data = _el(key_info, DS, "X509Data")
    _el(x509_data, DS, "X509Certificate", _b64(cert_der))
    key_value = _el(key_info, DS, "KeyValue")
    rsa_value = _el(key_value, DS, "RSAKeyValue")
    _el(rsa_value, DS, "Modulus", _int_b64(numbers.n))
    _el(rsa_value, DS, "Exponent", _int_b64(numbers.e))

    obj = _el(signature, DS, "Object", Id=f"{sig_id}-Object{n}")
    qualifying = _el(obj, ETSI, "QualifyingProperties", Target=f"#{sig_id}")
    props = _el(qualifying, ETSI, "SignedProperties", Id=props_id)
    sig_props = _el(props, ETSI, "SignedSignatureProperties")
    _el(sig_props, ETSI, "SigningTime", when.isoformat(timespec="seconds"))
    cert_node = _el(_el(sig_props, ETSI, "SigningCertificate"), ETSI, "Cert")
    _digest(_el(cert_node, ETSI, "CertDigest"), digest_uri, hashed(cert_der))
    issuer_serial = _el(cert_node, ETSI, "IssuerSerial")
    _el(issuer_serial, DS, "X509IssuerName", pair.certificate.issuer.rfc4514_string())
    _el(issuer_serial, DS, "X509SerialNumber", str(pair.certificate.serial_number))
    data_props = _el(props, ETSI, "SignedDataObjectProperties")
    data_format = _el(data_props, ETSI, "DataObjectFormat", ObjectReference=f"#{ref_id}")
    _el(data_format, ETSI, "Description", "contenido comprobante")
    _el(data_format, ETSI, "MimeType", "text/xml")

    # Digests in document context, then the signature over SignedInfo.
    _digest(props_ref, digest_uri, hashed(_c14n(props)))
    _digest(cert_ref, digest_uri, hashed(_c14n(key_info)))
    _digest(doc_ref, digest_uri, document_digest)
    value = pair.key.sign(_c14n(signed_info), padding.PKCS1v15(), hash_cls())
    signature_value.text = _b64(value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
