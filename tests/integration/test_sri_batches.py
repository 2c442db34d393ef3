"""Issue 17, acceptance 6 without its stopwatch: the batch paths the 10,000-document figure
runs on keep the rules of one document at a time.

Facturas issued many at once take consecutive secuenciales, and a refused buyer stops the batch
before a number is used. Documents sent many at once stop going to an SRI that has stopped
answering: the one that timed out waits for its backoff, the rest keep their attempt for the
next run, and a later run authorises them all, asking first about the one sent before.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core import billing
from core.einvoice import issue, states, transmission
from core.models import Invoice
from core.platform import settings
from core.platform.db import read_session, unit_of_work
from core.platform.errors import ValidationError
from tests.integration.einvoice_helpers import AT, documents, identify, set_up_business
from tests.integration.sri_helpers import connect, document, exchanges, sri  # noqa: F401


def _paid_without_factura(personas) -> list[int]:
    """Client A's and client B's invoices paid before the business had a certificate."""
    owner = personas.owner.actor
    ids = [personas.client_a.invoice_id, personas.client_b.invoice_id]
    for invoice_id in ids:
        with read_session() as s:
            total = s.get_one(Invoice, invoice_id).total
        billing.record_payment(owner, [invoice_id], total, method="transfer", reference="T", at=AT)
    set_up_business(owner)
    assert documents() == []
    return ids


def _issue_batch(ids: list[int]) -> list[int]:
    with unit_of_work() as s:
        paid = [(s.get_one(Invoice, i), AT) for i in ids]
        return [doc.id for doc in issue.issue_facturas(s, paid)]


def test_a_batch_of_facturas_takes_consecutive_numbers_and_is_issued_once(personas):
    ids = _paid_without_factura(personas)
    first = _issue_batch(ids)
    docs = documents()
    assert [d.invoice_id for d in docs] == ids
    assert [d.sequential for d in docs] == [1, 2]
    assert [d.status for d in docs] == [states.SIGNED, states.SIGNED]
    assert _issue_batch(ids) == first  # a second batch returns the same documents
    assert len(documents()) == 2


def test_a_refused_buyer_stops_the_batch_before_any_number_is_used(personas):
    ids = _paid_without_factura(personas)
    identify(personas.client_b.actor.client_id, "cedula", "1710034060")  # fails its check digit
    with pytest.raises(ValidationError):
        _issue_batch(ids)
    assert documents() == []
    identify(personas.client_b.actor.client_id, "cedula", "1710034065")
    _issue_batch(ids)
    assert [d.sequential for d in documents()] == [1, 2]  # nothing was skipped


def test_when_the_sri_stops_answering_the_rest_of_the_batch_waits(personas, sri):
    ids = _paid_without_factura(personas)
    connect(personas.owner.actor, sri, timeout=1)
    [first, second] = _issue_batch(ids)
    sri.stall(3)  # longer than the client waits
    counts = transmission.transmit_many([first, second], at=AT)
    assert counts == {states.SIGNED: 2}
    timed_out, untried = document(first), document(second)
    assert timed_out.attempts == 1 and timed_out.next_attempt_at == AT + transmission.backoff(1)
    assert exchanges(first) == [("recepcion", "timeout")]
    # Never sent: its attempt is given back and the next run takes it at once.
    assert untried.attempts == 0 and untried.next_attempt_at is None
    assert exchanges(second) == []
    later = AT + transmission.backoff(1)
    with read_session() as s:
        assert transmission.due(s, later) == [first, second]
    assert transmission.transmit_many([first, second], at=later, workers=2) == {
        states.AUTHORISED: 2
    }
    assert exchanges(first)[1][0] == "autorizacion"  # sent before: asked about first


def test_settings_are_read_once_a_batch_not_once_a_document(personas, sri):
    """Changing the SRI endpoints between two batches takes effect on the next batch."""
    ids = _paid_without_factura(personas)
    connect(personas.owner.actor, sri)
    [first, second] = _issue_batch(ids)
    assert transmission.transmit_many([first], at=AT) == {states.AUTHORISED: 1}
    settings.put(personas.owner.actor, "sri.reception_url_test", "http://127.0.0.1:9/nowhere")
    assert transmission.transmit_many([second], at=AT) == {states.SIGNED: 1}
    assert exchanges(second) == [("recepcion", "connection")]
    with read_session() as s:
        assert s.scalars(select(Invoice.status).where(Invoice.id.in_(ids))).all() == [
            "paid",
            "paid",
        ]


def test_a_run_that_read_its_list_before_another_claimed_leaves_those_documents(personas):
    """Two daily runs at once: B chose the due documents before A's claim committed. A's
    lease is on the rows when B claims, so B takes none of them and nothing is sent twice."""
    ids = _paid_without_factura(personas)
    docs = _issue_batch(ids)
    with read_session() as s:
        listed_by_b = transmission.due(s, AT)
    assert listed_by_b == docs
    claimed_by_a = transmission._claim_many(docs, AT)
    assert [c.id for c in claimed_by_a] == docs
    assert transmission._claim_many(listed_by_b, AT) == []
    assert [d.attempts for d in documents()] == [1, 1]
