"""Charts in the reader's language: month and day names, and number separators.

Vega-Lite formats a time axis with its own English locale ("Jan 2026") unless the chart's
``config.locale`` says otherwise; the same object gives Spanish its decimal comma. The
definitions follow d3-time-format's and d3-format's ``es-ES``, with Ecuador's "$" prefix.
"""

from __future__ import annotations

from functools import partial
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
    language = lang()
    locale = LOCALES.get(language)
    if not locale:
        return spec
    if spec.config is not alt.Undefined:  # a chart with a config of its own: add to it
        return spec.configure(locale=locale)
    # One Config per language, built once: building it (Altair checks the locale's schema)
    # cost ~4 ms a chart on every rerun. Charts only read it when they are sent.
    config = _CONFIGS.get(language)
    if config is None:
        config = _CONFIGS.setdefault(language, alt.Config(locale=locale))
    out = spec.copy(deep=False)
    out.config = config
    return out


_CONFIGS: dict[str, alt.Config] = {}


def draw(spec: alt.TopLevelMixin) -> None:
    chart = localised(spec)
    # Without Altair's check of the spec against Vega-Lite's JSON schema on every rerun
    # (more than half of drawing a chart: ~35 ms of the desk's home). Our charts are a few
    # fixed shapes built in code and each is drawn by a page test; the check only raises,
    # it never changes the spec Streamlit sends.
    object.__setattr__(chart, "to_dict", partial(type(chart).to_dict, chart, validate=False))
    st.altair_chart(chart, width="stretch")
