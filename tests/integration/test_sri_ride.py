"""The RIDE (research §5): what it shows, and its Code 128 barcode decodes back to the access
key (zxing-cpp reads the page as pdfium renders it)."""

from __future__ import annotations

import pypdfium2
import zxingcpp

from core import billing
from core.einvoice import delivery, states
from tests.integration.einvoice_helpers import AT, CEDULA, documents, identify, pay, set_up_business
from tests.integration.sri_helpers import connect, document, sri  # noqa: F401


def _page(pdf: bytes):
    doc = pypdfium2.PdfDocument(pdf)
    page = doc[0]
    text = page.get_textpage().get_text_range()
    image = page.render(scale=4).to_pil().convert("L")
    return text, image


def test_ride_of_an_authorised_factura_and_its_credit_note(personas, sri):
    owner, a = personas.owner.actor, personas.client_a
    identify(a.actor.client_id, "cedula", CEDULA)
    set_up_business(owner)
    connect(owner, sri)
    pay(owner, a.invoice_id)
    [factura] = documents(a.invoice_id)
    factura = document(factura.id)
    assert factura.status == states.AUTHORISED
    ride = delivery.ride_of(factura, "es")
    assert ride.filename == f"factura-{factura.number}.pdf"
    text, image = _page(ride.data)
    [code] = zxingcpp.read_barcodes(image)
    assert code.format == zxingcpp.BarcodeFormat.Code128
    assert code.text == factura.access_key
    for shown in (
        "FACTURA",
        f"No. {factura.number}",
        "NÚMERO DE AUTORIZACIÓN",
        factura.access_key,
        "Hosting Ejemplo S.A.",
        "R.U.C.: 1790011674001",
        "AMBIENTE: PRUEBAS",
        "EMISIÓN: NORMAL",
        "Fecha y hora de autorización",
        CEDULA,
        "SUBTOTAL 15 %",
        "IVA 15 %",
        "VALOR TOTAL",
        "11.50",
        "Forma de pago",
        "Información adicional",
    ):
        assert shown in text, shown
    assert "PENDIENTE DE AUTORIZACIÓN" not in text
    english, _ = _page(delivery.ride_of(factura, "en").data)
    assert "AUTHORISATION NUMBER" in english and factura.access_key in english

    billing.refund_invoice(owner, a.invoice_id, reason="Servicio no prestado", at=AT)
    [_, note] = documents(a.invoice_id)
    text, image = _page(delivery.ride_of(note, "es").data)
    assert zxingcpp.read_barcodes(image)[0].text == note.access_key
    assert "NOTA DE CRÉDITO" in text and "PENDIENTE DE AUTORIZACIÓN" in text  # not sent yet
    assert f"Comprobante que se modifica: FACTURA {factura.number}" in text
    assert "Servicio no prestado" in text
