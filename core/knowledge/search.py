"""Full-text search over the articles: SQLite FTS5 on SQLite, PostgreSQL full text on PostgreSQL.

Both read text folded in Python (``text.fold``: lower case, no accents), so the same rule holds
on each engine: "contrasena" finds "contraseña". Words are matched as prefixes and any one
may match (a ticket subject is a sentence, not a query); the best ranked come first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, text, true
from sqlalchemy.orm import Session

from core.access import Actor
from core.knowledge.text import fold, query_terms
from core.models import KbArticle

SEARCH_TABLE = "kb_search"  # the FTS5 table on SQLite (migration 0038)
LANGUAGES = ("es", "en")


def readable(actor: Actor | None) -> ColumnElement[bool]:
    """Articles ``actor`` may read: staff and the owner every one (drafts too); a client the
    published ones; a visitor who is not signed in (None) the published public ones."""
    if actor is not None and actor.is_staff_or_owner:
        return true()
    if actor is not None:
        return KbArticle.status == "published"
    return and_(KbArticle.status == "published", KbArticle.public.is_(True))


def folded(title: str, body: str) -> str:
    return fold(f"{title}\n{body}")


def reindex(session: Session, article: KbArticle) -> None:
    """Keep the engine's index in step with ``article`` (inside the caller's transaction)."""
    article.search_es = folded(article.title_es, article.body_es)
    article.search_en = folded(article.title_en, article.body_en)
    if session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL reads search_es/search_en directly
    session.flush()
    session.execute(
        text(f"DELETE FROM {SEARCH_TABLE} WHERE article_id = :id"),  # noqa: S608 - constant
        {"id": article.id},
    )
    for lang in LANGUAGES:
        session.execute(
            text(
                f"INSERT INTO {SEARCH_TABLE} (article_id, language, title, body) "  # noqa: S608
                "VALUES (:id, :lang, :title, :body)"
            ),
            {
                "id": article.id,
                "lang": lang,
                "title": fold(getattr(article, f"title_{lang}")),
                "body": fold(getattr(article, f"body_{lang}")),
            },
        )


def unindex(session: Session, article_id: int) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            text(f"DELETE FROM {SEARCH_TABLE} WHERE article_id = :id"),  # noqa: S608
            {"id": article_id},
        )


def _ranked_ids_sqlite(session: Session, terms: list[str], lang: str, limit: int) -> list[int]:
    match = " OR ".join(f'"{term}"*' for term in terms)
    # Title words weigh five times body words (bm25's per-column weights; the two unindexed
    # columns come first).
    rows = session.execute(
        text(
            f"SELECT article_id FROM {SEARCH_TABLE} "  # noqa: S608 - constant table name
            f"WHERE {SEARCH_TABLE} MATCH :match AND language = :lang "
            f"ORDER BY bm25({SEARCH_TABLE}, 0.0, 0.0, 5.0, 1.0) LIMIT :n"
        ),
        {"match": match, "lang": lang, "n": limit},
    )
    return [int(r[0]) for r in rows]


def _pg_statement(actor: Actor | None, terms: list[str], lang: str) -> Select[Any]:
    column = KbArticle.search_en if lang == "en" else KbArticle.search_es
    vector = func.to_tsvector("simple", column)
    query = func.to_tsquery("simple", " | ".join(f"{term}:*" for term in terms))
    return (
        select(KbArticle)
        .where(vector.op("@@")(query), readable(actor))
        .order_by(func.ts_rank(vector, query).desc(), KbArticle.id)
    )


def search(
    session: Session, actor: Actor | None, query: str, lang: str, limit: int = 20
) -> list[KbArticle]:
    """The readable articles matching ``query`` in ``lang``, best first."""
    terms = query_terms(query)
    if not terms:
        return []
    lang = lang if lang in LANGUAGES else "es"
    if session.get_bind().dialect.name == "sqlite":
        # Ranked ids first (the index knows nothing of drafts), then who may read them.
        ids = _ranked_ids_sqlite(session, terms, lang, limit * 5)
        if not ids:
            return []
        rows = session.scalars(select(KbArticle).where(KbArticle.id.in_(ids), readable(actor)))
        by_id = {a.id: a for a in rows}
        return [by_id[i] for i in ids if i in by_id][:limit]
    return list(session.scalars(_pg_statement(actor, terms, lang).limit(limit)))
