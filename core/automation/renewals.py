"""Renewal invoices in groups: the daily run's path for its biggest step.

A book of 40,000 services makes ~30,000 renewal invoices on a first run. Through the ORM,
one item per transaction, each costs ~5 ms of Python (flushes, identity map, one commit),
so the run took minutes. Here a group of renewals is billed with a few multi-row INSERTs:

* **All or nothing, then one by one.** A group is one transaction. If anything in it fails
  (a unique key taken by a concurrent run or a hand-made invoice, a bad row, the database),
  it rolls back whole and the caller does each of its items alone, on the ordinary path
  (``invoicing.do_renewal``), one item per transaction, where a failure is recorded for that
  item only. So an item's effects (invoice, line, key, audit entry, mail)
  are still written together or not at all, and a second run never bills a period twice.
* **Only the plain case.** An item whose invoice would not simply stay unpaid — the client
  has credit to apply, or the total is zero (it would be paid at once and run the paid
  hooks) — is handed back for the ordinary path, which handles those.
* **The same invoice.** Numbers come from the same gap-free counter (``sequences.reserve``),
  amounts from the same pricing (``catalog.renewal_price``, ``money.invoice_totals``), the
  audit entry and the client's mail are those ``billing.create_invoice`` and ``do_renewal``
  write; a test compares both paths row by row.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from core.access import SYSTEM
from core.addons import renewing as addons_renewing
from core.automation.invoicing import renewal_line, renewal_notice
from core.automation.items import DONE, LIVE, SKIPPED, Item
from core.automation.policy import AutomationSettings
from core.billing.ledger import AUTO_APPLY_CREDIT, PRICES_INCLUDE_TAX, clean_text, parse_amount
from core.catalog import renewal_price, tax_rates
from core.models import (
    AuditEntry,
    AutomationAction,
    Client,
    Invoice,
    InvoiceItem,
    MailOutbox,
    Product,
    Service,
)
from core.platform import audit, mail, settings
from core.platform.db import after_commit, unit_of_work
from core.platform.sequences import number, reserve
from core.rules.money import ZERO, InvoiceTotals, invoice_totals, iva_rate

GROUP = 250  # renewals per transaction: ~50 ms of write lock at a time on SQLite


def renew_group(
    run_id: int, items: list[Item], today: date, cfg: AutomationSettings
) -> tuple[dict[str, str], list[Item]]:
    """Bill ``items`` (renewals of distinct services) in one transaction. Returns the outcome
    of each item handled here, by key, and the items left for the one-at-a-time path.
    Raises on any failure, having written nothing."""
    with unit_of_work() as s:
        rows = _services(s, [item.service_id for item in items])
        billed = _billed(s, items)
        credit_first = settings.get_bool(AUTO_APPLY_CREDIT, session=s)
        gross = settings.get_bool(PRICES_INCLUDE_TAX, session=s)
        rate = iva_rate(today, tax_rates(session=s))
        statuses = LIVE if cfg.continuous_invoicing else ("active",)

        outcomes: dict[str, str] = {}
        alone: list[Item] = []
        bills: list[tuple[Item, Any, Any, Any]] = []
        seen: set[int] = set()
        # A service with add-ons renewing has a many-line invoice: the ordinary path makes it.
        seen.update(a.service_id for a in addons_renewing.billable(s, rows))
        for item in items:
            assert item.service_id is not None  # renewal items always name their service
            row = rows.get(item.service_id)
            start = item.period_start
            if item.service_id in seen or start is None:
                alone.append(item)
                continue
            seen.add(item.service_id)
            if row is None or row.status not in statuses or row.next_due_date is None:
                outcomes[item.key] = SKIPPED
            elif row.next_due_date > start or (item.service_id, start) in billed:
                outcomes[item.key] = SKIPPED  # paid meanwhile, or already on an invoice
            else:
                amount = parse_amount(
                    renewal_price(
                        s, row.product_id, row.billing_cycle, row.recurring_amount, start
                    ),
                    allow_zero=True,
                )
                totals = _one_line(amount, rate, gross)
                if totals.total == ZERO or (credit_first and row.credit_balance > ZERO):
                    alone.append(item)  # paid at once, or credit to apply: the full path
                else:
                    bills.append((item, row, totals, amount))
        if bills:
            _write(s, run_id, bills, today, rate)
            outcomes.update((item.key, DONE) for item, *_ in bills)
        return outcomes, alone


@lru_cache(maxsize=1024)
def _one_line(amount: Decimal, rate: Decimal, gross: bool) -> InvoiceTotals:
    """Totals of a one-line invoice (frozen, so shared): a book has a few prices only."""
    return invoice_totals([(amount, rate)], prices_include_tax=gross)


def _services(s: Session, ids: list[int | None]) -> dict[int, Any]:
    """The group's services with what the invoice and the mail need, clients locked (on
    PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock)."""
    stmt = (
        select(
            Service.id,
            Service.status,
            Service.next_due_date,
            Service.billing_cycle,
            Service.anchor_day,
            Service.recurring_amount,
            Service.product_id,
            Service.domain,
            Service.client_id,
            Product.name.label("plan"),
            Client.name,
            Client.email,
            Client.language,
            Client.credit_balance,
        )
        .join(Client, Client.id == Service.client_id)
        .join(Product, Product.id == Service.product_id)
        .where(Service.id.in_([i for i in ids if i is not None]))
        .order_by(Client.id)
        .with_for_update(of=Client)
    )
    return {row.id: row for row in s.execute(stmt)}


def _billed(s: Session, items: list[Item]) -> set[tuple[int, date]]:
    """The (service, period) pairs of the group already on a renewal line."""
    pairs = {
        (i.service_id, i.period_start)
        for i in items
        if i.service_id is not None and i.period_start is not None
    }
    if not pairs:
        return set()
    # Two IN lists on the unique (service, kind, period) index, the pairs matched here: a
    # row-value IN of pairs made SQLite scan the table.
    rows = s.execute(
        select(InvoiceItem.service_id, InvoiceItem.period_start).where(
            InvoiceItem.service_id.in_({sid for sid, _ in pairs}),
            InvoiceItem.kind == "renewal",
            InvoiceItem.period_start.in_({start for _, start in pairs}),
        )
    )
    return {
        (sid, start)
        for sid, start in rows
        if sid is not None and start is not None and (sid, start) in pairs
    }


def _write(
    s: Session, run_id: int, bills: list[tuple[Item, Any, Any, Any]], today: date, rate: Decimal
) -> None:
    """The invoices, their lines, the unique keys, the audit entries and the mails."""
    first = reserve(s, "invoice", len(bills))
    invoices = []
    for n, (item, row, totals, _amount) in enumerate(bills):
        assert item.period_start is not None  # only items with a period are billed here
        invoices.append(
            {
                "number": number("invoice", first + n),
                "client_id": row.client_id,
                "issued_on": today,
                "due_on": max(item.period_start, today),
                "status": "unpaid",
                "subtotal": totals.subtotal,
                "tax_total": totals.tax,
                "total": totals.total,
                "amount_paid": ZERO,
                "credit_applied": ZERO,
                "balance": totals.total,
                "late_fee_applied": False,
                "notes": None,
            }
        )
    conn = s.connection()
    # One executemany, then the ids read back by the invoices' unique numbers: RETURNING in
    # parameter order has no sentinel on SQLite, so SQLAlchemy sent it one row at a time
    # (~19,000 statements on a first run at L, the biggest part of the step).
    conn.execute(insert(Invoice), invoices)
    by_number = {
        code: invoice_id
        for code, invoice_id in conn.execute(
            select(Invoice.number, Invoice.id).where(
                Invoice.number.in_([invoice["number"] for invoice in invoices])
            )
        )
    }
    ids = [by_number[invoice["number"]] for invoice in invoices]
    lines, keys, entries, mails = [], [], [], []
    for invoice_id, invoice, (item, row, totals, _amount) in zip(ids, invoices, bills, strict=True):
        lang, start = row.language, item.period_start
        assert start is not None  # only items with a period are billed here
        description, end = renewal_line(
            lang, row.plan, row.domain, start, row.billing_cycle, row.anchor_day
        )
        line = totals.lines[0]
        lines.append(
            {
                "invoice_id": invoice_id,
                "service_id": row.id,
                "kind": "renewal",
                "period_start": start,
                "period_end": end,
                "description": clean_text(description, 300),
                "amount": line.base,
                "tax_rate": rate,
                "tax_amount": line.tax,
            }
        )
        total, code = invoice["total"], invoice["number"]
        keys.append(
            {
                "run_id": run_id,
                "key": item.key,
                "kind": item.step,
                "service_id": row.id,
                "invoice_id": invoice_id,
                "status": DONE,
                "detail": json.dumps({"number": code, "total": total}, default=str),
            }
        )
        entries.append(
            audit.entry_values(
                SYSTEM,
                "invoice.created",
                target_type="invoice",
                target_id=invoice_id,
                client_id=row.client_id,
                number=code,
                status="unpaid",
                total=total,
                tax_rate=rate,
            )
        )
        notice = renewal_notice(
            row.email,
            lang,
            row.name,
            row.domain,
            invoice_id,
            code,
            total,
            total,
            invoice["due_on"],
            paid=False,
        )
        mails.append(mail.outbox_values(s, **notice))
    for model, values in (
        (InvoiceItem, lines),
        (AutomationAction, keys),
        (AuditEntry, entries),
        (MailOutbox, mails),
    ):
        conn.execute(insert(model), values)
    after_commit(s, mail.kick)
