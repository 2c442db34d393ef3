"""Issue 17 on the billing page (AppTest, SQLite): a client downloads the RIDE and the XML of
an authorised factura, never another client's; the owner's register shows the state and the
SRI's messages in the reader's language, and sends a returned document again."""

from __future__ import annotations

from sqlalchemy import update
from streamlit.testing.v1 import AppTest

from core.einvoice import states
from core.models import User
from core.platform.clock import now
from core.platform.db import unit_of_work
from tests.integration.einvoice_helpers import CEDULA, documents, identify, pay, set_up_business
from tests.integration.sri_helpers import connect, document, sri  # noqa: F401
from tests.pages.apptest import ENTRY, app_as, click, open_tab, texts, tr


def _factura(personas, fake):
    owner, a = personas.owner.actor, personas.client_a
    set_up_business(owner)
    connect(owner, fake)
    pay(owner, a.invoice_id)
    [doc] = documents(a.invoice_id)
    return document(doc.id)


def test_client_downloads_the_ride_and_xml_of_an_authorised_factura(page_personas, sri):
    doc = _factura(page_personas, sri)
    assert doc.status == states.AUTHORISED
    a = page_personas.client_a
    at = app_as(a, "billing", invoice=str(a.invoice_id))
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert tr("sri.client.ride", number=doc.number) in labels
    assert tr("sri.client.xml", number=doc.number) in labels
    # Client B opening A's invoice sees only "not found", no document.
    b = page_personas.client_b
    at = app_as(b, "billing", invoice=str(a.invoice_id))
    assert [e.value for e in at.error] == [tr("error.not_found", "en")]  # B reads English
    assert doc.number not in texts(at) and not at.get("download_button")


def test_owner_sees_the_register_and_sends_a_returned_document_again(page_personas, sri):
    sri.force(45)
    doc = _factura(page_personas, sri)
    assert doc.status == states.RETURNED
    owner = page_personas.owner
    at = open_tab(app_as(owner, "billing"), "billing_tab", tr("sri.page.title"))
    assert not at.exception
    frames = "\n".join(str(f.value.to_dict()) for f in at.dataframe)
    assert doc.number in frames and tr("sri.status.returned") in frames
    assert tr("sri.code.45") in frames and "SECUENCIAL REGISTRADO" in frames
    assert tr("sri.conn.save") in [b.label for b in at.button]  # the owner's SRI connection
    at = click(at, tr("sri.page.resend"))
    assert not at.exception
    assert document(doc.id).status == states.AUTHORISED


def test_owner_reads_the_sri_messages_in_english(page_personas, sri):
    """One run straight onto the tab: AppTest re-formats widget values in the default
    language on a rerun, so an English page is read from its first run."""
    sri.force(45)
    doc = _factura(page_personas, sri)
    owner = page_personas.owner
    with unit_of_work() as s:
        s.execute(update(User).where(User.email == owner.email).values(language="en"))
    at = AppTest.from_file(ENTRY, default_timeout=30)
    at.session_state["authentication_status"] = True
    at.session_state["username"] = owner.email
    at.session_state["anfitrion_signed_in_at"] = now()
    at.session_state["anfitrion_2fa_ok"] = True
    at.session_state["billing_tab"] = tr("sri.page.title", "en")
    at.switch_page("pages/billing.py").run()
    assert not at.exception
    frames = "\n".join(str(f.value.to_dict()) for f in at.dataframe)
    assert doc.number in frames and tr("sri.status.returned", "en") in frames
    assert tr("sri.code.45", "en") in frames and "SECUENCIAL REGISTRADO" in frames


def test_owner_issues_a_factura_that_was_refused_at_payment(page_personas, sri):
    owner, a = page_personas.owner, page_personas.client_a
    set_up_business(owner.actor)
    identify(a.actor.client_id, "cedula", "1710034060")  # wrong check digit
    pay(owner.actor, a.invoice_id)
    at = open_tab(app_as(owner, "billing"), "billing_tab", tr("sri.page.title"))
    assert not at.exception
    assert [w.value for w in at.warning] == [tr("sri.owed.title.one")]
    frames = "\n".join(str(f.value.to_dict()) for f in at.dataframe)
    assert tr("einvoice.error.buyer_cedula_invalid", client="Cliente A")[:20] in frames
    identify(a.actor.client_id, "cedula", CEDULA)
    connect(owner.actor, sri)
    at = click(at, tr("sri.owed.issue"))
    assert not at.exception
    assert [s.value for s in at.success] == [tr("sri.owed.issued", issued="1", refused="0")]
    [doc] = documents(a.invoice_id)
    assert document(doc.id).status == states.AUTHORISED
    assert not at.warning
