"""The daily run's group paths (renewals, reminders, late fees, the ticket auto-close) on a
real database, each engine: a group writes exactly what the one-item path writes, and a
group that fails is redone item by item without losing or doubling anything.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from core import automation
from core.access import SYSTEM
from core.automation import policy as automation_settings
from core.automation.invoicing import do_renewal, select_renewals
from core.automation.renewals import renew_group
from core.models import (
    AuditEntry,
    AutomationAction,
    AutomationRun,
    Counter,
    Invoice,
    InvoiceItem,
    MailOutbox,
    Service,
    Ticket,
)
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.support import notices as tickets_mail
from core.support import tickets
from tests.panel_fixtures import fake, whm  # noqa: F401 - fixtures

D = date.fromisoformat
RUN_DAY = D("2026-12-22")  # 14 days before 2027-01-05


def add_services(template_id: int, count: int, due: date = D("2027-01-05")) -> list[int]:
    """More services like ``template_id`` (same client, plan and price), due on ``due``."""
    ids = []
    with unit_of_work() as s:
        base = s.get(Service, template_id)
        for n in range(count):
            copy = Service(
                client_id=base.client_id,
                product_id=base.product_id,
                server_id=base.server_id,
                domain=f"grupo{n}-{base.domain}",
                panel_username=f"grp{n}{base.id}",
                status="active",
                billing_cycle=base.billing_cycle,
                recurring_amount=base.recurring_amount,
                anchor_day=base.anchor_day,
                registration_date=base.registration_date,
                next_due_date=due,
            )
            s.add(copy)
            s.flush()
            ids.append(copy.id)
    return ids


def new_run() -> int:
    with unit_of_work() as s:
        row = AutomationRun(run_date=RUN_DAY, dry_run=False, status="running")
        s.add(row)
        s.flush()
        return row.id


def renewal_items(service_ids: list[int]):
    cfg = automation_settings.load()
    with read_session() as s:
        items = select_renewals(s, RUN_DAY, cfg)
    return [item for item in items if item.service_id in service_ids], cfg


def written(service_id: int) -> dict:
    """Everything a renewal wrote for ``service_id``, with ids, numbers and the domain
    replaced by placeholders so two services' rows compare."""
    with read_session() as s:
        line = s.scalars(
            select(InvoiceItem).where(
                InvoiceItem.service_id == service_id, InvoiceItem.kind == "renewal"
            )
        ).one()
        invoice = s.get(Invoice, line.invoice_id)
        domain = s.get(Service, service_id).domain
        action = s.scalars(
            select(AutomationAction).where(AutomationAction.invoice_id == invoice.id)
        ).one()
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "invoice.created", AuditEntry.target_id == invoice.id
            )
        ).one()
        mails = s.scalars(
            select(MailOutbox).where(MailOutbox.body_text.contains(invoice.number))
        ).all()

        def plain(text: str) -> str:
            text = text.replace(invoice.number, "<number>").replace(domain, "<domain>")
            return re.sub(r"invoice=\d+", "invoice=<id>", text)

        return {
            "invoice": {
                c: getattr(invoice, c)
                for c in (
                    "client_id",
                    "issued_on",
                    "due_on",
                    "status",
                    "subtotal",
                    "tax_total",
                    "total",
                    "amount_paid",
                    "credit_applied",
                    "balance",
                    "late_fee_applied",
                    "paid_at",
                    "notes",
                )
            },
            "line": (
                plain(line.description),
                line.period_start,
                line.period_end,
                line.amount,
                line.tax_rate,
                line.tax_amount,
            ),
            "action": (action.kind, action.status, plain(action.detail or "")),
            "audit": (
                entry.actor_label,
                entry.client_id,
                plain(str(sorted(entry.details.items()))),
            ),
            "mail": [(m.to_addr, m.template, plain(m.subject), plain(m.body_text)) for m in mails],
        }


def test_a_group_writes_exactly_what_the_one_item_path_writes(fake, personas):
    alone, grouped_one = add_services(personas.client_a.service_id, 2)
    items, cfg = renewal_items([alone, grouped_one])
    by_service = {item.service_id: item for item in items}
    run_id = new_run()

    assert do_renewal(run_id, by_service[alone], RUN_DAY, cfg, now()).status == "done"
    outcomes, left = renew_group(run_id, [by_service[grouped_one]], RUN_DAY, cfg)

    assert outcomes == {by_service[grouped_one].key: "done"} and left == []
    first, second = written(alone), written(grouped_one)
    assert first == second
    assert first["invoice"]["total"] == Decimal("11.50") and first["mail"]  # the client is told


