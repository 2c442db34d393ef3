"""Migrations run from empty to head on each engine, and agree with the models."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.knowledge.search import SEARCH_TABLE
from core.models import Base
from core.platform import db


def test_migrations_build_every_model_table(database):
    engine = db.get_engine(database)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def _model_or_not_an_index(name, type_, _parent_names):
    """SQLite's FTS5 search index (kb_search and its shadow tables) has no model: core keeps
    it with raw SQL, as SQLAlchemy cannot declare a virtual table."""
    return not (type_ == "table" and name and name.startswith(SEARCH_TABLE))


def test_models_and_migrations_agree(database):
    engine = db.get_engine(database)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": _model_or_not_an_index}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"
