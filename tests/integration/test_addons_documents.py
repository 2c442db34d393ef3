"""Issue 19: the invoice PDF and the RIDE show add-on lines whole. An add-on's line names the
add-on, the domain and the period, so it is long: it wraps onto more lines of its cell, never
cut off at the cell's edge nor drawn over the next column.
"""

from __future__ import annotations

from decimal import Decimal

import pypdfium2
from sqlalchemy import select

from core import addons
from core.billing import pdf
from core.einvoice import delivery, states
from core.models import Invoice, InvoiceItem, Product, ProductPrice, Service
from core.platform.db import read_session, unit_of_work
from tests.integration.billing_helpers import pdf_text
from tests.integration.einvoice_helpers import AT, CEDULA, documents, identify, pay, set_up_business
from tests.integration.sri_helpers import connect, document, sri  # noqa: F401 - fixture

LONG_NAME = "Certificado SSL comodín con validación extendida de la organización"


def flat(text: str) -> str:
    """The text with every run of whitespace (a wrapped line's break included) one space."""
    return " ".join(text.split())


def long_add_on(personas) -> int:
    with unit_of_work() as s:
        plan = s.get_one(Service, personas.client_a.service_id).product_id
        ssl = Product(
            name=LONG_NAME, whm_package="", kind="addon", addon_fits=[plan], addon_action="none"
        )
        s.add(ssl)
        s.flush()
        s.add(
            ProductPrice(
                product_id=ssl.id, cycle="monthly", price=Decimal("3.00"), setup_fee=Decimal("5.00")
            )
        )
        return ssl.id


def ordered(personas) -> tuple[int, list[str]]:
    """Client A orders it on 2026-11-26: the setup, the days to Dec 5 and the next period."""
    a = personas.client_a
    _, invoice_id = addons.order(a.actor, a.service_id, long_add_on(personas), at=AT)
    with read_session() as s:
        texts = list(
            s.scalars(
                select(InvoiceItem.description)
                .where(InvoiceItem.invoice_id == invoice_id)
                .order_by(InvoiceItem.id)
            )
        )
    return invoice_id, texts


def test_the_invoice_pdf_shows_each_add_on_line_whole(personas):
    invoice_id, texts = ordered(personas)
    assert texts == [
        f"{LONG_NAME} para cliente-a.ec: instalación",
        f"{LONG_NAME} para cliente-a.ec, del 26 nov 2026 al 4 dic 2026 (prorrateado)",
        f"{LONG_NAME} para cliente-a.ec, del 5 dic 2026 al 4 ene 2027",
    ]
    shown = flat(pdf_text(pdf.invoice_pdf(personas.owner.actor, invoice_id)))
    for text in texts:
        assert flat(text) in shown, text


def test_the_ride_wraps_add_on_lines_instead_of_cutting_them(personas, sri):
    owner, a = personas.owner.actor, personas.client_a
    identify(a.actor.client_id, "cedula", CEDULA)
    set_up_business(owner)
    connect(owner, sri)
    invoice_id, texts = ordered(personas)
    with read_session() as s:
        total = s.get_one(Invoice, invoice_id).total
    pay(owner, invoice_id, amount=str(total))
    [factura] = documents(invoice_id)
    factura = document(factura.id)
    assert factura.status == states.AUTHORISED
    ride = delivery.ride_of(factura, "es").data
    page = pypdfium2.PdfDocument(ride)[0]
    shown = page.get_textpage().get_text_range()
    for text in texts:
        assert flat(text) in flat(shown), text
    # Wrapped, not overflowing: the long lines take more than one text line each.
    lines_with_name = [line for line in shown.splitlines() if "Certificado SSL" in line]
    assert len(lines_with_name) == 3
    assert all(LONG_NAME not in line for line in lines_with_name)
    assert "VALOR TOTAL" in shown and str(total) in shown
