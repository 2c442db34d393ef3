"""Pure parts of billing: amount input, receipt type sniffing, allocation, the PDF layout."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.billing.fonts import drawable
from core.billing.invoice_view import InvoiceDetail, LineView, TaxGroup
from core.billing.ledger import parse_amount
from core.billing.pdf import _rate, render, tax_id_label
from core.billing.receipts import sniff_receipt_type
from core.platform.errors import ValidationError
from core.rules.money import allocate
from tests.integration.billing_helpers import JPEG, PDF, PNG, pdf_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11.50", "11.50"),
        ("11,50", "11.50"),
        (" $ 11,5 ", "11.50"),
        ("1.234,56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("7", "7.00"),
        (7, "7.00"),
        (Decimal("0.10"), "0.10"),
    ],
)
def test_amounts_people_type_are_read_exactly(text, expected):
    assert parse_amount(text) == Decimal(expected)
    assert str(parse_amount(text)) == expected


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("0", "error.billing_amount_positive"),
        ("-1", "error.billing_amount_positive"),
        ("0.001", "error.billing_amount_cents"),
        ("1.005", "error.billing_amount_cents"),
        ("abc", "error.billing_amount_invalid"),
        ("", "error.billing_amount_invalid"),
        (None, "error.billing_amount_invalid"),
        ("Infinity", "error.billing_amount_invalid"),
        ("1e30", "error.billing_amount_invalid"),
        (0.1, "error.billing_amount_invalid"),  # floats are refused, never converted
        (True, "error.billing_amount_invalid"),
    ],
)
def test_bad_amounts_are_refused_with_a_translated_key(value, key):
    with pytest.raises(ValidationError) as refused:
        parse_amount(value)
    assert refused.value.key == key


def test_zero_is_allowed_only_when_asked():
    assert parse_amount("0", allow_zero=True) == Decimal("0.00")


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("comprobante.pdf", PDF, "application/pdf"),
        ("COMPROBANTE.PDF", PDF, "application/pdf"),
        ("foto.jpg", JPEG, "image/jpeg"),
        ("foto.jpeg", JPEG, "image/jpeg"),
        ("captura.png", PNG, "image/png"),
    ],
)
def test_receipts_are_recognised_by_content_and_extension(name, data, expected):
    assert sniff_receipt_type(data, name) == expected


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("foto.png", JPEG),
        ("foto.jpg", PNG),
        ("doc.pdf", b"<html><script>alert(1)</script>"),
        ("doc.svg", b"<svg/>"),
        ("doc.pdf.exe", PDF),
        ("", PDF),
        ("x.pdf", b""),
        ("x.pdf", b"%PD"),
    ],
)
def test_anything_else_is_refused(name, data):
    with pytest.raises(ValidationError):
        sniff_receipt_type(data, name)


cents = st.decimals(min_value=0, max_value=10_000, places=2)


@settings(max_examples=200, deadline=None)
@given(amount=cents, balances=st.lists(cents, max_size=6))
def test_allocation_adds_up_to_the_amount(amount, balances):
    """Payments add up: what went to invoices plus what became credit is what was paid."""
    split = allocate(amount, balances)
    assert sum(split.applied, Decimal(0)) + split.unapplied == amount
    assert split.unapplied >= 0
    for owed, applied, remaining in zip(balances, split.applied, split.remaining, strict=True):
        assert 0 <= applied <= owed
        assert remaining == owed - applied
    # In the order given: a later invoice gets money only when every earlier one is paid.
    for i, applied in enumerate(split.applied):
        if applied > 0:
            assert all(r == 0 for r in split.remaining[:i])
    if split.unapplied > 0:  # overpayment: every invoice is paid, the rest is credit
        assert all(r == 0 for r in split.remaining)
        assert amount == sum(balances, Decimal(0)) + split.unapplied


def test_pdf_helpers():
    assert drawable("Ñandú 🦙 — año → €") == "Ñandú ? — año → €"
    assert _rate(Decimal("15.000")) == "15" and _rate(Decimal("12.5")) == "12.5"
    assert _rate(Decimal("0")) == "0"
    assert tax_id_label("cedula", "es") == "Cédula" and tax_id_label("ruc", "en") == "RUC"
    assert tax_id_label("??", "es") == "Identificación"


def _detail(**changes) -> InvoiceDetail:
    base = {
        "id": 7,
        "number": "F0000007",
        "status": "unpaid",
        "issued_on": date(2024, 4, 1),
        "due_on": date(2024, 4, 15),
        "overdue": False,
        "client_id": 1,
        "client_name": "Ferretería Peñaherrera",
        "client_tax_id_type": "ruc",
        "client_tax_id": "1790012345001",
        "client_address": "Quito",
        "client_email": "f@test.ec",
        "credit_balance": Decimal("0.00"),
        "lines": [
            LineView(
                "Hosting (abril)",
                "renewal",
                date(2024, 4, 1),
                date(2024, 4, 30),
                Decimal("10.00"),
                Decimal("15.000"),
                Decimal("1.50"),
            )
        ],
        "taxes": [TaxGroup(Decimal("15.000"), Decimal("10.00"), Decimal("1.50"))],
        "subtotal": Decimal("10.00"),
        "tax_total": Decimal("1.50"),
        "total": Decimal("11.50"),
        "amount_paid": Decimal("0.00"),
        "credit_applied": Decimal("0.00"),
        "balance": Decimal("11.50"),
        "paid_at": None,
        "notes": None,
        "payments": [],
        "receipts": [],
        "transfer_instructions": "",
        "receipt_max_mb": 5,
    }
    base.update(changes)
    return InvoiceDetail(**base)


def test_render_lays_out_an_invoice_without_a_database():
    text = pdf_text(render(_detail(), ("Anfitrión", "", ""), "es"))
    for shown in (
        "Anfitrión",
        "Factura F0000007",
        "Ferretería Peñaherrera",
        "RUC: 1790012345001",
        "Hosting (abril)",
        "IVA 15 %",
        "$11,50",
        "Pendiente de pago",
        "proforma",
    ):
        assert shown in text, shown
    assert "RUC: \n" not in text  # no business RUC configured: no empty RUC line


def test_render_draws_the_logo_above_the_business_and_survives_a_broken_one():
    import io

    from PIL import Image  # fpdf2's own dependency

    picture = io.BytesIO()
    Image.new("RGB", (60, 20), (20, 90, 160)).save(picture, "PNG")
    with_logo = render(_detail(), ("Anfitrión", "", ""), "es", logo=picture.getvalue())
    assert b"/Subtype /Image" in with_logo
    assert "Factura F0000007" in pdf_text(with_logo)
    broken = render(_detail(), ("Anfitrión", "", ""), "es", logo=b"\x89PNG\r\n\x1a\nnot a picture")
    assert b"/Subtype /Image" not in broken
    assert "Factura F0000007" in pdf_text(broken)  # the invoice still goes out


def test_render_in_english_with_credit_applied():
    paid = _detail(
        status="paid",
        balance=Decimal("0.00"),
        credit_applied=Decimal("1.50"),
        amount_paid=Decimal("10.00"),
        paid_at=datetime(2024, 4, 2, 15, 0),
        client_tax_id_type="consumidor_final",
        client_tax_id=None,
    )
    text = pdf_text(render(paid, ("Host", "0999999999001", "Guayaquil"), "en"))
    assert "Invoice F0000007" in text and "IVA 15 % (VAT)" in text and "$11.50" in text
    assert "Final consumer: -" in text and "Account credit applied" in text
    assert "RUC: 0999999999001" in text
