"""The help centre's tab of the reports page: articles read and how they are rated, the
lowest rated ones, and ticket forms left after an article was opened from them."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from core.access import Actor
from core.knowledge.report import ArticleStats, knowledge_report
from ui.kit.context import errors_shown, lang, tr


def _frame(rows: tuple[ArticleStats, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            tr("kb.col.title"): [r.title for r in rows],
            tr("kb.col.status"): [tr(f"kb.status.{r.status}") for r in rows],
            tr("kb.col.views"): [r.views for r in rows],
            tr("kb.col.votes"): [r.rating.count for r in rows],
            tr("kb.col.average"): [
                None if r.rating.average is None else float(r.rating.average) for r in rows
            ],
            tr("kb.col.helpful"): [r.rating.helpful for r in rows],
            tr("kb.col.not_helpful"): [r.rating.not_helpful for r in rows],
        }
    )


def render(actor: Actor, first: date, last: date) -> None:
    got = None
    with errors_shown():
        got = knowledge_report(actor, first, last, lang())
    if got is None:
        return
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(tr("kb.metric_views"), got.views)
    c2.metric(tr("kb.metric_votes"), got.votes)
    c3.metric(tr("kb.metric_forms"), got.forms_with_article)
    c4.metric(tr("kb.metric_abandoned"), got.forms_abandoned)
    st.caption(tr("kb.abandoned_help"))
    st.subheader(tr("kb.lowest_rated"), anchor=False)
    if got.lowest:
        st.dataframe(_frame(got.lowest), hide_index=True)
    else:
        st.caption(tr("kb.no_votes"))
    st.subheader(tr("kb.all_articles"), anchor=False)
    st.dataframe(_frame(got.articles), hide_index=True)
