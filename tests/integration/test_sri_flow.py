"""Issue 17, acceptance 5: each answer of the SRI ends in the right state, is shown to the owner
in both languages and is retried where it should be; the sandbox SRI plays the SRI.

A payment issues the factura (i17-docs) and sends it right after commit; the daily run and the
owner's resend take it from there. Nothing is mocked: the sandbox is a real HTTP server.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta

from sqlalchemy import select, update

from core import automation, billing
from core.einvoice import delivery, register, states, transmission
from core.models import AutomationAction, ElectronicDocument, MailAttachment, MailOutbox
from core.platform import settings
from core.platform.db import read_session, unit_of_work
from tests.integration.einvoice_helpers import AT, CEDULA, documents, identify, pay, set_up_business
from tests.integration.sri_helpers import connect, document, exchanges, sri  # noqa: F401

RUN_DAY = date(2026, 11, 26)


def _paid_factura(personas, fake, **kw):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    connect(owner, fake, **kw)
    pay(owner, a.invoice_id)
    [doc] = documents(a.invoice_id)
    return document(doc.id)


def _shown(doc, code):
    """What the owner reads for the SRI's message ``code``, in Spanish and English."""
    [message] = [m for m in json.loads(doc.messages) if m["identificador"] == code]
    es, en = register.translate(message, "es"), register.translate(message, "en")
    assert es.text != en.text and "sri.code" not in es.text + en.text
    assert es.original == en.original and message["mensaje"] in es.original
    return es, en


def test_payment_gets_the_factura_authorised_and_mailed(personas, sri):
    doc = _paid_factura(personas, sri)
    assert doc.status == states.AUTHORISED
    assert doc.authorisation_number == doc.access_key
    assert doc.authorised_at is not None and doc.next_attempt_at is None
    # The authorised XML carries the signed bytes exactly as sent, in CDATA.
    assert "<estado>AUTORIZADO</estado>" in doc.xml_authorised
    assert f"<![CDATA[{doc.xml_signed}]]>" in doc.xml_authorised
    assert exchanges(doc.id) == [("recepcion", "RECIBIDA"), ("autorizacion", "AUTORIZADO")]
    with read_session() as s:
        mail = s.scalars(
            select(MailOutbox).where(MailOutbox.template == "einvoice_authorised")
        ).one()
        assert mail.to_addr == "a@test.ec" and doc.number in mail.subject
        files = s.scalars(select(MailAttachment).where(MailAttachment.mail_id == mail.id)).all()
        assert sorted(f.content_type for f in files) == ["application/pdf", "application/xml"]
        assert any(f.data.startswith(b"%PDF") for f in files)
    # The request and the raw answer are kept.
    with read_session() as s:
        from core.models import SriExchange

        first = s.scalars(select(SriExchange).order_by(SriExchange.id)).first()
        assert "<ec:validarComprobante" in first.request and "RECIBIDA" in first.response


def test_devuelta_35_is_returned_shown_and_not_retried(personas, sri):
    sri.force(35)
    doc = _paid_factura(personas, sri)
    assert doc.status == states.RETURNED and doc.next_attempt_at is None
    es, en = _shown(doc, "35")
    assert "XSD" in es.text and "XSD" in en.text
    with read_session() as s:
        assert transmission.due(s, AT + timedelta(days=30)) == []
    result = automation.run(RUN_DAY, at=AT + timedelta(hours=1))
    assert result.counts["einvoices_sent"] == 0
    assert document(doc.id).status == states.RETURNED


def test_devuelta_43_goes_on_to_authorisation(personas, sri):
    sri.force(43)  # the SRI had it already (an earlier answer was lost)
    doc = _paid_factura(personas, sri)
    assert doc.status == states.AUTHORISED
    assert exchanges(doc.id) == [("recepcion", "DEVUELTA"), ("autorizacion", "AUTORIZADO")]
    _shown(doc, "43")


def test_devuelta_70_goes_on_to_authorisation(personas, sri):
    sri.force(70)
    doc = _paid_factura(personas, sri)
    assert doc.status == states.AUTHORISED
    _shown(doc, "70")


def test_devuelta_45_is_returned_and_shown(personas, sri):
    sri.force(45)
    doc = _paid_factura(personas, sri)
    assert doc.status == states.RETURNED
    es, en = _shown(doc, "45")
    assert "secuencial" in es.text.lower() and "secuencial" in en.text.lower()


def test_timeout_is_retried_by_the_daily_run_and_not_sent_twice(personas, sri):
    sri.stall(3)  # longer than the client waits; the SRI still takes the document
    doc = _paid_factura(personas, sri, timeout=1)
    assert doc.status == states.SIGNED and doc.attempts == 1
    assert doc.next_attempt_at == AT + transmission.backoff(1)
    assert exchanges(doc.id) == [("recepcion", "timeout")]
    deadline = time.monotonic() + 10
    while doc.access_key not in sri.documents and time.monotonic() < deadline:
        time.sleep(0.05)  # the slow SRI finishes taking it after the client gave up
    result = automation.run(RUN_DAY, at=AT + timedelta(hours=1))
    assert result.counts["einvoices_sent"] == 1 and result.counts["failures"] == 0
    after = document(doc.id)
    assert after.status == states.AUTHORISED
    # Sent before without an answer: asked first, found, never sent a second time.
    assert exchanges(doc.id)[1:] == [("autorizacion", "AUTORIZADO")]


