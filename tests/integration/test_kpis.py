# ruff: noqa: S608 - the SQL here is the test's own text with constant fragments
"""The owner's home figures on the demo book, each matched by an independent SQL query.

The demo book is loaded for a fixed day, then given what it lacks for a fair test: unpaid
invoices 45 and 120 days late, cancellation requests with reasons in two months, a payment
last month. Every figure of ``core.insights.kpis`` and its parts (``kpis_money``, ``kpis_churn``) is
then recomputed here with plain SQL text (its own date arithmetic per engine), never through
the code under test.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from core.access import Actor
from core.accounts import team as users
from core.insights import churn as kpis_churn
from core.insights import kpis
from core.insights import revenue as kpis_money
from core.models import (
    CancellationRequest,
    Client,
    Invoice,
    Payment,
    Service,
    User,
)
from core.platform import db, settings
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden
from core.rules.money import q2
from sandbox import demo

TODAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 17, 0)  # naive UTC, like the columns
MONTHS_72 = (
    "CASE billing_cycle WHEN 'monthly' THEN 72 WHEN 'quarterly' THEN 24 "
    "WHEN 'semiannually' THEN 12 WHEN 'annually' THEN 6 WHEN 'biennially' THEN 3 "
    "WHEN 'triennially' THEN 2 END"
)
RECURRING = "('monthly','quarterly','semiannually','annually','biennially','triennially')"


def sql(query: str, **params) -> list:
    with read_session() as s:
        return s.execute(text(query), params).all()


def one(query: str, **params):
    return sql(query, **params)[0][0]


def money(value) -> Decimal:
    """A raw SQL sum over money columns: SQLite stores them as integer cents (money_type)."""
    raw = Decimal(str(value if value is not None else 0))
    return q2(raw if postgres() else raw / 100)


def postgres() -> bool:
    return db.get_engine().dialect.name == "postgresql"


def days_late(column: str) -> str:
    """Days from ``column`` to :today, in the engine's own date arithmetic."""
    if postgres():
        return f"(CAST(:today AS DATE) - {column})"
    return f"CAST(julianday(:today) - julianday({column}) AS INTEGER)"


def month_of(column: str) -> str:
    return f"to_char({column}, 'YYYY-MM')" if postgres() else f"strftime('%Y-%m', {column})"


@pytest.fixture
def book(database):
    """The demo book plus late invoices, cancellation requests and last month's payment."""
    with unit_of_work() as s:
        demo.load(s, TODAY)
    with unit_of_work() as s:
        clients = s.scalars(select(Client).order_by(Client.id)).all()
        for client, late, amount in ((clients[3], 45, "20.00"), (clients[4], 120, "33.33")):
            s.add(
                Invoice(
                    number=f"F-LATE-{late}",
                    client_id=client.id,
                    issued_on=TODAY - timedelta(days=late + 14),
                    due_on=TODAY - timedelta(days=late),
                    status="unpaid",
                    subtotal=Decimal(amount),
                    total=Decimal(amount),
                    balance=Decimal(amount),
                )
            )
        s.add(
            Payment(
                client_id=clients[5].id,
                amount=Decimal("77.70"),
                method="cash",
                received_on=date(2026, 10, 30),
            )
        )
        cancelled = s.scalars(select(Service).where(Service.status == "cancelled")).all()
        active = s.scalars(
            select(Service).where(Service.status == "active").order_by(Service.id)
        ).all()
        requests = [
            (cancelled[0], "Precio muy alto", datetime(2026, 9, 10, 15), date(2026, 9, 30)),
            (active[0], "Precio muy alto", datetime(2026, 11, 3, 15), date(2026, 12, 31)),
            (active[1], "Cierra el negocio", datetime(2026, 11, 20, 15), date(2027, 1, 15)),
        ]
        if len(cancelled) > 1:
            requests.append(
                (cancelled[1], "Se muda a otro proveedor", datetime(2026, 10, 5, 15), None)
            )
        for service, reason, at, effective in requests:
            s.add(
                CancellationRequest(
                    service_id=service.id,
                    type="end_of_billing_period",
                    reason=reason,
                    requested_at=at,
                    effective_date=effective or (at.date() + timedelta(days=3)),
                )
            )
        owner = s.scalars(select(User).where(User.role == "owner")).one()
        staff = s.scalars(select(User).where(User.role == "staff")).one()
        return (
            Actor(user_id=owner.id, role="owner", email=owner.email),
            Actor(
                user_id=staff.id,
                role="staff",
                email=staff.email,
                permissions=frozenset(staff.permissions),
            ),
        )


