"""Issue 17, acceptance 4, in Chromium: a client's transfer receipt is approved by the owner →
the factura is issued and authorised by the sandbox SRI → the client downloads the RIDE (its
barcode decodes to the access key) and the authorised XML → a refund issues a nota de crédito
that references the factura.

The sandbox SRI runs in this process on loopback; the app (``streamlit run``) reaches it as it
would reach the SRI, through the endpoint settings.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from core import billing
from core.einvoice import states
from core.models import ElectronicDocument, Invoice
from core.platform.db import read_session
from core.platform.i18n import t
from sandbox.sri_server import FakeSri
from tests.e2e.conftest import serve_app, sign_in
from tests.e2e.journeys_conftest import (
    eventually,
    open_page,
    pdf_bytes,
    settle,
    wait_for_auth_cookie,
)
from tests.integration.einvoice_helpers import CEDULA, identify, set_up_business
from tests.integration.sri_helpers import connect
from tests.personas import TOTP_SECRET

VIEWPORT = {"width": 1280, "height": 1400}


@pytest.fixture(scope="module")
def sri_app() -> Iterator[tuple[str, object, FakeSri]]:
    fake = FakeSri().start()  # the real date window: the payment is today's

    def prepare(personas) -> None:
        owner, a = personas.owner.actor, personas.client_a
        set_up_business(owner)
        identify(a.actor.client_id, "cedula", CEDULA)  # a credit note needs a named buyer
        connect(owner, fake)
        billing.upload_receipt(
            a.actor, a.invoice_id, "transferencia.pdf", pdf_bytes("T-2026"), reference="T-2026"
        )

    try:
        for base, personas in serve_app(prepare):
            yield base, personas, fake
    finally:
        fake.stop()


def _documents(invoice_id: int) -> list[ElectronicDocument]:
    with read_session() as s:
        rows = list(
            s.scalars(
                select(ElectronicDocument)
                .where(ElectronicDocument.invoice_id == invoice_id)
                .order_by(ElectronicDocument.id)
            )
        )
        for row in rows:
            s.expunge(row)
        return rows


def _download(page, label: str) -> bytes:
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=label).click()
    return Path(info.value.path()).read_bytes()


def _barcode(pdf: bytes) -> str:
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=4).to_pil().convert("L")
    [found] = zxingcpp.read_barcodes(image)
    return found.text


def test_receipt_approved_factura_authorised_client_downloads_refund_credit_note(
    sri_app, browser, shot
):
    base, personas, fake = sri_app
    owner, a = personas.owner, personas.client_a
    invoice_id = a.invoice_id

    # 1. The owner approves the client's transfer receipt.
    context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        sign_in(page, base, owner.email, personas.password, TOTP_SECRET)
        wait_for_auth_cookie(page, second_factor=True)
        open_page(page, f"{base}/billing")
        page.get_by_role("heading", name=t("billing.pending_receipts")).first.wait_for()
        shot(page, "receipt-to-review")
        page.get_by_role("button", name=t("billing.review_submit")).click()
        page.get_by_text(t("billing.receipt_approved")).first.wait_for()
        settle(page)
        shot(page, "receipt-approved")
    finally:
        context.close()

    # 2. Paid → factura issued and signed → sent after commit → authorised by the sandbox.
    eventually(lambda: [d.status for d in _documents(invoice_id)] == [states.AUTHORISED], 30)
    [factura] = _documents(invoice_id)
    assert factura.doc_type == "01" and factura.access_key in fake.documents
    with read_session() as s:
        assert s.get(Invoice, invoice_id).status == "paid"

    # 3. The client downloads the RIDE and the authorised XML from the invoice.
    context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        sign_in(page, base, a.email, personas.password)
        wait_for_auth_cookie(page)
        open_page(page, f"{base}/billing?invoice={invoice_id}")
        page.get_by_role("heading", name=t("sri.client.title")).first.wait_for()
        shot(page, "client-invoice-documents")
        ride = _download(page, t("sri.client.ride", number=factura.number))
        assert ride.startswith(b"%PDF") and _barcode(ride) == factura.access_key
        xml = _download(page, t("sri.client.xml", number=factura.number))
        assert xml.decode("utf-8") == factura.xml_authorised
        assert f"<numeroAutorizacion>{factura.access_key}</numeroAutorizacion>" in xml.decode()
    finally:
        context.close()

    # 4. The owner refunds the invoice: a nota de crédito referencing the factura.
    context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        sign_in(page, base, owner.email, personas.password, TOTP_SECRET)
        wait_for_auth_cookie(page, second_factor=True)
        open_page(page, f"{base}/billing?invoice={invoice_id}")
        form = page.get_by_test_id("stForm").filter(has_text=t("billing.refund_title"))
        form.get_by_role("textbox", name=t("billing.reason")).fill("Servicio no prestado")
        form.get_by_text(t("billing.confirm")).click()
        form.get_by_role("button", name=t("billing.refund_submit")).click()
        eventually(lambda: len(_documents(invoice_id)) == 2, 30)
        settle(page)
        shot(page, "refunded")
    finally:
        context.close()
    [_, note] = _documents(invoice_id)
    assert note.doc_type == "04" and note.modified_document_id == factura.id
    assert f"<numDocModificado>{factura.number}</numDocModificado>" in note.xml_signed
    assert "<codDocModificado>01</codDocModificado>" in note.xml_signed
