"""A factura refused at payment time is not lost: the owner sees it with its reason, fixes
the cause and issues it; it is dated the day it is issued and goes to the SRI."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.einvoice import owed, states
from core.platform import i18n
from core.platform.errors import Forbidden
from tests.integration.einvoice_helpers import AT, CEDULA, documents, identify, pay, set_up_business
from tests.integration.sri_helpers import connect, document, sri  # noqa: F401

LATER = AT + timedelta(days=3)


def _refused_at_payment(personas):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", "1710034060")  # its check digit is wrong
    pay(owner, a.invoice_id)
    assert documents(a.invoice_id) == []  # the payment stands, without its factura
    return owner, a


def test_the_owner_sees_why_and_issues_the_factura_once_fixed(personas, sri):
    owner, a = _refused_at_payment(personas)
    [row] = owed.owed(owner)
    assert row.invoice_id == a.invoice_id and row.reason == "einvoice.error.buyer_cedula_invalid"
    es, en = (i18n.t(row.reason, lang, **row.params) for lang in ("es", "en"))
    assert row.client in es and row.client in en and es != en
    # Not fixed yet: still refused, nothing issued, still owed.
    assert owed.issue_owed(owner, at=LATER) == owed.Issued(issued=0, refused=1)
    assert documents() == [] and len(owed.owed(owner)) == 1
    identify(a.actor.client_id, "cedula", CEDULA)
    connect(owner, sri)
    assert owed.issue_owed(owner, at=LATER) == owed.Issued(issued=1, refused=0)
    [doc] = documents(a.invoice_id)
    assert doc.issued_on == LATER.date()  # 10:00 in Ecuador: dated the day it is issued
    assert doc.sequential == 1  # the refusals used no number
    assert document(doc.id).status == states.AUTHORISED  # sent right after the commit
    assert owed.owed(owner) == []
    assert owed.issue_owed(owner, at=LATER) == owed.Issued(issued=0, refused=0)


def test_clients_and_staff_without_billing_cannot_issue(personas):
    _refused_at_payment(personas)
    for persona in (personas.client_a, personas.client_b):
        with pytest.raises(Forbidden):
            owed.owed(persona.actor)
        with pytest.raises(Forbidden):
            owed.issue_owed(persona.actor, at=LATER)
    assert documents() == []