def test_mrr_is_active_recurring_services_brought_to_a_month(book):
    owner, _ = book
    expected = one(
        f"SELECT SUM(recurring_amount * {MONTHS_72}) FROM service "
        f"WHERE status = 'active' AND billing_cycle IN {RECURRING}"
    )
    assert kpis_money.mrr(owner) == q2(money(expected) / 72)
    assert kpis_money.mrr(owner) > 0


def test_the_trend_rebuilds_each_month_end_from_service_dates(book):
    owner, _ = book
    trend = kpis_money.mrr_trend(owner, TODAY)
    assert len(trend) == 12 and trend[-1].at == TODAY and trend[0].month == date(2025, 12, 1)
    assert trend[-1].mrr == kpis_money.mrr(owner)
    for point in trend[:-1]:
        expected = one(
            f"SELECT SUM(s.recurring_amount * {MONTHS_72}), COUNT(*) FROM service s "
            "LEFT JOIN (SELECT service_id, MAX(effective_date) AS eff FROM cancellation_request "
            "GROUP BY service_id) c ON c.service_id = s.id "
            f"WHERE s.status NOT IN ('pending', 'fraud') AND s.billing_cycle IN {RECURRING} "
            "AND s.registration_date <= :p AND (s.status NOT IN ('cancelled', 'terminated') "
            "OR COALESCE(s.terminated_on, c.eff, s.next_due_date, s.registration_date) > :p)",
            p=point.at,
        )
        assert point.mrr == q2(money(expected) / 72), point


def test_cash_this_month_against_last_month(book):
    owner, _ = book
    cash = kpis_money.cash_collected(owner, TODAY)
    this = one(
        "SELECT SUM(amount) FROM payment WHERE received_on BETWEEN :a AND :b",
        a=date(2026, 11, 1),
        b=TODAY,
    )
    last = one(
        "SELECT SUM(amount) FROM payment WHERE received_on BETWEEN :a AND :b",
        a=date(2026, 10, 1),
        b=date(2026, 10, 31),
    )
    to_date = one(
        "SELECT SUM(amount) FROM payment WHERE received_on BETWEEN :a AND :b",
        a=date(2026, 10, 1),
        b=date(2026, 10, 26),
    )
    assert (cash.this_month, cash.last_month, cash.last_month_to_date) == (
        money(this),
        money(last),
        money(to_date),
    )
    assert cash.last_month >= Decimal("77.70")


def test_aging_buckets_by_days_past_due(book):
    owner, _ = book
    late = days_late("due_on")
    rows = sql(
        f"SELECT CASE WHEN {late} < 0 THEN 'current' WHEN {late} <= 30 THEN 'd0_30' "
        f"WHEN {late} <= 60 THEN 'd31_60' WHEN {late} <= 90 THEN 'd61_90' ELSE 'd90_plus' END "
        "AS bucket, COUNT(*), SUM(balance) FROM invoice WHERE status = 'unpaid' GROUP BY 1",
        today=TODAY,
    )
    expected = {b: (n, money(total)) for b, n, total in rows}
    got = {b.bucket: (b.invoices, b.amount) for b in kpis_money.aging(owner, TODAY)}
    assert set(got) == set(kpis_money.AGING_BUCKETS)
    for bucket in kpis_money.AGING_BUCKETS:
        assert got[bucket] == expected.get(bucket, (0, Decimal("0.00"))), bucket
    assert got["d31_60"][0] >= 1 and got["d90_plus"][0] >= 1 and got["d0_30"][0] >= 1
    total = one("SELECT SUM(balance) FROM invoice WHERE status = 'unpaid'")
    assert sum(a for _, a in got.values()) == money(total)


