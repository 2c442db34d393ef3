"""Issue 6, acceptance 1: a year of daily runs over a book of 200 services.

The book mixes every cycle, month-end anchors, payers who pay early, on time, a little
late, late enough to be suspended, every other period late, never (with and without a
hold), prepaid clients whose credit pays each invoice as it is made, and both kinds of
cancellation. A small model written here from billing-rules §1 and §3 (not from the
implementation) predicts, day by day, the invoices, reminders, late fees, suspensions,
reactivations and terminations; each real run must report exactly the model's counts, a
second run of the same day must do nothing, and at the end every invoice, ledger action,
service state and mail must be the model's, none missing and none twice.

SQLite only, the faithful fake panel, mail queued (MAIL_DELIVERY=cron in tests).
"""

from __future__ import annotations

import calendar
import importlib.util
import random
import time
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from core import automation, billing, panel
from core.access import SYSTEM, Actor
from core.models import (
    AutomationAction,
    AutomationRun,
    Client,
    CreditEntry,
    Invoice,
    InvoiceItem,
    MailOutbox,
    Product,
    ProductPrice,
    Server,
    Service,
)
from core.platform import settings
from core.platform.db import read_session, unit_of_work
from core.services import cancellations
from tests.panel_fixtures import FAST, point_server, whm  # noqa: F401 - fixtures

# Plan changes are another area's (core.plan_changes); the book includes them when it exists.
PLAN_CHANGES = importlib.util.find_spec("core.plan_changes") is not None
START = date(2026, 1, 1)
DAYS = 365
MONTHS = {"monthly": 1, "quarterly": 3, "semiannually": 6, "annually": 12}
MONTHS |= {"biennially": 24, "triennially": 36}
# The settings of the run under test: defaults, plus termination on and a 30-day lead
# for annual invoices (a per-cycle override).
DAYS_BEFORE = dict.fromkeys(MONTHS, 14) | {"annually": 30}
UNPAID_BEFORE = 7
OVERDUE = (("first", 1), ("second", 7), ("third", 14))
FEE_DAYS, SUSPEND_DAYS, TERMINATE_DAYS = 5, 5, 30
FEE_PERCENT, IVA = Decimal("10"), Decimal("15")
CENT = Decimal("0.01")


