"""core.plan_changes against a real database on each engine and the faithful fake WHM.

The personas' services are monthly "Básico" at $10.00 with an unpaid renewal invoice; most
tests pay that invoice first (a change is blocked while it is unpaid) and pin the service's
due date, so the arithmetic does not depend on what paying a renewal does to it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, panel, plan_changes
from core.access import Actor
from core.billing import hooks as billing_hooks
from core.billing.hooks import PAID_HOOKS
from core.models import (
    AuditEntry,
    Client,
    CreditEntry,
    Invoice,
    InvoiceItem,
    MailOutbox,
    PlanChange,
    Product,
    ProductPrice,
    Service,
    User,
)
from core.platform import settings
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, Forbidden, NotFound, ValidationError
from core.rules.proration import quote_change
from sandbox.whm_server import FakeWhm
from tests.panel_fixtures import calls, dead_port, point_server, ready, whm  # noqa: F401 - fixtures
from tests.personas import add_estandar

DUE = date(2026, 12, 5)
AT = date(2026, 11, 20)  # 15 of the 30 days of the period 2026-11-05 → 2026-12-05 left


@pytest.fixture
def fake(whm: FakeWhm, personas) -> Iterator[FakeWhm]:
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


def catalogue() -> tuple[int, int]:
    """Básico ($10/month) ⇄ Estándar ($20/month, $200/year), each the other's target."""
    with unit_of_work() as s:
        estandar = add_estandar(s)
        s.add(ProductPrice(product_id=estandar.id, cycle="annually", price=Decimal("200.00")))
        basico = s.scalars(select(Product).where(Product.name == "Básico")).one()
        estandar.upgrade_targets = [basico.id]
        return basico.id, estandar.id


def pay(owner: Actor, invoice_id: int) -> None:
    with read_session() as s:
        balance = s.get(Invoice, invoice_id).balance
    billing.record_payment(owner, [invoice_id], balance)


def unblock(personas, persona, *, due: date = DUE, anchor: int = 5) -> None:
    """Pay the persona's renewal invoice, then pin the service's period."""
    pay(personas.owner.actor, persona.invoice_id)
    with unit_of_work() as s:
        svc = s.get(Service, persona.service_id)
        svc.next_due_date, svc.anchor_day = due, anchor


def on_plan(service_id: int, product_id: int, amount: str, package: str, fake: FakeWhm) -> None:
    """Put a service (and its panel account) on another plan, as if it always had it."""
    with unit_of_work() as s:
        svc = s.get(Service, service_id)
        svc.product_id, svc.recurring_amount = product_id, Decimal(amount)
        user = svc.panel_username
    fake.accounts[user]["plan"] = package


def service(service_id: int) -> Service:
    with read_session() as s:
        return s.get(Service, service_id)


def change(change_id: int) -> PlanChange:
    with read_session() as s:
        return s.get(PlanChange, change_id)


def invoice(invoice_id: int) -> Invoice:
    with read_session() as s:
        row = s.get(Invoice, invoice_id)
        row.items  # noqa: B018 - load the lines before the session closes
        return row


def changepackages(fake: FakeWhm) -> list[dict]:
    """changepackage calls that reached the panel and were carried out."""
    return [e for e in calls(fake, "changepackage") if e["fault"] is None and e["status"] == 200]


def mails(template: str) -> list[MailOutbox]:
    with read_session() as s:
        return list(s.scalars(select(MailOutbox).where(MailOutbox.template == template)))


def audits(action: str) -> list[AuditEntry]:
    with read_session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def credit(client_id: int) -> Decimal:
    with read_session() as s:
        return s.get(Client, client_id).credit_balance


