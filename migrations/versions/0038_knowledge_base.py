"""knowledge base: categories, articles in two languages, votes, reading events

On SQLite the articles' full-text index is an FTS5 table, ``kb_search`` (unicode61 with
diacritics removed, so "contrasena" finds "contraseña"); core keeps it in step with the
articles. PostgreSQL searches the folded ``search_es``/``search_en`` columns with
``to_tsvector`` instead, so it needs no extra table nor the unaccent extension.

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-04 17:21:06.823826
"""

import sqlalchemy as sa
from alembic import op

revision = "0038"
down_revision = "0037"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_es", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_category")),
    )
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("title_es", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("body_es", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("search_es", sa.Text(), nullable=False),
        sa.Column("search_en", sa.Text(), nullable=False),
        sa.Column("related_ids", sa.JSON(), nullable=False),
        sa.Column("image_ids", sa.JSON(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_kb_article_author_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["kb_category.id"], name=op.f("fk_kb_article_category_id_kb_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article")),
    )
    with op.batch_alter_table("kb_article", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_article_category_id"), ["category_id"], unique=False
        )

    op.create_table(
        "kb_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("form_token", sa.String(length=64), nullable=True),
        sa.Column("submitted", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_article.id"], name=op.f("fk_kb_event_article_id_kb_article")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_kb_event_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_event")),
    )
    with op.batch_alter_table("kb_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_event_article_id"), ["article_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_kb_event_form_token"), ["form_token"], unique=False)
        batch_op.create_index("ix_kb_event_kind_at", ["kind", "at"], unique=False)

    op.create_table(
        "kb_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("stars", sa.Integer(), nullable=True),
        sa.Column("helpful", sa.Boolean(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"], ["kb_article.id"], name=op.f("fk_kb_vote_article_id_kb_article")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_kb_vote_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_vote")),
        sa.UniqueConstraint("article_id", "session_hash", name="uq_kb_vote_article_session"),
        sa.UniqueConstraint("article_id", "user_id", name="uq_kb_vote_article_user"),
    )
    with op.batch_alter_table("kb_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_vote_article_id"), ["article_id"], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS kb_search USING fts5("
            "article_id UNINDEXED, language UNINDEXED, title, body, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS kb_search")
    with op.batch_alter_table("kb_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_vote_article_id"))

    op.drop_table("kb_vote")
    with op.batch_alter_table("kb_event", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_event_kind_at")
        batch_op.drop_index(batch_op.f("ix_kb_event_form_token"))
        batch_op.drop_index(batch_op.f("ix_kb_event_article_id"))

    op.drop_table("kb_event")
    with op.batch_alter_table("kb_article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_article_category_id"))

    op.drop_table("kb_article")
    op.drop_table("kb_category")
