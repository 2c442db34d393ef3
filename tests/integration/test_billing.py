"""Billing on a real database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set):
invoices, payments, credit, receipts, refusals that change nothing, and who sees what."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import billing
from core.billing import hooks as billing_hooks
from core.models import AuditEntry, InvoiceItem, Payment
from core.platform import settings
from core.platform.db import read_session
from core.platform.errors import Conflict, Forbidden, NotFound, ValidationError
from tests.integration.billing_helpers import (
    audit_actions,
    bill,
    check_ledger,
    counts,
    credit,
    gross_prices,
    invoice,
    money_state,
)

# --- invoices ----------------------------------------------------------------------------


def test_invoices_get_sequential_numbers_and_the_issue_dates_iva(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    first = bill(owner, a, "10.00", issued=date(2024, 3, 31))
    second = bill(owner, a, "10.00", issued=date(2024, 4, 1))
    one, two = invoice(first), invoice(second)
    assert (one.number, two.number) == ("F0000001", "F0000002")
    # billing-rules vector #32: 12 % up to 2024-03-31, 15 % from 2024-04-01.
    assert (one.tax_total, one.total) == (Decimal("1.20"), Decimal("11.20"))
    assert (two.tax_total, two.total) == (Decimal("1.50"), Decimal("11.50"))
    with read_session() as s:
        rates = s.scalars(
            select(InvoiceItem.tax_rate)
            .where(InvoiceItem.invoice_id.in_([first, second]))
            .order_by(InvoiceItem.invoice_id)
        ).all()
    assert rates == [Decimal("12"), Decimal("15")]
    assert one.status == two.status == "unpaid" and one.balance == one.total
    assert audit_actions().count("invoice.created") == 2


def test_tax_is_rounded_per_rate_group(personas):
    # Vector #34: three lines of 0.10 at 15 % → IVA 0.05 on the invoice (0.02 per line).
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    lines = [billing.LineInput(description=f"Línea {i}", amount="0.10") for i in range(3)]
    inv = invoice(billing.create_invoice(owner, a, lines, issued_on=date(2026, 1, 5)))
    assert (inv.subtotal, inv.tax_total, inv.total) == (
        Decimal("0.30"),
        Decimal("0.05"),
        Decimal("0.35"),
    )
    with read_session() as s:
        per_line = s.scalars(
            select(InvoiceItem.tax_amount).where(InvoiceItem.invoice_id == inv.id)
        ).all()
    assert per_line == [Decimal("0.02")] * 3


def test_prices_include_tax_setting_splits_the_gross_price(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    inv = invoice(bill(owner, a, "11.50", issued=date(2026, 1, 5)))
    assert (inv.subtotal, inv.tax_total, inv.total) == (
        Decimal("10.00"),
        Decimal("1.50"),
        Decimal("11.50"),
    )


def test_a_draft_has_no_number_until_issued_at_the_issue_dates_rate(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    draft = bill(owner, a, "10.00", issued=date(2024, 3, 20), draft=True)
    assert invoice(draft).number is None and invoice(draft).status == "draft"
    number = billing.issue_invoice(owner, draft, issued_on=date(2024, 4, 2))
    issued = invoice(draft)
    assert number == issued.number == "F0000001"
    assert (issued.status, issued.tax_total, issued.total) == (
        "unpaid",
        Decimal("1.50"),
        Decimal("11.50"),
    )
    with pytest.raises(Conflict):
        billing.issue_invoice(owner, draft)


def test_bad_invoice_input_is_refused(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    before = counts()
    with pytest.raises(ValidationError):
        billing.create_invoice(owner, a, [])
    with pytest.raises(ValidationError):
        bill(owner, a, "-1.00")
    with pytest.raises(ValidationError):
        billing.create_invoice(owner, a, [billing.LineInput(description=" ", amount="5")])
    with pytest.raises(ValidationError):
        bill(owner, a, "5.00", issued=date(2026, 5, 2), due=date(2026, 5, 1))
    with pytest.raises(NotFound):
        bill(owner, 999_999, "5.00")
    assert counts() == before


def test_a_service_period_is_invoiced_once(personas):
    owner, a = personas.owner.actor, personas.client_a
    line = billing.LineInput(
        description="Renovación",
        amount="10.00",
        kind="renewal",
        service_id=a.service_id,
        period_start=date(2026, 12, 5),  # the persona's invoice already bills this period
    )
    with pytest.raises(Conflict):
        billing.create_invoice(owner, a.actor.client_id, [line])
    # Another client's service cannot be put on A's invoice.
    foreign = billing.LineInput(
        description="x", amount="1.00", service_id=personas.client_b.service_id
    )
    with pytest.raises(NotFound):
        billing.create_invoice(owner, a.actor.client_id, [foreign])


# --- payments ----------------------------------------------------------------------------


def test_full_payment_marks_the_invoice_paid_and_runs_the_paid_hooks_once(personas, monkeypatch):
    owner, a = personas.owner.actor, personas.client_a
    seen: list[tuple[int, str]] = []

    def hook(session, inv, actor):
        seen.append((inv.id, inv.status))

    with monkeypatch.context() as patch:
        patch.setattr(billing_hooks, "PAID_HOOKS", (*billing_hooks.PAID_HOOKS, hook))
        result = billing.record_payment(owner, [a.invoice_id], "11.50", reference="TRX-1")
        with pytest.raises(Conflict) as refused:  # paid already: a second payment is refused
            billing.record_payment(owner, [a.invoice_id], "11.50")
    assert refused.value.key == "error.billing_invoice_paid"
    paid = invoice(a.invoice_id)
    assert (paid.status, paid.balance, paid.amount_paid) == ("paid", 0, Decimal("11.50"))
    assert paid.paid_at is not None
    assert seen == [(a.invoice_id, "paid")]
    assert result.paid_invoice_ids == (a.invoice_id,) and result.credited == 0
    assert {"payment.recorded", "invoice.paid"} <= set(audit_actions())
    check_ledger(a.actor.client_id)


def test_partial_then_overpayment_goes_to_credit(personas):
    # Vector #16: invoice 100.00; pay 60.00 then 50.00 → paid, +10.00 credit.
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    inv = bill(owner, a, "100.00")
    billing.record_payment(owner, [inv], "60.00")
    after_first = invoice(inv)
    assert (after_first.status, after_first.balance) == ("unpaid", Decimal("40.00"))
    result = billing.record_payment(owner, [inv], "50,00")  # Spanish decimal comma
    assert invoice(inv).status == "paid"
    assert result.credited == Decimal("10.00")
    assert credit(a) == Decimal("10.00")
    check_ledger(a)


def test_one_payment_for_several_invoices_in_the_order_given(personas):
    # Vector #18: 100.00 for [#1 60.00, #2 30.00] → both paid, 10.00 credit.
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    first, second = bill(owner, a, "60.00"), bill(owner, a, "30.00")
    result = billing.record_payment_by_numbers(
        owner, f"{invoice(first).number}, {invoice(second).number.lower()}", "100.00"
    )
    assert result.applied == ((first, Decimal("60.00")), (second, Decimal("30.00")))
    assert result.credited == Decimal("10.00")
    assert invoice(first).status == invoice(second).status == "paid"
    with read_session() as s:
        rows = s.scalars(select(Payment.amount).where(Payment.id.in_(result.payment_ids))).all()
    assert sum(rows) == Decimal("100.00")  # the rows of one payment add up to the money
    check_ledger(a)


def test_unknown_invoice_numbers_are_reported_without_echoing_markup(personas):
    owner = personas.owner.actor
    before = counts()
    with pytest.raises(NotFound) as unknown:
        billing.record_payment_by_numbers(owner, "F-A-1 f9999999", "1.00")
    assert (unknown.value.key, unknown.value.params) == (
        "error.billing_invoice_number_unknown",
        {"number": "F9999999"},
    )
    with pytest.raises(NotFound) as odd:
        billing.record_payment_by_numbers(owner, "![x](http://evil)", "1.00")
    assert (odd.value.key, odd.value.params) == ("error.not_found", {})
    assert counts() == before


def test_payment_short_of_the_second_invoice_leaves_it_partly_paid(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    first, second = bill(owner, a, "60.00"), bill(owner, a, "30.00")
    billing.record_payment(owner, [first, second], "70.00")
    assert invoice(first).status == "paid"
    assert (invoice(second).status, invoice(second).balance) == ("unpaid", Decimal("20.00"))
    check_ledger(a)


def test_a_payment_with_no_invoice_becomes_credit(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    result = billing.record_payment(owner, [], "20.00", client_id=a, method="cash")
    assert result.credited == Decimal("20.00") and credit(a) == Decimal("20.00")
    check_ledger(a)


@pytest.mark.parametrize(
    ("amount", "key"),
    [
        ("0", "error.billing_amount_positive"),
        ("0.00", "error.billing_amount_positive"),
        ("-5.00", "error.billing_amount_positive"),
        (Decimal("-0.01"), "error.billing_amount_positive"),
        ("1.005", "error.billing_amount_cents"),
        ("doce", "error.billing_amount_invalid"),
        ("", "error.billing_amount_invalid"),
        ("NaN", "error.billing_amount_invalid"),
        (1.5, "error.billing_amount_invalid"),  # a float never becomes money
    ],
)
def test_zero_negative_or_malformed_payments_change_nothing(personas, amount, key):
    owner, a = personas.owner.actor, personas.client_a
    before = money_state(a.actor.client_id)
    with pytest.raises(ValidationError) as refused:
        billing.record_payment(owner, [a.invoice_id], amount)
    assert refused.value.key == key
    assert money_state(a.actor.client_id) == before


def test_a_cancelled_invoice_refuses_payments_and_nothing_changes(personas):
    owner, a = personas.owner.actor, personas.client_a
    assert billing.cancel_invoice(owner, a.invoice_id, reason="duplicada") == 0
    before = money_state(a.actor.client_id)
    with pytest.raises(Conflict) as refused:
        billing.record_payment(owner, [a.invoice_id], "11.50")
    # Rule 8: staff are asked whether to reopen it or to credit the money (never silently).
    assert refused.value.key == "error.billing_voided_needs_choice"
    assert money_state(a.actor.client_id) == before
    assert "invoice.cancelled" in audit_actions()


def test_a_refused_invoice_in_a_multi_invoice_payment_stops_the_whole_payment(personas):
    owner, a = personas.owner.actor, personas.client_a
    other = bill(owner, a.actor.client_id, "5.00")
    billing.cancel_invoice(owner, other)
    before = money_state(a.actor.client_id)
    with pytest.raises(Conflict):
        billing.record_payment(owner, [a.invoice_id, other], "30.00")
    assert money_state(a.actor.client_id) == before


def test_invoices_of_two_clients_cannot_share_a_payment(personas):
    owner = personas.owner.actor
    with pytest.raises(ValidationError) as refused:
        billing.record_payment(
            owner, [personas.client_a.invoice_id, personas.client_b.invoice_id], "23.00"
        )
    assert refused.value.key == "error.billing_mixed_clients"
    with pytest.raises(ValidationError):
        billing.record_payment(
            owner, [personas.client_a.invoice_id, personas.client_a.invoice_id], "1.00"
        )


# --- cancel and refund ---------------------------------------------------------------------


def test_cancelling_a_partly_paid_invoice_returns_what_was_paid_as_credit(personas):
    owner, a = personas.owner.actor, personas.client_a
    billing.record_payment(owner, [a.invoice_id], "5.00")
    assert billing.cancel_invoice(owner, a.invoice_id, reason="error") == Decimal("5.00")
    cancelled = invoice(a.invoice_id)
    assert (cancelled.status, cancelled.balance) == ("cancelled", 0)
    assert credit(a.actor.client_id) == Decimal("5.00")
    with pytest.raises(Conflict):
        billing.cancel_invoice(owner, a.invoice_id)
    check_ledger(a.actor.client_id)


def test_refund_to_credit_only_for_paid_invoices(personas):
    owner, a = personas.owner.actor, personas.client_a
    with pytest.raises(Conflict):
        billing.refund_invoice(owner, a.invoice_id)
    billing.record_payment(owner, [a.invoice_id], "11.50")
    with pytest.raises(Conflict):
        billing.cancel_invoice(owner, a.invoice_id)  # paid: refund it instead
    assert billing.refund_invoice(owner, a.invoice_id, reason="baja") == Decimal("11.50")
    assert invoice(a.invoice_id).status == "refunded"
    assert credit(a.actor.client_id) == Decimal("11.50")
    with pytest.raises(Conflict):
        billing.refund_invoice(owner, a.invoice_id)
    assert "invoice.refunded" in audit_actions()
    check_ledger(a.actor.client_id)


# --- credit --------------------------------------------------------------------------------


def test_credit_is_applied_when_an_invoice_is_issued(personas):
    # Vector #17: credit 25.00, new invoice 40.00 → 25.00 applied, 15.00 due.
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    billing.add_credit(owner, a, "25.00", "cortesía")
    inv = invoice(bill(owner, a, "40.00"))
    assert (inv.credit_applied, inv.balance, inv.status) == (
        Decimal("25.00"),
        Decimal("15.00"),
        "unpaid",
    )
    assert credit(a) == 0
    check_ledger(a)


def test_credit_covering_the_whole_invoice_pays_it(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    billing.add_credit(owner, a, "50.00", "anticipo")
    inv = invoice(bill(owner, a, "40.00"))
    assert (inv.status, inv.credit_applied, inv.balance) == ("paid", Decimal("40.00"), 0)
    assert credit(a) == Decimal("10.00")
    check_ledger(a)


def test_auto_apply_credit_setting_off_leaves_the_credit_alone(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    gross_prices(owner)
    settings.put(owner, "auto_apply_credit", False)
    billing.add_credit(owner, a, "25.00", "cortesía")
    inv = invoice(bill(owner, a, "40.00", issued=date(2026, 11, 26), due=date(2026, 12, 20)))
    assert (inv.credit_applied, inv.balance) == (0, Decimal("40.00"))
    assert credit(a) == Decimal("25.00")
    # Applied on request instead, oldest due date first.
    billing.apply_credit(personas.client_a.actor)
    assert invoice(personas.client_a.invoice_id).status == "paid"  # 11.50, due 2026-12-05
    assert invoice(inv.id).credit_applied == Decimal("13.50")
    check_ledger(a)


def test_a_client_applies_credit_to_one_invoice(personas):
    owner, a = personas.owner.actor, personas.client_a
    billing.add_credit(owner, a.actor.client_id, "5.00", "cortesía")
    assert billing.apply_credit(a.actor, invoice_id=a.invoice_id) == Decimal("5.00")
    assert invoice(a.invoice_id).balance == Decimal("6.50")
    with pytest.raises(ValidationError):  # nothing left
        billing.apply_credit(a.actor, invoice_id=a.invoice_id)
    with pytest.raises(NotFound):
        billing.apply_credit(a.actor, invoice_id=personas.client_b.invoice_id)


def test_staff_add_and_remove_credit_with_a_reason(personas):
    owner, a = personas.owner.actor, personas.client_a.actor.client_id
    assert billing.add_credit(owner, a, "30.00", "compensación") == Decimal("30.00")
    assert billing.remove_credit(owner, a, "12.50", "corrección") == Decimal("17.50")
    before = money_state(a)
    with pytest.raises(ValidationError) as refused:
        billing.remove_credit(owner, a, "20.00", "demasiado")
    assert refused.value.key == "error.billing_credit_insufficient"
    with pytest.raises(ValidationError) as no_reason:
        billing.add_credit(owner, a, "1.00", "  ")
    assert no_reason.value.key == "error.billing_reason_required"
    with pytest.raises(ValidationError):
        billing.add_credit(owner, a, "0", "cero")
    assert money_state(a) == before
    history = billing.credit_history(owner, a)
    assert [(h.amount, h.reason) for h in history] == [
        (Decimal("-12.50"), "corrección"),
        (Decimal("30.00"), "compensación"),
    ]
    assert billing.credit_history(personas.client_a.actor)[0].amount == Decimal("-12.50")
    assert billing.credit_history(personas.client_b.actor) == []
    actions = audit_actions()
    assert "credit.added" in actions and "credit.removed" in actions
    check_ledger(a)


# --- rights and scoping --------------------------------------------------------------------


def test_staff_without_billing_rights_and_clients_cannot_touch_money(personas):
    staff, a = personas.staff.actor, personas.client_a
    before = counts()
    for actor in (staff, a.actor):
        with pytest.raises(Forbidden):
            billing.record_payment(actor, [a.invoice_id], "11.50")
        with pytest.raises(Forbidden):
            billing.add_credit(actor, a.actor.client_id, "5.00", "x")
        with pytest.raises(Forbidden):
            billing.cancel_invoice(actor, a.invoice_id)
        with pytest.raises(Forbidden):
            billing.refund_invoice(actor, a.invoice_id)
        with pytest.raises(Forbidden):
            bill(actor, a.actor.client_id, "1.00")
        with pytest.raises(Forbidden):
            billing.staff_billing_view(actor)
    with pytest.raises(Forbidden):
        billing.invoice_detail(staff, a.invoice_id)
    with pytest.raises(Forbidden):
        billing.list_invoices(staff)
    with pytest.raises(Forbidden):
        settings.put(staff, "auto_apply_credit", False)
    assert counts() == before


def test_staff_with_billing_rights_do_the_back_office_work(personas):
    a = personas.client_a
    billing_staff = replace(personas.staff.actor, permissions=frozenset({"tickets", "billing"}))
    assert billing.staff_billing_view(billing_staff).invoices.total == 2
    billing.record_payment(billing_staff, [a.invoice_id], "11.50")
    assert invoice(a.invoice_id).status == "paid"
    billing.add_credit(billing_staff, a.actor.client_id, "1.00", "redondeo")
    with pytest.raises(Forbidden):  # settings stay the owner's
        settings.put(billing_staff, "auto_apply_credit", False)


def test_a_client_sees_only_their_own_invoices(personas, client_b_as):
    a, b = personas.client_a, client_b_as
    page = billing.list_invoices(b.actor)
    assert [r.id for r in page.rows] == [b.invoice_id] and page.total == 1
    # A client_id filter cannot widen a client's view.
    page = billing.list_invoices(b.actor, client_id=a.actor.client_id)
    assert [r.id for r in page.rows] == [b.invoice_id]
    assert billing.invoice_detail(a.actor, a.invoice_id).client_name == "Cliente A"
    for bad in (a.invoice_id, "abc", None, "1 OR 1=1", 10**9):
        with pytest.raises(NotFound):
            billing.invoice_detail(b.actor, bad)


def test_a_client_never_sees_drafts(personas):
    owner, a = personas.owner.actor, personas.client_a
    draft = bill(owner, a.actor.client_id, "3.00", draft=True)
    assert draft not in [r.id for r in billing.list_invoices(a.actor).rows]
    with pytest.raises(NotFound):
        billing.invoice_detail(a.actor, draft)
    assert draft in [r.id for r in billing.list_invoices(owner, status="draft").rows]


# --- lists ---------------------------------------------------------------------------------


def test_lists_filter_and_page_in_sql(personas):
    owner, a, b = personas.owner.actor, personas.client_a, personas.client_b
    ids = [
        bill(owner, a.actor.client_id, "10.00", issued=date(2026, 1, day), due=date(2026, 2, day))
        for day in range(1, 8)
    ]
    billing.record_payment(owner, [ids[0]], "11.50")
    billing.cancel_invoice(owner, ids[1])

    everything = billing.list_invoices(owner, per_page=4)
    assert (everything.total, everything.pages, len(everything.rows)) == (9, 3, 4)
    seen = []
    for page in range(1, 4):
        seen += [r.id for r in billing.list_invoices(owner, per_page=4, page=page).rows]
    assert sorted(seen) == sorted([*ids, a.invoice_id, b.invoice_id])  # no row twice

    # Unpaid first, the oldest due date first.
    first = billing.list_invoices(a.actor, per_page=3).rows
    assert [r.id for r in first] == ids[2:5]
    assert all(r.status == "unpaid" for r in first)

    assert [r.id for r in billing.list_invoices(owner, status="paid").rows] == [ids[0]]
    assert [r.id for r in billing.list_invoices(owner, status="cancelled").rows] == [ids[1]]
    assert billing.list_invoices(owner, client_id=b.actor.client_id).total == 1
    ranged = billing.list_invoices(
        owner, date_from=date(2026, 1, 3), date_to=date(2026, 1, 5), client_id=a.actor.client_id
    )
    assert sorted(r.id for r in ranged.rows) == ids[2:5]
    overdue = billing.list_invoices(owner, status="overdue", today=date(2026, 2, 4))
    assert sorted(r.id for r in overdue.rows) == ids[2:3]
    with pytest.raises(ValidationError):
        billing.list_invoices(owner, status="robado")


def test_views_for_each_role(personas):
    owner, a = personas.owner.actor, personas.client_a
    settings.put(owner, "billing.transfer_instructions", "Banco Pichincha, cuenta 123")
    billing.add_credit(owner, a.actor.client_id, "2.00", "regalo")
    view = billing.client_billing_view(a.actor, today=date(2026, 12, 6))
    assert view.amount_owed == Decimal("11.50") and view.overdue == Decimal("11.50")
    assert view.credit_balance == Decimal("2.00")
    assert view.transfer_instructions == "Banco Pichincha, cuenta 123"
    assert view.receipt_max_mb == 5
    staff_view = billing.staff_billing_view(owner)
    assert staff_view.invoices.total == 2
    assert {c.name for c in staff_view.clients} == {"Cliente A", "Cliente B"}
    with pytest.raises(Forbidden):
        billing.client_billing_view(owner)


def test_settings_are_owner_only_and_audited(personas):
    owner = personas.owner.actor
    assert settings.get("business.name") == "Anfitrión"
    settings.put(owner, "business.name", "Hostería Ñandú")
    settings.put(owner, "smtp_password", "no-lo-muestres")
    assert settings.get("business.name") == "Hostería Ñandú"
    with read_session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "setting.changed")).all()
        details = [e.details for e in entries]
        n = s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    assert details[0]["new"] == "Hostería Ñandú"
    assert "no-lo-muestres" not in str(details[1])
    assert n >= 2
