"""The query planner's statistics follow bulk changes (issue 20): on SQLite, a daily run
that wrote refreshes them (ANALYZE) so the pages read the book as the run leaves it through
the right index; a run that found nothing to do writes nothing, not even statistics."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import text

from core import automation
from core.platform import db
from tests.panel_fixtures import fake, ready, whm  # noqa: F401 - fixtures


def test_refresh_statistics_fills_sqlite_stat1_and_is_a_no_op_elsewhere(personas):
    engine = db.get_engine()
    db.refresh_statistics()
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's autovacuum analyses; nothing to do, nothing failed
    with engine.connect() as conn:
        tables = set(conn.execute(text("SELECT tbl FROM sqlite_stat1")).scalars())
    assert {"invoice", "service", "client"} <= tables


def test_only_a_run_that_wrote_refreshes_the_statistics(fake, personas, monkeypatch):
    refreshed: list[date] = []
    day = date(2026, 11, 20)
    monkeypatch.setattr(automation, "refresh_statistics", lambda: refreshed.append(day))
    wrote: list[date] = []
    for offset in range(30):
        day = date(2026, 11, 20) + timedelta(days=offset)
        for _ in range(2):  # the second run of the day finds nothing to do
            result = automation.run(day)
            if any(result.counts.values()):
                wrote.append(day)
    assert wrote, "the personas' invoices give the run something to do in these days"
    assert refreshed == wrote and len(set(wrote)) == len(wrote)
