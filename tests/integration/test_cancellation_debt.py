"""Billing-rules rule 8 (issue 16 item 1): cancelling a service is not a way out of a debt.

An unpaid invoice for a period already begun stays due after the cancellation (and its
reminders go on); the owner's ``void_begun_invoices_on_cancellation`` voids it instead
(WHMCS's way) and the voided invoice says why; money that later arrives for a voided
invoice, by receipt or payment, waits for staff to choose: reopen and settle it, or credit.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import automation, billing
from core.access import SYSTEM
from core.billing.voided import reopen_invoice
from core.models import AutomationAction, Client, Invoice, TransferReceipt
from core.platform import settings
from core.platform.db import read_session
from core.platform.errors import Conflict, Forbidden, ValidationError
from core.services import cancellations
from tests.panel_fixtures import fake, whm  # noqa: F401 - fixtures

D = date.fromisoformat
PDF = b"%PDF-1.4 comprobante"


def inv(invoice_id: int) -> Invoice:
    with read_session() as s:
        return s.get(Invoice, invoice_id)


def credit(client_id: int) -> Decimal:
    with read_session() as s:
        return s.get(Client, client_id).credit_balance


def reminders(invoice_id: int) -> list[str]:
    with read_session() as s:
        return [
            k
            for k in s.scalars(
                select(AutomationAction.key).where(AutomationAction.invoice_id == invoice_id)
            )
            if k.startswith("reminder")
        ]


def cancel_suspended_now(personas) -> int:
    """Client A's 5 Dec–4 Jan invoice is overdue and the service suspended; on 10 Dec the
    client cancels it immediately (the case of the issue)."""
    a = personas.client_a
    assert automation.run(D("2026-12-10")).counts["suspended"] == 2
    return cancellations.request(
        a.actor, a.service_id, "immediate", "Me voy", today=D("2026-12-10")
    )


def test_an_invoice_for_a_begun_period_stays_due_and_reminded(fake, personas):
    a = personas.client_a
    cancel_suspended_now(personas)
    assert inv(a.invoice_id).status == "unpaid"  # not "cancelled": the period had begun
    automation.run(D("2026-12-11"))  # the request is carried out
    assert inv(a.invoice_id).status == "unpaid"
    before = reminders(a.invoice_id)
    automation.run(D("2026-12-12"))  # 7 days overdue: the second reminder still goes out
    assert len(reminders(a.invoice_id)) == len(before) + 1
    # The client pays it later; the cancelled service stays cancelled and nothing is credited.
    billing.record_payment(SYSTEM, [a.invoice_id], inv(a.invoice_id).balance)
    assert inv(a.invoice_id).status == "paid" and credit(a.actor.client_id) == Decimal("0.00")


def test_a_later_period_is_still_released(fake, personas):
    a = personas.client_a
    # On 1 Dec the 5 Dec period has not begun: an immediate cancellation releases it.
    cancellations.request(a.actor, a.service_id, "immediate", "Me voy", today=D("2026-12-01"))
    voided = inv(a.invoice_id)
    assert voided.status == "cancelled"
    assert "posterior a la baja" in (voided.notes or "")  # A reads Spanish: it says why


def test_the_owner_can_void_begun_periods_and_the_void_says_why(fake, personas):
    a = personas.client_a
    settings.put(personas.owner.actor, "void_begun_invoices_on_cancellation", True)
    cancel_suspended_now(personas)
    voided = inv(a.invoice_id)
    assert voided.status == "cancelled"
    assert "configuración del negocio" in (voided.notes or "")


def test_money_for_a_voided_invoice_waits_for_staff_to_choose(fake, personas):
    a, staff = personas.client_a, personas.owner.actor
    settings.put(personas.owner.actor, "void_begun_invoices_on_cancellation", True)
    receipt = billing.upload_receipt(a.actor, a.invoice_id, "pago.pdf", PDF)
    amount = inv(a.invoice_id).balance
    cancel_suspended_now(personas)
    assert inv(a.invoice_id).status == "cancelled"

    with pytest.raises(Conflict) as asked:
        billing.approve_receipt(staff, receipt)
    assert asked.value.key == "error.billing_voided_needs_choice"
    with pytest.raises(ValidationError):
        billing.approve_receipt(staff, receipt, voided="maybe")
    with read_session() as s:  # nothing was written: never a silent credit
        assert s.get(TransferReceipt, receipt).status == "pending"
    assert credit(a.actor.client_id) == Decimal("0.00")

    billing.approve_receipt(staff, receipt, voided="reopen")
    settled = inv(a.invoice_id)
    # The receipt predates the late fee the run added: the invoice is due again, settled
    # by the receipt's amount, and the fee is what is left.
    assert (settled.status, settled.amount_paid) == ("unpaid", amount)
    assert settled.balance == settled.total - amount > 0
    assert credit(a.actor.client_id) == Decimal("0.00")


def test_staff_may_credit_the_money_instead(fake, personas):
    a, staff = personas.client_a, personas.owner.actor
    settings.put(personas.owner.actor, "void_begun_invoices_on_cancellation", True)
    receipt = billing.upload_receipt(a.actor, a.invoice_id, "pago.pdf", PDF, amount="5.00")
    cancel_suspended_now(personas)
    billing.approve_receipt(staff, receipt, voided="credit")
    assert inv(a.invoice_id).status == "cancelled"
    assert credit(a.actor.client_id) == Decimal("5.00")


def test_a_payment_for_a_voided_invoice_asks_too(fake, personas):
    a, b, staff = personas.client_a, personas.client_b, personas.owner.actor
    settings.put(personas.owner.actor, "void_begun_invoices_on_cancellation", True)
    cancel_suspended_now(personas)
    number = inv(a.invoice_id).number
    with pytest.raises(Conflict) as asked:
        billing.record_payment_by_numbers(staff, number, "3.00")
    assert asked.value.params["number"] == number
    billing.record_payment_by_numbers(staff, number, "3.00", voided="credit")
    assert credit(a.actor.client_id) == Decimal("3.00")
    assert inv(a.invoice_id).status == "cancelled"
    billing.record_payment(staff, [a.invoice_id], "4.00", voided="reopen")
    reopened = inv(a.invoice_id)
    assert reopened.status == "unpaid" and reopened.amount_paid == Decimal("4.00")
    # Reopening is staff's: a client cannot, and B's invoice is not A's to touch.
    with pytest.raises(Forbidden):
        reopen_invoice(a.actor, a.invoice_id)
    with pytest.raises(Conflict):
        reopen_invoice(staff, b.invoice_id)  # B's is unpaid, not voided
