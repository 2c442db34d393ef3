"""Report frames: their numbers, their rights, and exports that round-trip, neutralise
formulas and never carry a secret column."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select, text

from core import billing
from core.access import Actor
from core.accounts import team as users
from core.insights import exports, reports
from core.insights.exports import _SECRET_COLUMN, export_csv, export_xlsx
from core.models import CancellationRequest, Client, Invoice
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden

TODAY = date(2026, 11, 26)
AT = datetime(2026, 11, 26, 17)
FIRST, LAST = date(2025, 12, 1), TODAY


@pytest.fixture
def shop(personas):
    """Two paid invoices in different months, an evil-named client owing, a cancellation."""
    owner, a, b = personas.owner.actor, personas.client_a, personas.client_b
    paid = billing.create_invoice(
        owner,
        a.actor.client_id,
        [billing.LineInput("Hosting", "20.00")],
        issued_on=date(2026, 9, 2),
    )
    billing.record_payment(owner, [paid], "23.00")
    late = billing.create_invoice(
        owner,
        b.actor.client_id,
        [billing.LineInput("Dominio", "8.00")],
        issued_on=date(2026, 7, 1),
        due_on=date(2026, 7, 10),
    )
    with unit_of_work() as s:
        s.get(Client, b.actor.client_id).company = '=HYPERLINK("http://evil.example","x")'
        # Paid in September (local time): income is counted by the month it was paid.
        s.get(Invoice, paid).paid_at = datetime(2026, 9, 15, 15)
        s.add(
            CancellationRequest(
                service_id=a.service_id,
                type="immediate",
                reason="@SUM(1+1) demasiado caro",
                requested_at=datetime(2026, 10, 7, 15),
                effective_date=date(2026, 10, 7),
            )
        )
    return personas, paid, late


def staff_with(personas, *areas: str) -> Actor:
    users.set_access(
        personas.owner.actor,
        personas.staff.actor.user_id,
        permissions=list(areas),
        active=True,
        at=now(),
    )
    return Actor(
        personas.staff.actor.user_id, "staff", email="staff@test.ec", permissions=frozenset(areas)
    )


def round_trip_csv(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(export_csv(frame)), encoding="utf-8-sig", dtype=str)


def round_trip_xlsx(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.read_excel(io.BytesIO(export_xlsx(frame)), engine="openpyxl")


def test_income_by_month_keeps_iva_apart(shop):
    personas, paid, _ = shop
    owner = personas.owner.actor
    frame = reports.income_by_month(owner, FIRST, LAST)
    assert list(frame.columns) == list(reports.INCOME_COLUMNS)
    assert len(frame) == 12 and frame["month"].iloc[0] == "2025-12"
    september = frame.set_index("month").loc["2026-09"]
    assert september["invoices"] == 1
    assert (september["base"], september["iva"], september["total"]) == (
        Decimal("20.00"),
        Decimal("3.00"),
        Decimal("23.00"),
    )
    with read_session() as s:
        paid_total = s.execute(
            text("SELECT SUM(total) FROM invoice WHERE status = 'paid' AND paid_at >= :a"),
            {"a": datetime(2025, 12, 1, 5)},
        ).scalar_one()
        cents = s.get_bind().dialect.name == "sqlite"  # stored as integer cents (money_type)
    stored = Decimal(str(paid_total))
    assert sum(frame["total"]) == (stored / 100 if cents else stored)
    assert all(frame["base"] + frame["iva"] == frame["total"])


def test_aging_detail_lists_unpaid_invoices_oldest_first(shop):
    personas, _, late = shop
    frame = reports.aging_detail(personas.owner.actor, TODAY)
    assert list(frame.columns) == list(reports.AGING_COLUMNS)
    with read_session() as s:
        unpaid = s.scalars(select(Invoice).where(Invoice.status == "unpaid")).all()
    assert len(frame) == len(unpaid)
    first = frame.iloc[0]
    assert first["due_on"] == date(2026, 7, 10) and first["days_past_due"] == 139
    assert first["bucket"] == "d90_plus" and first["balance"] == Decimal("9.20")
    issued = reports.aging_detail(
        personas.owner.actor, TODAY, issued_from=date(2026, 11, 1), issued_to=TODAY
    )
    assert date(2026, 7, 10) not in set(issued["due_on"])


def test_mrr_services_and_churn_frames(shop):
    personas, _, _ = shop
    owner = personas.owner.actor
    mrr = reports.mrr_trend(owner, FIRST, date(2027, 3, 1), TODAY)
    assert list(mrr.columns) == list(reports.MRR_COLUMNS)
    assert mrr["month"].iloc[-1] == "2026-11"  # never beyond today
    assert mrr["mrr"].iloc[-1] == Decimal("20.00")  # two active monthly services of 10.00
    services = reports.services_by_product(owner)
    assert services.to_dict("records") == [
        {"product": "Básico", "status": "active", "services": 2, "mrr": Decimal("20.00")}
    ]
    churn = reports.churn(owner, FIRST, LAST, TODAY).set_index("month")
    assert churn.loc["2026-10", "cancellations"] == 1
    reasons = reports.churn_reasons(owner, FIRST, LAST)
    assert reasons.to_dict("records") == [{"reason": "@SUM(1+1) demasiado caro", "count": 1}]


def test_ticket_statistics_come_from_the_desk(shop):
    personas, _, _ = shop
    frame = reports.ticket_stats(personas.owner.actor, FIRST, date.today() + timedelta(days=1), AT)
    assert frame["opened"].sum() == 2  # the personas' two tickets
    volume = reports.ticket_volume(personas.owner.actor, FIRST, date.today() + timedelta(days=1))
    assert volume["opened"].sum() == 2


def test_every_frame_round_trips_through_csv_and_xlsx(shop):
    personas, _, _ = shop
    owner = personas.owner.actor
    frames = {
        "income": reports.income_by_month(owner, FIRST, LAST),
        "mrr": reports.mrr_trend(owner, FIRST, LAST, TODAY),
        "aging": reports.aging_detail(owner, TODAY),
        "services": reports.services_by_product(owner),
        "churn": reports.churn(owner, FIRST, LAST, TODAY),
        "reasons": reports.churn_reasons(owner, FIRST, LAST),
        "tickets": reports.ticket_stats(owner, FIRST, date.today() + timedelta(days=1), AT),
    }
    for name, frame in frames.items():
        assert not any(_SECRET_COLUMN.search(c) for c in frame.columns), name
        back = round_trip_csv(frame)
        assert list(back.columns) == list(frame.columns), name
        assert len(back) == len(frame), name
        sheet = round_trip_xlsx(frame)
        assert list(sheet.columns) == list(frame.columns) and len(sheet) == len(frame), name
        for column in frame.columns:
            for mine, theirs in zip(frame[column], sheet[column], strict=True):
                if isinstance(mine, Decimal):
                    assert Decimal(str(theirs)).quantize(Decimal("0.01")) == mine, (name, column)
    income = round_trip_csv(frames["income"]).set_index("month")
    assert income.loc["2026-09", "total"] == "23.00"  # money exact, as text


def test_formula_cells_are_neutralised_in_exports(shop):
    personas, _, _ = shop
    owner = personas.owner.actor
    aging = reports.aging_detail(owner, TODAY)
    assert '=HYPERLINK("http://evil.example","x")' in set(aging["client"])
    csv = round_trip_csv(aging)
    assert '\'=HYPERLINK("http://evil.example","x")' in set(csv["client"])
    sheet = round_trip_xlsx(aging)
    assert '\'=HYPERLINK("http://evil.example","x")' in set(sheet["client"])
    reasons = round_trip_xlsx(reports.churn_reasons(owner, FIRST, LAST))
    assert reasons["reason"].tolist() == ["'@SUM(1+1) demasiado caro"]


def test_a_secret_column_never_reaches_an_export(shop):
    personas, _, _ = shop
    frame = reports.services_by_product(personas.owner.actor)
    frame["password_hash"] = "$2b$12$abc"
    frame["api_token"] = "tok"
    for data in (export_csv(frame), export_xlsx(frame)):
        sheet = round_trip_csv(frame) if data[:3] == b"\xef\xbb\xbf" else round_trip_xlsx(frame)
        assert "password_hash" not in sheet.columns and "api_token" not in sheet.columns
    assert b"$2b$" not in export_csv(frame) and b"tok" not in export_csv(frame)


def test_staff_without_billing_get_no_money_reports(shop):
    personas, _, _ = shop
    reporter = staff_with(personas, "tickets", "reports")
    for report in (
        lambda: reports.income_by_month(reporter, FIRST, LAST),
        lambda: reports.mrr_trend(reporter, FIRST, LAST, TODAY),
        lambda: reports.aging_detail(reporter, TODAY),
        lambda: reports.invoices_csv(reporter),
        lambda: reports.invoices_frame(reporter),
        lambda: reports.invoices_xlsx(reporter),
    ):
        with pytest.raises(Forbidden):
            report()
    services = reports.services_by_product(reporter)
    assert "mrr" not in services.columns and services["services"].sum() == 2
    churn = reports.churn(reporter, FIRST, LAST, TODAY)
    assert "lost_mrr" not in churn.columns and churn["cancellations"].sum() == 1
    assert reports.ticket_stats(reporter, FIRST, date.today() + timedelta(days=1), AT)[
        "opened"
    ].sum()


def test_reports_need_the_reports_right(shop):
    personas, _, _ = shop
    biller = staff_with(personas, "billing")
    for actor in (personas.staff.actor, biller, personas.client_a.actor):
        for report in (
            lambda a=actor: reports.services_by_product(a),
            lambda a=actor: reports.churn(a, FIRST, LAST, TODAY),
            lambda a=actor: reports.churn_reasons(a, FIRST, LAST),
            lambda a=actor: reports.income_by_month(a, FIRST, LAST),
            lambda a=actor: reports.ticket_stats(a, FIRST, LAST, AT),
        ):
            with pytest.raises(Forbidden):
                report()


def test_the_invoices_export_is_the_frame_export_of_every_invoice(shop, monkeypatch):
    """The book's CSV (read in parts from the cursor, converted per column) writes what
    ``export_csv`` writes for the same invoices as a frame, in both dialects, part by part."""
    personas, _, _ = shop
    owner = personas.owner.actor
    monkeypatch.setattr(reports, "CHUNK", 1)  # one invoice a part: the parts join up
    frame = reports.invoices_frame(owner)
    assert list(frame.columns) == list(reports.INVOICE_COLUMNS) and len(frame) >= 2
    assert isinstance(frame["total"][0], Decimal) and isinstance(frame["issued_on"][0], date)
    for dialect in (exports.PLAIN, exports.SPANISH_EXCEL):
        assert reports.invoices_csv(owner, dialect) == export_csv(frame, dialect)
    assert {"23.00", "9.20"} <= set(round_trip_csv(frame)["total"])


def test_the_invoices_xlsx_keeps_every_invoice_across_sheets(shop, monkeypatch):
    """The book's XLSX, streamed part by part from the cursor, holds every invoice with the
    cells the frame's export writes, going on to a new sheet (under the header) wherever a
    sheet is full: one invoice a sheet here, one a part."""
    personas, _, _ = shop
    owner = personas.owner.actor
    monkeypatch.setattr(reports, "CHUNK", 1)
    frame = reports.invoices_frame(owner)
    whole = openpyxl.load_workbook(io.BytesIO(export_xlsx(frame))).active
    header, *expected = list(whole.iter_rows(values_only=True))
    monkeypatch.setattr(exports, "SHEET_ROWS", 2)
    book = openpyxl.load_workbook(io.BytesIO(reports.invoices_xlsx(owner)))
    assert len(book.worksheets) == len(frame) >= 2
    sheets = [list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets]
    assert all(rows[0] == header == tuple(reports.INVOICE_COLUMNS) for rows in sheets)
    assert [row for rows in sheets for row in rows[1:]] == expected
    money = book.worksheets[-1].cell(row=2, column=len(header))
    assert "$" in money.number_format
