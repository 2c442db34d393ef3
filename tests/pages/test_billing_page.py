"""The billing page per role (AppTest on SQLite): what each persona sees, and the actions."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from streamlit.testing.v1 import AppTest

from core import billing
from core.models import Invoice
from core.platform import settings
from core.platform.db import read_session
from tests.pages.apptest import app_as, open_tab, texts, tr
from ui.kit.context import ACTOR_KEY

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "billing.py")


def _status(invoice_id: int) -> tuple[str, Decimal]:
    with read_session() as s:
        row = s.get(Invoice, invoice_id)
        return row.status, row.balance


def test_client_a_sees_own_invoices_not_bs(page_personas):
    owner = page_personas.owner.actor
    settings.put(owner, "billing.transfer_instructions", "Banco del Pacífico · cta. 7788")
    billing.add_credit(owner, page_personas.client_a.actor.client_id, "3.00", "cortesía")
    at = app_as(page_personas.client_a, "billing")
    assert not at.exception
    shown = texts(at)
    assert tr("billing.my_invoices") in shown
    assert "F-A-1" in shown and "F-B-1" not in shown
    assert "Cliente B" not in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[tr("billing.amount_owed")] == "$11,50"
    assert metrics[tr("billing.credit_balance")] == "$3,00"
    assert "Banco del Pacífico · cta. 7788" in shown  # the setting, as plain text


def test_a_client_who_owes_nothing_is_not_shown_how_to_pay(page_personas):
    owner = page_personas.owner.actor
    settings.put(owner, "billing.transfer_instructions", "Banco del Pacífico · cta. 7788")
    billing.record_payment(owner, [page_personas.client_a.invoice_id], "11.50")
    at = app_as(page_personas.client_a, "billing")
    assert not at.exception
    assert {m.label: m.value for m in at.metric}[tr("billing.amount_owed")] == "$0,00"
    assert "Banco del Pacífico · cta. 7788" not in texts(at)
    assert "F-A-1" in texts(at)  # the paid invoice is still listed


def test_client_a_opens_the_detail_and_uploads_nothing_without_a_file(page_personas):
    a = page_personas.client_a
    at = app_as(a, "billing", invoice=str(a.invoice_id))
    assert not at.exception
    shown = texts(at)
    assert (
        tr("billing.invoice_title", number="F-A-1") in shown
        and tr("billing.status.unpaid") in shown
    )
    assert tr("billing.iva", rate="15") in shown
    assert any(b.label == tr("billing.download_pdf") for b in at.get("download_button"))
    [uploader] = at.get("file_uploader")  # the browser refuses what the label says is too big
    assert "5 MB" in uploader.proto.label and uploader.proto.max_upload_size_mb == 5
    upload_form = next(b for b in at.button if b.label == tr("billing.upload_submit"))
    upload_form.click().run()
    assert [e.value for e in at.error] == [tr("billing.upload_missing")]


def test_a_foreign_or_bad_invoice_id_shows_only_not_found(page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    for value in (str(b.invoice_id), "abc", "999999", "-1"):
        at = app_as(a, "billing", invoice=value)
        assert not at.exception
        assert [e.value for e in at.error] == [tr("error.not_found")]
        shown = texts(at)
        assert "F-B-1" not in shown and "Cliente B" not in shown and "cliente-b" not in shown
        assert not at.metric and not at.dataframe
        assert not at.get("download_button")


def test_client_b_reads_english_and_cannot_open_as_invoice(page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    at = app_as(b, "billing")
    shown = texts(at)
    assert tr("billing.my_invoices", "en") in shown and "F-B-1" in shown and "F-A-1" not in shown
    at = app_as(b, "billing", invoice=str(a.invoice_id))
    assert [e.value for e in at.error] == [tr("error.not_found", "en")]
    assert "F-A-1" not in texts(at)


def test_owner_sees_both_and_records_a_payment(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.owner, "billing")
    assert not at.exception
    shown = texts(at)
    assert "F-A-1" in shown and "F-B-1" in shown
    assert "Cliente A" in shown and "Cliente B" in shown

    at = app_as(page_personas.owner, "billing", invoice=str(a.invoice_id))
    assert not at.exception
    pay = next(b for b in at.button if b.label == tr("billing.pay_submit"))
    pay.click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("billing.payment_recorded")]
    assert _status(a.invoice_id) == ("paid", Decimal("0.00"))
    assert tr("billing.status.paid") in texts(at)


def test_owner_cancel_needs_the_confirmation_box(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.owner, "billing", invoice=str(a.invoice_id))
    cancel = next(b for b in at.button if b.label == tr("billing.cancel_submit"))
    cancel.click().run()
    assert [e.value for e in at.error] == [tr("billing.confirm_needed")]
    assert _status(a.invoice_id)[0] == "unpaid"
    at.checkbox(key="billing_cancel_confirm").check()
    next(b for b in at.button if b.label == tr("billing.cancel_submit")).click().run()
    assert not at.exception
    assert _status(a.invoice_id)[0] == "cancelled"
    assert at.success and tr("billing.cancelled_done", amount="$0,00") == at.success[0].value


def test_owner_gets_a_translated_error_for_a_zero_payment(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.owner, "billing", invoice=str(a.invoice_id))
    at.text_input(key=_key(at, tr("billing.pay_amount"))).set_value("0")
    next(b for b in at.button if b.label == tr("billing.pay_submit")).click().run()
    assert [e.value for e in at.error] == [tr("error.billing_amount_positive")]
    assert _status(a.invoice_id) == ("unpaid", Decimal("11.50"))


def test_owner_filters_by_status(page_personas):
    owner = page_personas.owner
    billing.record_payment(owner.actor, [page_personas.client_b.invoice_id], "11.50")
    at = app_as(owner, "billing")
    at.selectbox(key="billing_f_status").select("paid")
    next(b for b in at.button if b.label == tr("billing.filter_apply")).click().run()
    assert not at.exception
    table = at.dataframe[0].value.to_string()
    assert "F-B-1" in table and "F-A-1" not in table


def test_owner_reviews_a_pending_receipt(page_personas):
    a = page_personas.client_a
    rid = billing.upload_receipt(a.actor, a.invoice_id, "comprobante.pdf", b"%PDF-1.4\n%%EOF")
    at = app_as(page_personas.owner, "billing")
    assert "comprobante.pdf" in texts(at)
    assert at.selectbox(key="billing_receipt_pick").value == rid
    next(b for b in at.button if b.label == tr("billing.review_submit")).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("billing.receipt_approved")]
    assert _status(a.invoice_id)[0] == "paid"


def test_owner_adds_credit_with_a_reason(page_personas):
    at = app_as(page_personas.owner, "billing")
    assert not [w for w in at.text_input if w.key == "billing_cr_amount"]  # a hidden tab
    at = open_tab(at, "billing_tab", tr("billing.credit_title"))
    assert at.selectbox(key="billing_cr_who").value == page_personas.client_a.actor.client_id
    at.text_input(key="billing_cr_amount").set_value("5,00")
    next(b for b in at.button if b.label == tr("billing.credit_submit")).click().run()
    # nothing without a reason
    assert [e.value for e in at.error] == [tr("error.billing_reason_required")]
    at.text_input(key="billing_cr_reason").set_value("Compensación por caída del servicio")
    next(b for b in at.button if b.label == tr("billing.credit_submit")).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("billing.credit_saved", amount="$5,00")]
    history = billing.credit_history(page_personas.client_a.actor)
    assert [(h.amount, h.reason) for h in history] == [
        (Decimal("5.00"), "Compensación por caída del servicio")
    ]


def test_owner_pays_by_numbers_and_creates_an_invoice_from_the_tabs(page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    at = app_as(page_personas.owner, "billing")
    assert at.text_input(key="billing_many_amount")  # the first tab is open
    assert not [w for w in at.text_input if w.key == "billing_new_desc"]  # the others are not
    numbers = next(w for w in at.text_input if w.label == tr("billing.pay_numbers"))
    numbers.input("F-B-1")
    at.text_input(key="billing_many_amount").input("11.50")
    next(x for x in at.button if x.label == tr("billing.pay_submit")).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("billing.payment_recorded")]
    assert _status(b.invoice_id) == ("paid", Decimal("0.00"))

    at = open_tab(at, "billing_tab", tr("billing.new_invoice_title"))
    assert not [w for w in at.text_input if w.key == "billing_many_amount"]
    at.selectbox(key="billing_new_who").set_value(a.actor.client_id)
    at.text_input(key="billing_new_desc").input("Migración de sitio")
    at.text_input(key="billing_new_amount").input("40.00")
    next(x for x in at.button if x.label == tr("billing.new_submit")).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("billing.invoice_created")]
    assert "Migración de sitio" in texts(at)  # the new invoice's detail opens


def test_staff_without_billing_rights_is_kept_out(page_personas):
    staff = page_personas.staff
    # The navigation never offers the page ...
    at = app_as(staff, "home")
    assert "F-A-1" not in texts(at)
    # ... and the page's own guard stops a direct run.
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state[ACTOR_KEY] = staff.actor
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [tr("error.page_not_allowed")]
    shown = texts(at)
    assert "F-A-1" not in shown and "F-B-1" not in shown and not at.dataframe


def _key(at: AppTest, label: str) -> str:
    return next(w.key for w in at.text_input if w.label == label)


def test_the_receipt_form_starts_empty_after_a_receipt_is_sent(page_personas):
    """Issue 16 item 22: after a successful upload the form kept the amount, as if nothing
    had been sent."""
    a = page_personas.client_a
    amount_label = tr("billing.upload_amount")
    at = app_as(a, "billing", invoice=str(a.invoice_id))
    assert next(t for t in at.text_input if t.label == amount_label).value == "11.50"
    billing.upload_receipt(a.actor, a.invoice_id, "comprobante.pdf", b"%PDF-1.4\n%%EOF")
    at = app_as(a, "billing", invoice=str(a.invoice_id))
    assert next(t for t in at.text_input if t.label == amount_label).value == ""


def test_the_pager_takes_any_number_without_an_english_range_error(page_personas):
    """Issue 16 item 18: the page box's min/max made the browser answer an out-of-range
    number in Streamlit's English; a number past either end now means the nearest page."""
    a, owner = page_personas.client_a, page_personas.owner.actor
    for _ in range(26):
        billing.create_invoice(owner, a.actor.client_id, [billing.LineInput("Extra", "1.00")])
    at = app_as(a, "billing")
    box = at.number_input(key="billing_page")
    assert box.min is None and box.max is None and box.value == 1
    box.set_value(99).run()
    assert not at.exception
    assert at.number_input(key="billing_page").value == 2
    at.number_input(key="billing_page").set_value(-4).run()
    assert at.number_input(key="billing_page").value == 1


def test_select_boxes_carry_a_translated_placeholder(page_personas):
    """Issue 16 item 18: Streamlit's own placeholder is "Choose an option" in any language."""
    at = app_as(page_personas.client_a, "billing")
    assert at.selectbox(key="billing_open").proto.placeholder == tr("ui.choose")
    english = app_as(page_personas.client_b, "billing")
    assert english.selectbox(key="billing_open").proto.placeholder == tr("ui.choose", "en")
