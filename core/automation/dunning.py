"""Dunning, the invoicing steps of the daily run after renewals (billing-rules §3.3, §3.4):
payment reminders before and after an invoice's due date, and the one late fee of an invoice.

Each step has a *selection* (what is due on the run date, already-done items left out) and an
*execution* (one item, in its own transaction, recorded under its unique key), plus a grouped
execution that reads the group's invoices once. Renewal invoices are
``core.automation.invoicing``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Row, and_, exists, insert, or_, select
from sqlalchemy.orm import Session, selectinload

from core.automation.items import (
    DONE,
    SKIPPED,
    Item,
    Outcome,
    action_values,
    fresh,
    grouped,
    invoice_of_cancelled_service,
    key_missing,
    link,
    record,
)
from core.automation.policy import AutomationSettings
from core.billing.ledger import lock_client, lock_clients, lock_invoice, lock_invoices
from core.models import AutomationAction, Client, Invoice, InvoiceItem, MailOutbox, Service
from core.platform import mail
from core.platform.db import after_commit, unit_of_work
from core.platform.i18n import day, money, t
from core.rules.money import iva_rate, late_fee
from core.services import leaving_invoices as cancellations_invoices

# ------------------------------------------------------------------ 2. reminders
# id, client_id, client name, number, due_on, issued_on, balance, total
_InvoiceRow = Row[int, int, str, str | None, date, date, Decimal, Decimal]


def _invoice_rows(s: Session, *conds: Any) -> Sequence[_InvoiceRow]:
    """The unpaid invoices matching ``conds``, in id order. Sorted here, not in SQL: asked
    for id order, SQLite walked the whole invoice table in it (its statistics see a status
    of three values, not how few invoices are unpaid) rather than read the few unpaid ones
    from the (status, due_on) index; a second run the same day then read 500,000 rows to
    find none."""
    rows = s.execute(
        select(
            Invoice.id,
            Invoice.client_id,
            Client.name,
            Invoice.number,
            Invoice.due_on,
            Invoice.issued_on,
            Invoice.balance,
            Invoice.total,
        )
        .join(Client, Client.id == Invoice.client_id)
        .where(
            Invoice.status == "unpaid",
            Invoice.balance > 0,
            ~invoice_of_cancelled_service(),
            *conds,
        )
    ).all()
    return sorted(rows, key=lambda row: row[0])


def _issued_by_then(today: date, before: int) -> list[Any]:
    """ "Issued by then" (issued_on <= due_on - N) in SQL, one due day at a time (no date
    arithmetic), so the invoices billed in the last N days, thousands after a first run,
    are dropped before their reminder key is looked up, not read on every run only to be
    dropped by the caller's check. Only for the usual few days: as hundreds of terms it
    would cost more than it saves, and the caller's check alone decides then."""
    if before > 31:
        return []
    return [
        or_(
            *(
                and_(
                    Invoice.due_on == today + timedelta(days=k),
                    Invoice.issued_on <= today + timedelta(days=k - before),
                )
                for k in range(1, before + 1)
            )
        )
    ]