def q(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def add_months(day: date, months: int, anchor: int) -> date:
    """billing-rules §1.3, written again: month arithmetic, anchor day clamped."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(anchor, last))


# ------------------------------------------------------------------------------- model
@dataclass
class MInvoice:
    service: int
    period: date
    issued: date
    due: date
    amount: Decimal
    status: str = "unpaid"
    fee: Decimal | None = None
    reminders: set[str] = field(default_factory=set)
    pay_on: date | None = None

    @property
    def total(self) -> Decimal:
        base = self.amount + (self.fee or Decimal("0"))
        return base + q(base * IVA / 100)


@dataclass
class MService:
    id: int
    client: int
    cycle: str
    anchor: int
    amount: Decimal
    behaviour: str
    next_due: date | None
    status: str = "active"
    hold: date | None = None
    request: tuple[str, date] | None = None  # (type, effective date) while pending
    request_day: date | None = None
    invoices: dict[date, MInvoice] = field(default_factory=dict)
    suspended_for: set[date] = field(default_factory=set)
    terminated_for: set[date] = field(default_factory=set)
    last_suspension: date | None = None
    changed_on: date | None = None

    def unpaid(self) -> list[MInvoice]:
        return [i for i in self.invoices.values() if i.status == "unpaid"]


class Model:
    def __init__(self, book: list[MService]) -> None:
        self.services = {s.id: s for s in book}
        self.mails: Tally[str] = Tally()
        self.events: set[tuple] = set()

    # --- what clients do during the day
    def pay(self, inv: MInvoice, day: date) -> None:
        svc = self.services[inv.service]
        inv.status = "paid"
        if svc.status in ("active", "suspended") and inv.period == svc.next_due:
            svc.next_due = add_months(svc.next_due, MONTHS[svc.cycle], svc.anchor)
        if svc.status == "suspended" and self._may_reactivate(svc, day):
            svc.status = "active"  # right after the payment commits
            self.mails["service_unsuspended"] += 1
            self.events.add((day, "unsuspend", svc.id))

    def _may_reactivate(self, svc: MService, day: date) -> bool:
        return not any(
            i.due < day or (svc.last_suspension is not None and i.due <= svc.last_suspension)
            for i in svc.unpaid()
        )

    def ask_cancel(self, svc: MService, kind: str, day: date) -> None:
        effective = day if kind == "immediate" else max(svc.next_due, day)
        svc.request, svc.request_day = (kind, effective), day
        for inv in svc.unpaid():
            inv.status = "cancelled"
        self.mails["cancellation_confirmed"] += 1

    # --- the daily run, in the order of billing-rules §3.5
    def run(self, day: date) -> dict[str, int]:
        counts = dict.fromkeys(automation.COUNTS, 0)
        book = [self.services[k] for k in sorted(self.services)]
        for svc in book:  # renewal invoices, N days before the due date
            due = svc.next_due
            if svc.status != "active" or svc.request or due is None or due in svc.invoices:
                continue
            if due - timedelta(days=DAYS_BEFORE[svc.cycle]) <= day:
                inv = MInvoice(svc.id, due, day, max(due, day), svc.amount)
                svc.invoices[due] = inv
                counts["invoices_created"] += 1
                self.mails["renewal_invoice"] += 1
                inv.pay_on = pay_day(svc, inv, len(svc.invoices) - 1)
                if svc.behaviour == "prepaid":  # the client's credit pays it at once
                    self.pay(inv, day)
        open_invoices = [(svc, inv) for svc in book if not svc.request for inv in svc.unpaid()]
        for svc, inv in sorted(open_invoices, key=lambda p: (p[1].issued, p[0].id)):
            kind = None
            if day < inv.due <= day + timedelta(
                days=UNPAID_BEFORE
            ) and inv.issued <= inv.due - timedelta(days=UNPAID_BEFORE):
                kind = "unpaid"
            for n, (name, after) in enumerate(OVERDUE):
                later = OVERDUE[n + 1][1] if n + 1 < len(OVERDUE) else None
                late = (day - inv.due).days
                if late >= after and (later is None or late < later):
                    kind = name
            if kind and kind not in inv.reminders:
                inv.reminders.add(kind)
                counts["reminders_sent"] += 1
                self.mails["payment_reminder"] += 1
                self.events.add((day, f"reminder:{kind}", svc.id, inv.period))
        for svc, inv in open_invoices:  # one late fee per invoice
            if inv.fee is None and (day - inv.due).days >= FEE_DAYS:
                inv.fee = q(inv.total * FEE_PERCENT / 100)
                counts["late_fees_added"] += 1
                self.mails["late_fee_added"] += 1
                self.events.add((day, "late_fee", svc.id, inv.period))
        for svc in book:  # suspension, unless on hold
            oldest = min((i.due for i in svc.unpaid()), default=None)
            if svc.status != "active" or svc.request or oldest is None:
                continue
            if svc.hold is not None and svc.hold >= day:
                continue
            if (day - oldest).days >= SUSPEND_DAYS and oldest not in svc.suspended_for:
                svc.status, svc.last_suspension = "suspended", oldest
                svc.suspended_for.add(oldest)
                counts["suspended"] += 1
                self.mails["service_suspended"] += 1
                self.events.add((day, "suspend", svc.id, oldest))
        for svc in book:  # termination, which cancels what is still owed
            oldest = min((i.due for i in svc.unpaid()), default=None)
            if svc.status not in ("active", "suspended") or svc.request or oldest is None:
                continue
            if svc.hold is not None and svc.hold >= day:
                continue
            if (day - oldest).days >= TERMINATE_DAYS and oldest not in svc.terminated_for:
                svc.status, svc.next_due = "terminated", None
                svc.terminated_for.add(oldest)
                for inv in svc.unpaid():
                    inv.status = "cancelled"
                counts["terminated"] += 1
                self.mails["service_terminated"] += 1
                self.events.add((day, "terminate", svc.id, oldest))
        for svc in book:  # reactivation the payment could not do (none expected here)
            if svc.status == "suspended" and self._may_reactivate(svc, day):
                svc.status = "active"
                counts["unsuspended"] += 1
        for svc in book:  # cancellation requests whose date has come
            if svc.request and svc.request[1] <= day:
                svc.status, svc.next_due, svc.request = "cancelled", None, None
                counts["cancellations_processed"] += 1
                self.mails["service_terminated"] += 1
                self.events.add((day, "cancel", svc.id))
        return counts


def pay_day(svc: MService, inv: MInvoice, n: int) -> date | None:
    """When this client pays the n-th invoice (None: never)."""
    early, late = inv.issued + timedelta(days=1), inv.due
    rule = {
        "early": early,
        "upgrade": early,
        "downgrade": early,
        "ontime": max(inv.issued, inv.due - timedelta(days=2)),
        "cancel_eop": max(inv.issued, inv.due - timedelta(days=2)),
        "cancel_now": early,
        "late3": late + timedelta(days=3),
        "late9": late + timedelta(days=9),
        "flaky": early if n % 2 == 0 else late + timedelta(days=12),
    }
    return rule.get(svc.behaviour)


# --------------------------------------------------------------------------- the book
BEHAVIOURS = (
    ["prepaid"] * 10
    + ["early"] * 44
    + ["upgrade"] * 4
    + ["downgrade"] * 2
    + ["ontime"] * 40
    + ["late3"] * 30
    + ["late9"] * 20
    + ["flaky"] * 15
    + ["never"] * 15
    + ["hold"] * 5
    + ["cancel_eop"] * 8
    + ["cancel_now"] * 7
)
CYCLES = ["monthly"] * 10 + ["quarterly"] * 3 + ["semiannually"] * 2 + ["annually"] * 3
CYCLES += ["biennially", "triennially"]


def build_book(port: int, token: str) -> list[MService]:
    rng = random.Random(6)
    with unit_of_work() as s:
        product = Product(name="Hosting", whm_package="basico")
        plus = Product(name="Hosting Plus", whm_package="estandar", sort_order=1)
        lite = Product(name="Hosting Lite", whm_package="default", sort_order=2)
        server = Server(name="panel", hostname="127.0.0.1", port=port, scheme="http")
        s.add_all([product, plus, lite, server])
        s.flush()
        product.upgrade_targets = [plus.id, lite.id]
        for item, monthly in ((product, "9.90"), (plus, "19.90"), (lite, "3.00")):
            s.add_all(
                ProductPrice(product_id=item.id, cycle=c, price=Decimal(monthly) * n)
                for c, n in MONTHS.items()
            )
        clients = [
            Client(
                name=f"Cliente {n:03d}",
                email=f"c{n:03d}@book.ec",
                language="es" if n % 3 else "en",
                credit_balance=Decimal("5000.00") if n < 10 else Decimal("0.00"),
            )
            for n in range(160)
        ]
        s.add_all(clients)
        s.flush()
        s.add_all(
            CreditEntry(client_id=c.id, amount=c.credit_balance, kind="manual")
            for c in clients[:10]
        )
        rows = []
        for i, behaviour in enumerate(BEHAVIOURS):
            cycle = CYCLES[i % len(CYCLES)]
            if behaviour == "cancel_eop":  # a renewal invoice comes after day 90
                cycle = ("monthly", "quarterly")[i % 2]
            first = START + timedelta(days=1 + (i * 7) % 60)
            anchor = first.day
            if i % 9 == 0:  # month-end anchors: the 31st, 30th or 29th
                anchor = (31, 30, 29)[i % 3]
                first = add_months(first, 0, anchor)
            client = clients[i if i < 10 else 10 + (i - 10) % 150]
            rows.append(
                Service(
                    client_id=client.id,
                    product_id=product.id,
                    server_id=server.id,
                    domain=f"svc{i:03d}.ec",
                    panel_username=f"svc{i:03d}",
                    status="active",
                    billing_cycle=cycle,
                    recurring_amount=Decimal(rng.choice(["4.50", "9.90", "12.34", "19.90"])),
                    anchor_day=anchor,
                    registration_date=add_months(first, -MONTHS[cycle], anchor),
                    next_due_date=first,
                    hold_until=first + timedelta(days=12) if behaviour == "hold" else None,
                )
            )
        s.add_all(rows)
        s.flush()
        book = [
            MService(
                id=r.id,
                client=r.client_id,
                cycle=r.billing_cycle,
                anchor=r.anchor_day,
                amount=r.recurring_amount,
                behaviour=BEHAVIOURS[n],
                next_due=r.next_due_date,
                hold=r.hold_until,
            )
            for n, r in enumerate(rows)
        ]
    point_server(port, token)
    return book


@pytest.fixture
def book(whm, sqlite_database):
    whm.reset()
    for i in range(len(BEHAVIOURS)):
        whm.add_account(f"svc{i:03d}", f"svc{i:03d}.ec", "basico")
    panel.configure(**FAST)
    settings.put(SYSTEM, "terminate_enabled", True)
    settings.put(SYSTEM, "invoice_days_before.annually", 30)
    yield build_book(whm.port, whm.token)
    whm.clear_faults()
    panel.configure()


# ---------------------------------------------------------------------------- harness
def pay_in_db(invoice_of: dict, svc: MService, inv: MInvoice, day: date) -> None:
    # The model's total: a payment that did not settle the real invoice would show.
    billing.record_payment(SYSTEM, [invoice_of[(svc.id, inv.period)]], inv.total, received_on=day)


def change_plan(svc: MService, day: date) -> None:
    """The client moves to Hosting Plus (upgrade) or Hosting Lite (downgrade) and pays the
    prorated invoice at once; from then on renewals bill the new plan's price."""
    from core import plan_changes

    name = "Hosting Plus" if svc.behaviour == "upgrade" else "Hosting Lite"
    with read_session() as s:
        target = s.scalars(select(Product).where(Product.name == name)).one()
        price = s.scalars(
            select(ProductPrice.price).where(
                ProductPrice.product_id == target.id, ProductPrice.cycle == svc.cycle
            )
        ).one()
    made = plan_changes.confirm(SYSTEM, svc.id, target.id, svc.cycle, at=day)
    if made.invoice_id is not None:
        with read_session() as s:
            invoice = s.get(Invoice, made.invoice_id)
            balance, status = invoice.balance, invoice.status
        if status == "unpaid" and balance > 0:
            billing.record_payment(SYSTEM, [made.invoice_id], balance, received_on=day)
    with read_session() as s:
        now_on = s.get(Service, svc.id)
        assert (now_on.product_id, now_on.recurring_amount) == (target.id, price), svc.id
    svc.amount, svc.changed_on = price, day


def snapshot() -> dict[int, tuple[str, date | None]]:
    with read_session() as s:
        return {
            sid: (status, due)
            for sid, status, due in s.execute(
                select(Service.id, Service.status, Service.next_due_date)
            )
        }


def new_invoices(index: dict[tuple[int, date], int], day: date) -> None:
    with read_session() as s:
        index.update(
            ((sid, start), inv)
            for sid, start, inv in s.execute(
                select(InvoiceItem.service_id, InvoiceItem.period_start, InvoiceItem.invoice_id)
                .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
                .where(InvoiceItem.kind == "renewal", Invoice.issued_on == day)
            )
        )


def table_sizes() -> tuple[int, ...]:
    with read_session() as s:
        return tuple(
            s.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (Invoice, InvoiceItem, AutomationAction, MailOutbox, CreditEntry)
        )


def test_a_year_of_daily_runs_matches_the_rules_exactly(book, whm):
    started = time.monotonic()
    model = Model(book)
    days = [START + timedelta(days=n) for n in range(DAYS)]
    index: dict[tuple[int, date], int] = {}
    totals: Tally[str] = Tally()
    for day in days:
        # 1. what the clients do that day: pay, ask to cancel
        for svc in model.services.values():
            for inv in svc.unpaid():
                if inv.pay_on == day:
                    pay_in_db(index, svc, inv, day)
                    model.pay(inv, day)
            if (
                PLAN_CHANGES
                and svc.behaviour in ("upgrade", "downgrade")
                and svc.changed_on is None
                and svc.status == "active"
                and day >= START + timedelta(days=120 + svc.id % 20)
                and not svc.unpaid()
                and day < svc.next_due - timedelta(days=1)
            ):
                change_plan(svc, day)
            if svc.status == "active" and not svc.request and svc.request_day is None:
                kind = None
                if svc.behaviour == "cancel_now" and day == START + timedelta(
                    days=150 + svc.id % 30
                ):
                    kind = "immediate"
                elif (
                    svc.behaviour == "cancel_eop"
                    and day >= START + timedelta(days=90)
                    and any(inv.issued <= day - timedelta(days=2) for inv in svc.unpaid())
                ):
                    kind = "end_of_billing_period"
                if kind:
                    client = Actor(user_id=0, role="client", client_id=svc.client)
                    cancellations.request(client, svc.id, kind, "Ya no lo necesito", today=day)
                    model.ask_cancel(svc, kind, day)
        # 2. the run, and the same run again
        expected = model.run(day)
        result = automation.run(day)
        assert result.counts == expected, day
        totals.update(result.counts)
        again = automation.run(day)
        assert set(again.counts.values()) == {0}, day
        if result.counts["invoices_created"]:
            new_invoices(index, day)
        # 3. every service as the model says, every day
        want = {sid: (s.status, s.next_due) for sid, s in model.services.items()}
        assert snapshot() == want, day

    # Running earlier days again changes nothing either.
    before = table_sizes()
    for day in random.Random(1).sample(days, 8):
        assert set(automation.run(day).counts.values()) == {0}, day
    assert table_sizes() == before

    with read_session() as s:
        # Every invoice, with its period, dates, status, late fee and total: none twice.
        real = sorted(
            (sid, start, inv.issued_on, inv.due_on, inv.status, inv.late_fee_applied, inv.total)
            for sid, start, inv in s.execute(
                select(InvoiceItem.service_id, InvoiceItem.period_start, Invoice)
                .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
                .where(InvoiceItem.kind == "renewal")
            )
        )
        ledger = {
            (run_day, key, sid, start)
            for run_day, key, sid, start in s.execute(
                select(
                    AutomationRun.run_date,
                    AutomationAction.key,
                    AutomationAction.service_id,
                    InvoiceItem.period_start,
                )
                .join(AutomationRun, AutomationRun.id == AutomationAction.run_id)
                .outerjoin(
                    InvoiceItem,
                    (InvoiceItem.invoice_id == AutomationAction.invoice_id)
                    & (InvoiceItem.kind == "renewal"),
                )
            )
        }
        mails = Tally(
            dict(
                s.execute(
                    select(MailOutbox.template, func.count()).group_by(MailOutbox.template)
                ).all()
            )
        )
        statuses = Tally(s.scalars(select(Service.status)))
    expected_invoices = sorted(
        (
            inv.service,
            inv.period,
            inv.issued,
            inv.due,
            inv.status,
            inv.fee is not None,
            inv.total,
        )
        for svc in model.services.values()
        for inv in svc.invoices.values()
    )
    assert real == expected_invoices
    assert len({(r[0], r[1]) for r in real}) == len(real)  # one invoice per period

    def kinds(prefix: str) -> set[tuple]:
        return {e for e in ledger if e[1].startswith(prefix)}

    reminders = {(d, k.rsplit(":", 1)[0], start) for d, k, _sid, start in kinds("reminder:")}
    assert reminders == {(e[0], e[1], e[3]) for e in model.events if e[1].startswith("reminder:")}
    fees = {(d, start) for d, _k, _sid, start in kinds("late_fee:")}
    assert fees == {(e[0], e[3]) for e in model.events if e[1] == "late_fee"}
    suspensions = {
        (d, sid, date.fromisoformat(k.rsplit(":", 1)[1])) for d, k, sid, _ in kinds("suspend:")
    }
    assert suspensions == {(e[0], e[2], e[3]) for e in model.events if e[1] == "suspend"}
    terminations = {(d, sid) for d, _k, sid, _ in kinds("terminate:")}
    assert terminations == {(e[0], e[2]) for e in model.events if e[1] == "terminate"}
    assert {(d, sid) for d, _k, sid, _ in kinds("cancel:")} == {
        (e[0], e[2]) for e in model.events if e[1] == "cancel"
    }
    assert not kinds("unsuspend:")  # every reactivation happened when the payment came in
    assert not [e for e in ledger if "#failed" in e[1]]
    ours = set(model.mails) | {"service_unsuspended"}
    assert {k: v for k, v in mails.items() if k in ours} == +model.mails

    # Cancelled at the end of the period: never suspended first, no reminder after asking.
    for svc in model.services.values():
        if svc.behaviour in ("cancel_eop", "cancel_now") and svc.request_day:
            assert not [e for e in model.events if e[1] == "suspend" and e[2] == svc.id]
            assert not [
                e
                for e in ledger
                if e[2] == svc.id and e[0] >= svc.request_day and e[1].startswith("reminder")
            ]
    elapsed = time.monotonic() - started
    unsuspended = sum(1 for e in model.events if e[1] == "unsuspend")
    print(
        f"\ntime travel: {len(book)} services, {DAYS * 2 + 8} runs, "
        f"{len(real)} invoices, {totals['reminders_sent']} reminders, "
        f"{totals['late_fees_added']} late fees, {totals['suspended']} suspensions, "
        f"{unsuspended} reactivations, {totals['terminated']} terminations, "
        f"{totals['cancellations_processed']} cancellations, "
        f"{sum(1 for v in model.services.values() if v.changed_on)} plan changes, "
        f"statuses {dict(statuses)}, "
        f"{elapsed:.1f} s"
    )
    assert totals["suspended"] > 50 and unsuspended > 30 and totals["terminated"] >= 15
    assert totals["cancellations_processed"] == 15
    changed = [svc for svc in model.services.values() if svc.changed_on]
    assert len(changed) == (6 if PLAN_CHANGES else 0)