def test_a_failed_group_is_redone_item_by_item_without_gaps_or_doubles(fake, personas, monkeypatch):
    ids = add_services(personas.client_a.service_id, 3) + add_services(
        personas.client_b.service_id, 2
    )
    taken = ids[1]
    renewal = automation.STEPS[0]

    def select_then_collide(s, on, cfg):
        items = renewal.select(s, on, cfg)
        if not any(item.service_id == taken for item in items):
            return items  # the second run: nothing left to collide with
        # Another process takes one item's unique key after the selection: the group's
        # INSERT of keys fails, so the whole group rolls back and is redone one by one.
        with unit_of_work() as w:
            other = AutomationRun(run_date=on, dry_run=False, status="done")
            w.add(other)
            w.flush()
            key = next(item.key for item in items if item.service_id == taken)
            w.add(AutomationAction(run_id=other.id, key=key, kind="renewal", status="done"))
        return items

    steps = (replace(renewal, select=select_then_collide), *automation.STEPS[1:])
    monkeypatch.setattr(automation, "STEPS", steps)
    with read_session() as s:
        before = s.get(Counter, "invoice")
        numbered_before = before.value if before else 0

    result = automation.run(RUN_DAY)

    assert result.counts["failures"] == 0
    assert result.counts["invoices_created"] == len(ids) - 1
    with read_session() as s:
        billed = s.execute(
            select(InvoiceItem.service_id, func.count())
            .where(InvoiceItem.kind == "renewal", InvoiceItem.service_id.in_(ids))
            .group_by(InvoiceItem.service_id)
        ).all()
        numbers = sorted(
            s.scalars(select(Invoice.number).where(Invoice.issued_on == RUN_DAY)).all()
        )
        counter = s.get(Counter, "invoice").value
    assert dict(billed) == {sid: 1 for sid in ids if sid != taken}
    # Gap-free: the rolled-back group gave its numbers back.
    assert counter - numbered_before == len(numbers) == len(ids) - 1
    assert automation.run(RUN_DAY).counts["invoices_created"] == 0


def test_a_failed_reminder_group_is_redone_one_by_one(fake, personas, monkeypatch):
    a = personas.client_a
    reminder = automation.STEPS[1]
    day = D("2026-12-06")  # the personas' invoices fell due on the 5th: the first reminder

    def select_then_collide(s, on, cfg):
        items = reminder.select(s, on, cfg)
        if not any(item.invoice_id == a.invoice_id for item in items):
            return items
        with unit_of_work() as w:
            other = AutomationRun(run_date=on, dry_run=False, status="done")
            w.add(other)
            w.flush()
            key = next(item.key for item in items if item.invoice_id == a.invoice_id)
            w.add(AutomationAction(run_id=other.id, key=key, kind="reminder", status="done"))
        return items

    steps = (automation.STEPS[0], replace(reminder, select=select_then_collide))
    monkeypatch.setattr(automation, "STEPS", steps + automation.STEPS[2:])
    result = automation.run(day)

    assert result.counts["reminders_sent"] == 1 and result.counts["failures"] == 0
    with read_session() as s:
        sent = s.scalars(
            select(MailOutbox.to_addr).where(MailOutbox.template == "payment_reminder")
        ).all()
    assert sent == ["b@test.ec"]  # A's was taken by the other process: not sent twice


def test_a_reminder_group_writes_exactly_what_the_one_item_path_writes(fake, personas):
    from core.automation.dunning import do_reminder, group_reminders

    a = personas.client_a
    day = D("2026-12-06")  # the personas' invoices fell due on the 5th: the first reminder
    cfg = automation_settings.load()
    with read_session() as s:
        item = next(
            i for i in automation.STEPS[1].select(s, day, cfg) if i.invoice_id == a.invoice_id
        )
    run_id = new_run()

    def taken() -> tuple:
        """The key and the mail the reminder wrote, then removed (the other path's turn)."""
        with unit_of_work() as s:
            action = s.scalars(
                select(AutomationAction).where(AutomationAction.key == item.key)
            ).one()
            mail = s.scalars(
                select(MailOutbox).where(MailOutbox.template == "payment_reminder")
            ).one()
            row = (
                (action.run_id, action.kind, action.service_id, action.invoice_id, action.status),
                action.detail,
                (mail.to_addr, mail.subject, mail.body_text, mail.language, mail.status),
            )
            s.delete(action)
            s.delete(mail)
        return row

    assert do_reminder(run_id, item, day, cfg, now()).status == "done"
    alone = taken()
    assert group_reminders(run_id, [item], day, cfg) == ({item.key: "done"}, [])
    assert taken() == alone
    assert alone[2][0] == "a@test.ec" and "5" in alone[2][2]  # A is told, with the due date


def _answered(ticket_ids: list[int], at: datetime) -> None:
    with unit_of_work() as s:
        for ticket_id in ticket_ids:
            ticket = s.get(Ticket, ticket_id)
            ticket.status, ticket.last_reply_at = "answered", at - timedelta(days=10)


def test_auto_close_in_groups_survives_one_bad_ticket(fake, personas, monkeypatch):
    at = datetime(2026, 12, 20, 12, 0)
    a, b = personas.client_a, personas.client_b
    _answered([a.ticket_id, b.ticket_id], at)
    real = tickets_mail.to_client

    def fails_for_a(session, ticket, template, body=""):
        if ticket.id == a.ticket_id:
            raise RuntimeError("mail template broken for this one")
        return real(session, ticket, template, body)

    monkeypatch.setattr(tickets_mail, "to_client", fails_for_a)
    assert tickets.autoclose_waiting(SYSTEM, at) == 1

    with read_session() as s:
        statuses = {t.id: t.status for t in s.scalars(select(Ticket))}
        notices = s.scalars(
            select(MailOutbox.to_addr).where(MailOutbox.template == "ticket_autoclosed")
        ).all()
    assert statuses[b.ticket_id] == "closed" and statuses[a.ticket_id] == "answered"
    assert notices == ["b@test.ec"]
    monkeypatch.setattr(tickets_mail, "to_client", real)
    assert tickets.autoclose_waiting(SYSTEM, at) == 1  # A's is closed on the next run
    assert tickets.autoclose_waiting(SYSTEM, at) == 0
