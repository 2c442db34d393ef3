"""Bank-transfer receipts (comprobantes de transferencia).

A client uploads the receipt of a transfer for one of their unpaid invoices. It waits,
pending, until staff with billing rights approve it — which records the payment (to the
invoice, the excess to credit; all of it to credit when the invoice is no longer payable,
since the money did arrive) — or reject it with a reason.

A file is accepted only when its content (magic bytes) and its extension agree on PDF, JPEG
or PNG, and it is not larger than the ``billing.receipt_max_mb`` setting (default 5 MB).
Files are kept in the ``upload`` table so every replica can serve them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, get_scoped, parse_id, require
from core.billing.ledger import (
    PAYABLE,
    RECEIPT_MAX_MB,
    clean_text,
    lock_client,
    lock_invoices,
    parse_amount,
    require_payable,
)
from core.billing.payments import PaymentResult, apply_payment
from core.billing.voided import VOIDED, ask_for_choice, check_choice, reopen
from core.models import Invoice, TransferReceipt, Upload
from core.platform import audit, settings
from core.platform.clock import now, to_local
from core.platform.config import get_settings
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, NotFound, ValidationError

MB = 1024 * 1024

# content type → (magic prefix, extensions)
RECEIPT_TYPES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "application/pdf": (b"%PDF-", (".pdf",)),
    "image/jpeg": (b"\xff\xd8\xff", (".jpg", ".jpeg")),
    "image/png": (b"\x89PNG\r\n\x1a\n", (".png",)),
}
RECEIPT_EXTENSIONS = tuple(ext[1:] for _, exts in RECEIPT_TYPES.values() for ext in exts)


@dataclass(frozen=True)
class ReceiptFile:
    filename: str
    content_type: str
    data: bytes


def sniff_receipt_type(data: bytes, filename: str) -> str:
    """The content type of an acceptable receipt, or ``ValidationError``.

    Both the first bytes and the extension must say the same one of PDF, JPEG, PNG: a
    renamed executable or a PNG called ``.pdf`` is refused.
    """
    if not data:
        raise ValidationError("error.billing_receipt_empty")
    ext = PurePath(filename or "").suffix.lower()
    for content_type, (magic, extensions) in RECEIPT_TYPES.items():
        if data.startswith(magic) and ext in extensions:
            return content_type
    raise ValidationError("error.billing_receipt_type")


def max_receipt_bytes(session: Session | None = None) -> int:
    mb = settings.get_int(RECEIPT_MAX_MB, session=session)
    return max(1, mb) * MB


def _safe_name(filename: str) -> str:
    name = PurePath((filename or "").replace("\\", "/")).name
    return clean_text(name, 200) or "comprobante"


def upload_receipt(
    actor: Actor,
    invoice_id: int,
    filename: str,
    data: bytes,
    *,
    amount: Decimal | int | str | None = None,
    reference: str | None = None,
    session: Session | None = None,
) -> int:
    """A client's transfer receipt for one of their unpaid invoices; returns its id.

    ``amount`` defaults to the invoice balance. Nothing is stored when the file is empty,
    too large, of the wrong type, the amount is bad, or the invoice is not payable.
    """
    with transaction(session) as s:
        limit = max_receipt_bytes(s)
        if len(data) > limit:
            raise ValidationError("error.billing_receipt_too_large", mb=limit // MB)
        content_type = sniff_receipt_type(data, filename)
        invoice = get_scoped(s, actor, Invoice, invoice_id, "billing")
        if actor.is_client and invoice.status == "draft":
            raise NotFound()
        require_payable(invoice)
        value = invoice.balance if amount in (None, "") else parse_amount(amount)
        upload = Upload(
            client_id=invoice.client_id,
            filename=_safe_name(filename),
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            data=data,
            uploaded_by=actor.user_id or None,
        )
        s.add(upload)
        s.flush()
        receipt = TransferReceipt(
            client_id=invoice.client_id,
            invoice_id=invoice.id,
            upload_id=upload.id,
            amount=value,
            reference=clean_text(reference, 100) or None,
            status="pending",
        )
        s.add(receipt)
        s.flush()
        audit.record(
            s,
            actor,
            "receipt.uploaded",
            target_type="transfer_receipt",
            target_id=receipt.id,
            client_id=invoice.client_id,
            invoice=invoice.number,
            amount=value,
            size=len(data),
            content_type=content_type,
        )
        return receipt.id


def _lock_pending(s: Session, receipt_id: int) -> TransferReceipt:
    key = parse_id(receipt_id)
    found = s.get(TransferReceipt, key)
    if found is None:
        raise NotFound()
    lock_client(s, found.client_id)  # the money lock order: client, invoices, receipt
    lock_invoices(s, [found.invoice_id])
    receipt = s.scalars(
        select(TransferReceipt)
        .where(TransferReceipt.id == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if receipt.status != "pending":
        raise Conflict("error.billing_receipt_reviewed")
    return receipt


def approve_receipt(
    actor: Actor,
    receipt_id: int,
    *,
    voided: str | None = None,
    session: Session | None = None,
    at: datetime | None = None,
) -> PaymentResult:
    """Approve a pending receipt: the payment is recorded, once, in this transaction.
    ``at``: the moment of the action (default now).

    For an invoice voided meanwhile (a cancellation, billing-rules rule 8) staff must say
    what the money does (``voided``: "reopen" settles the invoice again, "credit" keeps it
    voided and credits the client); without a choice nothing is written and the refusal asks
    for one (``core.billing.voided``)."""
    at = at or now()
    require(actor, "billing")
    check_choice(voided)
    with transaction(session) as s:
        receipt = _lock_pending(s, receipt_id)
        client = lock_client(s, receipt.client_id)
        invoice = lock_invoices(s, [receipt.invoice_id])[receipt.invoice_id]
        if invoice.status == VOIDED:
            if voided is None:
                ask_for_choice(invoice)
            if voided == "reopen":
                reopen(s, actor, client, invoice, at)
        # An invoice paid meanwhile (or voided, and staff chose credit): the money did
        # arrive, so it becomes credit.
        targets = [invoice] if invoice.status in PAYABLE else []
        result = apply_payment(
            s,
            actor,
            client,
            targets,
            receipt.amount,
            method="transfer",
            reference=receipt.reference or f"receipt:{receipt.id}",
            received_on=to_local(at, get_settings().tz).date(),
            at=at,
        )
        receipt.status = "approved"
        receipt.reviewed_by = actor.user_id or None
        receipt.reviewed_at = at
        receipt.payment_id = result.payment_ids[0] if result.payment_ids else None
        audit.record(
            s,
            actor,
            "receipt.approved",
            target_type="transfer_receipt",
            target_id=receipt.id,
            client_id=receipt.client_id,
            invoice=invoice.number,
            amount=receipt.amount,
            credited=result.credited,
            voided=voided or "",
        )
        return result


def reject_receipt(
    actor: Actor,
    receipt_id: int,
    reason: str,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """Reject a pending receipt with a reason the client will read (``at``: default now)."""
    at = at or now()
    require(actor, "billing")
    why = clean_text(reason, 300)
    if not why:
        raise ValidationError("error.billing_reason_required")
    with transaction(session) as s:
        receipt = _lock_pending(s, receipt_id)
        receipt.status = "rejected"
        receipt.reject_reason = why
        receipt.reviewed_by = actor.user_id or None
        receipt.reviewed_at = at
        audit.record(
            s,
            actor,
            "receipt.rejected",
            target_type="transfer_receipt",
            target_id=receipt.id,
            client_id=receipt.client_id,
            reason=why,
        )


def receipt_file(actor: Actor, receipt_id: int, *, session: Session | None = None) -> ReceiptFile:
    """The uploaded file of a receipt (a client: only their own, else NotFound)."""
    with reading(session) as s:
        receipt = get_scoped(s, actor, TransferReceipt, receipt_id, "billing")
        upload = s.get(Upload, receipt.upload_id)
        if upload is None:
            raise NotFound()
        return ReceiptFile(upload.filename, upload.content_type, upload.data)
