"""The sandbox SRI's own XAdES-BES check (research §4.7, autorización step 3).

It is written from the XML-DSig and XAdES rules, not from our signer, so a signer bug shows
as "FIRMA INVALIDA" here exactly as it would at the SRI: every ``ds:Reference`` is resolved,
transformed (enveloped signature, C14N) and digested; ``ds:SignatureValue`` is checked over the
canonical ``ds:SignedInfo`` with the embedded certificate's key; the XAdES
``SigningCertificate`` digest must be that certificate's; its KeyUsage must allow signing.
SHA-1 and SHA-256 profiles are both accepted.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NAMESPACES = ("http://uri.etsi.org/01903/v1.3.2#", "http://uri.etsi.org/01903/v1.4.1#")
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": (False, False),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": (False, True),
    "http://www.w3.org/2001/10/xml-exc-c14n#": (True, False),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": (True, True),
}
DIGESTS = {
    "http://www.w3.org/2000/09/xmldsig#sha1": "sha1",
    "http://www.w3.org/2001/04/xmlenc#sha256": "sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha256": "sha256",
    "http://www.w3.org/2001/04/xmlenc#sha512": "sha512",
}
SIGNATURES: dict[str, Any] = {
    "http://www.w3.org/2000/09/xmldsig#rsa-sha1": hashes.SHA1,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": hashes.SHA512,
}


class SignatureError(ValueError):
    """Why the signature does not hold (goes to ``informacionAdicional``)."""


def _c14n(node: Any, algorithm: str) -> bytes:
    if algorithm not in C14N:
        raise SignatureError(f"Algoritmo de canonicalización no soportado: {algorithm}")
    exclusive, comments = C14N[algorithm]
    return bytes(etree.tostring(node, method="c14n", exclusive=exclusive, with_comments=comments))


def _by_id(root: Any, ident: str) -> Any:
    for attr in ("id", "Id", "ID"):
        found = root.xpath(f"//*[@{attr}=$v]", v=ident)
        if found:
            return found[0]
    raise SignatureError(f"Referencia no encontrada: #{ident}")


def _digest_of_reference(root: Any, signature: Any, ref: Any) -> bytes:
    uri = ref.get("URI", "")
    target = root if uri == "" else _by_id(root, uri.removeprefix("#"))
    transforms = [
        t.get("Algorithm", "") for t in ref.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")
    ]
    method = ref.find(f"{{{DS}}}DigestMethod")
    algorithm = DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
    if algorithm is None:
        raise SignatureError("Algoritmo de resumen no soportado")
    c14n = next(
        (t for t in transforms if t in C14N), "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    # The enveloped transform: the signature is taken out of the tree while the referenced
    # node is canonicalised, then put back where it was (no copy: namespaces stay in scope).
    detach = ENVELOPED in transforms and any(a is target for a in signature.iterancestors())
    parent = signature.getparent()
    index = parent.index(signature) if parent is not None else 0
    tail = signature.tail
    if detach and parent is not None:
        parent.remove(signature)
    try:
        data = _c14n(target, c14n)
    finally:
        if detach and parent is not None:
            signature.tail = tail
            parent.insert(index, signature)
    return hashlib.new(algorithm, data).digest()


def _certificate(signature: Any) -> x509.Certificate:
    certs = signature.findall(f".//{{{DS}}}X509Certificate")
    if not certs:
        raise SignatureError("No se encontró el certificado en la firma")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(certs[0].text.split())))
    except ValueError as exc:
        raise SignatureError("Error en el certificado") from exc


def _check_signing_certificate(signature: Any, cert: x509.Certificate) -> None:
    digest_nodes = []
    for ns in XADES_NAMESPACES:
        digest_nodes += signature.findall(f".//{{{ns}}}SigningCertificate//{{{ns}}}CertDigest")
    if not digest_nodes:
        raise SignatureError("Falta SigningCertificate (XAdES-BES)")
    der = cert.public_bytes(Encoding.DER)
    for node in digest_nodes:
        method = node.find(f"{{{DS}}}DigestMethod")
        value = node.find(f"{{{DS}}}DigestValue")
        algorithm = DIGESTS.get(method.get("Algorithm", "") if method is not None else "")
        if algorithm is None or value is None or not value.text:
            continue
        if hashlib.new(algorithm, der).digest() == base64.b64decode(value.text.strip()):
            return
    raise SignatureError("El resumen del certificado firmante no coincide")


def _check_key_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not usage.digital_signature:
        raise SignatureError("El certificado no permite firma digital")


def verify(xml: bytes) -> None:
    """Raise :class:`SignatureError` unless ``xml`` carries a valid XAdES-BES signature."""
    try:
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SignatureError(f"XML mal formado: {exc}") from exc
    signatures = root.findall(f".//{{{DS}}}Signature")
    if len(signatures) != 1:
        raise SignatureError("El comprobante no tiene exactamente una firma")
    signature = signatures[0]
    signed_info = signature.find(f"{{{DS}}}SignedInfo")
    value = signature.find(f"{{{DS}}}SignatureValue")
    if signed_info is None or value is None or not (value.text or "").strip():
        raise SignatureError("Firma incompleta")
    references = signed_info.findall(f"{{{DS}}}Reference")
    if not any(r.get("URI") in ("#comprobante", "") for r in references):
        raise SignatureError("La firma no cubre el comprobante")
    for ref in references:
        expected = ref.findtext(f"{{{DS}}}DigestValue") or ""
        try:
            wanted = base64.b64decode(expected.strip())
        except ValueError as exc:
            raise SignatureError("DigestValue inválido") from exc
        if _digest_of_reference(root, signature, ref) != wanted:
            raise SignatureError(f"Resumen inválido de la referencia {ref.get('URI')}")
    cert = _certificate(signature)
    _check_signing_certificate(signature, cert)
    _check_key_usage(cert)
    method = signed_info.find(f"{{{DS}}}SignatureMethod")
    hash_cls = SIGNATURES.get(method.get("Algorithm", "") if method is not None else "")
    if hash_cls is None:
        raise SignatureError("Algoritmo de firma no soportado")
    canonical = signed_info.find(f"{{{DS}}}CanonicalizationMethod")
    c14n = canonical.get("Algorithm", "") if canonical is not None else ""
    key = cert.public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureError("Clave pública no RSA")
    try:
        key.verify(
            base64.b64decode("".join(value.text.split())),
            _c14n(signed_info, c14n),
            padding.PKCS1v15(),
            hash_cls(),
        )
    except (InvalidSignature, ValueError) as exc:
        raise SignatureError("La firma no corresponde al contenido firmado") from exc