# ---------------------------------------------------------------- acceptance 4
def test_upgrade_end_to_end_quote_invoice_payment_panel_once(fake, personas):
    basico, estandar = catalogue()
    a, owner = personas.client_a, personas.owner.actor
    unblock(personas, a)

    q = plan_changes.quote(a.actor, a.service_id, estandar, "monthly", at=AT)
    expected = quote_change(
        old_price=Decimal("10.00"),
        old_cycle="monthly",
        new_price=Decimal("20.00"),
        new_cycle="monthly",
        next_due=DUE,
        anchor_day=5,
        change_date=AT,
    )
    assert q.exact == expected
    assert (q.credit, q.charge, q.net) == (Decimal("5.00"), Decimal("10.00"), expected.net)
    assert (q.subtotal, q.tax, q.total) == (Decimal("5.00"), Decimal("0.75"), Decimal("5.75"))
    assert q.valid_until == AT + timedelta(days=7) and not q.downgrade

    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    assert made.status == "pending" and not made.repeated
    inv = invoice(made.invoice_id)
    assert inv.status == "unpaid" and inv.total == Decimal("5.75") and inv.due_on == q.valid_until
    [line] = inv.items
    assert (line.kind, line.service_id, line.period_start) == ("upgrade", a.service_id, AT)
    assert line.amount == Decimal("5.00")
    frozen = change(made.plan_change_id).quote
    assert frozen["net"] == "5.00" and frozen["total"] == "5.75" and frozen["to_amount"] == "20.00"
    assert changepackages(fake) == [] and service(a.service_id).product_id == basico

    pay(owner, made.invoice_id)
    assert len(changepackages(fake)) == 1 and fake.accounts["clienta"]["plan"] == "estandar"
    svc = service(a.service_id)
    assert svc.product_id == estandar and svc.recurring_amount == Decimal("20.00")
    assert svc.next_due_date == DUE and svc.billing_cycle == "monthly"
    applied = change(made.plan_change_id)
    assert applied.status == "applied" and applied.applied_at is not None
    [mail] = mails("plan_change_applied")
    assert mail.to_addr == "a@test.ec" and "Estándar" in mail.body_text

    # Paying again, re-running the hook and the daily retry never repeat anything.
    with pytest.raises(Conflict):
        billing.record_payment(owner, [made.invoice_id], "5.75")
    with unit_of_work() as s:
        for hook in PAID_HOOKS:
            hook(s, s.get(Invoice, made.invoice_id), owner)
    assert plan_changes.apply_pending(AT) == 0
    assert plan_changes.apply_pending(AT + timedelta(days=1)) == 0
    assert len(changepackages(fake)) == 1
    assert service(a.service_id).recurring_amount == Decimal("20.00")
    assert len(audits("plan_change.applied")) == 1 and len(mails("plan_change_applied")) == 1


