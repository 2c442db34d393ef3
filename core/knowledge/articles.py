"""Knowledge-base articles: what readers may read, and what staff write and publish.

Readers are anyone: ``actor`` None is a visitor who is not signed in, who reads published
public articles only; a client reads every published one; staff and the owner also read
drafts. Writing needs the desk's "tickets" area (or the owner): the people who answer the
questions the articles answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, parse_id, require
from core.knowledge import search as index
from core.knowledge.feedback import Rating, ratings
from core.knowledge.text import image_ids_in
from core.models import KbArticle, KbCategory, Upload
from core.platform import audit, settings, uploads
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError

AREA = "tickets"
STATUSES = ("draft", "published")
IMAGE_TYPES = ("png", "jpg", "gif", "webp")
IMAGE_MAX_BYTES = 5 * uploads.MB
TITLE_MAX = 200
BODY_MAX = 50_000
NAME_MAX = 100
PUBLIC_HELP = "knowledge.public_help"


@dataclass(frozen=True)
class CategoryView:
    id: int
    name_es: str
    name_en: str

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_es


@dataclass(frozen=True)
class ArticleRow:
    id: int
    category_id: int
    title: str
    status: str
    public: bool
    rating: Rating


@dataclass(frozen=True)
class ArticleView:
    """One article as a reader reads it, in the reader's language."""

    id: int
    category_id: int
    category: str
    title: str
    body: str
    status: str
    public: bool
    image_ids: tuple[int, ...]
    related: tuple[ArticleRow, ...]
    rating: Rating


@dataclass(frozen=True)
class ArticleDraft:
    """Everything the editor shows of an article, both languages."""

    id: int
    category_id: int
    status: str
    public: bool
    title_es: str
    title_en: str
    body_es: str
    body_en: str
    related_ids: tuple[int, ...]
    image_ids: tuple[int, ...]


def _title(article: KbArticle, lang: str) -> str:
    return (article.title_en if lang == "en" else article.title_es) or article.title_es


def _body(article: KbArticle, lang: str) -> str:
    return (article.body_en if lang == "en" else article.body_es) or article.body_es


def _rows(s: Session, articles: Sequence[KbArticle], lang: str) -> list[ArticleRow]:
    rated = ratings(s, [a.id for a in articles])
    return [
        ArticleRow(a.id, a.category_id, _title(a, lang), a.status, a.public, rated[a.id])
        for a in articles
    ]


def categories(session: Session | None = None) -> list[CategoryView]:
    with reading(session) as s:
        rows = s.scalars(select(KbCategory).order_by(KbCategory.sort_order, KbCategory.id))
        return [CategoryView(c.id, c.name_es, c.name_en) for c in rows]


def visitors_may_read(session: Session | None = None) -> bool:
    """Whether the help pages are open to visitors who are not signed in."""
    return settings.get_bool(PUBLIC_HELP, session=session)


def _closed_to(actor: Actor | None, s: Session) -> bool:
    return actor is None and not visitors_may_read(s)


def list_articles(
    actor: Actor | None, lang: str, category_id: int | None = None, session: Session | None = None
) -> list[ArticleRow]:
    """The articles ``actor`` may read, by category then title."""
    with reading(session) as s:
        if _closed_to(actor, s):
            return []
        stmt = select(KbArticle).where(index.readable(actor))
        if category_id is not None:
            stmt = stmt.where(KbArticle.category_id == parse_id(category_id))
        found = list(s.scalars(stmt.order_by(KbArticle.category_id, KbArticle.id)))
        return sorted(_rows(s, found, lang), key=lambda r: (r.category_id, r.title.casefold()))


def search_articles(
    actor: Actor | None, query: str, lang: str, limit: int = 20, session: Session | None = None
) -> list[ArticleRow]:
    with reading(session) as s:
        if _closed_to(actor, s):
            return []
        return _rows(s, index.search(s, actor, query, lang, limit), lang)