def select_reminders(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    """Payment reminders (§3.3): one "unpaid" reminder N days before the due date (for
    invoices issued by then), then the 1st/2nd/3rd overdue reminders N days after it. A run
    that missed days sends only the latest reminder due, never a burst."""
    items: list[Item] = []

    def add(kind: str, rows: Sequence[_InvoiceRow]) -> None:
        for inv_id, client_id, name, number, due, _issued, balance, _total in rows:
            items.append(
                Item(
                    step="reminder",
                    key=f"reminder:{kind}:{inv_id}",
                    client_id=client_id,
                    client_name=name,
                    target=number or f"#{inv_id}",
                    invoice_id=inv_id,
                    due=due,
                    amount=balance,
                    kind=kind,
                )
            )

    before = cfg.unpaid_reminder_days
    if before > 0:
        rows = _invoice_rows(
            s,
            Invoice.due_on > today,
            Invoice.due_on <= today + timedelta(days=before),
            *_issued_by_then(today, before),
            key_missing("reminder:unpaid:", Invoice.id),
        )
        add("unpaid", [r for r in rows if r[5] <= r[4] - timedelta(days=before)])
    offsets = cfg.overdue_offsets()
    for n, (kind, days) in enumerate(offsets):
        conds = [Invoice.due_on <= today - timedelta(days=days)]
        if n + 1 < len(offsets):
            conds.append(Invoice.due_on > today - timedelta(days=offsets[n + 1][1]))
        add(kind, _invoice_rows(s, *conds, key_missing(f"reminder:{kind}:", Invoice.id)))
    return items


def apply_reminder(
    s: Session, run_id: int, item: Item, today: date, cfg: AutomationSettings
) -> Outcome:
    invoice = s.get(Invoice, item.invoice_id)
    if invoice is None or invoice.status != "unpaid" or invoice.balance <= 0:
        return Outcome(SKIPPED)
    client = invoice.client
    record(s, run_id, item, reminder=item.kind, balance=invoice.balance)
    mail.queue(
        s,
        **_reminder_notice(
            client.email,
            client.language,
            client.name,
            item.kind,
            invoice.id,
            invoice.number,
            invoice.balance,
            invoice.due_on,
            today,
        ),
    )
    return Outcome(DONE)


def _reminder_notice(
    to_addr: str,
    lang: str,
    name: str,
    kind: str,
    invoice_id: int,
    number: str | None,
    balance: Decimal,
    due: date,
    today: date,
) -> dict[str, Any]:
    """The client's payment reminder, as ``mail.queue`` / ``mail.outbox_values`` take it
    (both reminder paths)."""
    return {
        "to_addr": to_addr,
        "template": "payment_reminder",
        "language": lang,
        "name": name,
        "kind": kind,
        "number": number,
        "balance": money(balance, lang),
        "due": day(due, lang),
        "days": abs((today - due).days),
        "link": link(invoice_id),
    }


def group_reminders(
    run_id: int, items: list[Item], today: date, cfg: AutomationSettings
) -> tuple[dict[str, str], list[Item]]:
    """A group of reminders in one transaction, written with two multi-row INSERTs (the
    keys, the mails) from one read of the invoices: through the ORM each reminder cost two
    objects to flush (a first run's 4,000: ~1 s). The same rows as ``apply_reminder``
    writes; any failure raises having written nothing, and the run then sends each alone."""
    ids = [item.invoice_id for item in items if item.invoice_id is not None]
    with unit_of_work() as s:
        found = {
            row.id: row
            for row in s.execute(
                select(
                    Invoice.id,
                    Invoice.status,
                    Invoice.balance,
                    Invoice.number,
                    Invoice.due_on,
                    Client.email,
                    Client.language,
                    Client.name,
                )
                .join(Client, Client.id == Invoice.client_id)
                .where(Invoice.id.in_(ids))
            )
        }
        outcomes: dict[str, str] = {}
        keys, mails = [], []
        for item in items:
            row = found.get(item.invoice_id) if item.invoice_id is not None else None
            if row is None or row.status != "unpaid" or row.balance <= 0:
                outcomes[item.key] = SKIPPED
                continue
            keys.append(action_values(run_id, item, reminder=item.kind, balance=row.balance))
            notice = _reminder_notice(
                row.email,
                row.language,
                row.name,
                item.kind,
                row.id,
                row.number,
                row.balance,
                row.due_on,
                today,
            )
            mails.append(mail.outbox_values(s, **notice))
            outcomes[item.key] = DONE
        if keys:
            conn = s.connection()
            conn.execute(insert(AutomationAction), keys)
            conn.execute(insert(MailOutbox), mails)
            after_commit(s, mail.kick)
    return outcomes, []


def do_reminder(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    with unit_of_work() as s:
        return apply_reminder(s, run_id, item, today, cfg)


# ------------------------------------------------------------------- 3. late fees
def select_late_fees(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    """One late fee per invoice (§3.4), ``late_fee_days`` after its due date. Not on a plan
    change's invoice (its quote simply expires) nor on a new order's (the order is cancelled
    when left unpaid): a late fee is for services already delivered."""
    if cfg.late_fee_amount <= 0:
        return []
    not_yet_delivered = exists(
        select(InvoiceItem.id)
        .outerjoin(Service, Service.id == InvoiceItem.service_id)
        .where(
            InvoiceItem.invoice_id == Invoice.id,
            or_(InvoiceItem.kind == "upgrade", Service.status == "pending"),
        )
    )
    rows = _invoice_rows(
        s,
        Invoice.late_fee_applied.is_(False),
        Invoice.due_on <= today - timedelta(days=cfg.late_fee_days),
        ~not_yet_delivered,
    )
    items = [
        Item(
            step="late_fee",
            key=f"late_fee:{inv_id}",
            client_id=client_id,
            client_name=name,
            target=number or f"#{inv_id}",
            invoice_id=inv_id,
            due=due,
            amount=late_fee(
                total,
                fee_type=cfg.late_fee_type,
                amount=cfg.late_fee_amount,
                minimum=cfg.late_fee_minimum,
            ),
        )
        for inv_id, client_id, name, number, due, _issued, _balance, total in rows
    ]
    return fresh(s, items)


def _invoice_rate(invoice: Invoice) -> Decimal:
    """The IVA rate the invoice was issued with (its lines carry it), for its late fee."""
    rates = [item.tax_rate for item in invoice.items if item.tax_rate > 0]
    return max(rates) if rates else iva_rate(invoice.issued_on)


def apply_late_fee(
    s: Session, run_id: int, item: Item, today: date, cfg: AutomationSettings
) -> Outcome:
    found = s.get(Invoice, item.invoice_id)
    if found is None:
        return Outcome(SKIPPED)
    client = lock_client(s, found.client_id)
    invoice = lock_invoice(s, found.id)
    return _add_late_fee(s, run_id, item, cfg, client, invoice)


def lock_group_invoices(s: Session, items: list[Item]) -> list[Any]:
    """The group's clients and invoices locked and freshly read at once, with the invoices'
    lines, in the order every ledger write takes them (clients, then invoices, each by id):
    the group's late fees then read nothing more. Locked one by one, each invoice cost two
    reads and a re-read of its lines (a first run's 1,600 late fees: ~3 s)."""
    ids = {item.invoice_id for item in items if item.invoice_id is not None}
    clients = lock_clients(s, s.scalars(select(Invoice.client_id).where(Invoice.id.in_(ids))))
    invoices = lock_invoices(s, ids, selectinload(Invoice.items))
    return [*clients, *invoices.values()]


def apply_late_fee_locked(
    s: Session, run_id: int, item: Item, today: date, cfg: AutomationSettings
) -> Outcome:
    """``apply_late_fee`` for a group whose rows ``lock_group_invoices`` locked and read."""
    invoice = s.get(Invoice, item.invoice_id)
    if invoice is None:
        return Outcome(SKIPPED)
    return _add_late_fee(s, run_id, item, cfg, s.get_one(Client, invoice.client_id), invoice)


def _add_late_fee(
    s: Session, run_id: int, item: Item, cfg: AutomationSettings, client: Client, invoice: Invoice
) -> Outcome:
    """The late fee of a locked invoice: its line, the new totals, the key and the mail."""
    if invoice.status != "unpaid" or invoice.late_fee_applied or invoice.balance <= 0:
        return Outcome(SKIPPED)
    fee = late_fee(
        invoice.total,
        fee_type=cfg.late_fee_type,
        amount=cfg.late_fee_amount,
        minimum=cfg.late_fee_minimum,
    )
    if fee <= 0:
        return Outcome(SKIPPED)
    lang = client.language
    # Appended to the loaded lines (not re-read): the invoice is locked, its lines are these.
    invoice.items.append(
        InvoiceItem(
            kind="late_fee",
            description=t("automation.late_fee_line", lang, number=invoice.number or ""),
            amount=fee,
            tax_rate=_invoice_rate(invoice) if cfg.tax_late_fee else Decimal("0"),
        )
    )
    cancellations_invoices.reprice(invoice)
    invoice.late_fee_applied = True
    record(s, run_id, item, fee=fee, total=invoice.total)
    mail.queue(
        s,
        to_addr=client.email,
        template="late_fee_added",
        language=lang,
        name=client.name,
        number=invoice.number,
        fee=money(fee, lang),
        balance=money(invoice.balance, lang),
        link=link(invoice.id),
    )
    return Outcome(DONE)


def do_late_fee(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    with unit_of_work() as s:
        return apply_late_fee(s, run_id, item, today, cfg)


group_late_fees = grouped(apply_late_fee_locked, lock_group_invoices)