def test_a_double_click_returns_the_change_already_made(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    first = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    again = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    assert again.repeated and again.plan_change_id == first.plan_change_id
    assert again.invoice_id == first.invoice_id
    with read_session() as s:
        lines = s.scalars(select(InvoiceItem).where(InvoiceItem.kind == "upgrade")).all()
        assert len(lines) == 1 and len(s.scalars(select(PlanChange)).all()) == 1
    # Another target while this one is open is refused with the reason.
    with pytest.raises(Conflict) as exc:
        plan_changes.confirm(a.actor, a.service_id, estandar, "annually", at=AT)
    assert exc.value.key == "error.upgrade_change_open"


def test_vector_20_same_cycle_upgrade_rounds_once(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a, due=date(2024, 4, 1), anchor=1)
    q = plan_changes.quote(a.actor, a.service_id, estandar, "monthly", at=date(2024, 3, 17))
    assert (q.credit, q.charge, q.net) == (Decimal("4.84"), Decimal("9.68"), Decimal("4.84"))
    assert q.tax_rate == Decimal("12") and q.total == Decimal("5.42")  # IVA 12 % before April
    words = plan_changes.explain(q, "es")
    assert any("15 ÷ 31" in w for w in words) and any("$5,42" in w for w in words)


# ---------------------------------------------------------------- failures and retries
def test_panel_failure_leaves_it_paid_and_apply_pending_finishes_once(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    fake.inject("changepackage", "http500", times=None)
    pay(personas.owner.actor, made.invoice_id)  # the payment itself succeeds
    assert change(made.plan_change_id).status == "paid"
    svc = service(a.service_id)
    assert svc.recurring_amount == Decimal("10.00") and svc.panel_error
    assert plan_changes.apply_pending(AT) == 0  # still down
    fake.clear_faults()
    assert plan_changes.apply_pending(AT) == 1
    assert plan_changes.apply_pending(AT) == 0
    assert len(changepackages(fake)) == 1 and fake.accounts["clienta"]["plan"] == "estandar"
    svc = service(a.service_id)
    assert svc.recurring_amount == Decimal("20.00") and svc.panel_error is None
    listed = plan_changes.list_changes(personas.owner.actor, statuses=("applied",))
    assert [r.id for r in listed] == [made.plan_change_id]


def test_a_payment_whose_hook_never_ran_is_reconciled_by_the_daily_run(fake, personas, monkeypatch):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    with monkeypatch.context() as patch:  # the hook did not run (patched out of the list)
        others = tuple(h for h in PAID_HOOKS if h is not plan_changes.apply_paid_plan_change)
        patch.setattr(billing_hooks, "PAID_HOOKS", others)
        pay(personas.owner.actor, made.invoice_id)
    assert change(made.plan_change_id).status == "pending" and changepackages(fake) == []
    assert plan_changes.expire_quotes(AT + timedelta(days=30)) == 0  # paid: never expired
    assert plan_changes.apply_pending(AT) == 1 and plan_changes.apply_pending(AT) == 0
    assert len(changepackages(fake)) == 1 and change(made.plan_change_id).status == "applied"


def test_owner_retries_a_paid_change_and_sees_why_it_waits(fake, personas):
    _, estandar = catalogue()
    a, owner = personas.client_a, personas.owner.actor
    unblock(personas, a)
    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    point_server(dead_port(), fake.token)
    pay(owner, made.invoice_id)
    [row] = plan_changes.list_changes(owner, statuses=("paid",))
    assert row.problem and row.invoice_number
    assert plan_changes.list_changes(a.actor)[0].problem is None  # the client never sees it
    with pytest.raises(Forbidden):
        plan_changes.retry(a.actor, made.plan_change_id)
    with pytest.raises(Exception) as exc:
        plan_changes.retry(owner, made.plan_change_id)
    assert exc.value.key == "error.panel_unavailable"
    point_server(fake.port, fake.token)
    plan_changes.retry(owner, made.plan_change_id)
    assert change(made.plan_change_id).status == "applied" and len(changepackages(fake)) == 1


# ---------------------------------------------------------------- blocked, scoped
def test_blocked_while_the_renewal_invoice_is_unpaid(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    view = plan_changes.upgrades_view(a.actor, a.service_id, at=AT)
    assert view.blocked == ("error.upgrade_renewal_unpaid", {"number": "F-A-1"})
    assert view.quotes == []
    for action in (plan_changes.quote, plan_changes.confirm):
        with pytest.raises(Conflict) as exc:
            action(a.actor, a.service_id, estandar, "monthly", at=AT)
        assert exc.value.key == "error.upgrade_renewal_unpaid"
    unblock(personas, a)
    view = plan_changes.upgrades_view(a.actor, a.service_id, at=AT)
    assert view.blocked is None and [(q.to_product, q.to_cycle) for q in view.quotes] == [
        ("Estándar", "monthly"),
        ("Estándar", "annually"),
    ]


def test_other_blocks_not_active_period_over_unverified_and_bad_targets(fake, personas):
    basico, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    with pytest.raises(Conflict) as exc:
        plan_changes.quote(a.actor, a.service_id, estandar, "monthly", at=DUE)
    assert exc.value.key == "error.upgrade_renew_first"
    for bad in ((basico, "monthly"), (estandar, "biennially"), ("x", "monthly")):
        with pytest.raises(ValidationError) as exc:
            plan_changes.quote(a.actor, a.service_id, *bad, at=AT)
        assert exc.value.key == "error.upgrade_target_invalid"
    settings.put(personas.owner.actor, "accounts.require_verified_email", True)
    with unit_of_work() as s:
        s.get(User, a.actor.user_id).verified_at = None
    with pytest.raises(ValidationError) as exc:
        plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    assert exc.value.key == "error.email_not_verified"
    assert plan_changes.upgrades_view(a.actor, a.service_id, at=AT).blocked[0] == (
        "error.email_not_verified"
    )
    with unit_of_work() as s:
        s.get(Service, a.service_id).status = "suspended"
    view = plan_changes.upgrades_view(personas.owner.actor, a.service_id, at=AT)
    assert view.blocked == ("error.upgrade_not_active", {})


def test_client_b_cannot_quote_confirm_or_cancel_on_client_a_service(fake, personas, client_b_as):
    _, estandar = catalogue()
    a, b = personas.client_a, client_b_as
    unblock(personas, a)
    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    for action in (
        lambda: plan_changes.quote(b.actor, a.service_id, estandar, "monthly", at=AT),
        lambda: plan_changes.confirm(b.actor, a.service_id, estandar, "monthly", at=AT),
        lambda: plan_changes.upgrades_view(b.actor, a.service_id, at=AT),
        lambda: plan_changes.cancel(b.actor, made.plan_change_id),
        lambda: plan_changes.list_changes(b.actor, service_id="nope"),
    ):
        with pytest.raises(NotFound):
            action()
    assert plan_changes.list_changes(b.actor) == []
    assert plan_changes.list_changes(b.actor, service_id=a.service_id) == []
    assert plan_changes.upgrades_view(b.actor, at=AT).changes == []
    assert [c.id for c in plan_changes.list_changes(a.actor)] == [made.plan_change_id]
    assert [c.domain for c in plan_changes.upgrades_view(b.actor).services] == ["cliente-b.ec"]
    tickets_only = Actor(user_id=999, role="staff", permissions=frozenset({"tickets"}))
    with pytest.raises(Forbidden):
        plan_changes.quote(tickets_only, a.service_id, estandar, "monthly", at=AT)


# ---------------------------------------------------------------- validity and expiry
def test_quote_validity_is_seven_days_or_the_day_before_the_due_date(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    early = plan_changes.quote(a.actor, a.service_id, estandar, "monthly", at=date(2026, 11, 10))
    late = plan_changes.quote(a.actor, a.service_id, estandar, "monthly", at=date(2026, 12, 1))
    assert early.valid_until == date(2026, 11, 17)
    assert late.valid_until == date(2026, 12, 4)


def test_expired_quotes_are_cancelled_with_their_invoice_once(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    valid_until = AT + timedelta(days=7)
    assert plan_changes.expire_quotes(valid_until) == 0
    assert plan_changes.expire_quotes(valid_until + timedelta(days=1)) == 1
    assert plan_changes.expire_quotes(valid_until + timedelta(days=2)) == 0
    assert change(made.plan_change_id).status == "expired"
    assert invoice(made.invoice_id).status == "cancelled"
    with pytest.raises(Conflict):
        billing.record_payment(personas.owner.actor, [made.invoice_id], "5.75")
    # Another change may be asked for now (a new day, a new line key).
    again = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=valid_until)
    assert again.plan_change_id != made.plan_change_id


def test_a_change_whose_invoice_was_cancelled_ends_and_a_client_can_withdraw(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    made = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    billing.cancel_invoice(personas.owner.actor, made.invoice_id)
    assert plan_changes.expire_quotes(AT) == 1
    assert change(made.plan_change_id).status == "cancelled"
    with pytest.raises(Conflict) as exc:  # same day: the line key is taken
        plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    assert exc.value.key == "error.upgrade_again_tomorrow"
    tomorrow = AT + timedelta(days=1)
    second = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=tomorrow)
    plan_changes.cancel(a.actor, second.plan_change_id)
    assert change(second.plan_change_id).status == "cancelled"
    assert invoice(second.invoice_id).status == "cancelled"
    with pytest.raises(Conflict):
        plan_changes.cancel(a.actor, second.plan_change_id)


# ---------------------------------------------------------------- downgrades and settings
def downgrade_setup(personas, fake) -> tuple[int, int]:
    basico, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    on_plan(a.service_id, estandar, "20.00", "estandar", fake)
    return basico, estandar


def test_downgrade_without_credit_is_applied_at_once_and_refunds_nothing(fake, personas):
    basico, _ = downgrade_setup(personas, fake)
    a = personas.client_a
    q = plan_changes.quote(a.actor, a.service_id, basico, "monthly", at=AT)
    assert q.downgrade and q.net == Decimal("-5.00") and q.payable == Decimal("0.00")
    assert q.balance_credit == Decimal("0.00") and q.total == Decimal("0.00")
    assert any("no se reembolsa" in w for w in plan_changes.explain(q, "es"))
    made = plan_changes.confirm(a.actor, a.service_id, basico, "monthly", at=AT)
    assert made.status == "applied"  # a 0.00 invoice is paid at once, applied after commit
    assert invoice(made.invoice_id).status == "paid"
    assert len(changepackages(fake)) == 1 and fake.accounts["clienta"]["plan"] == "basico"
    assert service(a.service_id).recurring_amount == Decimal("10.00")
    assert credit(a.actor.client_id) == Decimal("0.00")


def test_downgrade_credit_follows_the_setting_and_the_product_override(fake, personas):
    basico, estandar = downgrade_setup(personas, fake)
    a, owner = personas.client_a, personas.owner.actor
    with unit_of_work() as s:
        s.get(Product, estandar).credit_on_downgrade = True  # the plan left says yes
    q = plan_changes.quote(a.actor, a.service_id, basico, "monthly", at=AT)
    assert q.balance_credit == Decimal("5.00")  # although the setting is off
    settings.put(owner, "credit_on_downgrade", True)
    with unit_of_work() as s:
        s.get(Product, estandar).credit_on_downgrade = False  # the plan left says no
        s.get(Product, basico).credit_on_downgrade = True  # the target's flag does not count
    q = plan_changes.quote(a.actor, a.service_id, basico, "monthly", at=AT)
    assert q.balance_credit == Decimal("0.00")
    with unit_of_work() as s:
        s.get(Product, estandar).credit_on_downgrade = None  # back to the setting: on
    q = plan_changes.quote(a.actor, a.service_id, basico, "monthly", at=AT)
    assert q.balance_credit == Decimal("5.00")
    made = plan_changes.confirm(a.actor, a.service_id, basico, "monthly", at=AT)
    assert made.status == "applied" and credit(a.actor.client_id) == Decimal("5.00")
    with read_session() as s:
        [entry] = s.scalars(select(CreditEntry).where(CreditEntry.kind == "downgrade")).all()
    assert entry.amount == Decimal("5.00") and entry.invoice_id == made.invoice_id
    assert plan_changes.apply_pending(AT) == 0 and credit(a.actor.client_id) == Decimal("5.00")


def test_downgrade_policy_at_renewal_waits_for_the_due_date(fake, personas):
    basico, estandar = downgrade_setup(personas, fake)
    a = personas.client_a
    settings.put(personas.owner.actor, "credit_on_downgrade", True)
    settings.put(personas.owner.actor, "plan_change.downgrade_policy", "at_renewal")
    q = plan_changes.quote(a.actor, a.service_id, basico, "monthly", at=AT)
    assert q.at_renewal and q.apply_on == DUE and q.total == Decimal("0.00")
    assert q.balance_credit == Decimal("0.00")
    made = plan_changes.confirm(a.actor, a.service_id, basico, "monthly", at=AT)
    assert made.invoice_id is None and made.status == "scheduled"
    assert plan_changes.scheduled_terms(a.service_id, DUE) == (Decimal("10.00"), "monthly", basico)
    assert plan_changes.apply_pending(DUE - timedelta(days=1)) == 0
    assert changepackages(fake) == [] and service(a.service_id).product_id == estandar
    assert plan_changes.expire_quotes(DUE + timedelta(days=30)) == 0  # not a quote to expire
    assert plan_changes.apply_pending(DUE) == 1 and plan_changes.apply_pending(DUE) == 0
    svc = service(a.service_id)
    assert svc.product_id == basico and svc.recurring_amount == Decimal("10.00")
    assert svc.next_due_date == DUE and len(changepackages(fake)) == 1
    assert credit(a.actor.client_id) == Decimal("0.00")
    assert plan_changes.scheduled_terms(a.service_id, DUE) is None


def test_a_scheduled_downgrade_of_a_service_that_ended_is_cancelled(fake, personas):
    basico, _ = downgrade_setup(personas, fake)
    a = personas.client_a
    settings.put(personas.owner.actor, "plan_change.downgrade_policy", "at_renewal")
    made = plan_changes.confirm(a.actor, a.service_id, basico, "monthly", at=AT)
    assert plan_changes.expire_quotes(AT) == 0  # the service is live: it waits
    with unit_of_work() as s:
        s.get(Service, a.service_id).status = "terminated"
    assert plan_changes.expire_quotes(AT) == 1 and plan_changes.expire_quotes(AT) == 0
    assert change(made.plan_change_id).status == "cancelled"
    assert plan_changes.apply_pending(DUE) == 0 and changepackages(fake) == []


def test_cycle_change_mode_setting_switch_now_or_keep_due_date(fake, personas):
    _, estandar = catalogue()
    a = personas.client_a
    unblock(personas, a)
    now_q = plan_changes.quote(a.actor, a.service_id, estandar, "annually", at=AT)
    assert now_q.mode == "switch_now" and now_q.charge == Decimal("200.00")
    assert now_q.net == Decimal("195.00") and now_q.next_due == date(2027, 11, 20)
    settings.put(personas.owner.actor, "cycle_change_mode", "keep_due_date")
    keep = plan_changes.quote(a.actor, a.service_id, estandar, "annually", at=AT)
    expected = quote_change(
        old_price="10.00",
        old_cycle="monthly",
        new_price="200.00",
        new_cycle="annually",
        next_due=DUE,
        anchor_day=5,
        change_date=AT,
        mode="keep_due_date",
    )
    assert keep.exact == expected and keep.next_due == DUE and not keep.moves_due_date
    settings.put(personas.owner.actor, "cycle_change_mode", "switch_now")
    made = plan_changes.confirm(a.actor, a.service_id, estandar, "annually", at=AT)
    pay(personas.owner.actor, made.invoice_id)
    svc = service(a.service_id)
    assert svc.billing_cycle == "annually" and svc.recurring_amount == Decimal("200.00")
    assert svc.next_due_date == date(2027, 11, 20) and svc.anchor_day == 20


def test_owner_view_lists_open_changes_of_every_client(fake, personas):
    _, estandar = catalogue()
    a, b, owner = personas.client_a, personas.client_b, personas.owner.actor
    unblock(personas, a)
    unblock(personas, b)
    plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    plan_changes.confirm(owner, b.service_id, estandar, "monthly", at=AT)
    view = plan_changes.upgrades_view(owner, search="cliente b", at=AT)
    assert [c.domain for c in view.services] == ["cliente-b.ec"]
    assert sorted(c.domain for c in view.changes) == ["cliente-a.ec", "cliente-b.ec"]
    assert view.offers == [] and view.staff_view
    assert [c.domain for c in plan_changes.upgrades_view(a.actor, at=AT).changes] == [
        "cliente-a.ec"
    ]


def test_the_invoice_line_names_the_plans_in_the_clients_language(fake, personas):
    """Issue 16 item 18: an English reader's invoice line named the plans in Spanish."""
    basico, estandar = catalogue()
    with unit_of_work() as s:
        s.get(Product, basico).name_en = "Basic"
        s.get(Product, estandar).name_en = "Standard"
    a, b = personas.client_a, personas.client_b
    unblock(personas, a)
    unblock(personas, b)
    assert plan_changes.quote(b.actor, b.service_id, estandar, "monthly", at=AT).to_product == (
        "Standard"
    )
    made_b = plan_changes.confirm(b.actor, b.service_id, estandar, "monthly", at=AT)
    made_a = plan_changes.confirm(a.actor, a.service_id, estandar, "monthly", at=AT)
    with read_session() as s:
        line = {
            i.invoice_id: i.description
            for i in s.scalars(select(InvoiceItem).where(InvoiceItem.kind == "upgrade"))
        }
    assert "Basic" in line[made_b.invoice_id] and "Standard" in line[made_b.invoice_id]
    assert "Básico" in line[made_a.invoice_id] and "Estándar" in line[made_a.invoice_id]