def _readable(s: Session, actor: Actor | None, article_id: object) -> KbArticle:
    key = parse_id(article_id)
    if _closed_to(actor, s):
        raise NotFound()
    row = s.scalars(select(KbArticle).where(KbArticle.id == key, index.readable(actor))).first()
    if row is None:
        raise NotFound()
    return row


def read_article(
    actor: Actor | None, article_id: object, lang: str, session: Session | None = None
) -> ArticleView:
    """One article for ``actor`` to read; NotFound when it is missing or not theirs to read
    (a draft, or a clients-only article for a visitor)."""
    with reading(session) as s:
        article = _readable(s, actor, article_id)
        category = s.get(KbCategory, article.category_id)
        related_ids = [i for i in article.related_ids if i != article.id]
        related = list(
            s.scalars(select(KbArticle).where(KbArticle.id.in_(related_ids), index.readable(actor)))
        )
        related.sort(key=lambda a: related_ids.index(a.id))
        return ArticleView(
            id=article.id,
            category_id=article.category_id,
            category=""
            if category is None
            else CategoryView(category.id, category.name_es, category.name_en).name(lang),
            title=_title(article, lang),
            body=_body(article, lang),
            status=article.status,
            public=article.public,
            image_ids=tuple(article.image_ids),
            related=tuple(_rows(s, related, lang)),
            rating=ratings(s, [article.id])[article.id],
        )


def image(actor: Actor | None, article_id: object, upload_id: object) -> uploads.StoredFile:
    """One of an article's own images, for whoever may read the article. Any other upload
    (a client's receipt, say) is NotFound here, even with a guessed id."""
    with reading() as s:
        article = _readable(s, actor, article_id)
        key = parse_id(upload_id)
        if key not in article.image_ids:
            raise NotFound()
        row = s.get(Upload, key)
        if row is None:
            raise NotFound()
        return uploads.StoredFile(row.filename, row.content_type, row.data)


# --- writing (staff) ------------------------------------------------------------------------


def draft_of(actor: Actor, article_id: object, session: Session | None = None) -> ArticleDraft:
    require(actor, AREA)
    with reading(session) as s:
        a = s.get(KbArticle, parse_id(article_id))
        if a is None:
            raise NotFound()
        return ArticleDraft(
            a.id,
            a.category_id,
            a.status,
            a.public,
            a.title_es,
            a.title_en,
            a.body_es,
            a.body_en,
            tuple(a.related_ids),
            tuple(a.image_ids),
        )


def save_category(
    actor: Actor,
    name_es: str,
    name_en: str,
    *,
    at: datetime,
    category_id: int | None = None,
    session: Session | None = None,
) -> int:
    require(actor, AREA)
    es, en = (name_es or "").strip(), (name_en or "").strip()
    if not es or not en:
        raise ValidationError("error.kb_category_name_required")
    if len(es) > NAME_MAX or len(en) > NAME_MAX:
        raise ValidationError("error.kb_category_name_too_long", n=NAME_MAX)
    with transaction(session) as s:
        if category_id is None:
            row = KbCategory(name_es=es, name_en=en, sort_order=len(categories(s)))
            s.add(row)
        else:
            found = s.get(KbCategory, parse_id(category_id))
            if found is None:
                raise NotFound()
            row = found
            row.name_es, row.name_en = es, en
        s.flush()
        audit.record(
            s, actor, "kb.category_saved", target_type="kb_category", target_id=row.id, at=at
        )
        return row.id


def _checked_text(title_es: str, title_en: str, body_es: str, body_en: str) -> tuple[str, ...]:
    titles = ((title_es or "").strip(), (title_en or "").strip())
    bodies = ((body_es or "").strip(), (body_en or "").strip())
    if not all(titles):
        raise ValidationError("error.kb_title_required")
    if not all(bodies):
        raise ValidationError("error.kb_body_required")
    if any(len(t) > TITLE_MAX for t in titles):
        raise ValidationError("error.kb_title_too_long", n=TITLE_MAX)
    if any(len(b) > BODY_MAX for b in bodies):
        raise ValidationError("error.kb_body_too_long", n=BODY_MAX)
    return (*titles, *bodies)


