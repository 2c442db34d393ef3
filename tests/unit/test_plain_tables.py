"""The client area's plain tables (ui.kit.tables): what a customer typed stays literal text."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from tests.pages.apptest import as_read
from ui.kit.tables import cell, markdown_table

HOSTILE = "<script>alert('x')</script> [pago](http://phish.example) ![i](x.png) `code` $x$"


def test_a_hostile_subject_has_no_markdown_left_in_it():
    escaped = cell(HOSTILE)
    # Every bracket, angle, backtick, dollar and colon is escaped: no link, image, HTML,
    # code, math or autolink can start from it.
    assert not re.search(r"(?<!\\)[\[\]()<>`$:!]", escaped)
    assert as_read(escaped) == HOSTILE


def test_a_line_break_or_pipe_cannot_break_out_of_its_row():
    table = markdown_table([{"Asunto": "uno\n| dos | tres", "Estado": "Abierto"}])
    lines = table.splitlines()
    assert len(lines) == 3  # header, rule, one row
    assert lines[2].count("|") - lines[2].count("\\|") == 3  # the row's own three bars


def test_columns_come_from_the_first_row_in_order():
    table = markdown_table(
        [{"Dominio": "a.ec", "Plan": "Básico"}, {"Dominio": "b.ec", "Plan": "Pro"}]
    )
    assert table.splitlines()[0] == "| Dominio | Plan |"
    assert as_read(table.splitlines()[3]) == "| b.ec | Pro |"


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_any_text_reads_back_as_itself_on_one_line(text):
    assert as_read(cell(text)).strip() == " ".join(text.split()) or not text.split()


def test_amount_columns_are_aligned_right():
    table = markdown_table([{"Factura": "F-1", "Total": "$5,18"}], right={"Total"})
    assert table.splitlines()[1] == "| --- | ---: |"
