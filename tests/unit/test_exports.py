"""Exports are safe to open in a spreadsheet and never carry secrets."""

import io

import pandas as pd
import pytest

from core.insights.reports import export_csv, export_xlsx, neutralise


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
