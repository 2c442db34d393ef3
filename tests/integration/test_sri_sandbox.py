"""The sandbox SRI behaves as research §4.7 specifies, checked with documents our issuance
signed (i17-docs) and with raw SOAP where the client would never send such a thing."""

from __future__ import annotations

import base64
from datetime import date

import pytest
import requests

from core.einvoice import keys
from core.einvoice.sri_client import AUTHORISED, NOT_AUTHORISED, PENDING, SriClient
from sandbox.sri_server import AUTORIZACION, RECEPCION, FakeSri
from tests.integration.einvoice_helpers import documents, pay, set_up_business
from tests.integration.sri_helpers import sri  # noqa: F401


@pytest.fixture
def signed(personas) -> bytes:
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    pay(owner, a.invoice_id)  # not connected to any SRI: the document stays signed
    [doc] = documents(a.invoice_id)
    return doc.xml_signed.encode()


def _client(fake: FakeSri) -> SriClient:
    return SriClient(fake.recepcion_url, fake.autorizacion_url, timeout=5)


def _key(xml: bytes) -> str:
    start = xml.index(b"<claveAcceso>") + len(b"<claveAcceso>")
    return xml[start : start + 49].decode()


def _codes(reception) -> list[str]:
    return [m["identificador"] for m in reception.messages]


def _with_key(xml: bytes, key: str) -> bytes:
    return xml.replace(_key(xml).encode(), key.encode())


def test_received_then_authorised_with_the_exact_bytes(signed, sri):
    client = _client(sri)
    assert client.send(signed).state == "RECIBIDA"
    answer = client.authorisation(_key(signed))
    assert answer.state == AUTHORISED and answer.number == _key(signed)
    assert answer.environment == "PRUEBAS"
    assert f"<![CDATA[{signed.decode()}]]>" in answer.xml
    # Sent again: 43, never a second document.
    again = client.send(signed)
    assert again.state == "DEVUELTA" and _codes(again) == ["43"]
    assert again.messages[0]["mensaje"] == "CLAVE ACCESO REGISTRADA"


def test_in_process_answers_70_then_en_proceso(signed, sri):
    sri.processing_polls = 2
    client = _client(sri)
    client.send(signed)
    assert _codes(client.send(signed)) == ["70"]
    assert client.authorisation(_key(signed)).state == PENDING
    assert client.authorisation(_key(signed)).state == PENDING
    assert client.authorisation(_key(signed)).state == AUTHORISED
    # The other behaviour of §4.4: an empty list while pending (the client keeps asking).
    with FakeSri(check_dates=False, processing_polls=1, processing_literal=None) as quiet:
        _client(quiet).send(signed)
        assert _client(quiet).authorisation(_key(signed)).state == "NONE"
        assert _client(quiet).authorisation(_key(signed)).state == AUTHORISED


def test_one_changed_byte_is_firma_invalida_then_a_corrected_resend_is_authorised(signed, sri):
    client = _client(sri)
    tampered = signed.replace(b"<razonSocialComprador>", b"<razonSocialComprador>X", 1)
    assert client.send(tampered).state == "RECIBIDA"  # recepción does not verify signatures
    refused = client.authorisation(_key(signed))
    assert refused.state == NOT_AUTHORISED
    assert [m["identificador"] for m in refused.messages] == ["39"]
    assert refused.messages[0]["mensaje"] == "FIRMA INVALIDA"
    assert client.send(signed).state == "RECIBIDA"  # same key, corrected: accepted again
    answer = client.authorisation(_key(signed))
    assert answer.state == AUTHORISED  # the authorised entry wins over the earlier refusal
    assert answer.exchange.response.count(b"<autorizacion>") == 2


