"""Issue 17: a downgrade whose unused difference is credited back issues a nota de crédito
against the factura of the period it credits, through the real plan-change path (the fake
WHM applies the package change); a downgrade without credit issues nothing."""

from __future__ import annotations

from decimal import Decimal

from core import plan_changes
from core.einvoice import schema
from core.platform import settings
from tests.integration.einvoice_helpers import CEDULA, documents, identify, set_up_business, tree
from tests.integration.test_plan_changes import AT, downgrade_setup, fake  # noqa: F401
from tests.panel_fixtures import whm  # noqa: F401 - the fake panel behind ``fake``


def test_a_credited_downgrade_issues_a_credit_note(fake, personas):  # noqa: F811
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", CEDULA)
    basico, _ = downgrade_setup(personas, fake)  # pays the renewal: its factura is issued
    [factura] = documents()
    assert factura.invoice_id == a.invoice_id and factura.total == Decimal("11.50")
    settings.put(owner, "credit_on_downgrade", True)
    made = plan_changes.confirm(a.actor, a.service_id, basico, "monthly", at=AT)
    assert made.status == "applied"
    docs = documents()
    # The plan change's own 0.00 invoice gets no factura; the credit gets a credit note.
    assert [d.doc_type for d in docs] == ["01", "04"]
    note = docs[1]
    assert note.modified_document_id == factura.id and note.total == Decimal("5.00")
    assert schema.errors("04", note.xml_signed.encode()) == []
    info = tree(note).find("infoNotaCredito")
    assert info.findtext("numDocModificado") == factura.number
    assert info.findtext("valorModificacion") == "5.00"
    assert info.findtext("motivo").startswith("Cambio de plan")


def test_a_downgrade_without_credit_issues_nothing(fake, personas):  # noqa: F811
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    identify(a.actor.client_id, "cedula", CEDULA)
    basico, _ = downgrade_setup(personas, fake)
    plan_changes.confirm(a.actor, a.service_id, basico, "monthly", at=AT)
    assert [d.doc_type for d in documents()] == ["01"]
