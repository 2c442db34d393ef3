"""The invoice PDF: it opens, and it shows the number, the client's tax id, the IVA of the
issue date and the total; a client reaches only their own."""

from __future__ import annotations

from datetime import date

import pytest

from core import billing
from core.billing.pdf import invoice_pdf
from core.models import Client
from core.platform import settings
from core.platform.db import unit_of_work
from core.platform.errors import Forbidden, NotFound
from tests.integration.billing_helpers import bill, invoice, pdf_text


def _tax_id(client_id: int, kind: str, number: str) -> None:
    with unit_of_work() as s:
        client = s.get(Client, client_id)
        client.tax_id_type, client.tax_id = kind, number


def test_the_pdf_shows_number_ruc_iva_and_total(personas):
    owner, a = personas.owner.actor, personas.client_a
    _tax_id(a.actor.client_id, "ruc", "1790012345001")
    settings.put(owner, "business.name", "Hostería Ñandú")
    settings.put(owner, "business.ruc", "0999999999001")
    settings.put(owner, "business.address", "Av. Amazonas N° 12, Quito")
    data = invoice_pdf(a.actor, a.invoice_id)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    assert "Factura F-A-1" in text
    assert "RUC: 1790012345001" in text
    assert "IVA 15 %" in text
    assert "$11,50" in text  # the total, in the reader's format
    assert "Hostería Ñandú" in text  # Spanish letters survive
    assert "RUC: 0999999999001" in text and "Av. Amazonas N° 12, Quito" in text
    assert "Cliente A" in text


def test_the_pdf_uses_the_rate_stored_for_the_issue_date(personas):
    owner, b = personas.owner.actor, personas.client_b
    _tax_id(b.actor.client_id, "cedula", "1712345678")
    old = bill(owner, b.actor.client_id, "10.00", issued=date(2024, 3, 31))
    text = pdf_text(invoice_pdf(owner, old, lang="es"))
    assert f"Factura {invoice(old).number}" in text
    assert "Cédula: 1712345678" in text
    assert "IVA 12 %" in text and "$11,20" in text
    english = pdf_text(invoice_pdf(b.actor, old))  # client B reads English
    assert "Invoice" in english and "IVA 12 %" in english and "$11.20" in english


def test_the_pdf_of_a_paid_invoice_with_odd_characters(personas):
    owner, a = personas.owner.actor, personas.client_a
    inv = billing.create_invoice(
        owner,
        a.actor.client_id,
        [billing.LineInput(description="Dominio (año) \\ ñandú 🦙 — extra", amount="5.00")],
    )
    billing.record_payment(owner, [inv], "5.75")
    text = pdf_text(invoice_pdf(owner, inv))
    assert "Dominio (año) \\ ñandú ? — extra" in text  # only what the font lacks is "?"
    assert "Pagada" in text


def test_client_b_gets_not_found_for_client_as_pdf(personas, client_b_as):
    a, b = personas.client_a, client_b_as
    with pytest.raises(NotFound):
        invoice_pdf(b.actor, a.invoice_id)
    with pytest.raises(NotFound):
        invoice_pdf(b.actor, "../1")
    with pytest.raises(Forbidden):
        invoice_pdf(personas.staff.actor, a.invoice_id)


def test_a_plan_change_line_prints_its_arrow_and_symbols(personas):
    """Issue 16 item 19: "Básico → Estándar" printed as "Básico ? Estándar" (Helvetica has
    Latin-1 only); the embedded DejaVu Sans draws it, and the euro, dashes and quotes too."""
    owner, a = personas.owner.actor, personas.client_a
    line = "Básico → Estándar (€ “día” ≥ 1…)"
    inv = billing.create_invoice(
        owner, a.actor.client_id, [billing.LineInput(description=line, amount="3.00")]
    )
    data = invoice_pdf(owner, inv)
    assert b"/FontFile2" in data  # the TrueType font is embedded, not referenced
    text = pdf_text(data)
    assert line in text
    assert "?" not in text.replace("¿", "")
