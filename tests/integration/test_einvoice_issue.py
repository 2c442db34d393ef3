"""Issue 17: a factura on full payment, notas de crédito on refunds and downgrade credits.

Every document here is checked against the SRI's XSD (``core.einvoice.schema``) after
signing too, and its numbers and access key against each other.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import billing, einvoice
from core.access import SYSTEM
from core.einvoice import certificates, schema, triggers
from core.einvoice.amounts import SourceLine
from core.einvoice.states import SIGNED
from core.models import AuditEntry, Counter, ElectronicDocument, Invoice, Setting
from core.platform import settings, vault
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, ValidationError
from tests.integration.einvoice_helpers import (
    AT,
    BUSINESS_RUC,
    CEDULA,
    P12_PASSWORD,
    RUC_CLIENT,
    documents,
    identify,
    p12,
    pay,
    set_up_business,
    tree,
)


def _valid(doc: ElectronicDocument) -> None:
    assert schema.errors(doc.doc_type, doc.xml_signed.encode("utf-8")) == []
    assert einvoice.is_valid_access_key(doc.access_key)
    root = tree(doc)
    info = root.find("infoTributaria")
    assert info.findtext("claveAcceso") == doc.access_key
    assert info.findtext("codDoc") == doc.doc_type
    assert doc.number == "-".join(
        (info.findtext("estab"), info.findtext("ptoEmi"), info.findtext("secuencial"))
    )
    assert doc.access_key[30:39] == info.findtext("secuencial")
    assert doc.access_key[8:10] == doc.doc_type
    assert doc.access_key[10:23] == BUSINESS_RUC


def test_full_payment_issues_one_signed_factura(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    pay(owner, a.invoice_id, "5.00")  # partial: still a proforma
    assert documents() == []
    pay(owner, a.invoice_id, "6.50", method="cash")
    [doc] = documents(a.invoice_id)
    _valid(doc)
    assert (doc.doc_type, doc.status, doc.number) == ("01", SIGNED, "001-001-000000001")
    assert doc.total == Decimal("11.50") and doc.client_id == a.actor.client_id
    assert doc.issued_on == date(2026, 11, 26)  # the paying moment's date in Ecuador
    assert doc.access_key.startswith("26112026" + "01" + BUSINESS_RUC + "1" + "001001")
    assert json.loads(doc.messages) == [] and doc.attempts == 0
    root = tree(doc)
    info = root.find("infoFactura")
    # Consumidor final under the limit; IVA 15 % is codigoPorcentaje 4, per line and in total.
    assert info.findtext("tipoIdentificacionComprador") == "07"
    assert info.findtext("identificacionComprador") == "9999999999999"
    assert info.findtext("totalConImpuestos/totalImpuesto/codigoPorcentaje") == "4"
    assert info.findtext("totalConImpuestos/totalImpuesto/valor") == "1.50"
    assert root.findtext("detalles/detalle/impuestos/impuesto/codigoPorcentaje") == "4"
    assert root.findtext("detalles/detalle/impuestos/impuesto/tarifa") == "15.00"
    assert info.findtext("importeTotal") == "11.50"
    # forma de pago from each payment's method: transfer 20, cash 01.
    pagos = {p.findtext("formaPago"): p.findtext("total") for p in info.iterfind("pagos/pago")}
    assert pagos == {"20": "5.00", "01": "6.50"}
    extra = {c.get("nombre"): c.text for c in root.iterfind("infoAdicional/campoAdicional")}
    assert extra["Email"] == "a@test.ec" and extra["Documento interno"] == "F-A-1"
    # Issued once: calling again returns the same document.
    with unit_of_work() as s:
        again = einvoice.issue_factura(s, s.get_one(Invoice, a.invoice_id), AT)
        assert again.id == doc.id


def test_no_certificate_means_no_document(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner, certificate=False)
    pay(owner, a.invoice_id)
    assert documents() == []
    with read_session() as s:
        assert s.get_one(Invoice, a.invoice_id).status == "paid"


@pytest.mark.parametrize(
    "kind,number,code",
    [("cedula", CEDULA, "05"), ("ruc", RUC_CLIENT, "04"), ("pasaporte", "ab123456", "06")],
)
def test_buyer_identification_type_follows_the_client(personas, kind, number, code):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, kind, number)
    pay(owner, a.invoice_id)
    [doc] = documents()
    info = tree(doc).find("infoFactura")
    assert info.findtext("tipoIdentificacionComprador") == code
    assert info.findtext("identificacionComprador") == number.upper()
    assert info.findtext("razonSocialComprador") == "Cliente A"


def _counter(name: str = "sri.01.001-001") -> int | None:
    with read_session() as s:
        return s.scalar(select(Counter.value).where(Counter.name == name))


def test_a_refused_factura_never_undoes_the_payment_nor_uses_a_number(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", "1710034066")  # wrong check digit
    pay(owner, a.invoice_id)
    assert documents() == []
    assert _counter() in (None, 0)
    with read_session() as s:
        assert s.get_one(Invoice, a.invoice_id).status == "paid"
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.action == "einvoice.not_issued")
        ).one()
        assert entry.details["reason"] == "einvoice.error.buyer_cedula_invalid"
    # Over the consumidor-final limit (einvoice.final_consumer_limit) it is refused too.
    b = personas.client_b
    settings.put(owner, "einvoice.final_consumer_limit", Decimal("10.00"))
    pay(owner, b.invoice_id)
    assert documents() == []
    # The next document that can be issued takes number 1: nothing was skipped.
    settings.put(owner, "einvoice.final_consumer_limit", Decimal("50.00"))
    identify(a.actor.client_id, "cedula", CEDULA)
    with unit_of_work() as s:
        doc = einvoice.issue_factura(s, s.get_one(Invoice, a.invoice_id), AT)
        assert doc.sequential == 1


def test_refund_issues_a_credit_note_referencing_the_factura(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", CEDULA)
    pay(owner, a.invoice_id)
    billing.refund_invoice(owner, a.invoice_id, reason="Servicio no prestado", at=AT)
    factura, note = documents(a.invoice_id)
    _valid(note)
    assert (note.doc_type, note.number, note.status) == ("04", "001-001-000000001", SIGNED)
    assert note.modified_document_id == factura.id and note.total == factura.total
    assert note.reason == "Servicio no prestado"
    info = tree(note).find("infoNotaCredito")
    assert info.findtext("codDocModificado") == "01"
    assert info.findtext("numDocModificado") == factura.number
    assert info.findtext("fechaEmisionDocSustento") == factura.issued_on.strftime("%d/%m/%Y")
    assert info.findtext("valorModificacion") == "11.50"
    assert info.findtext("motivo") == "Servicio no prestado"
    assert info.findtext("totalConImpuestos/totalImpuesto/codigoPorcentaje") == "4"
    assert info.findtext("tipoIdentificacionComprador") == "05"
    # Nothing is left to credit: a further note is refused and uses no number.
    with unit_of_work() as s, pytest.raises(Conflict):
        doc = s.get_one(ElectronicDocument, factura.id)
        einvoice.issue_credit_note(s, doc, lines_or_amount=Decimal("0.01"), reason="x", at=AT)
    assert _counter("sri.04.001-001") == 1


def test_partial_credit_notes_never_exceed_the_factura(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "ruc", RUC_CLIENT)
    pay(owner, a.invoice_id)
    [factura] = documents()
    with unit_of_work() as s:
        doc = s.get_one(ElectronicDocument, factura.id)
        first = einvoice.issue_credit_note(
            s, doc, lines_or_amount=Decimal("4.60"), reason="Descuento", at=AT
        )
        assert first.total == Decimal("4.60")
        lines = [SourceLine("X", "Ajuste", Decimal("2.00"), Decimal("15"), Decimal("0.30"))]
        second = einvoice.issue_credit_note(s, doc, lines_or_amount=lines, reason="Ajuste", at=AT)
        assert second.total == Decimal("2.30")
        with pytest.raises(Conflict):
            einvoice.issue_credit_note(s, doc, lines_or_amount=Decimal("4.61"), reason="x", at=AT)
        rest = einvoice.issue_credit_note(s, doc, reason="Resto", at=AT)
        assert rest.total == Decimal("4.60")
        assert einvoice.credited_so_far(s, doc) == doc.total
        with pytest.raises(ValidationError):
            einvoice.issue_credit_note(s, doc, lines_or_amount=Decimal("1"), reason=" ", at=AT)
    notes = [d for d in documents() if d.doc_type == "04"]
    assert [d.sequential for d in notes] == [1, 2, 3]
    for note in notes:
        _valid(note)
    base = tree(notes[0]).findtext("infoNotaCredito/totalConImpuestos/totalImpuesto/baseImponible")
    assert base == "4.00"  # 4.60 with 15 % IVA inside


def test_no_credit_note_to_consumidor_final(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    pay(owner, a.invoice_id)
    billing.refund_invoice(owner, a.invoice_id, reason="x", at=AT)
    assert [d.doc_type for d in documents()] == ["01"]
    with read_session() as s:
        reasons = s.scalars(
            select(AuditEntry.details).where(AuditEntry.action == "einvoice.not_issued")
        ).all()
    assert reasons[0]["reason"] == "einvoice.error.credit_note_final_consumer"


def test_downgrade_credit_issues_a_credit_note_on_the_service_factura(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", CEDULA)
    pay(owner, a.invoice_id)
    with unit_of_work() as s:
        note = triggers.credit_note_on_downgrade(
            s, SYSTEM, a.service_id, Decimal("3.45"), reason="Premium → Básico", at=AT
        )
        assert note is not None and note.total == Decimal("3.45")
        # More than is left is capped at what the factura still has.
        capped = triggers.credit_note_on_downgrade(
            s, SYSTEM, a.service_id, Decimal("100"), reason="x", at=AT
        )
        assert capped is not None and capped.total == Decimal("8.05")
        assert (
            triggers.credit_note_on_downgrade(
                s, SYSTEM, a.service_id, Decimal("1"), reason="x", at=AT
            )
            is None
        )
    for doc in documents():
        _valid(doc)


def test_settings_shape_every_document(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", CEDULA)
    einvoice.config.save(
        owner,
        einvoice.config.EinvoiceSettings(
            environment=2,
            establishment="002",
            emission_point="105",
            accounting_required=True,
            special_taxpayer="5368",
            rimpe=True,
            digest="sha256",
            final_consumer_limit=Decimal("50.00"),
        ),
    )
    pay(owner, a.invoice_id)
    [doc] = documents()
    _valid(doc)
    assert (doc.environment, doc.number) == (2, "002-105-000000001")
    assert doc.access_key[23] == "2" and doc.access_key[24:30] == "002105"
    root = tree(doc)
    assert root.findtext("infoTributaria/ambiente") == "2"
    assert root.findtext("infoTributaria/contribuyenteRimpe") == "CONTRIBUYENTE RÉGIMEN RIMPE"
    assert root.findtext("infoFactura/obligadoContabilidad") == "SI"
    assert root.findtext("infoFactura/contribuyenteEspecial") == "5368"
    method = root.find(".//{http://www.w3.org/2000/09/xmldsig#}SignatureMethod")
    assert method.get("Algorithm").endswith("rsa-sha256")
    billing.refund_invoice(owner, a.invoice_id, reason="Devolución", at=AT)
    note = documents()[-1]
    _valid(note)
    assert note.number == "002-105-000000001"
    info = tree(note).find("infoNotaCredito")
    assert info.findtext("contribuyenteEspecial") == "5368"
    assert info.findtext("obligadoContabilidad") == "SI"


@pytest.mark.parametrize(
    "field,value,error",
    [
        ("environment", 3, "einvoice.error.environment"),
        ("establishment", "01", "einvoice.error.establishment"),
        ("emission_point", "abc", "einvoice.error.emission_point"),
        ("special_taxpayer", "5-3", "einvoice.error.special_taxpayer"),
        ("digest", "md5", "einvoice.error.digest"),
        ("final_consumer_limit", Decimal("-1"), "einvoice.error.final_consumer_limit"),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_written(personas, field, value, error):
    owner = personas.owner.actor
    form = einvoice.config.read()
    bad = einvoice.config.EinvoiceSettings(**{**form.__dict__, field: value})
    with pytest.raises(ValidationError) as exc:
        einvoice.config.save(owner, bad)
    assert exc.value.key == error
    with read_session() as s:
        assert s.scalar(select(func.count()).select_from(Setting)) == 0


def test_certificate_is_stored_encrypted_and_described(personas):
    owner = personas.owner.actor
    info = certificates.upload(owner, p12(), P12_PASSWORD, at=AT)
    assert (info.holder, info.ruc) == ("HOSTING EJEMPLO S.A.", BUSINESS_RUC)
    assert info.not_after == datetime(2028, 1, 1)  # 730 days from 2026-01-01
    with read_session() as s:
        stored = {row.key: row.value for row in s.scalars(select(Setting))}
        audit_rows = s.scalars(select(AuditEntry.details)).all()
    secret = stored["einvoice.certificate_secret"]
    assert P12_PASSWORD not in json.dumps(stored)
    assert vault.decrypt(stored["einvoice.certificate_password"]) == P12_PASSWORD
    assert "MII" not in secret  # base64 of the DER never appears in clear
    assert P12_PASSWORD not in json.dumps(audit_rows)
    assert certificates.is_configured()
    assert certificates.current() == info


def test_a_bad_certificate_is_refused_and_nothing_stored(personas):
    owner = personas.owner.actor
    for data, password, error in (
        (p12(), "wrong", "einvoice.error.certificate_unreadable"),
        (b"not a p12", P12_PASSWORD, "einvoice.error.certificate_unreadable"),
        (b"", P12_PASSWORD, "einvoice.error.certificate_size"),
        (p12(days=10), P12_PASSWORD, "einvoice.error.certificate_expired"),
    ):
        with pytest.raises(ValidationError) as exc:
            certificates.upload(owner, data, password, at=AT)
        assert exc.value.key == error
    assert not certificates.is_configured()
    with pytest.raises(Exception):  # noqa: B017 - only the owner uploads
        certificates.upload(personas.staff.actor, p12(), P12_PASSWORD, at=AT)


def test_owner_is_warned_thirty_days_before_expiry(personas):
    owner = personas.owner.actor
    certificates.upload(owner, p12(days=365), P12_PASSWORD, at=AT)  # expires 2027-01-01
    assert certificates.expiry_warning(owner, date(2026, 12, 1)) is None  # 31 days left
    assert certificates.expiry_warning(owner, date(2026, 12, 2)) == 30
    assert certificates.expiry_warning(owner, date(2026, 12, 31)) == 1
    assert certificates.expiry_warning(personas.staff.actor, date(2026, 12, 31)) is None
    assert certificates.expiry_warning(owner, date(2027, 1, 10)) == -9  # expired: still warned


def test_each_setting_is_read_from_its_key(personas):
    """Every electronic-invoicing setting, stored under its key, is what a document reads."""
    owner = personas.owner.actor
    assert einvoice.config.read() == einvoice.config.EinvoiceSettings(
        1, "001", "001", False, "", False, "sha1", Decimal("50.00")
    )
    for key, value in (
        ("einvoice.environment", 2),
        ("einvoice.establishment", "003"),
        ("einvoice.emission_point", "004"),
        ("einvoice.accounting_required", True),
        ("einvoice.special_taxpayer", "A123"),
        ("einvoice.rimpe", True),
        ("einvoice.digest", "sha256"),
        ("einvoice.final_consumer_limit", Decimal("200.00")),
    ):
        settings.put(owner, key, value)
    assert einvoice.config.read() == einvoice.config.EinvoiceSettings(
        2, "003", "004", True, "A123", True, "sha256", Decimal("200.00")
    )
    # A value the schema could not take (stored by hand) reads as the default.
    settings.put(owner, "einvoice.establishment", "1")
    settings.put(owner, "einvoice.digest", "md5")
    conf = einvoice.config.read()
    assert (conf.establishment, conf.digest) == ("001", "sha1")
    # The certificate and its password are their own keys, both vault-encrypted.
    certificates.upload(owner, p12(), P12_PASSWORD, at=AT)
    assert settings.get_text("einvoice.certificate_secret") != ""
    assert vault.decrypt(settings.get_text("einvoice.certificate_password")) == P12_PASSWORD