def test_expected_cash_in_over_the_next_30_days(book):
    owner, _ = book
    end = TODAY + timedelta(days=30)
    invoices = one(
        "SELECT SUM(balance) FROM invoice WHERE status = 'unpaid' AND due_on >= :a AND due_on < :b",
        a=TODAY,
        b=end,
    )
    renewals = sql(
        "SELECT SUM(s.recurring_amount), COUNT(*) FROM service s WHERE s.status = 'active' "
        f"AND s.billing_cycle IN {RECURRING} AND s.next_due_date >= :a AND s.next_due_date < :b "
        "AND NOT EXISTS (SELECT 1 FROM invoice_item ii JOIN invoice i ON i.id = ii.invoice_id "
        "WHERE ii.service_id = s.id AND ii.kind = 'renewal' AND ii.period_start = s.next_due_date "
        "AND i.status IN ('draft', 'unpaid', 'paid'))",
        a=TODAY,
        b=end,
    )[0]
    cash_in = kpis_money.expected_cash_in(owner, TODAY)
    assert cash_in.invoices == money(invoices)
    assert cash_in.renewals_base == money(renewals[0])
    assert cash_in.renewal_count == renewals[1] and cash_in.renewal_count > 0
    assert cash_in.renewals == q2(money(renewals[0]) * Decimal("1.15"))  # IVA 15 % today
    assert cash_in.total == cash_in.invoices + cash_in.renewals
    assert sum(d.invoices for d in cash_in.days) == cash_in.invoices


def test_cash_in_adds_no_iva_when_prices_include_it(book):
    owner, _ = book
    settings.put(owner, "prices_include_tax", True)
    cash_in = kpis_money.expected_cash_in(owner, TODAY)
    assert cash_in.renewals == cash_in.renewals_base and cash_in.iva_rate == 0


def test_churn_per_month_with_reasons(book):
    owner, _ = book
    months = kpis_churn.churn(owner, TODAY)
    assert [m.month for m in months][-3:] == [
        date(2026, 9, 1),
        date(2026, 10, 1),
        TODAY.replace(day=1),
    ]
    by_month = {m.month.strftime("%Y-%m"): m for m in months}
    requests = dict(
        sql(f"SELECT {month_of('requested_at')}, COUNT(*) FROM cancellation_request GROUP BY 1")
    )
    terminations = dict(
        sql(
            f"SELECT {month_of('terminated_on')}, COUNT(*) FROM service "
            "WHERE terminated_on IS NOT NULL GROUP BY 1"
        )
    )
    ended = sql(
        f"SELECT {month_of('e')}, COUNT(*), SUM(amount * m) FROM ("
        "SELECT COALESCE(s.terminated_on, c.eff, s.next_due_date) AS e, "
        f"s.recurring_amount AS amount, {MONTHS_72} AS m FROM service s LEFT JOIN "
        "(SELECT service_id, MAX(effective_date) AS eff FROM cancellation_request "
        "GROUP BY service_id) c ON c.service_id = s.id "
        "WHERE s.status IN ('cancelled', 'terminated')) x WHERE e IS NOT NULL GROUP BY 1"
    )
    lost = {month: (n, q2(money(total) / 72)) for month, n, total in ended}
    for key, month in by_month.items():
        assert month.cancellations == requests.get(key, 0), key
        assert month.terminations == terminations.get(key, 0), key
        assert (month.ended, month.lost_mrr) == lost.get(key, (0, Decimal("0.00"))), key
    assert by_month["2026-11"].cancellations == 2 and by_month["2026-11"].terminations >= 1
    reasons = kpis_churn.churn_reasons(owner, date(2025, 12, 1), TODAY)
    assert reasons[0].reason == "Precio muy alto" and reasons[0].count == 2
    assert {r.reason: r.count for r in reasons} == dict(
        sql("SELECT reason, COUNT(*) FROM cancellation_request GROUP BY reason")
    )