def save_article(
    actor: Actor,
    *,
    category_id: int,
    title_es: str,
    title_en: str,
    body_es: str,
    body_en: str,
    public: bool = True,
    related_ids: Sequence[int] = (),
    article_id: int | None = None,
    at: datetime,
    session: Session | None = None,
) -> int:
    """A new article (a draft) or the edited text of one; returns its id. Both languages
    are required: a reader of either must find and read it."""
    require(actor, AREA)
    t_es, t_en, b_es, b_en = _checked_text(title_es, title_en, body_es, body_en)
    with transaction(session) as s:
        if s.get(KbCategory, parse_id(category_id)) is None:
            raise ValidationError("error.kb_category_invalid")
        own = None if article_id is None else parse_id(article_id)
        related = sorted({parse_id(i) for i in related_ids} - {own})
        known = set(s.scalars(select(KbArticle.id).where(KbArticle.id.in_(related))))
        if set(related) - known:
            raise ValidationError("error.kb_related_invalid")
        if article_id is None:
            article = KbArticle(status="draft", author_id=actor.user_id or None, created_at=at)
            s.add(article)
        else:
            found = s.get(KbArticle, parse_id(article_id))
            if found is None:
                raise NotFound()
            article = found
        article.category_id = parse_id(category_id)
        article.title_es, article.title_en, article.body_es, article.body_en = (
            t_es,
            t_en,
            b_es,
            b_en,
        )
        article.public = bool(public)
        article.related_ids = related
        article.updated_at = at
        used = set(image_ids_in(b_es)) | set(image_ids_in(b_en))
        if used - set(article.image_ids or []):
            raise ValidationError("error.kb_image_unknown")
        s.flush()
        index.reindex(s, article)
        audit.record(
            s, actor, "kb.article_saved", target_type="kb_article", target_id=article.id, at=at
        )
        return article.id


def set_status(
    actor: Actor, article_id: object, status: str, *, at: datetime, session: Session | None = None
) -> None:
    """Publish a draft (readers see it) or take an article back to draft (only staff do)."""
    require(actor, AREA)
    if status not in STATUSES:
        raise ValidationError("error.kb_status_invalid")
    with transaction(session) as s:
        article = s.get(KbArticle, parse_id(article_id))
        if article is None:
            raise NotFound()
        article.status = status
        article.updated_at = at
        if status == "published" and article.published_at is None:
            article.published_at = at
        audit.record(
            s, actor, f"kb.article_{status}", target_type="kb_article", target_id=article.id, at=at
        )


def add_image(
    actor: Actor,
    article_id: object,
    filename: str,
    data: bytes,
    *,
    at: datetime,
    session: Session | None = None,
) -> int:
    """Attach an image to an article (checked like every upload); returns the id the
    Markdown names it by: ``![alt](image:ID)``."""
    require(actor, AREA)
    content_type = uploads.check(
        data, filename, IMAGE_TYPES, IMAGE_MAX_BYTES, errors="error.kb_image"
    )
    with transaction(session) as s:
        article = s.get(KbArticle, parse_id(article_id))
        if article is None:
            raise NotFound()
        row = uploads.store(
            s,
            client_id=None,
            filename=filename,
            data=data,
            content_type=content_type,
            uploaded_by=actor.user_id or None,
        )
        article.image_ids = [*article.image_ids, row.id]
        article.updated_at = at
        audit.record(
            s,
            actor,
            "kb.image_added",
            target_type="kb_article",
            target_id=article.id,
            at=at,
            upload_id=row.id,
        )
        return row.id
