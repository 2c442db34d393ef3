"""The download buttons of an export: the plain CSV, the CSV that Excel in Spanish opens as
columns (``;``, decimal comma) and, where asked, XLSX; files named after the report and the
day (``ingresos-2026-12-04.csv``). Each file is built when its button is clicked, not on
every rerun (``core.insights.exports`` makes them safe)."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.insights.exports import (
    PLAIN,
    SPANISH_EXCEL,
    export_csv,
    export_csv_spanish,
    export_name,
    export_xlsx,
)
from ui.kit.context import tr

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_buttons(frame: pd.DataFrame, report: str, on: date, key: str, *, xlsx: bool) -> None:
    """Buttons side by side for ``frame``; ``report`` names the file (``exports.file.<report>``),
    ``on`` is the business's day, ``key`` prefixes the widgets' keys."""
    title = tr(f"exports.file.{report}")
    columns = st.columns(3 if xlsx else 2)
    columns[0].download_button(
        tr("exports.csv"),
        lambda: export_csv(frame),
        file_name=export_name(title, on, "csv", PLAIN),
        mime="text/csv",
        on_click="ignore",
        key=f"{key}_csv",
        help=tr("exports.csv_help"),
    )
    columns[1].download_button(
        tr("exports.csv_spanish"),
        lambda: export_csv_spanish(frame),
        file_name=export_name(title, on, "csv", SPANISH_EXCEL),
        mime="text/csv",
        on_click="ignore",
        key=f"{key}_csv_es",
        help=tr("exports.csv_spanish_help"),
    )
    if xlsx:
        columns[2].download_button(
            tr("exports.xlsx"),
            lambda: export_xlsx(frame),
            file_name=export_name(title, on, "xlsx", PLAIN),
            mime=XLSX,
            on_click="ignore",
            key=f"{key}_xlsx",
        )
