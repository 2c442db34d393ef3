"""Money under concurrency, and the property that payments add up.

Each thread runs its own unit of work, as two browser sessions would. To make the race
real, allocation is slowed down (between reading the balance and writing it back): without
the row locks both payments would see the same balance and over-apply the invoice.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from core import billing
from core.billing import payments
from core.models import Payment
from core.platform.db import read_session
from core.platform.errors import Conflict
from core.rules import money
from tests.integration.billing_helpers import (
    PDF,
    bill,
    check_ledger,
    credit,
    gross_prices,
    invoice,
    new_client,
)


@pytest.fixture
def slow_allocation(monkeypatch):
    real = money.allocate

    def slow(amount, balances):
        balances = list(balances)
        time.sleep(0.05)
        return real(amount, balances)

    monkeypatch.setattr(payments, "allocate", slow)


def race(*calls: Callable[[], object]) -> list[object]:
    """Run the calls at the same moment, each in its own thread; results or exceptions."""
    start = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(i: int, call: Callable[[], object]) -> None:
        start.wait()
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def _paid_in(invoice_id: int) -> Decimal:
    with read_session() as s:
        return Decimal(
            s.execute(
                select(func.coalesce(func.sum(Payment.amount), 0)).where(
                    Payment.invoice_id == invoice_id
                )
            ).scalar_one()
        )


def test_two_partial_payments_at_once_never_over_apply(personas, slow_allocation):
    owner, a = personas.owner.actor, personas.client_a
    results = race(
        lambda: billing.record_payment(owner, [a.invoice_id], "8.00", reference="one"),
        lambda: billing.record_payment(owner, [a.invoice_id], "8.00", reference="two"),
    )
    assert all(isinstance(r, billing.PaymentResult) for r in results), results
    paid = invoice(a.invoice_id)
    assert (paid.status, paid.balance, paid.amount_paid) == ("paid", 0, Decimal("11.50"))
    assert _paid_in(a.invoice_id) == Decimal("11.50")
    # 16.00 received: 11.50 on the invoice, 4.50 credit, booked exactly once.
    assert sorted(r.credited for r in results) == [Decimal("0.00"), Decimal("4.50")]
    assert credit(a.actor.client_id) == Decimal("4.50")
    check_ledger(a.actor.client_id)


def test_two_full_payments_at_once_one_is_refused(personas, slow_allocation):
    owner, a = personas.owner.actor, personas.client_a
    results = race(
        lambda: billing.record_payment(owner, [a.invoice_id], "11.50"),
        lambda: billing.record_payment(owner, [a.invoice_id], "11.50"),
    )
    assert sum(isinstance(r, billing.PaymentResult) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert invoice(a.invoice_id).amount_paid == Decimal("11.50")
    assert credit(a.actor.client_id) == 0  # no double credit either
    check_ledger(a.actor.client_id)


def test_one_receipt_approved_twice_at_once_pays_once(personas, slow_allocation):
    owner, a = personas.owner.actor, personas.client_a
    rid = billing.upload_receipt(a.actor, a.invoice_id, "c.pdf", PDF, amount="20.00")
    results = race(
        lambda: billing.approve_receipt(owner, rid),
        lambda: billing.approve_receipt(owner, rid),
    )
    assert sum(isinstance(r, billing.PaymentResult) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert credit(a.actor.client_id) == Decimal("8.50")
    check_ledger(a.actor.client_id)


def test_credit_spent_by_two_invoices_at_once_is_spent_once(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    billing.add_credit(owner, a, "10.00", "anticipo")
    results = race(lambda: bill(owner, a, "10.00"), lambda: bill(owner, a, "10.00"))
    applied = sorted(invoice(r).credit_applied for r in results)
    assert applied == [Decimal("0.00"), Decimal("10.00")]
    assert credit(a) == 0
    check_ledger(a)


amounts = st.decimals(min_value="0.01", max_value="400", places=2)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(totals=st.lists(amounts, min_size=0, max_size=3), paid=amounts)
def test_payments_add_up_to_invoice_totals_plus_credit(personas, totals, paid):
    owner = personas.owner.actor
    gross_prices(owner)
    client_id = new_client(f"Cliente {uuid.uuid4().hex[:8]}")
    ids = [bill(owner, client_id, str(total)) for total in totals]
    result = billing.record_payment(owner, ids, paid, client_id=client_id)

    with read_session() as s:
        rows = s.scalars(select(Payment.amount).where(Payment.client_id == client_id)).all()
    assert sum(rows, Decimal(0)) == paid  # the money received, booked once
    applied = sum((amount for _, amount in result.applied), Decimal(0))
    assert applied + result.credited == paid
    assert credit(client_id) == result.credited
    for invoice_id, total in zip(ids, totals, strict=True):
        row = invoice(invoice_id)
        assert row.total == total
        assert row.balance == total - row.amount_paid
        assert (row.status == "paid") == (row.balance == 0)
    if result.credited > 0:  # overpaid: every invoice paid, the rest is credit
        assert paid == sum(totals, Decimal(0)) + result.credited
        assert all(invoice(i).status == "paid" for i in ids)
    check_ledger(client_id)
