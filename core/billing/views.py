"""What the billing page reads: invoice lists (filtered and paged in SQL) and one view per
role. One invoice's detail lives in ``core.billing.invoice_view``. Every read is scoped by
the actor: a client sees their own issued invoices only (drafts are staff work)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, or_, select
from sqlalchemy.orm import Session

from core.access import Actor, of_client, require, require_permission, scoped, visible
from core.billing.ledger import (
    PAYABLE,
    RECEIPT_MAX_MB,
    STATUSES,
    TRANSFER_INSTRUCTIONS,
)
from core.models import Client, Invoice, TransferReceipt, Upload
from core.platform import settings
from core.platform.clock import today as business_day
from core.platform.config import get_settings
from core.platform.db import reading
from core.platform.errors import Forbidden, ValidationError
from core.platform.paging import Page, counted

FILTERS = (*STATUSES, "overdue")
MAX_PER_PAGE = 200
CLIENT_CHOICES = 50  # clients offered at once in the back office; a search narrows them


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str | None
    client_id: int
    client_name: str
    issued_on: date
    due_on: date
    status: str
    total: Decimal
    balance: Decimal
    overdue: bool


InvoicePage = Page[InvoiceRow]


@dataclass(frozen=True)
class ClientBillingView:
    invoices: InvoicePage
    credit_balance: Decimal
    amount_owed: Decimal
    overdue: Decimal
    transfer_instructions: str
    receipt_max_mb: int  # at least 1, as receipts.max_receipt_bytes checks it


@dataclass(frozen=True)
class PendingReceipt:
    id: int
    created_at: datetime
    client_id: int
    client_name: str
    invoice_id: int
    invoice_number: str | None
    invoice_status: str
    amount: Decimal
    reference: str | None
    filename: str


@dataclass(frozen=True)
class ClientOption:
    id: int
    name: str
    tax_id: str | None
    credit_balance: Decimal


@dataclass(frozen=True)
class StaffBillingView:
    invoices: InvoicePage
    pending_receipts: list[PendingReceipt]
    clients: list[ClientOption]


def _filters(
    actor: Actor,
    status: str | None,
    client_id: int | None,
    date_from: date | None,
    date_to: date | None,
    today: date,
) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if actor.is_client:
        conds.append(Invoice.status != "draft")
    elif client_id is not None:
        conds.append(of_client(Invoice, client_id))
    if status:
        if status not in FILTERS:
            raise ValidationError("error.billing_status_invalid")
        if status == "overdue":
            conds += [Invoice.status.in_(PAYABLE), Invoice.due_on < today]
        else:
            conds.append(Invoice.status == status)
    if date_from is not None:
        conds.append(Invoice.issued_on >= date_from)
    if date_to is not None:
        conds.append(Invoice.issued_on <= date_to)
    return conds


def _row_stmt(stmt: Select) -> Select:
    """The columns of a list row (the client's name joined in) for an invoice statement."""
    return stmt.join(Client, Client.id == Invoice.client_id).with_only_columns(
        Invoice.id,
        Invoice.number,
        Invoice.client_id,
        Client.name,
        Invoice.issued_on,
        Invoice.due_on,
        Invoice.status,
        Invoice.total,
        Invoice.balance,
        maintain_column_froms=True,
    )


def _list(
    s: Session,
    actor: Actor,
    *,
    status: str | None,
    client_id: int | None,
    date_from: date | None,
    date_to: date | None,
    page: int,
    per_page: int,
    today: date,
) -> InvoicePage:
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    base = scoped(actor, Invoice, "billing").where(
        *_filters(actor, status, client_id, date_from, date_to, today)
    )
    skip = (page - 1) * per_page
    # Counted no further than a thousand past the page (paging.counted): every invoice of
    # the book was counted on each rerun of the desk's list (~0.4 s at 4.8 million).
    total, more = counted(s, base.with_only_columns(Invoice.id), skip)
    # Unpaid first (the oldest due date first; on one due date, the oldest issued first),
    # then the newest of the rest. The two groups are read apart, each in the order of an
    # index (ix_invoice_status_due_issued, ix_invoice_status_issued), so a page never sorts
    # the whole book: a newest-issued-first tie-break on a shared due date sorted every
    # unpaid invoice of that date (15 ms a rerun at ten times L).
    unpaid = Invoice.status.in_(PAYABLE)
    first_group = base.where(unpaid).order_by(Invoice.due_on, Invoice.issued_on, Invoice.id)
    second_group = base.where(~unpaid).order_by(Invoice.issued_on.desc(), Invoice.id.desc())
    # The unpaid are counted only as far as this page reaches: when they fill it, the
    # second group is not read, and when they do not, the count is exact.
    in_first = s.execute(
        select(func.count()).select_from(
            base.where(unpaid).with_only_columns(Invoice.id).limit(skip + per_page).subquery()
        )
    ).scalar_one()
    found: list[Row[*tuple[Any, ...]]] = []
    if skip < in_first:
        found += s.execute(_row_stmt(first_group).limit(per_page).offset(skip)).all()
    if len(found) < per_page:
        found += s.execute(
            _row_stmt(second_group).limit(per_page - len(found)).offset(max(0, skip - in_first))
        ).all()
    rows = [
        InvoiceRow(
            id=r[0],
            number=r[1],
            client_id=r[2],
            client_name=r[3],
            issued_on=r[4],
            due_on=r[5],
            status=r[6],
            total=r[7],
            balance=r[8],
            overdue=r[6] in PAYABLE and r[5] < today,
        )
        for r in found
    ]
    return Page(rows=rows, total=total, page=page, per_page=per_page, more=more)


def list_invoices(
    actor: Actor,
    *,
    status: str | None = None,
    client_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = 25,
    today: date | None = None,
    session: Session | None = None,
) -> InvoicePage:
    """Invoices the actor may see, filtered by status ("overdue" too), client and issue-date
    range, one page of them (LIMIT/OFFSET in SQL) with the total count. An invited user
    without "billing" gets "not found", not an empty list that says there are none."""
    require_permission(actor, "billing")
    day = today or business_day(get_settings().tz)
    with reading(session) as s:
        return _list(
            s,
            actor,
            status=status,
            client_id=client_id,
            date_from=date_from,
            date_to=date_to,
            page=page,
            per_page=per_page,
            today=day,
        )


def client_billing_view(
    actor: Actor,
    *,
    page: int = 1,
    per_page: int = 25,
    today: date | None = None,
    session: Session | None = None,
) -> ClientBillingView:
    """A client's billing page: their invoices (unpaid first), credit, what they owe."""
    require_permission(actor, "billing")
    if not actor.is_client:
        raise Forbidden()
    day = today or business_day(get_settings().tz)
    with reading(session) as s:
        invoices = _list(
            s,
            actor,
            status=None,
            client_id=None,
            date_from=None,
            date_to=None,
            page=page,
            per_page=per_page,
            today=day,
        )
        owed_sum = select(func.coalesce(func.sum(Invoice.balance), 0)).where(
            visible(actor, Invoice), Invoice.status.in_(PAYABLE)
        )
        owed = s.execute(owed_sum).scalar_one()
        overdue = s.execute(owed_sum.where(Invoice.due_on < day)).scalar_one()
        credit = s.execute(
            scoped(actor, Client).with_only_columns(Client.credit_balance)
        ).scalar_one()
        return ClientBillingView(
            invoices=invoices,
            credit_balance=credit,
            amount_owed=Decimal(owed).quantize(Decimal("0.01")),
            overdue=Decimal(overdue).quantize(Decimal("0.01")),
            transfer_instructions=settings.get_text(TRANSFER_INSTRUCTIONS, session=s),
            receipt_max_mb=max(1, settings.get_int(RECEIPT_MAX_MB, session=s)),
        )


def _client_choices(
    s: Session, search: str | None, picked: Iterable[int | None]
) -> list[ClientOption]:
    columns = (Client.id, Client.name, Client.tax_id, Client.credit_balance)
    stmt = select(*columns)
    text = (search or "").strip()[:100]
    if text:
        plain = text.replace("\\", "").replace("%", "").replace("_", "")
        low = plain.lower()
        stmt = stmt.where(
            or_(
                func.lower(Client.name).like(f"%{low}%"),
                func.lower(Client.company).like(f"%{low}%"),
                Client.tax_id.like(f"{plain.upper()}%"),
                Client.email.like(f"{low}%"),
            )
        )
    found = list(s.execute(stmt.order_by(Client.name, Client.id).limit(CLIENT_CHOICES)).all())
    seen = {row[0] for row in found}
    wanted = set()
    for value in picked:
        try:
            wanted.add(int(value))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            continue
    missing = wanted - seen
    if missing:
        found += s.execute(select(*columns).where(Client.id.in_(missing))).all()
        found.sort(key=lambda row: (row[1], row[0]))
    return [ClientOption(*row) for row in found]


def staff_billing_view(
    actor: Actor,
    *,
    status: str | None = None,
    client_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    page: int = 1,
    per_page: int = 25,
    client_search: str | None = None,
    client_ids: Iterable[int | None] = (),
    today: date | None = None,
    session: Session | None = None,
) -> StaffBillingView:
    """The back office: filtered invoices, receipts waiting for review, and the clients to
    pick from: those matching ``client_search`` (the first ``CLIENT_CHOICES`` by name), plus
    ``client_ids`` (the ones already picked), so a book of thousands never fills a list."""
    require(actor, "billing")
    day = today or business_day(get_settings().tz)
    with reading(session) as s:
        invoices = _list(
            s,
            actor,
            status=status,
            client_id=client_id,
            date_from=date_from,
            date_to=date_to,
            page=page,
            per_page=per_page,
            today=day,
        )
        pending = s.execute(
            select(TransferReceipt, Client.name, Invoice.number, Invoice.status, Upload.filename)
            .join(Client, Client.id == TransferReceipt.client_id)
            .join(Invoice, Invoice.id == TransferReceipt.invoice_id)
            .join(Upload, Upload.id == TransferReceipt.upload_id)
            .where(TransferReceipt.status == "pending")
            .order_by(TransferReceipt.created_at, TransferReceipt.id)
            .limit(100)
        ).all()
        clients = _client_choices(s, client_search, client_ids)
        return StaffBillingView(
            invoices=invoices,
            pending_receipts=[
                PendingReceipt(
                    id=r.id,
                    created_at=r.created_at,
                    client_id=r.client_id,
                    client_name=name,
                    invoice_id=r.invoice_id,
                    invoice_number=number,
                    invoice_status=inv_status,
                    amount=r.amount,
                    reference=r.reference,
                    filename=filename,
                )
                for r, name, number, inv_status, filename in pending
            ],
            clients=clients,
        )
