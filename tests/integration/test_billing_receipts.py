"""Transfer receipts: upload checks, approval applies the payment once, rejection, scoping."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing
from core.billing.receipts import MB
from core.models import Payment, TransferReceipt, Upload
from core.platform import settings
from core.platform.db import read_session
from core.platform.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.integration.billing_helpers import (
    JPEG,
    PDF,
    PNG,
    audit_actions,
    check_ledger,
    counts,
    credit,
    invoice,
)


def _receipt(receipt_id: int) -> TransferReceipt:
    with read_session() as s:
        row = s.get(TransferReceipt, receipt_id)
        s.expunge(row)
        return row


def test_approving_a_receipt_applies_the_payment(personas):
    owner, a = personas.owner.actor, personas.client_a
    rid = billing.upload_receipt(a.actor, a.invoice_id, "comprobante.pdf", PDF, reference="TRX 991")
    pending = _receipt(rid)
    assert (pending.status, pending.amount) == ("pending", Decimal("11.50"))  # the balance
    assert invoice(a.invoice_id).status == "unpaid"  # nothing is paid until staff approve

    result = billing.approve_receipt(owner, rid)
    approved = _receipt(rid)
    assert approved.status == "approved" and approved.payment_id == result.payment_ids[0]
    assert approved.reviewed_by == owner.user_id and approved.reviewed_at is not None
    assert invoice(a.invoice_id).status == "paid"
    with read_session() as s:
        payment = s.get(Payment, approved.payment_id)
        assert (payment.amount, payment.method, payment.reference) == (
            Decimal("11.50"),
            "transfer",
            "TRX 991",
        )
    with pytest.raises(Conflict):  # approved once, never twice
        billing.approve_receipt(owner, rid)
    with pytest.raises(Conflict):
        billing.reject_receipt(owner, rid, "tarde")
    assert {"receipt.uploaded", "receipt.approved"} <= set(audit_actions())
    check_ledger(a.actor.client_id)


def test_a_partial_receipt_leaves_a_balance(personas):
    owner, a = personas.owner.actor, personas.client_a
    rid = billing.upload_receipt(a.actor, a.invoice_id, "foto.JPG", JPEG, amount="5,00")
    billing.approve_receipt(owner, rid)
    assert (invoice(a.invoice_id).status, invoice(a.invoice_id).balance) == (
        "unpaid",
        Decimal("6.50"),
    )


def test_a_receipt_for_an_invoice_paid_meanwhile_becomes_credit(personas):
    owner, a = personas.owner.actor, personas.client_a
    rid = billing.upload_receipt(a.actor, a.invoice_id, "captura.png", PNG)
    billing.record_payment(owner, [a.invoice_id], "11.50", method="cash")
    result = billing.approve_receipt(owner, rid)
    assert result.credited == Decimal("11.50") and result.applied == ()
    assert credit(a.actor.client_id) == Decimal("11.50")
    check_ledger(a.actor.client_id)


def test_rejecting_needs_a_reason_and_changes_no_money(personas):
    owner, a = personas.owner.actor, personas.client_a
    rid = billing.upload_receipt(a.actor, a.invoice_id, "comprobante.pdf", PDF)
    with pytest.raises(ValidationError):
        billing.reject_receipt(owner, rid, "   ")
    billing.reject_receipt(owner, rid, "El valor no coincide con el estado de cuenta")
    rejected = _receipt(rid)
    assert rejected.status == "rejected"
    assert rejected.reject_reason == "El valor no coincide con el estado de cuenta"
    with pytest.raises(Conflict):
        billing.approve_receipt(owner, rid)
    assert invoice(a.invoice_id).status == "unpaid"
    detail = billing.invoice_detail(a.actor, a.invoice_id)
    assert [(r.status, r.reject_reason) for r in detail.receipts] == [
        ("rejected", "El valor no coincide con el estado de cuenta")
    ]


@pytest.mark.parametrize(
    ("name", "data", "key"),
    [
        ("comprobante.pdf", PNG, "error.billing_receipt_type"),  # a PNG called .pdf
        ("comprobante.png", PDF, "error.billing_receipt_type"),
        ("comprobante.exe", b"MZ\x90\x00" + b"\x00" * 60, "error.billing_receipt_type"),
        ("programa.pdf", b"MZ\x90\x00" + b"\x00" * 60, "error.billing_receipt_type"),
        ("comprobante", PDF, "error.billing_receipt_type"),
        ("nota.txt", b"transferencia hecha", "error.billing_receipt_type"),
        ("vacio.pdf", b"", "error.billing_receipt_empty"),
        ("grande.pdf", PDF + b"0" * (5 * MB), "error.billing_receipt_too_large"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_stored(personas, name, data, key):
    a = personas.client_a
    before = counts()
    with pytest.raises(ValidationError) as refused:
        billing.upload_receipt(a.actor, a.invoice_id, name, data)
    assert refused.value.key == key
    assert counts() == before


def test_the_size_limit_is_a_setting(personas):
    owner, a = personas.owner.actor, personas.client_a
    just_under = PDF + b"0" * (MB - len(PDF))
    settings.put(owner, "billing.receipt_max_mb", 1)
    billing.upload_receipt(a.actor, a.invoice_id, "ok.pdf", just_under)
    with pytest.raises(ValidationError) as refused:
        billing.upload_receipt(a.actor, a.invoice_id, "big.pdf", just_under + b"0")
    assert refused.value.params == {"mb": 1}
    settings.put(owner, "billing.receipt_max_mb", 2)
    billing.upload_receipt(a.actor, a.invoice_id, "big.pdf", just_under + b"0")


def test_bad_receipt_amounts_and_unpayable_invoices_are_refused(personas):
    owner, a = personas.owner.actor, personas.client_a
    before = counts()
    for amount in ("0", "-3", "tres"):
        with pytest.raises(ValidationError):
            billing.upload_receipt(a.actor, a.invoice_id, "c.pdf", PDF, amount=amount)
    billing.cancel_invoice(owner, a.invoice_id)
    with pytest.raises(Conflict):
        billing.upload_receipt(a.actor, a.invoice_id, "c.pdf", PDF)
    after = counts()
    assert after["upload"] == before["upload"] and after["transfer_receipt"] == 0


def test_client_b_never_reaches_client_as_receipts(personas, client_b_as):
    owner, a, b = personas.owner.actor, personas.client_a, client_b_as
    rid = billing.upload_receipt(a.actor, a.invoice_id, "comprobante.pdf", PDF)
    with pytest.raises(NotFound):
        billing.receipt_file(b.actor, rid)
    with pytest.raises(NotFound):  # nor upload against A's invoice
        billing.upload_receipt(b.actor, a.invoice_id, "c.pdf", PDF)
    with pytest.raises(NotFound):
        billing.receipt_file(b.actor, "x")
    own = billing.receipt_file(a.actor, rid)
    assert (own.filename, own.content_type, own.data) == ("comprobante.pdf", "application/pdf", PDF)
    assert billing.receipt_file(owner, rid).data == PDF
    with pytest.raises(Forbidden):
        billing.receipt_file(personas.staff.actor, rid)
    for actor in (a.actor, b.actor, personas.staff.actor):
        with pytest.raises(Forbidden):
            billing.approve_receipt(actor, rid)
        with pytest.raises(Forbidden):
            billing.reject_receipt(actor, rid, "no")
    with read_session() as s:
        upload = s.scalars(select(Upload)).one()
        assert upload.client_id == a.actor.client_id and upload.size == len(PDF)


def test_pending_receipts_show_in_the_back_office(personas):
    owner, a = personas.owner.actor, personas.client_a
    rid = billing.upload_receipt(a.actor, a.invoice_id, "..\\..\\etc\\comprobante.pdf", PDF)
    view = billing.staff_billing_view(owner)
    assert [(r.id, r.invoice_number, r.filename) for r in view.pending_receipts] == [
        (rid, "F-A-1", "comprobante.pdf")  # the path in the name is dropped
    ]
