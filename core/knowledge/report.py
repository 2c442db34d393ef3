"""The desk's report on the knowledge base: which articles are read, how they are rated, the
lowest rated ones, and how many new-ticket forms were left after an article was opened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, require
from core.insights.common import utc_start
from core.knowledge.feedback import Rating, ratings
from core.models import KbArticle, KbEvent
from core.platform.db import reading

LOWEST_SHOWN = 5


@dataclass(frozen=True)
class ArticleStats:
    id: int
    title: str
    status: str
    views: int
    rating: Rating


@dataclass(frozen=True)
class KnowledgeReport:
    articles: tuple[ArticleStats, ...]  # most read first
    lowest: tuple[ArticleStats, ...]  # rated ones, lowest average first
    forms_with_article: int  # new-ticket forms from which an article was opened
    forms_abandoned: int  # ... and that were never sent

    @property
    def views(self) -> int:
        return sum(a.views for a in self.articles)

    @property
    def votes(self) -> int:
        return sum(a.rating.count for a in self.articles)


def knowledge_report(
    actor: Actor, first: date, last: date, lang: str, session: Session | None = None
) -> KnowledgeReport:
    """Views and forms from business day ``first`` to ``last``, both included; ratings as
    they stand (a rating is the reader's latest opinion, not an event in time)."""
    require(actor, "reports")
    since, until = utc_start(first), utc_start(last + timedelta(days=1))
    with reading(session) as s:
        in_range = (KbEvent.at >= since, KbEvent.at < until)
        views = dict(
            s.execute(
                select(KbEvent.article_id, func.count())
                .where(KbEvent.kind == "view", *in_range)
                .group_by(KbEvent.article_id)
            ).all()
        )
        articles = list(s.scalars(select(KbArticle).order_by(KbArticle.id)))
        rated = ratings(s, [a.id for a in articles])
        stats = [
            ArticleStats(
                a.id,
                (a.title_en if lang == "en" else a.title_es) or a.title_es,
                a.status,
                int(views.get(a.id, 0)),
                rated[a.id],
            )
            for a in articles
        ]
        forms = s.execute(
            select(KbEvent.form_token, func.max(func.cast(KbEvent.submitted, KbEvent.id.type)))
            .where(KbEvent.kind == "from_ticket", *in_range)
            .group_by(KbEvent.form_token)
        ).all()
    lowest = sorted(
        (a for a in stats if a.rating.average is not None),
        key=lambda a: (a.rating.average, -a.rating.count, a.id),
    )[:LOWEST_SHOWN]
    return KnowledgeReport(
        articles=tuple(sorted(stats, key=lambda a: (-a.views, a.id))),
        lowest=tuple(lowest),
        forms_with_article=len(forms),
        forms_abandoned=sum(1 for _token, sent in forms if not sent),
    )
