"""Charts in the reader's language: month and day names, and number separators.

Vega-Lite formats a time axis with its own English locale ("Jan 2026") unless the chart's
``config.locale`` says otherwise; the same object gives Spanish its decimal comma. The
definitions follow d3-time-format's and d3-format's ``es-ES``, with Ecuador's "$" prefix.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import streamlit as st

from ui.kit.context import lang

SPANISH: dict[str, Any] = {
    "number": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["$", ""]},
    "time": {
        "dateTime": "%A, %e de %B de %Y, %X",
        "date": "%d/%m/%Y",
        "time": "%H:%M:%S",
        "periods": ["a. m.", "p. m."],
        "days": ["domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"],
        "shortDays": ["dom", "lun", "mar", "mié", "jue", "vie", "sáb"],
        "months": [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        "shortMonths": [
            "ene",
            "feb",
            "mar",
            "abr",
            "may",
            "jun",
            "jul",
            "ago",
            "sept",
            "oct",
            "nov",
            "dic",
        ],
    },
}
LOCALES: dict[str, dict[str, Any] | None] = {"es": SPANISH, "en": None}  # English: Vega's own


def localised(spec: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """``spec`` with the reader's number and time locale in its config."""
    locale = LOCALES.get(lang())
    return spec.configure(locale=locale) if locale else spec


def draw(spec: alt.TopLevelMixin) -> None:
    st.altair_chart(localised(spec), width="stretch")
