"""Issue 17: secuenciales are never repeated or skipped, with two runs issuing at once.

Two threads issue facturas for their own halves of a batch of paid invoices, each document
in its own transaction, as two daily runs (or a run and a payment page) would. The step
between taking the number and storing the document is slowed down, so without the counter's
row lock both would read the same value. One signature fails on purpose after its number was
taken: its transaction rolls back, and the retry gets the next number, leaving no gap. Runs
on SQLite and, when TEST_DATABASE_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal

from sqlalchemy import select

from core import billing, einvoice
from core.einvoice import issue
from core.models import ElectronicDocument, Invoice
from core.platform.db import read_session, unit_of_work
from tests.integration.billing_helpers import bill
from tests.integration.einvoice_helpers import AT, CEDULA, identify, pay, set_up_business
from tests.integration.test_billing_concurrency import race

PER_RUN = 6


def test_two_runs_at_once_neither_repeat_nor_skip(personas, monkeypatch):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner, certificate=False)  # paid first, issued by the two runs below
    identify(a.actor.client_id, "cedula", CEDULA)
    ids = []
    for _ in range(2 * PER_RUN):
        invoice_id = bill(owner, a.actor.client_id, "10.00")
        pay(owner, invoice_id)
        ids.append(invoice_id)
    set_up_business(owner)

    real_next, real_sign = issue.next_sequential, issue.sign
    lock = threading.Lock()
    failures = {"left": 1}

    def slow_next(*args, **kwargs):
        value = real_next(*args, **kwargs)
        time.sleep(0.02)  # the window two runs without a lock would both read the same value
        return value

    def failing_once(*args, **kwargs):
        with lock:
            fail = failures["left"] > 0
            failures["left"] -= 1
        if fail:
            raise ValueError("signing failed after the number was taken")
        return real_sign(*args, **kwargs)

    monkeypatch.setattr(issue, "next_sequential", slow_next)
    monkeypatch.setattr(issue, "sign", failing_once)

    def run(batch: list[int]) -> int:
        issued = 0
        for invoice_id in batch:
            for _attempt in range(2):  # a failed document is retried, as the run would
                try:
                    with unit_of_work() as s:
                        einvoice.issue_factura(s, s.get_one(Invoice, invoice_id), AT)
                    issued += 1
                    break
                except ValueError:
                    continue
        return issued

    results = race(lambda: run(ids[:PER_RUN]), lambda: run(ids[PER_RUN:]))
    assert results == [PER_RUN, PER_RUN]
    with read_session() as s:
        docs = list(s.scalars(select(ElectronicDocument).order_by(ElectronicDocument.sequential)))
    assert [d.sequential for d in docs] == list(range(1, 2 * PER_RUN + 1))
    assert sorted(d.invoice_id for d in docs) == sorted(ids)
    assert len({d.access_key for d in docs}) == len(docs)
    assert all(d.total == Decimal("11.50") for d in docs)


def test_a_payment_and_a_refund_share_no_numbers_across_types(personas):
    """Facturas and notas de crédito have their own sequences (research §6 rule 1)."""
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", CEDULA)
    first = bill(owner, a.actor.client_id, "10.00")
    second = bill(owner, a.actor.client_id, "10.00")
    pay(owner, first)
    billing.refund_invoice(owner, first, reason="x", at=AT)
    pay(owner, second)
    with read_session() as s:
        rows = s.execute(
            select(ElectronicDocument.doc_type, ElectronicDocument.number).order_by(
                ElectronicDocument.id
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("01", "001-001-000000001"),
        ("04", "001-001-000000001"),
        ("01", "001-001-000000002"),
    ]
