"""Exports are safe to open in a spreadsheet and never carry secrets."""

import codecs
import csv
import io
import re
import shutil
import subprocess
from datetime import date
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest

from core.insights import exports
from core.insights.exports import (
    SPANISH_EXCEL,
    export_columns_csv,
    export_columns_xlsx,
    export_csv,
    export_csv_spanish,
    export_name,
    export_xlsx,
    neutralise,
)
from core.platform.i18n import t


@pytest.mark.parametrize("cell", ["=1+1", "+5", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_become_text(cell):
    assert neutralise(cell) == "'" + cell


def test_plain_text_and_numbers_are_untouched():
    assert neutralise("Quito") == "Quito" and neutralise(12) == 12


def test_csv_round_trips_and_neutralises():
    frame = pd.DataFrame({"cliente": ["Ana", '=HYPERLINK("x")'], "total": [10, 20]})
    back = pd.read_csv(io.BytesIO(export_csv(frame)), encoding="utf-8-sig")
    assert back["cliente"].tolist() == ["Ana", '\'=HYPERLINK("x")']
    assert back["total"].tolist() == [10, 20]


def test_xlsx_round_trips_and_neutralises():
    frame = pd.DataFrame({"nota": ["@cmd", "ok"], "valor": [1, 2]})
    back = pd.read_excel(io.BytesIO(export_xlsx(frame)), engine="openpyxl")
    assert back["nota"].tolist() == ["'@cmd", "ok"] and back["valor"].tolist() == [1, 2]


def test_secret_columns_never_leave():
    frame = pd.DataFrame({"email": ["a@x"], "password_hash": ["$2b$..."], "token": ["t"]})
    text = export_csv(frame).decode("utf-8-sig")
    assert "password_hash" not in text and "$2b$" not in text and "token" not in text


# ------------------------------------------------------------------ issue 16, item 13
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BREAKS = ("\r", "\n", "\r\n", ";", ",", "\t")


def nasty_texts() -> list[str]:
    """A formula start at the start, after every separator and line break, at the end."""
    texts = ["Quito", 'dice "hola"', "x;=1+1", "a\rb", "=1+1\r=2+2", "-38.81", "@SUM(A1)"]
    for start in FORMULA_STARTS:
        texts.append(f"{start}cmd|' /C calc'!A0")
        for sep in BREAKS:
            texts += [
                f"x{sep}{start}1+1",
                f"{start}1{sep}{start}2",
                f"x{sep}{start}",
                f"{sep}{start}",
            ]
    return texts


def nasty_frame() -> pd.DataFrame:
    texts = nasty_texts()
    amounts = [Decimal("-38.81"), Decimal("1234.50"), 7, -2.5, Decimal("0.00")]
    return pd.DataFrame(
        {
            "=nota;+x": texts,
            "monto": [amounts[i % len(amounts)] for i in range(len(texts))],
            "día": [date(2026, 12, 4)] * len(texts),
        }
    )


NUMBER = re.compile(r"-?\d+([.,]\d+)?")


def assert_no_formula_start(cell: str) -> None:
    """No cell, nor any piece of it that a separator or line break could make a cell, starts
    a formula; a leading minus is allowed only on a real number."""
    for piece in re.split(r"[,;\t\r\n]", cell):
        piece = piece.lstrip('"')
        if piece[:1] in ("=", "+", "@"):
            raise AssertionError(f"formula start in {cell!r}")
        if piece[:1] == "-" and not NUMBER.fullmatch(piece.rstrip('"')):
            raise AssertionError(f"minus start in {cell!r}")


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("x;=1+1", "x;'=1+1"),
        ("a\r=1", "a\r'=1"),
        ("a\n+1", "a\n'+1"),
        ("a,@b", "a,'@b"),
        ("a\t-1", "a\t'-1"),
        ("a,\t=1", "a,'\t'=1"),
        ("=1;=2", "'=1;'=2"),
        ("a-b+c", "a-b+c"),  # inside a word a sign is harmless
    ],
)
def test_a_formula_start_after_a_separator_or_line_break_is_neutralised(cell, safe):
    assert neutralise(cell) == safe


