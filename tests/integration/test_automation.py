"""The daily run against a real database (each engine) and the faithful fake panel:
renewal on payment, the dunning timeline, the lock, panel failures, holds, approvals,
the owner's preview and ledger, and every automation setting changing what the run does.

The personas' two services are monthly (anchor 5, 10.00 + IVA), each with an unpaid renewal
invoice issued 2026-11-26 for the period starting 2026-12-05.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core import automation, billing, panel
from core.access import SYSTEM
from core.automation import on_payment as automation_payment
from core.automation import oversight as automation_owner
from core.automation import policy as automation_settings
from core.models import (
    AutomationAction,
    AutomationRun,
    Invoice,
    InvoiceItem,
    MailOutbox,
    Service,
)
from core.platform import settings
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, Forbidden, NotFound, ValidationError
from core.services import cancellations
from core.services import provisioning as services_provisioning
from sandbox import demo_accounts as services_demo
from tests.conftest import empty_tables
from tests.panel_fixtures import calls, fake, ready, whm  # noqa: F401 - fixtures
from tests.personas import build_personas

D = date.fromisoformat
DUE = D("2026-12-05")


def svc(service_id: int) -> Service:
    with read_session() as s:
        return s.get(Service, service_id)


def inv(invoice_id: int) -> Invoice:
    with read_session() as s:
        return s.get(Invoice, invoice_id)


def pay(invoice_id: int, on: date) -> None:
    billing.record_payment(SYSTEM, [invoice_id], inv(invoice_id).balance, received_on=on)


def actions() -> list[tuple[date, str, str]]:
    with read_session() as s:
        return [
            (run_day, key, status)
            for run_day, key, status in s.execute(
                select(AutomationRun.run_date, AutomationAction.key, AutomationAction.status)
                .join(AutomationRun, AutomationRun.id == AutomationAction.run_id)
                .order_by(AutomationAction.id)
            )
        ]


def templates() -> list[tuple[str, str]]:
    with read_session() as s:
        return [
            (m.template, m.to_addr) for m in s.scalars(select(MailOutbox).order_by(MailOutbox.id))
        ]


def sizes() -> tuple[int, ...]:
    with read_session() as s:
        return tuple(
            s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Invoice, InvoiceItem, AutomationAction, AutomationRun, MailOutbox)
        )


def days(first: str, last: str) -> list[date]:
    start, end = D(first), D(last)
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


# ------------------------------------------------------------ renewal on payment
def test_paying_a_renewal_moves_the_due_date_once_from_the_old_due_date(fake, personas):
    a = personas.client_a
    pay(a.invoice_id, D("2026-12-20"))  # paid late: the period still starts on the 5th
    assert svc(a.service_id).next_due_date == D("2027-01-05")
    with pytest.raises(Conflict):  # the same invoice cannot be paid twice
        billing.record_payment(SYSTEM, [a.invoice_id], "11.50")
    assert svc(a.service_id).next_due_date == D("2027-01-05")
    # The next renewal is invoiced 14 days before the new due date, once.
    assert automation.run(D("2026-12-21")).counts["invoices_created"] == 0
    first = automation.run(D("2026-12-22"))
    assert first.counts["invoices_created"] == 1 and first.counts["failures"] == 0
    assert automation.run(D("2026-12-22")).counts["invoices_created"] == 0
    with read_session() as s:
        item = s.scalars(
            select(InvoiceItem).where(
                InvoiceItem.service_id == a.service_id,
                InvoiceItem.period_start == D("2027-01-05"),
            )
        ).one()
        invoice = s.get(Invoice, item.invoice_id)
        assert (invoice.issued_on, invoice.due_on, invoice.total) == (
            D("2026-12-22"),
            D("2027-01-05"),
            Decimal("11.50"),
        )
        assert item.period_end == D("2027-02-04") and "Básico" in item.description
    assert ("renewal_invoice", "a@test.ec") in templates()


def test_month_end_anchor_never_drifts_and_credit_pays_the_renewal(fake, personas):
    owner, a = personas.owner.actor, personas.client_a
    billing.cancel_invoice(owner, a.invoice_id, reason="fuera de la prueba")
    with unit_of_work() as s:
        row = s.get(Service, a.service_id)
        row.anchor_day, row.next_due_date = 31, D("2027-01-31")
    billing.add_credit(owner, a.actor.client_id, "100.00", "prepago")
    due = D("2027-01-31")
    seen = []
    for _ in range(4):  # each renewal is paid by credit the moment it is made
        automation.run(due - timedelta(days=14))
        seen.append(svc(a.service_id).next_due_date)
        due = seen[-1]
    assert seen == [D("2027-02-28"), D("2027-03-31"), D("2027-04-30"), D("2027-05-31")]


def test_a_renewal_paid_without_the_hook_is_caught_up_by_the_run(fake, personas, monkeypatch):
    from core.billing import hooks as billing_hooks

    others = tuple(
        h for h in billing_hooks.PAID_HOOKS if h is not automation_payment.renew_on_payment
    )
    monkeypatch.setattr(billing_hooks, "PAID_HOOKS", others)
    a = personas.client_a
    pay(a.invoice_id, D("2026-11-27"))  # the renewal hook did not run (patched out of the list)
    assert svc(a.service_id).next_due_date == DUE
    automation.run(D("2026-11-28"))
    assert svc(a.service_id).next_due_date == D("2027-01-05")
    automation.run(D("2026-11-28"))
    assert svc(a.service_id).next_due_date == D("2027-01-05")


# ----------------------------------------------------------------- the dunning path
def test_dunning_timeline_matches_billing_rules_vector_14(fake, personas):
    """Unpaid reminder 5 days before; overdue 1/5/off; late fee 6; suspend 5; terminate 30."""
    for key, value in (
        ("unpaid_reminder_days", 5),
        ("overdue_reminder_1_days", 1),
        ("overdue_reminder_2_days", 5),
        ("overdue_reminder_3_days", 0),
        ("late_fee_days", 6),
        ("terminate_enabled", True),
    ):
        settings.put(personas.owner.actor, key, value)
    b = personas.client_b
    pay(personas.client_a.invoice_id, D("2026-11-27"))  # client A pays: only B is late
    for day in days("2026-11-27", "2027-01-10"):
        automation.run(day)
    with read_session() as sess:
        rows = sess.execute(
            select(AutomationRun.run_date, AutomationAction.key)
            .join(AutomationRun, AutomationRun.id == AutomationAction.run_id)
            .where(
                (AutomationAction.service_id == b.service_id)
                | (AutomationAction.invoice_id == b.invoice_id)
            )
            .order_by(AutomationAction.id)
        ).all()
    timeline = [
        (day.isoformat(), ":".join(key.split(":")[:2]) if "reminder" in key else key.split(":")[0])
        for day, key in rows
    ]
    assert timeline == [
        ("2026-11-30", "reminder:unpaid"),
        ("2026-12-06", "reminder:first"),
        ("2026-12-10", "reminder:second"),
        ("2026-12-10", "suspend"),
        ("2026-12-11", "late_fee"),
        ("2027-01-04", "terminate"),
    ]
    assert svc(b.service_id).status == "terminated" and "clientb" not in fake.accounts
    assert inv(b.invoice_id).status == "cancelled"  # termination cancels what is owed
    mails = [t for t, to in templates() if to == "b@test.ec"]
    assert mails == [
        "payment_reminder",
        "payment_reminder",
        "payment_reminder",
        "service_suspended",
        "late_fee_added",
        "service_terminated",
    ]


def test_a_late_fee_is_added_once_and_taxed(fake, personas):
    a = personas.client_a
    assert automation.run(D("2026-12-10")).counts["late_fees_added"] == 2
    invoice = inv(a.invoice_id)
    assert invoice.late_fee_applied and invoice.total == Decimal("12.82")  # (10 + 1.15) × 1.15
    for day in days("2026-12-10", "2026-12-20"):
        assert automation.run(day).counts["late_fees_added"] == 0
    with read_session() as s:
        fees = s.scalars(select(InvoiceItem).where(InvoiceItem.kind == "late_fee")).all()
    assert len(fees) == 2 and {f.tax_rate for f in fees} == {Decimal("15")}


def test_no_late_fee_on_a_new_orders_invoice(fake, personas):
    a = personas.client_a
    with unit_of_work() as s:
        s.get(Service, a.service_id).status = "pending"  # an order not paid yet
    assert automation.run(D("2026-12-10")).counts["late_fees_added"] == 1  # B's only
    assert not inv(a.invoice_id).late_fee_applied


def test_unsuspension_on_payment_only_for_overdue_on_payment(fake, personas):
    a, b, owner = personas.client_a, personas.client_b, personas.owner.actor
    automation.run(D("2026-12-10"))
    assert svc(a.service_id).status == "suspended" and fake.accounts["clienta"]["suspended"]
    pay(a.invoice_id, D("2026-12-11"))  # reactivated right after the payment commits
    assert svc(a.service_id).status == "active" and not fake.accounts["clienta"]["suspended"]
    assert ("service_unsuspended", "a@test.ec") in templates()
    # Suspended by staff for another reason: paying does not reactivate it, nor does the run.
    services_provisioning.unsuspend(owner, b.service_id)
    services_provisioning.suspend(owner, b.service_id, "Abuso de recursos")
    pay(b.invoice_id, D("2026-12-11"))
    automation.run(D("2026-12-12"))
    assert svc(b.service_id).status == "suspended"


def test_the_run_reactivates_what_a_failed_panel_left_suspended(fake, personas):
    a = personas.client_a
    automation.run(D("2026-12-10"))
    fake.inject("unsuspendacct", "reject", times=1)
    pay(a.invoice_id, D("2026-12-11"))  # the payment stands; the panel refused
    assert svc(a.service_id).status == "suspended" and inv(a.invoice_id).status == "paid"
    done = automation.run(D("2026-12-11"))
    assert done.counts["unsuspended"] == 1 and svc(a.service_id).status == "active"


# -------------------------------------------------------------- panel failures
def test_a_panel_failure_on_one_service_is_recorded_and_retried(fake, personas):
    a, b = personas.client_a, personas.client_b
    fake.inject("suspendacct", "reject", times=1, reason="Disk quota wedge (XID ab12cd)")
    first = automation.run(D("2026-12-10"))
    assert first.counts["suspended"] == 1 and first.counts["failures"] == 1
    assert svc(a.service_id).status == "active" and svc(a.service_id).panel_error
    assert svc(b.service_id).status == "suspended"  # the other one went ahead
    [failed] = automation_owner.actions(personas.owner.actor, status="failed")
    assert failed.key.startswith(f"suspend:{a.service_id}:2026-12-05#failed:")
    assert failed.detail["error"] == "error.panel_rejected"
    assert "Disk quota wedge" in failed.detail["params"]["reason"]
    again = automation.run(D("2026-12-11"))
    assert again.counts["suspended"] == 1 and again.counts["failures"] == 0
    assert svc(a.service_id).status == "suspended" and fake.accounts["clienta"]["suspended"]
    assert automation.run(D("2026-12-11")).counts == dict.fromkeys(automation.COUNTS, 0)
    assert len(calls(fake, "suspendacct")) == 3


# ------------------------------------------------------------------------ the lock
def test_two_runs_started_together_one_acts_the_other_reports_it(fake, personas, monkeypatch):
    second: dict[str, Any] = {}
    inside, finished = threading.Event(), threading.Event()
    first_step = automation.STEPS[0]

    def slow_select(s, on, cfg):
        inside.set()
        finished.wait(10)  # hold the lock until the other run has come and gone
        return first_step.select(s, on, cfg)

    monkeypatch.setattr(
        automation, "STEPS", (replace(first_step, select=slow_select),) + automation.STEPS[1:]
    )
    results: list[automation.RunResult] = []
    worker = threading.Thread(target=lambda: results.append(automation.run(D("2026-12-10"))))
    worker.start()
    assert inside.wait(10)
    second["result"] = automation.run(D("2026-12-10"))
    finished.set()
    worker.join(20)
    assert second["result"].locked and second["result"].message == automation.IN_PROGRESS
    assert set(second["result"].counts.values()) == {0}
    [acted] = results
    assert acted.counts["suspended"] == 2 and acted.counts["late_fees_added"] == 2
    # The lock is free again, and a third run has nothing left to do.
    assert set(automation.run(D("2026-12-10")).counts.values()) == {0}


def test_runs_started_at_the_same_instant_never_duplicate(fake, personas):
    barrier = threading.Barrier(4)
    results: list[automation.RunResult] = []

    def go() -> None:
        barrier.wait()
        results.append(automation.run(D("2026-12-10")))

    workers = [threading.Thread(target=go) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert len(results) == 4
    total = {k: sum(r.counts[k] for r in results) for k in automation.COUNTS}
    assert total["suspended"] == 2 and total["late_fees_added"] == 2
    assert total["reminders_sent"] == 2 and total["failures"] == 0
    assert sum(1 for r in results if not r.locked and any(r.counts.values())) == 1
    with read_session() as s:
        keys = s.scalars(select(AutomationAction.key)).all()
    assert len(keys) == len(set(keys)) == 6


def test_a_crashed_runs_lease_expires(fake, personas, monkeypatch):
    from core import automation as auto

    lease = auto._acquire(D("2026-12-10"), auto.now())  # a run that never finished
    assert lease is not None
    assert automation.run(D("2026-12-10")).locked
    later = auto._seconds(auto.now()) + int(auto.LEASE.total_seconds()) + 5
    monkeypatch.setattr(auto, "_seconds", lambda at: later)
    result = automation.run(D("2026-12-10"))
    assert not result.locked and result.counts["suspended"] == 2
    statuses = [r.status for r in automation_owner.runs(personas.owner.actor)]
    assert statuses == ["done", "aborted"]


# ------------------------------------------------------------- holds and approval
def test_a_service_on_hold_is_not_suspended_or_terminated_until_the_date(fake, personas):
    owner, a = personas.owner.actor, personas.client_a
    settings.put(owner, "terminate_enabled", True)
    with pytest.raises(ValidationError):
        automation_owner.hold_service(owner, a.service_id, D("2026-12-01"), today=D("2026-12-02"))
    for who in (personas.staff.actor, a.actor):
        with pytest.raises(Forbidden):
            automation_owner.hold_service(who, a.service_id, D("2026-12-20"), today=D("2026-12-02"))
    automation_owner.hold_service(owner, a.service_id, D("2027-01-10"), today=D("2026-12-02"))
    held = automation_owner.held_services(owner, today=D("2026-12-02"))
    assert [h.service_id for h in held] == [a.service_id]
    for day in days("2026-12-06", "2027-01-10"):
        automation.run(day)
    assert svc(a.service_id).status == "active"  # B: suspended, then terminated on 01-04
    assert svc(personas.client_b.service_id).status == "terminated"
    automation.run(D("2027-01-11"))
    assert svc(a.service_id).status == "terminated"  # hold over: 37 days overdue


def test_terminations_can_wait_for_the_owners_approval(fake, personas):
    owner, a = personas.owner.actor, personas.client_a
    settings.put(owner, "terminate_enabled", True)
    settings.put(owner, "terminate_requires_approval", True)
    result = automation.run(D("2027-01-04"))
    assert result.counts["terminated"] == 0 and result.awaiting == 2
    assert automation.run(D("2027-01-05")).awaiting == 0  # listed once, not again
    waiting = automation_owner.awaiting_terminations(owner)
    assert {w.service_id for w in waiting} == {a.service_id, personas.client_b.service_id}
    assert svc(a.service_id).status == "suspended" and "clienta" in fake.accounts
    mine = next(w for w in waiting if w.service_id == a.service_id)
    with pytest.raises(Forbidden):
        automation_owner.approve_termination(personas.staff.actor, mine.id, today=D("2027-01-05"))
    with pytest.raises(NotFound):
        automation_owner.approve_termination(owner, 999_999, today=D("2027-01-05"))
    automation_owner.approve_termination(owner, mine.id, today=D("2027-01-05"))
    assert svc(a.service_id).status == "terminated" and "clienta" not in fake.accounts
    assert inv(a.invoice_id).status == "cancelled"
    with pytest.raises(Conflict):
        automation_owner.approve_termination(owner, mine.id, today=D("2027-01-05"))
    assert [w.service_id for w in automation_owner.awaiting_terminations(owner)] == [
        personas.client_b.service_id
    ]
    # B pays before the owner gets to it: the waiting termination no longer stands.
    pay(personas.client_b.invoice_id, D("2027-01-06"))
    assert automation_owner.awaiting_terminations(owner) == []
    theirs = next(w for w in waiting if w.service_id == personas.client_b.service_id)
    with pytest.raises(Conflict):
        automation_owner.approve_termination(owner, theirs.id, today=D("2027-01-06"))
    assert svc(personas.client_b.service_id).status == "active"


# ---------------------------------------------------------- preview and ledger
def test_the_preview_lists_what_a_run_would_do_and_writes_nothing(fake, personas):
    owner = personas.owner.actor
    before = sizes()
    rows = automation_owner.preview(owner, D("2026-12-10"))
    assert {(r.step, r.kind) for r in rows} == {
        ("reminder", "first"),
        ("late_fee", ""),
        ("suspend", ""),
    }
    assert {r.target for r in rows if r.step == "suspend"} == {"cliente-a.ec", "cliente-b.ec"}
    assert [r.amount for r in rows if r.step == "late_fee"] == [Decimal("1.15")] * 2
    assert {
        r.client_name for r in automation_owner.preview(owner, D("2026-12-10"), search="b.ec")
    } == {"Cliente B"}
    assert automation_owner.preview(owner, D("2026-12-10"), search="nadie") == []
    dry = automation.run(D("2026-12-10"), dry_run=True)
    assert dry.counts["suspended"] == 2 and dry.counts["late_fees_added"] == 2
    assert sizes() == before  # not even a ledger row
    for who in (personas.staff.actor, personas.client_a.actor):
        with pytest.raises(Forbidden):
            automation_owner.preview(who, D("2026-12-10"))
        with pytest.raises(Forbidden):
            automation_owner.runs(who)
        with pytest.raises(Forbidden):
            automation_owner.owner_view(who, today=D("2026-12-10"))


def test_the_ledger_lists_runs_and_their_actions(fake, personas):
    owner = personas.owner.actor
    automation.run(D("2026-11-28"))
    automation.run(D("2026-12-10"))
    runs = automation_owner.runs(owner)
    assert [r.run_date for r in runs] == [D("2026-12-10"), D("2026-11-28")]
    assert runs[0].counts["suspended"] == 2 and runs[0].status == "done"
    found = automation_owner.actions(owner, run_id=runs[0].id)
    assert {a.step for a in found} == {"reminder", "late_fee", "suspend"}
    assert {a.domain for a in found if a.step == "suspend"} == {"cliente-a.ec", "cliente-b.ec"}
    assert {a.invoice_number for a in found if a.step == "late_fee"} == {"F-A-1", "F-B-1"}
    assert {a.client_name for a in automation_owner.actions(owner, search="F-B-1")} == {"Cliente B"}
    view = automation_owner.owner_view(owner, today=D("2026-12-10"), preview_on=D("2026-12-12"))
    assert view.runs == runs and view.settings["suspend_days"] == 5
    assert {p.step for p in view.preview} == {"reminder"}


# --------------------------------------------------------------------- settings
def test_settings_are_validated_and_saved_by_the_owner_only(fake, personas):
    owner = personas.owner.actor
    with pytest.raises(Forbidden):
        automation_owner.save_settings(personas.staff.actor, {"suspend_days": 3})
    bad = [
        {"suspend_days": 0},
        {"suspend_days": "tres"},
        {"late_fee_amount": "1.234"},
        {"late_fee_amount": "-1"},
        {"late_fee_type": "daily"},
        {"late_fee_amount": "150"},  # a percentage over 100
        {"terminate_enabled": "yes"},
        {"overdue_reminder_1_days": 10, "overdue_reminder_2_days": 5},
        {"invoice_days_before.monthly": -1},
        {"no_such_setting": 1},
    ]
    for values in bad:
        with pytest.raises(ValidationError):
            automation_owner.save_settings(owner, values)
    assert automation_owner.current_settings(owner) == automation_settings.DEFAULTS
    saved = automation_owner.save_settings(
        owner,
        {"suspend_days": 3, "late_fee_amount": "2.50", "invoice_days_before.annually": 30},
    )
    assert saved.suspend_days == 3 and saved.late_fee_amount == Decimal("2.50")
    assert saved.days_before("annually") == 30 and saved.days_before("monthly") == 14
    cleared = automation_owner.save_settings(owner, {"invoice_days_before.annually": None})
    assert cleared.days_before("annually") == 14


@dataclass(frozen=True)
class Case:
    setting: str
    value: Any
    run_on: tuple[str, ...]
    by_default: tuple[str, str] | None  # (day, what) seen only with the default
    when_changed: tuple[str, str] | None  # (day, what) seen only with the new value
    base: tuple[tuple[str, Any], ...] = ()
    before: str | None = None  # what a client does before the runs
    after: str | None = None  # what a client does after them, observed in the state


CASES = [
    Case("unpaid_reminder_days", 3, ("2026-11-28", "2026-12-02"),
         ("2026-11-28", "reminder:unpaid"), ("2026-12-02", "reminder:unpaid")),
    Case("overdue_reminder_1_days", 3, ("2026-12-06", "2026-12-08"),
         ("2026-12-06", "reminder:first"), ("2026-12-08", "reminder:first")),
    Case("overdue_reminder_2_days", 10, ("2026-12-12", "2026-12-15"),
         ("2026-12-12", "reminder:second"), ("2026-12-15", "reminder:second")),
    Case("overdue_reminder_3_days", 20, ("2026-12-12", "2026-12-19", "2026-12-25"),
         ("2026-12-19", "reminder:third"), ("2026-12-25", "reminder:third")),
    Case("late_fee_days", 8, ("2026-12-10", "2026-12-13"),
         ("2026-12-10", "late_fee:1.15:12.82"), ("2026-12-13", "late_fee:1.15:12.82")),
    Case("late_fee_amount", "0", ("2026-12-10",), ("2026-12-10", "late_fee:1.15:12.82"), None),
    Case("late_fee_type", "fixed", ("2026-12-10",),
         ("2026-12-10", "late_fee:1.15:12.82"), ("2026-12-10", "late_fee:10.00:23.00")),
    Case("late_fee_minimum", "5.00", ("2026-12-10",),
         ("2026-12-10", "late_fee:1.15:12.82"), ("2026-12-10", "late_fee:5.00:17.25")),
    Case("tax_late_fee", False, ("2026-12-10",),
         ("2026-12-10", "late_fee:1.15:12.82"), ("2026-12-10", "late_fee:1.15:12.65")),
    Case("suspend_enabled", False, ("2026-12-10",), ("2026-12-10", "suspend"), None),
    Case("suspend_days", 8, ("2026-12-10", "2026-12-13"),
         ("2026-12-10", "suspend"), ("2026-12-13", "suspend")),
    Case("unsuspend_enabled", False, ("2026-12-10",),
         ("state", "active"), ("state", "suspended"), after="pay_a"),
    Case("terminate_enabled", True, ("2027-01-04",), None, ("2027-01-04", "terminate")),
    Case("terminate_days", 20, ("2026-12-25", "2027-01-04"),
         ("2027-01-04", "terminate"), ("2026-12-25", "terminate"),
         base=(("terminate_enabled", True),)),
    Case("terminate_requires_approval", True, ("2027-01-04",),
         ("2027-01-04", "terminate"), ("2027-01-04", "terminate?awaiting"),
         base=(("terminate_enabled", True),)),
    Case("auto_cancellation_requests", False, ("2026-11-27",),
         ("2026-11-27", "cancel"), None, before="cancel_now"),
    Case("cancel_invoice_on_cancellation", False, ("2026-11-27",),
         ("state", "cancelled"), ("state", "unpaid"), before="cancel_eop", after="invoice_a"),
    # Rule 8: the period of invoice A began on 12-05; cancelled on 12-10 it stays due.
    Case("void_begun_invoices_on_cancellation", True, ("2026-12-11",),
         ("state", "unpaid"), ("state", "cancelled"), before="cancel_begun", after="invoice_a"),
    Case("invoice_days_before", 10, ("2026-12-22", "2026-12-26"),
         ("2026-12-22", "renewal"), ("2026-12-26", "renewal"), before="pay_a"),
    Case("invoice_days_before.monthly", 20, ("2026-12-16", "2026-12-22"),
         ("2026-12-22", "renewal"), ("2026-12-16", "renewal"), before="pay_a"),
    Case("continuous_invoicing", True, ("2026-12-22",), None, ("2026-12-22", "renewal")),
    Case("reanchor_on_late_payment", True, ("2026-12-10",),
         ("state", "2027-01-05"), ("state", "2027-01-20"), after="pay_a_late"),
]  # fmt: skip


def _before(what: str | None, personas) -> None:
    a = personas.client_a
    if what == "pay_a":
        pay(a.invoice_id, D("2026-11-27"))
    elif what in ("cancel_now", "cancel_eop"):
        kind = "immediate" if what == "cancel_now" else "end_of_billing_period"
        cancellations.request(
            a.actor, a.service_id, kind, "Cierro la empresa", today=D("2026-11-27")
        )
    elif what == "cancel_begun":
        cancellations.request(
            a.actor, a.service_id, "immediate", "Cierro la empresa", today=D("2026-12-10")
        )


def _after(what: str | None, personas) -> str | None:
    a = personas.client_a
    if what == "pay_a":
        pay(a.invoice_id, D("2026-12-11"))
        automation.run(D("2026-12-12"))
        return svc(a.service_id).status
    if what == "pay_a_late":
        pay(a.invoice_id, D("2026-12-20"))
        return svc(a.service_id).next_due_date.isoformat()
    if what == "invoice_a":
        return inv(a.invoice_id).status
    return None


def _observe(case: Case, personas, value: Any) -> set[tuple[str, str]]:
    owner = personas.owner.actor
    for key, base in case.base:
        settings.put(owner, key, base)
    if value is not None:
        settings.put(owner, case.setting, value)
    _before(case.before, personas)
    for day in case.run_on:
        assert automation.run(D(day)).counts["failures"] == 0
    seen: set[tuple[str, str]] = set()
    with read_session() as s:
        rows = s.execute(
            select(AutomationRun.run_date, AutomationAction).join(
                AutomationRun, AutomationRun.id == AutomationAction.run_id
            )
        ).all()
    for run_day, action in rows:
        what = action.key.split(":")[0]
        if what == "reminder":
            what = ":".join(action.key.split(":")[:2])
        if what == "late_fee":
            detail = json.loads(action.detail)
            what = f"late_fee:{detail['fee']}:{detail['total']}"
        if action.status != "done":
            what = f"{what}?{action.status}"
        seen.add((run_day.isoformat(), what))
    state = _after(case.after, personas)
    if state is not None:
        seen.add(("state", state))
    return seen


@pytest.mark.parametrize("case", CASES, ids=[c.setting for c in CASES])
def test_each_setting_changes_what_the_run_does(case: Case, database, whm):
    def fresh():
        empty_tables(database)
        personas = build_personas()
        ready(whm)  # the personas' accounts on the fake panel, the server pointed at it
        return personas

    try:
        default = _observe(case, fresh(), None)
        changed = _observe(case, fresh(), case.value)
    finally:
        whm.clear_faults()
        panel.configure()
    assert default != changed
    if case.by_default:
        assert case.by_default in default and case.by_default not in changed
    if case.when_changed:
        assert case.when_changed in changed and case.when_changed not in default


def test_every_automation_setting_has_a_case():
    tested = {c.setting for c in CASES} | {"late_fee_type"}
    known = set(automation_settings.FIELD_NAMES) | {"invoice_days_before.monthly"}
    assert known <= tested, known - tested
    on_the_form = {name for _group, names in automation_settings.SETTINGS_FORM for name in names}
    assert on_the_form == set(automation_settings.FIELD_NAMES)


# ---------------------------------------------------------------------- the CLI
def _cli(*args: str) -> tuple[int, str, str]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "automation", "run", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    return done.returncode, done.stdout, done.stderr


def test_cli_json_dry_run_and_a_concurrent_run(fake, personas):
    code, out, _ = _cli("--date", "2026-12-10", "--dry-run", "--json")
    assert code == 0 and json.loads(out) == {
        **dict.fromkeys(automation.COUNTS, 0),
        "reminders_sent": 2,
        "late_fees_added": 2,
        "suspended": 2,
    }
    assert sizes()[2:4] == (0, 0)  # the dry run wrote no action and no run
    # A run slowed by the panel holds the lock; one started meanwhile exits 0 and says so.
    import subprocess
    import sys
    import time

    # The hang must outlast the start of a second Python process, which takes 1-4 s on a
    # loaded two-core machine (2 s made this test fail under load, never on a quiet one).
    fake.inject("suspendacct", "hang", times=1, seconds=8)
    first = subprocess.Popen(
        [sys.executable, "-m", "core.cli", "automation", "run", "--date", "2026-12-10", "--json"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    deadline = time.monotonic() + 30
    while not calls(fake, "suspendacct") and time.monotonic() < deadline:
        time.sleep(0.05)
    code, out, err = _cli("--date", "2026-12-10")
    assert code == 0 and automation.IN_PROGRESS in out and automation.IN_PROGRESS in err
    stdout, _ = first.communicate(timeout=60)
    counts = json.loads(stdout)
    assert list(counts) == list(automation.COUNTS)
    assert counts["suspended"] == 2 and counts["failures"] == 0
    code, out, _ = _cli("--date", "2026-12-10", "--json")
    assert code == 0 and set(json.loads(out).values()) == {0}
    assert _cli("--date", "10/12/2026")[0] == 2


def test_demo_book_run_twice_reports_zero_the_second_time(fake, database, capsys):
    """Issue 6, acceptance 7, on the demo book (its services on the fake panel)."""
    from core import cli
    from sandbox import demo

    empty_tables(database)
    today = D("2026-11-26")
    with unit_of_work() as s:
        demo.load(s, today, sandbox_token=fake.token)
    fake.reset()
    services_demo.ensure_demo_accounts(fake.port, fake.token)
    for day in ("2026-12-03", "2026-12-03"):
        assert cli.main(["automation", "run", "--date", day, "--json"]) == 0
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines()[-2:])
    assert sum(first.values()) > 0 and first["failures"] == 0
    assert second == dict.fromkeys(automation.COUNTS, 0)
