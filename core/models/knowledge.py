"""The knowledge base: categories, articles (Spanish and English in one row), votes, and the
reading events the desk's report counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.models.base import Base, _created, _id


class KbCategory(Base):
    __tablename__ = "kb_category"
    id: Mapped[int] = _id()
    name_es: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class KbArticle(Base):
    """One article in both languages. ``search_es``/``search_en`` hold title and body folded
    (lower case, no accents), the text both engines' full-text search reads."""

    __tablename__ = "kb_article"
    id: Mapped[int] = _id()
    category_id: Mapped[int] = mapped_column(ForeignKey("kb_category.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")  # draft | published
    public: Mapped[bool] = mapped_column(Boolean, default=True)  # readable signed out
    title_es: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_es: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text)
    search_es: Mapped[str] = mapped_column(Text, default="")
    search_en: Mapped[str] = mapped_column(Text, default="")
    related_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    image_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _created()
    published_at: Mapped[datetime | None] = mapped_column(DateTime)


class KbVote(Base):
    """One vote per signed-in user (``user_id``) or per anonymous browser session
    (``session_hash``, a SHA-256 of a random token the browser session holds)."""

    __tablename__ = "kb_vote"
    __table_args__ = (
        UniqueConstraint("article_id", "user_id", name="uq_kb_vote_article_user"),
        UniqueConstraint("article_id", "session_hash", name="uq_kb_vote_article_session"),
    )
    id: Mapped[int] = _id()
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    session_hash: Mapped[str | None] = mapped_column(String(64))
    stars: Mapped[int | None] = mapped_column(Integer)  # 1-5; None: only "helpful" given
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    at: Mapped[datetime] = _created()


class KbEvent(Base):
    """An article read (``view``), or opened from the new-ticket form (``from_ticket``) with
    that form's token, and whether that form was then sent (``submitted``)."""

    __tablename__ = "kb_event"
    __table_args__ = (Index("ix_kb_event_kind_at", "kind", "at"),)
    id: Mapped[int] = _id()
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_article.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # view | from_ticket
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    form_token: Mapped[str | None] = mapped_column(String(64), index=True)
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = _created()