def test_the_plain_csv_round_trips_with_no_formula_start_anywhere():
    frame = nasty_frame()
    data = export_csv(frame)
    assert data.startswith(codecs.BOM_UTF8)
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == len(frame) + 1 and {len(r) for r in rows} == {3}
    assert rows[0] == ["'=nota;'+x", "monto", "día"]
    for (nota, amount, day), original in zip(rows[1:], frame.itertuples(index=False), strict=True):
        assert nota == neutralise(original[0])  # round-trips: the same text, made safe
        assert day == "2026-12-04"
        assert Decimal(amount) == Decimal(str(original[1]))
        for cell in (nota, amount, day):
            assert_no_formula_start(cell)
    assert rows[1 + nasty_texts().index("-38.81")][0] == "'-38.81"  # a text stays text
    assert [r[1] for r in rows[1:6]] == ["-38.81", "1234.50", "7", "-2.5", "0.00"]
    # Even a reader that ignores the quotes and splits on any separator finds no formula.
    assert_no_formula_start(text)


def test_every_text_field_is_quoted_and_numbers_are_bare():
    data = export_csv(pd.DataFrame({"a": ["x"], "n": [Decimal("-38.81")], "k": [3]}))
    assert data.decode("utf-8-sig") == '"a","n","k"\r\n"x",-38.81,3\r\n'


def test_the_spanish_csv_uses_semicolons_and_a_decimal_comma():
    frame = nasty_frame()
    text = export_csv_spanish(frame).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert len(rows) == len(frame) + 1 and {len(r) for r in rows} == {3}
    assert [r[1] for r in rows[1:6]] == ["-38,81", "1234,50", "7", "-2,5", "0,00"]
    assert [r[0] for r in rows[1:]] == [neutralise(t) for t in nasty_texts()]
    assert_no_formula_start(text)


def test_files_are_named_after_the_report_and_the_day():
    day = date(2026, 12, 4)
    assert export_name("ingresos", day, "csv") == "ingresos-2026-12-04.csv"
    assert export_name("ingresos", day, "csv", SPANISH_EXCEL) == "ingresos-2026-12-04-excel.csv"
    assert export_name("Motivos de baja", day, "xlsx") == "motivos-de-baja-2026-12-04.xlsx"
    for lang in ("es", "en"):
        for report in ("income", "mrr", "aging", "services", "churn", "reasons", "tickets"):
            name = export_name(t(f"exports.file.{report}", lang), day, "csv")
            assert re.fullmatch(r"[a-z0-9-]+-2026-12-04\.csv", name), name
    assert t("exports.file.income", "es") == "ingresos"


def test_money_cells_in_xlsx_have_a_currency_format():
    frame = pd.DataFrame({"total": [Decimal("-38.81"), Decimal("1234.50")], "n": [1, 2]})
    sheet = openpyxl.load_workbook(io.BytesIO(export_xlsx(frame))).active
    money = [sheet.cell(row=r, column=1) for r in (2, 3)]
    assert [c.value for c in money] == [-38.81, 1234.5]
    assert all("$" in c.number_format and "0.00" in c.number_format for c in money)
    assert sheet.cell(row=2, column=2).number_format == "General"  # a count is no money