def test_open_tickets_and_sla_breaches(book):
    owner, staff = book
    figures = kpis.ticket_figures(staff, AT)
    assert figures.open == one("SELECT COUNT(*) FROM ticket WHERE status <> 'closed'")
    assert figures.breached == one(
        "SELECT COUNT(*) FROM ticket WHERE status <> 'closed' "
        "AND (breached OR (sla_due_at IS NOT NULL AND sla_due_at < :at))",
        at=AT,
    )
    assert figures.unassigned == one(
        "SELECT COUNT(*) FROM ticket WHERE status <> 'closed' AND assignee_id IS NULL"
    )
    assert sum(figures.by_priority.values()) == figures.open
    assert kpis.ticket_figures(owner, AT) == figures


def test_the_home_figures_are_the_same_numbers(book):
    owner, _ = book
    home = kpis.home_figures(owner, TODAY, AT)
    assert home.mrr == kpis_money.mrr(owner)
    assert home.mrr_trend == kpis_money.mrr_trend(owner, TODAY)
    assert home.cash == kpis_money.cash_collected(owner, TODAY)
    assert home.aging == kpis_money.aging(owner, TODAY)
    assert home.cash_in == kpis_money.expected_cash_in(owner, TODAY)
    assert home.churn == kpis_churn.churn(owner, TODAY)
    assert home.tickets == kpis.ticket_figures(owner, AT)


def test_staff_without_billing_get_no_money_figures(book):
    _, staff = book
    assert not staff.can("billing")
    for figure in (
        lambda: kpis_money.mrr(staff),
        lambda: kpis_money.mrr_trend(staff, TODAY),
        lambda: kpis_money.cash_collected(staff, TODAY),
        lambda: kpis_money.aging(staff, TODAY),
        lambda: kpis_money.expected_cash_in(staff, TODAY),
        lambda: kpis_churn.churn(staff, TODAY),  # neither billing nor reports
    ):
        with pytest.raises(Forbidden):
            figure()
    home = kpis.home_figures(staff, TODAY, AT)
    assert home.mrr is None and home.cash is None and home.aging is None
    assert home.cash_in is None and home.mrr_trend is None and home.churn is None
    assert home.tickets is not None  # the tickets right
    # With the reports right, churn counts but never its money.
    with unit_of_work() as s:
        owner = s.scalars(select(User).where(User.role == "owner")).one()
        owner_actor = Actor(user_id=owner.id, role="owner")
    users.set_access(
        owner_actor, staff.user_id, permissions=["tickets", "reports"], active=True, at=now()
    )
    reporter = Actor(staff.user_id, "staff", permissions=frozenset({"tickets", "reports"}))
    months = kpis_churn.churn(reporter, TODAY)
    assert months and all(m.lost_mrr is None for m in months)
    assert kpis.home_figures(reporter, TODAY, AT).mrr is None


def test_clients_get_nothing(book):
    with read_session() as s:
        user = s.scalars(select(User).where(User.role == "client")).first()
    client = Actor(user.id, "client", client_id=user.client_id)
    for figure in (
        lambda: kpis.home_figures(client, TODAY, AT),
        lambda: kpis.ticket_figures(client, AT),
        lambda: kpis_churn.churn(client, TODAY),
        lambda: kpis_money.mrr(client),
    ):
        with pytest.raises(Forbidden):
            figure()