def test_refused_connection_keeps_the_document_for_later(personas, sri):
    sri.refuse("waf")
    doc = _paid_factura(personas, sri)
    assert doc.status == states.SIGNED and doc.next_attempt_at is not None
    assert exchanges(doc.id) == [("recepcion", "unexpected")]
    sri.refuse("fault")
    assert transmission.transmit(doc.id, at=AT + timedelta(minutes=2)) == states.SIGNED
    assert exchanges(doc.id)[-1] == ("autorizacion", "fault")
    assert transmission.transmit(doc.id, at=AT + timedelta(minutes=10)) == states.AUTHORISED


def test_in_process_twice_then_authorised(personas, sri):
    sri.processing_polls = 2
    doc = _paid_factura(personas, sri, polls=1)  # one ask right after the payment
    assert doc.status == states.IN_PROCESS and doc.next_attempt_at is not None
    assert exchanges(doc.id) == [("recepcion", "RECIBIDA"), ("autorizacion", "EN PROCESO")]
    assert transmission.transmit(doc.id, at=AT + timedelta(minutes=2)) == states.IN_PROCESS
    result = automation.run(RUN_DAY, at=AT + timedelta(hours=1))
    assert result.counts["einvoices_sent"] == 1
    assert document(doc.id).status == states.AUTHORISED
    assert [o for _, o in exchanges(doc.id)] == [
        "RECIBIDA",
        "EN PROCESO",
        "EN PROCESO",
        "AUTORIZADO",
    ]
    texts = {"es": "En proceso en el SRI", "en": "Being processed by the SRI"}
    from core.platform import i18n

    assert {lang: i18n.t("sri.status.in_process", lang) for lang in texts} == texts


def test_in_process_twice_within_the_asks_after_payment(personas, sri):
    sri.processing_polls = 2
    doc = _paid_factura(personas, sri, polls=3)
    assert doc.status == states.AUTHORISED


def test_a_changed_byte_is_not_authorised_39(personas, sri):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    pay(owner, a.invoice_id)  # not connected yet: stays signed
    [doc] = documents(a.invoice_id)
    assert doc.status == states.SIGNED and doc.attempts == 0
    tampered = doc.xml_signed.replace("<razonSocialComprador>", "<razonSocialComprador>X", 1)
    with unit_of_work() as s:
        s.execute(update(ElectronicDocument).values(xml_signed=tampered))
    connect(owner, sri)
    assert transmission.transmit(doc.id, at=AT) == states.NOT_AUTHORISED
    es, en = _shown(document(doc.id), "39")
    assert "firma" in es.text.lower() and "signature" in en.text.lower()
    # Final: the daily run leaves it; the owner may send it again after fixing it.
    assert automation.run(RUN_DAY, at=AT + timedelta(hours=1)).counts["einvoices_sent"] == 0
    with unit_of_work() as s:
        s.execute(update(ElectronicDocument).values(xml_signed=doc.xml_signed))
    assert transmission.resend(owner, doc.id, at=AT + timedelta(hours=2)) == states.AUTHORISED


def test_daily_run_sends_a_credit_note_that_references_the_factura(personas, sri):
    owner, a = personas.owner.actor, personas.client_a
    identify(a.actor.client_id, "cedula", CEDULA)
    factura = _paid_factura(personas, sri)
    billing.refund_invoice(owner, a.invoice_id, reason="Servicio no prestado", at=AT)
    [_, note] = documents(a.invoice_id)
    assert note.doc_type == "04" and note.modified_document_id == factura.id
    assert automation.run(RUN_DAY, at=AT + timedelta(hours=1)).counts["einvoices_sent"] == 1
    assert document(note.id).status == states.AUTHORISED
    [row] = [r for r in register.documents(owner) if r.id == note.id]
    assert row.modifies == factura.number


def test_two_daily_runs_at_once_send_each_document_once(personas, sri):
    """Both runs race; one holds the lease, and each try is claimed by one worker only."""
    from tests.integration.test_billing_concurrency import race

    owner, a, b = personas.owner.actor, personas.client_a, personas.client_b
    set_up_business(owner)
    pay(owner, a.invoice_id)
    pay(owner, b.invoice_id)
    connect(owner, sri)
    ids = [d.id for d in documents()]
    results = race(
        lambda: automation.run(RUN_DAY, at=AT + timedelta(hours=1)),
        lambda: automation.run(RUN_DAY, at=AT + timedelta(hours=1)),
        lambda: transmission.transmit(ids[0], at=AT + timedelta(hours=1)),
    )
    assert not [r for r in results if isinstance(r, Exception)]
    for doc_id in ids:
        assert document(doc_id).status == states.AUTHORISED
        assert [x for x in exchanges(doc_id) if x[0] == "recepcion"] == [("recepcion", "RECIBIDA")]
    with read_session() as s:
        numbers = sorted(d.sequential for d in s.scalars(select(ElectronicDocument)))
        assert numbers == list(range(1, len(ids) + 1))  # none repeated, none skipped
        keys = s.scalars(select(AutomationAction.key).where(AutomationAction.kind == "einvoice"))
        assert len(list(keys)) <= len(ids)


