"""Issue 17 acceptance 3: our XAdES-BES signature verifies with an independent verifier.

Debian's ``xmlsec1 --verify`` (package xmlsec1, installed by .ci/run) checks the document
with the certificate embedded in it — only the X509 key data is enabled, and that
certificate is the only trusted one — and one byte changed after signing makes it fail.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from lxml import etree

from core.einvoice import access_key, schema
from core.einvoice.documents import (
    Body,
    Buyer,
    Header,
    Issuer,
    Line,
    Modified,
    Payment,
    TaxTotal,
    credit_note_xml,
    factura_xml,
)
from core.einvoice.signing import CertificateError, load_pair, sign
from sandbox.demo_certificate import make_p12

DS = "{http://www.w3.org/2000/09/xmldsig#}"
ETSI = "{http://uri.etsi.org/01903/v1.3.2#}"
PASSWORD = "clave"
XMLSEC = shutil.which("xmlsec1")
needs_xmlsec = pytest.mark.skipif(XMLSEC is None, reason="xmlsec1 missing: .ci/run installs it")
AT = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


@cache
def _p12() -> bytes:
    return make_p12(ruc="1790011674001", holder="HOSTING EJEMPLO S.A.", password=PASSWORD,
                    not_before=datetime(2026, 1, 1))  # fmt: skip


def _document(doc_type: str = "01") -> bytes:
    key = access_key(issued_on=date(2026, 11, 26), doc_type=doc_type, ruc="1790011674001",
                     environment=1, establishment="001", emission_point="001", sequential=7,
                     numeric_code=12345678)  # fmt: skip
    head = Header(doc_type, 1, "001", "001", 7, key, date(2026, 11, 26))
    issuer = Issuer("1790011674001", "Hosting Ejemplo S.A.", "Av. Amazonas N00-00, Quito")
    body = Body(
        Buyer("05", "1710034065", "Cliente Año Ñandú & <Cía>"),
        (Line("RENEWAL-1", "Hosting", Decimal("10.00"), Decimal("15"), "4", Decimal("1.50")),),
        (TaxTotal(Decimal("15"), "4", Decimal("10.00"), Decimal("1.50")),),
        Decimal("11.50"),
        (("Email", "cliente@example.com"),),
    )  # fmt: skip
    if doc_type == "01":
        return factura_xml(head, issuer, body, (Payment("20", Decimal("11.50")),))
    return credit_note_xml(
        head, issuer, body, Modified("001-001-000000003", date(2026, 11, 1), "Devolución")
    )


def _xmlsec(path: Path, tmp_path: Path, signed: bytes) -> subprocess.CompletedProcess:
    root = etree.fromstring(signed)
    der = base64.b64decode(root.findtext(f".//{DS}X509Certificate"))
    pem = tmp_path / "embedded.pem"
    from cryptography import x509

    pem.write_bytes(x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM))
    assert XMLSEC is not None
    return subprocess.run(
        [XMLSEC, "--verify", "--enabled-key-data", "x509", "--trusted-pem", str(pem),
         "--verification-time", "2026-11-26+12:00:00",
         "--id-attr:id", root.tag,
         "--id-attr:Id", "http://uri.etsi.org/01903/v1.3.2#:SignedProperties",
         "--id-attr:Id", "http://www.w3.org/2000/09/xmldsig#:KeyInfo", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@needs_xmlsec
@pytest.mark.parametrize("doc_type", ["01", "04"])
@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_xmlsec1_verifies_and_one_changed_byte_fails(tmp_path, doc_type, digest):
    signed = sign(_document(doc_type), _p12(), PASSWORD, digest=digest, signing_time=AT)
    assert schema.errors(doc_type, signed) == []  # the signed document still validates
    good = tmp_path / "signed.xml"
    good.write_bytes(signed)
    result = _xmlsec(good, tmp_path, signed)
    assert result.returncode == 0, result.stderr
    assert "SignedInfo References (ok/all): 3/3" in result.stderr
    # One byte changed in the comprobante, in the signed properties, in the signature value
    # (the SignatureValue's own Id is outside what XMLDSig signs, so it is not a case).
    for old, new in ((b"11.50</importeTotal>", b"11.51</importeTotal>"),
                     (b"11.50</valorModificacion>", b"11.51</valorModificacion>"),
                     (b"2026-11-26T10:00:00-05:00", b"2026-11-26T10:00:01-05:00"),):  # fmt: skip
        if old not in signed:
            continue
        bad = tmp_path / "tampered.xml"
        bad.write_bytes(signed.replace(old, new, 1))
        assert _xmlsec(bad, tmp_path, signed).returncode != 0, old
    value = etree.fromstring(signed).find(f".//{DS}SignatureValue")
    raw = bytearray(base64.b64decode(value.text))
    raw[10] ^= 0x01
    flipped = signed.replace(value.text.encode(), base64.b64encode(bytes(raw)))
    bad = tmp_path / "flipped.xml"
    bad.write_bytes(flipped)
    assert _xmlsec(bad, tmp_path, signed).returncode != 0


def test_the_signature_has_the_sri_profile():
    signed = sign(_document(), _p12(), PASSWORD, signing_time=AT)
    root = etree.fromstring(signed)
    signature = root[-1]
    assert signature.tag == f"{DS}Signature"  # enveloped, the root's last child
    info = signature.find(f"{DS}SignedInfo")
    assert info.find(f"{DS}CanonicalizationMethod").get("Algorithm") == (
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    )
    assert info.find(f"{DS}SignatureMethod").get("Algorithm").endswith("#rsa-sha1")
    refs = info.findall(f"{DS}Reference")
    assert len(refs) == 3
    props, cert, doc = refs
    assert props.get("Type") == "http://uri.etsi.org/01903#SignedProperties"
    assert cert.get("URI") == "#" + signature.find(f"{DS}KeyInfo").get("Id")
    assert doc.get("URI") == "#comprobante"
    assert (
        doc.find(f"{DS}Transforms/{DS}Transform").get("Algorithm").endswith("#enveloped-signature")
    )
    for ref in refs:
        assert ref.find(f"{DS}DigestMethod").get("Algorithm").endswith("#sha1")
    der = base64.b64decode(signature.findtext(f".//{DS}X509Certificate"))
    cert_digest = signature.findtext(f".//{ETSI}CertDigest/{DS}DigestValue")
    sha1 = hashlib.sha1(der).digest()  # noqa: S324 - the SRI profile's digest
    assert cert_digest == base64.b64encode(sha1).decode()
    assert signature.findtext(f".//{ETSI}SigningTime") == "2026-11-26T10:00:00-05:00"
    assert signature.findtext(f".//{ETSI}DataObjectFormat/{ETSI}MimeType") == "text/xml"
    assert signature.find(f".//{ETSI}DataObjectFormat").get("ObjectReference") == (
        "#" + doc.get("Id")
    )
    assert signature.find(f".//{DS}RSAKeyValue/{DS}Exponent").text == "AQAB"


def test_a_wrong_password_or_a_bad_digest_is_refused():
    with pytest.raises(CertificateError) as exc:
        load_pair(_p12(), "otra")
    assert exc.value.key == "certificate_unreadable"
    with pytest.raises(ValueError):
        sign(_document(), _p12(), PASSWORD, digest="md5")
    with pytest.raises(ValueError):
        sign(b'<factura id="otro"/>', _p12(), PASSWORD)
