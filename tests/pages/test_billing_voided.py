"""Money for a voided invoice on the billing page (issue 16 item 1, billing-rules rule 8):
staff are asked to reopen and settle it or to credit the money, never a silent credit."""

from __future__ import annotations

from decimal import Decimal

from core import billing
from core.models import Client, Invoice, TransferReceipt
from core.platform.db import read_session
from tests.pages.apptest import app_as, tr

PDF = b"%PDF-1.4\n%%EOF"


def submit(at, label_key: str):
    next(b for b in at.button if b.label == tr(label_key)).click().run()
    return at


def test_a_receipt_for_a_voided_invoice_asks_reopen_or_credit(page_personas):
    a, owner = page_personas.client_a, page_personas.owner
    rid = billing.upload_receipt(a.actor, a.invoice_id, "comprobante.pdf", PDF)
    billing.cancel_invoice(owner.actor, a.invoice_id, reason="baja")
    at = app_as(owner, "billing")
    choice = at.radio(key="billing_review_voided")
    assert choice.label == tr("billing.voided_choice")
    assert list(choice.options) == [tr("billing.voided.reopen"), tr("billing.voided.credit")]
    submit(at, "billing.review_submit")
    number = "F-A-1"
    assert [e.value for e in at.error] == [tr("error.billing_voided_needs_choice", number=number)]
    with read_session() as s:
        assert s.get(TransferReceipt, rid).status == "pending"
    at.radio(key="billing_review_voided").set_value("credit")
    submit(at, "billing.review_submit")
    assert not at.exception
    assert [s.value for s in at.success] == [tr("billing.receipt_approved")]
    with read_session() as s:
        assert s.get(Invoice, a.invoice_id).status == "cancelled"
        assert s.get(Client, a.actor.client_id).credit_balance == Decimal("11.50")


def test_staff_reopen_a_voided_invoice_from_its_detail(page_personas):
    a, owner = page_personas.client_a, page_personas.owner
    billing.cancel_invoice(owner.actor, a.invoice_id, reason="baja")
    at = app_as(owner, "billing", invoice=str(a.invoice_id))
    at.button(key="billing_reopen").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("billing.reopened_done")]
    with read_session() as s:
        assert s.get(Invoice, a.invoice_id).status == "unpaid"
    # A client has no such button on their own voided invoice.
    billing.cancel_invoice(owner.actor, a.invoice_id, reason="baja")
    at = app_as(a, "billing", invoice=str(a.invoice_id))
    assert not [b for b in at.button if b.key == "billing_reopen"]