def test_owner_mails_an_authorised_document_again(personas, sri):
    doc = _paid_factura(personas, sri)
    owner = personas.owner.actor
    assert delivery.mail_again(owner, doc.id, at=AT) == "a@test.ec"
    with read_session() as s:
        sent = s.scalars(select(MailOutbox).where(MailOutbox.template == "einvoice_authorised"))
        assert len(list(sent)) == 2


def test_each_ambiente_has_its_own_endpoints(personas):
    owner = personas.owner.actor
    settings.put(owner, "sri.reception_url_production", "https://cel.example/recepcion")
    settings.put(owner, "sri.authorisation_url_production", "https://cel.example/autorizacion")
    settings.put(owner, "sri.reception_url_test", "https://celcer.example/recepcion")
    production, test = transmission.client_for(2), transmission.client_for(1)
    assert production.reception_url == "https://cel.example/recepcion"
    assert production.authorisation_url == "https://cel.example/autorizacion"
    assert test.reception_url == "https://celcer.example/recepcion"
    assert test.authorisation_url.startswith("https://celcer.sri.gob.ec/")  # the default


def test_cli_lists_documents_as_json_and_writes_the_xml(personas, sri, tmp_path, capsys):
    from core import cli

    doc = _paid_factura(personas, sri)
    assert cli.main(["einvoice", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [
        {
            "access_key": doc.access_key,
            "doc_type": "01",
            "number": doc.number,
            "invoice": "F-A-1",
            "status": "authorised",
        }
    ]
    out = tmp_path / "doc.xml"
    assert cli.main(["einvoice", "xml", "--access-key", doc.access_key, "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == doc.xml_authorised
    assert cli.main(["einvoice", "xml", "--access-key", "0" * 49, "--out", str(out)]) == 1


def test_month_export_for_the_accountant(personas, sri):
    import csv
    import io
    import zipfile

    doc = _paid_factura(personas, sri)
    archive, summary = register.export_month(personas.owner.actor, "2026-11")
    names = zipfile.ZipFile(io.BytesIO(archive)).namelist()
    assert names == [f"2026-11/factura-{doc.number}.xml"]
    rows = list(csv.DictReader(io.StringIO(summary.decode())))
    assert [(r["numero"], r["clave_acceso"], r["estado"]) for r in rows] == [
        (doc.number, doc.access_key, "authorised")
    ]
    empty, _ = register.export_month(personas.owner.actor, "2026-10")
    assert zipfile.ZipFile(io.BytesIO(empty)).namelist() == []


def test_client_b_cannot_fetch_client_a_documents(personas, sri, client_b_as):
    import pytest

    from core.platform.errors import NotFound

    doc = _paid_factura(personas, sri)
    a, b = personas.client_a.actor, client_b_as.actor
    assert delivery.ride_for(a, doc.id).data.startswith(b"%PDF")
    assert delivery.xml_for(a, doc.id).data == doc.xml_authorised.encode()
    with pytest.raises(NotFound):
        delivery.ride_for(b, doc.id)
    with pytest.raises(NotFound):
        delivery.xml_for(b, doc.id)
    assert delivery.of_invoice(b, personas.client_a.invoice_id) == []
    assert register.documents(b) == []


def test_a_mail_that_cannot_be_made_never_undoes_the_authorisation(personas, sri):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    pay(owner, a.invoice_id)
    [doc] = documents(a.invoice_id)
    connect(owner, sri)

    def broken(*_args):
        raise RuntimeError("the RIDE could not be drawn")

    assert transmission.transmit(doc.id, at=AT, notify=broken) == states.AUTHORISED
    assert document(doc.id).authorisation_number == doc.access_key
    assert delivery.mail_again(owner, doc.id, at=AT) == "a@test.ec"


def test_owner_connects_the_business_to_the_sri_and_bad_values_store_nothing(personas):
    import pytest

    from core.einvoice import connection
    from core.platform.errors import Forbidden, ValidationError

    owner = personas.owner.actor
    before = connection.read()
    assert before.transmit is False and before.timeout_seconds == 20
    good = connection.Connection(
        True,
        "https://celcer.example/r",
        "https://celcer.example/a",
        "https://cel.example/r",
        "https://cel.example/a",
        30,
    )
    for bad, key in (
        (good.__class__(**{**good.__dict__, "reception_test": "ftp://x"}), "sri.error_url"),
        (good.__class__(**{**good.__dict__, "timeout_seconds": 0}), "sri.error_timeout"),
    ):
        with pytest.raises(ValidationError) as refused:
            connection.save(owner, bad)
        assert refused.value.key == key
        assert connection.read() == before
    with pytest.raises(Forbidden):
        connection.save(personas.staff.actor, good)
    connection.save(owner, good)
    assert connection.read() == good
    assert transmission.client_for(2).timeout == 30