def test_structure_key_environment_and_date_checks(signed, sri):
    client = _client(sri)
    broken = signed.replace(b"<totalSinImpuestos>", b"<totalSinImpuestoz>", 1).replace(
        b"</totalSinImpuestos>", b"</totalSinImpuestoz>", 1
    )
    answer = client.send(broken)
    assert _codes(answer) == ["35"]
    assert answer.messages[0]["informacionAdicional"].startswith(
        "Se encontró el siguiente error en la estructura del comprobante: "
    )
    no_key = signed.replace(b"<claveAcceso>", b"<claveAcceso>x", 1)
    assert _codes(client.send(no_key)) == ["35"]
    key = _key(signed)
    wrong_digit = key[:48] + str((int(key[48]) + 1) % 10)
    assert _codes(client.send(_with_key(signed, wrong_digit))) == ["58"]
    # The same estab-ptoEmi-secuencial under another valid key (another código numérico): 45.
    client.send(signed)
    other = key[:39] + "87654321" + key[47]
    other = other + str(keys.check_digit(other))
    assert _codes(client.send(_with_key(signed, other))) == ["45"]
    with FakeSri(environment=2, check_dates=False) as production:
        assert _codes(_client(production).send(signed)) == ["60"]
    with FakeSri(today=date(2027, 6, 1)) as late:
        assert _codes(_client(late).send(signed)) == ["65"]
    with FakeSri(today=date(2026, 11, 25)) as early:  # dated tomorrow for the SRI
        assert _codes(_client(early).send(signed)) == ["65"]


def test_soap_rules_and_the_wsdl(sri):
    envelope = (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:ec="http://ec.gob.sri.ws.recepcion"><soapenv:Body><ec:validarComprobante>'
        "<xml>{}</xml></ec:validarComprobante></soapenv:Body></soapenv:Envelope>"
    )
    url = sri.url + RECEPCION
    answer = requests.post(url, data=envelope.format(""), headers={"SOAPAction": "x"}, timeout=5)
    assert answer.status_code == 500 and b"does not match an operation" in answer.content
    answer = requests.post(url, data=b"not xml", timeout=5)
    assert answer.status_code == 500 and b"Unmarshalling Error" in answer.content
    answer = requests.post(url, data=envelope.format(""), headers={"SOAPAction": ""}, timeout=5)
    assert b"<identificador>49</identificador>" in answer.content
    junk = base64.b64encode(b"<a>no es un comprobante</a>").decode()
    answer = requests.post(url, data=envelope.format(junk), timeout=5)
    assert b"<claveAcceso>N/A</claveAcceso>" in answer.content
    assert b"<identificador>35</identificador>" in answer.content
    wsdl = requests.get(sri.url + AUTORIZACION + "?wsdl", timeout=5)
    assert f'location="{sri.url}{AUTORIZACION}"'.encode() in wsdl.content
    unknown = _client(sri).authorisation("1" * 49)
    assert unknown.state == "NONE" and b"<numeroComprobantes>0<" in unknown.exchange.response


def test_state_survives_a_restart(signed, tmp_path):
    state = tmp_path / "sri.json"
    with FakeSri(check_dates=False, state_file=state) as first:
        _client(first).send(signed)
        assert _client(first).authorisation(_key(signed)).state == AUTHORISED
    with FakeSri(check_dates=False, state_file=state) as second:
        assert _client(second).authorisation(_key(signed)).state == AUTHORISED
        assert _codes(_client(second).send(signed)) == ["43"]


@pytest.mark.parametrize("digest", ["sha1", "sha256"])
def test_the_sandbox_verifier_takes_both_profiles_and_refuses_a_changed_byte(personas, digest):
    from core.platform import settings
    from sandbox.sri_signature import SignatureError, verify

    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    settings.put(owner, "einvoice.digest", digest)
    pay(owner, a.invoice_id)
    [doc] = documents(a.invoice_id)
    signed = doc.xml_signed.encode()
    expected = "rsa-sha1" if digest == "sha1" else "rsa-sha256"
    assert expected.encode() in signed
    verify(signed)
    with pytest.raises(SignatureError):
        verify(signed.replace(b"<importeTotal>11.50", b"<importeTotal>11.51", 1))
