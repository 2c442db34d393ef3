"""Report frames (their safe exports are ``core.insights.exports``).

Report frames (pandas) for the owner's reports page, each for a date range and aggregated in
SQL (the rules are ``core.insights.revenue``'s and ``core.insights.churn``'s): income by month (paid
invoices, base and IVA apart), MRR trend, aging detail, services by product and status, churn
and its reasons, and ticket statistics (``core.support.stats``). Column names are stable
identifiers the page translates (``reports.col.<name>``); money columns hold Decimals. Every
report needs the ``reports`` right; money needs ``billing`` too: income, MRR and aging are
refused without it, and the services and churn reports drop their money column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from core.access import Actor, require
from core.insights import churn as kpis_churn
from core.insights import common as kpis_common
from core.insights import exports
from core.insights import revenue as kpis_money
from core.models import Client, Invoice, Product, Service, ServiceAddon
from core.platform.db import reading
from core.rules.money import ZERO
from core.support import stats as tickets_stats

INCOME_COLUMNS = ("month", "invoices", "base", "iva", "total")
MRR_COLUMNS = ("month", "mrr", "services")
AGING_COLUMNS = ("number", "client", "issued_on", "due_on", "days_past_due", "bucket", "balance")
SERVICES_COLUMNS = ("product", "status", "services", "mrr")
CHURN_COLUMNS = ("month", "cancellations", "terminations", "ended", "lost_mrr")
REASON_COLUMNS = ("reason", "count")
INVOICE_COLUMNS = (
    "number",
    "client_id",
    "issued_on",
    "due_on",
    "status",
    "subtotal",
    "tax_total",
    "total",
    "balance",
)
AGING_LIMIT = 5000
CHUNK = 50_000  # rows of the invoices' export read and written at a time
MAX_MONTHS = 120


def _report(actor: Actor) -> None:
    require(actor, "reports")


def _money_report(actor: Actor) -> None:
    require(actor, "reports")
    require(actor, "billing")


def _range(first: date, last: date) -> tuple[date, date]:
    if last < first:
        first, last = last, first
    if (last - first).days > MAX_MONTHS * 31:
        first = kpis_common.add_months(last, -MAX_MONTHS)
    return first, last


def _label(month: date) -> str:
    return month.strftime("%Y-%m")


def income_by_month(
    actor: Actor, first: date, last: date, *, session: Session | None = None
) -> pd.DataFrame:
    """Paid invoices by the month they were paid (business time zone), ``first``..``last``
    inclusive: how many, their base, their IVA and their total."""
    _money_report(actor)
    first, last = _range(first, last)
    months = kpis_common.months_between(first, last)
    starts = [first, *months[1:], last + timedelta(days=1)]
    bounds = [kpis_common.utc_start(d) for d in starts]
    inner = (
        select(
            kpis_common.month_index(Invoice.paid_at, bounds).label("m"),
            Invoice.subtotal.label("base"),
            Invoice.tax_total.label("iva"),
            Invoice.total.label("total"),
        )
        .where(Invoice.status == "paid", Invoice.paid_at >= bounds[0], Invoice.paid_at < bounds[-1])
        .subquery("paid")
    )
    with reading(session) as s:
        rows = {
            int(m): (int(n), kpis_common.dec(b), kpis_common.dec(i), kpis_common.dec(t))
            for m, n, b, i, t in s.execute(
                select(
                    inner.c.m,
                    func.count(),
                    func.sum(inner.c.base),
                    func.sum(inner.c.iva),
                    func.sum(inner.c.total),
                ).group_by(inner.c.m)
            ).all()
        }
    zero = (0, ZERO, ZERO, ZERO)
    return pd.DataFrame(
        [(_label(m), *rows.get(i, zero)) for i, m in enumerate(months)],
        columns=list(INCOME_COLUMNS),
    )


def _invoices() -> Select:
    """Every invoice, in ``INVOICE_COLUMNS`` order, by id: those columns only."""
    return select(
        Invoice.number,
        Invoice.client_id,
        Invoice.issued_on,
        Invoice.due_on,
        Invoice.status,
        Invoice.subtotal,
        Invoice.tax_total,
        Invoice.total,
        Invoice.balance,
    ).order_by(Invoice.id)


def invoices_csv(
    actor: Actor, dialect: exports.Dialect = exports.PLAIN, *, session: Session | None = None
) -> bytes:
    """Every invoice as a safe CSV (``exports.export_columns_csv``), money as Decimals.

    One Core select of those columns only, its rows taken from the driver's cursor ``CHUNK``
    at a time and each column's values converted by its type (cents to Decimal, text to
    date) once per distinct value: at 480,000 invoices, SQLAlchemy's row objects, the ORM or
    a frame each cost more than the file, and holding every row at once made the garbage
    collector walk them again and again."""
    _money_report(actor)
    with reading(session) as s:
        return exports.export_columns_csv(INVOICE_COLUMNS, _typed_parts(s, _invoices()), dialect)


def invoices_xlsx(actor: Actor, *, session: Session | None = None) -> bytes:
    """Every invoice as a safe XLSX (``exports.export_columns_xlsx``), read like
    ``invoices_csv``: a part of the rows alive at a time, never the whole book as a frame, and
    on further sheets past the rows one sheet holds."""
    _money_report(actor)
    with reading(session) as s:
        return exports.export_columns_xlsx(INVOICE_COLUMNS, _typed_parts(s, _invoices()))


def _typed_parts(s: Session, stmt: Select) -> Iterator[list[Sequence[Any]]]:
    """``stmt``'s rows in parts of ``CHUNK``, each part as columns of values of the columns'
    types, read from the driver's own cursor (SQLAlchemy's rows cost more than the file)."""
    conn = s.connection()
    dialect = conn.dialect
    if dialect.name == "postgresql":
        # psycopg's ordinary cursor receives the whole result before the first row is read
        # (4.8 million invoices at ten times scale L: gigabytes in the app's process); a
        # named cursor is PostgreSQL's own, sending a part at a time. SQLAlchemy's
        # stream_results reads one row ahead into its own buffer, which the driver's cursor
        # then no longer has, so the cursor is opened here.
        compiled = stmt.compile(dialect=dialect)
        cursor = conn.connection.dbapi_connection.cursor(name="anfitrion_export")  # type: ignore[union-attr]
        cursor.execute(str(compiled), compiled.params or None)
    else:  # SQLite's cursor steps through the result as it is read
        cursor = conn.execute(stmt).cursor
    try:
        processors = [  # the driver's type of each column: PostgreSQL's NUMERIC needs it
            column.type.dialect_impl(dialect).result_processor(dialect, described[1])
            for column, described in zip(stmt.selected_columns, cursor.description, strict=True)
        ]
        while part := cursor.fetchmany(CHUNK):
            columns = zip(*part, strict=True)
            yield [
                _converted(values, convert)
                for values, convert in zip(columns, processors, strict=True)
            ]
    finally:
        cursor.close()


def _converted(values: tuple, convert: Callable[[Any], Any] | None) -> Sequence[Any]:
    if convert is None:
        return values
    table = {value: convert(value) for value in set(values)}  # cents, days: few distinct
    return list(map(table.__getitem__, values))


def invoices_frame(actor: Actor, *, session: Session | None = None) -> pd.DataFrame:
    """Every invoice as a frame (``INVOICE_COLUMNS``): what the streamed exports
    (``invoices_csv``, ``invoices_xlsx``) write, all at once in memory, for a small book."""
    _money_report(actor)
    with reading(session) as s:
        rows = s.connection().execute(_invoices()).all()
    return pd.DataFrame.from_records(rows, columns=list(INVOICE_COLUMNS))


def mrr_trend(
    actor: Actor, first: date, last: date, today: date, *, session: Session | None = None
) -> pd.DataFrame:
    """MRR per month from ``first``'s month to ``last``'s (never past today)."""
    _money_report(actor)
    first, last = _range(first, last)
    points = kpis_money.mrr_trend(actor, today, first=first, last=last, session=session)
    return pd.DataFrame(
        [(_label(p.month), p.mrr, p.services) for p in points], columns=list(MRR_COLUMNS)
    )


def aging_detail(
    actor: Actor,
    today: date,
    *,
    issued_from: date | None = None,
    issued_to: date | None = None,
    limit: int = AGING_LIMIT,
    session: Session | None = None,
) -> pd.DataFrame:
    """Every unpaid invoice (issued in the range, when given) with its days past due and
    aging bucket on ``today``, the oldest due first; at most ``limit`` rows."""
    _money_report(actor)
    conds = [Invoice.status == "unpaid"]
    if issued_from is not None:
        conds.append(Invoice.issued_on >= issued_from)
    if issued_to is not None:
        conds.append(Invoice.issued_on <= issued_to)
    with reading(session) as s:
        rows = s.execute(
            select(
                Invoice.number,
                func.coalesce(Client.company, Client.name),
                Invoice.issued_on,
                Invoice.due_on,
                Invoice.balance,
            )
            .join(Client, Client.id == Invoice.client_id)
            .where(*conds)
            .order_by(Invoice.due_on, Invoice.id)
            .limit(max(1, min(int(limit), AGING_LIMIT)))
        ).all()
    return pd.DataFrame(
        [
            (
                number or "",
                client,
                issued,
                due,
                max(0, (today - due).days),
                kpis_money.aging_bucket_of(due, today),
                balance,
            )
            for number, client, issued, due, balance in rows
        ],
        columns=list(AGING_COLUMNS),
    )


def services_by_product(
    actor: Actor,
    first: date | None = None,
    last: date | None = None,
    *,
    session: Session | None = None,
) -> pd.DataFrame:
    """Services per product and status (registered from ``first`` to ``last`` when given),
    with the MRR of the active ones for those with the billing right."""
    _report(actor)
    conds = []
    if first is not None:
        conds.append(Service.registration_date >= first)
    if last is not None:
        conds.append(Service.registration_date <= last)
    with reading(session) as s:
        rows = s.execute(
            select(
                Product.name,
                Service.status,
                Service.billing_cycle,
                func.count(),
                func.sum(Service.recurring_amount),
            )
            .join(Product, Product.id == Service.product_id)
            .where(*conds)
            .group_by(Product.name, Service.status, Service.billing_cycle)
        ).all()
        # Add-ons are rows of their own product, at their parent's cycle (issue 19).
        since = [func.date(ServiceAddon.created_at) >= first] if first is not None else []
        until = [func.date(ServiceAddon.created_at) <= last] if last is not None else []
        extras = s.execute(
            select(
                Product.name,
                ServiceAddon.status,
                Service.billing_cycle,
                func.count(),
                func.sum(ServiceAddon.recurring_amount),
            )
            .join(Product, Product.id == ServiceAddon.product_id)
            .join(Service, Service.id == ServiceAddon.service_id)
            .where(*since, *until)
            .group_by(Product.name, ServiceAddon.status, Service.billing_cycle)
        ).all()
    counts: dict[tuple[str, str], int] = {}
    amounts: dict[tuple[str, str], list[tuple[str, object]]] = {}
    for product, status, cycle, n, total in [*rows, *extras]:
        key = (product, status)
        counts[key] = counts.get(key, 0) + int(n)
        if status == "active" and cycle in kpis_common.RECURRING:
            amounts.setdefault(key, []).append((cycle, total))
    money = actor.can("billing")
    frame = pd.DataFrame(
        [
            (product, status, n, kpis_common.normalised(amounts.get((product, status), [])))
            for (product, status), n in sorted(counts.items())
        ],
        columns=list(SERVICES_COLUMNS),
    )
    return frame if money else frame.drop(columns=["mrr"])


def churn(
    actor: Actor, first: date, last: date, today: date, *, session: Session | None = None
) -> pd.DataFrame:
    """Cancellation requests, terminations, ended services and (billing) lost MRR by month."""
    _report(actor)
    first, last = _range(first, last)
    months = kpis_churn.churn(actor, today, first=first, last=last, session=session)
    frame = pd.DataFrame(
        [(_label(m.month), m.cancellations, m.terminations, m.ended, m.lost_mrr) for m in months],
        columns=list(CHURN_COLUMNS),
    )
    return frame if actor.can("billing") else frame.drop(columns=["lost_mrr"])


def churn_reasons(
    actor: Actor, first: date, last: date, *, session: Session | None = None
) -> pd.DataFrame:
    _report(actor)
    first, last = _range(first, last)
    reasons = kpis_churn.churn_reasons(actor, first, last, session=session)
    return pd.DataFrame([(r.reason, r.count) for r in reasons], columns=list(REASON_COLUMNS))


def ticket_stats(
    actor: Actor,
    first: date,
    last: date,
    at: datetime,
    group: str = "department",
    *,
    session: Session | None = None,
) -> pd.DataFrame:
    """Tickets opened from ``first`` to ``last`` by department, staff member or priority:
    volume, response and resolution hours, SLA breaches (``core.support.stats``)."""
    _report(actor)
    first, last = _range(first, last)
    return tickets_stats.stats_by(
        actor,
        group,
        since=kpis_common.utc_start(first),
        until=kpis_common.utc_start(last + timedelta(days=1)),
        at=at,
        session=session,
    )


def ticket_volume(
    actor: Actor, first: date, last: date, *, session: Session | None = None
) -> pd.DataFrame:
    """Tickets opened and closed per day from ``first`` to ``last``."""
    _report(actor)
    first, last = _range(first, last)
    return tickets_stats.volume_by_day(
        actor,
        since=kpis_common.utc_start(first),
        until=kpis_common.utc_start(last + timedelta(days=1)),
        session=session,
    )