def sheets_of(data: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def test_xlsx_longer_than_a_sheet_goes_on_in_further_sheets_each_with_its_header(monkeypatch):
    """A sheet holds SHEET_ROWS rows, header included (1,048,576 in Excel); past it, rows
    used to be dropped without a word. Lowered to 5 here: 4 invoices a sheet."""
    monkeypatch.setattr(exports, "SHEET_ROWS", 5)
    numbers = [f"001-001-{n:09d}" for n in range(1, 12)]  # 11 rows: 4 + 4 + 3
    totals = [Decimal(n) + Decimal("0.50") for n in range(1, 12)]
    parts = [[numbers[:7], totals[:7]], [numbers[7:], totals[7:]]]  # parts cross sheets
    sheets = sheets_of(export_columns_xlsx(["number", "total"], parts))
    assert list(sheets) == ["Sheet1", "Sheet2", "Sheet3"]
    assert all(rows[0] == ("number", "total") for rows in sheets.values())
    assert [len(rows) - 1 for rows in sheets.values()] == [4, 4, 3]
    written = [row for rows in sheets.values() for row in rows[1:]]
    assert written == [(n, float(t)) for n, t in zip(numbers, totals, strict=True)]


def test_xlsx_that_exactly_fills_its_sheets_adds_no_empty_one(monkeypatch):
    monkeypatch.setattr(exports, "SHEET_ROWS", 5)
    sheets = sheets_of(export_columns_xlsx(["n"], [[list(range(8))]]))
    assert [len(rows) for rows in sheets.values()] == [5, 5]
    assert sheets_of(export_columns_xlsx(["n"], [])) == {"Sheet1": [("n",)]}


def test_xlsx_neutralises_formulas_and_drops_secrets_on_every_sheet(monkeypatch):
    monkeypatch.setattr(exports, "SHEET_ROWS", 3)
    frame = pd.DataFrame(
        {
            "cliente": ["Ana", "Luis", '=HYPERLINK("http://x")', "ok\n@SUM(A1)", "+1"],
            "password_hash": ["$2b$"] * 5,
            "total": [Decimal("1.00")] * 5,
        }
    )
    sheets = sheets_of(export_xlsx(frame))
    assert len(sheets) == 3 and all(rows[0] == ("cliente", "total") for rows in sheets.values())
    assert [row[0] for row in sheets["Sheet2"][1:]] == ['\'=HYPERLINK("http://x")', "ok\n'@SUM(A1)"]
    assert [row[0] for row in sheets["Sheet3"][1:]] == ["'+1"]
    assert all("$2b$" not in row for rows in sheets.values() for row in rows)


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_in_spanish_opens_the_spanish_csv_as_columns_with_numbers(tmp_path):
    """What a Spanish-locale spreadsheet does with the file: LibreOffice's CSV import with the
    list separator and the language of Spain (Excel in Spanish does the same by itself)."""
    frame = nasty_frame()
    source = tmp_path / "ingresos-2026-12-04-excel.csv"
    source.write_bytes(export_csv_spanish(frame))
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            # separator ;  text delimiter "  UTF-8  from line 1  language Spanish (Spain)
            "--infilter=Text - txt - csv (StarCalc):59,34,76,1,,3082",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(tmp_path / "out"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    book = openpyxl.load_workbook(tmp_path / "out" / "ingresos-2026-12-04-excel.xlsx")
    rows = list(book.active.iter_rows())
    assert len(rows) == len(frame) + 1
    assert [c.value for c in rows[0]] == ["'=nota;'+x", "monto", "día"]
    for row, original in zip(rows[1:], frame.itertuples(index=False), strict=True):
        nota, amount, _day = row[:3]
        assert all(c.value is None for c in row[3:])  # nothing spilled into a fourth column
        assert nota.data_type != "f" and amount.data_type == "n"  # no formula; a number
        assert amount.value == pytest.approx(float(original[1]))
        assert nota.value.replace("\r\n", "\n").replace("\r", "\n") == neutralise(
            original[0]
        ).replace("\r\n", "\n").replace("\r", "\n")
    assert rows[1][1].value == pytest.approx(-38.81)


@pytest.mark.parametrize("dialect", [None, SPANISH_EXCEL])
def test_columns_export_writes_what_the_frame_export_writes(dialect):
    """Columns in parts (the book's export) give the frame export's bytes, through every
    quick path: repeated values, plain texts, texts that need care, amounts, mixed types."""
    frame = pd.DataFrame(
        {
            "number": ["F1", "F2", "F3", "F4"],
            "client": ['=HYPERLINK("x")', "Ana; Quito", 'say "hi"', "Ana; Quito"],
            "status": ["paid", "paid", "unpaid", "paid"],
            "total": [Decimal("5.00"), Decimal("-38.81"), Decimal("5.0"), Decimal("NaN")],
            "due_on": [date(2026, 1, 1), None, date(2026, 1, 1), date(2026, 1, 1)],
            "mixed": [True, 1, 1, True],
            "api_token": ["tok", "tok", "tok", "tok"],
        }
    )
    extra = {} if dialect is None else {"dialect": dialect}
    columns = [frame[c].astype(object).tolist() for c in frame.columns]
    parts = [[c[:3] for c in columns], [c[3:] for c in columns]]
    written = export_columns_csv(list(frame.columns), parts, **extra)
    assert written == export_csv(frame, **extra)
    assert b"tok" not in written and b"'=HYPERLINK" in written
    assert b'"Ana; Quito"' in written and b'"say ""hi"""' in written
    assert (b"5.0," if dialect is None else b"5,0;") in written  # its own digits


def test_columns_export_of_the_old_writer_cell_by_cell():
    """A column of repeated values and a column of amounts: as one cell at a time."""
    written = export_columns_csv(["a", "b"], [[["x", "x", "x"], [Decimal("1.10")] * 3]])
    assert written == '\ufeff"a","b"\r\n"x",1.10\r\n"x",1.10\r\n"x",1.10\r\n'.encode()
