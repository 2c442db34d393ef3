"""The mapping table and the bulk writes every import step shares.

``import_link`` remembers which source row became which of ours, per system and kind: a
second run finds it there and skips it, a later run picks up only what is new."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from core.imports.report import Report
from core.imports.values import fit
from core.models import ImportLink


def table_of(model: Any) -> Table:
    """A model's table: Core inserts skip the ORM's per-row bookkeeping (bulk speed)."""
    return cast(Table, model.__table__)


class Linked:
    """One import's session, system, report and moment, with the mapping read per kind."""

    def __init__(self, session: Session, system: str, report: Report, at: datetime) -> None:
        self.s = session
        self.system = system
        self.report = report
        self.at = at
        self._links: dict[str, dict[str, int]] = {}

    def links(self, kind: str) -> dict[str, int]:
        if kind not in self._links:
            rows = self.s.execute(
                select(ImportLink.source_id, ImportLink.target_id).where(
                    ImportLink.system == self.system, ImportLink.kind == kind
                )
            )
            self._links[kind] = {sid: tid for sid, tid in rows}
        return self._links[kind]

    def _link(self, kind: str, pairs: Sequence[tuple[str, int]]) -> None:
        if not pairs:
            return
        self.s.execute(
            insert(table_of(ImportLink)),
            [
                {"system": self.system, "kind": kind, "source_id": sid, "target_id": tid}
                for sid, tid in pairs
            ],
        )
        self.links(kind).update(pairs)

    def _new(self, kind: str, recs: Iterable[Any], counted: str | None = None) -> list[Any]:
        """The records not imported yet; the others count as skipped."""
        known, fresh = self.links(kind), []
        for rec in recs:
            if rec.source_id in known:
                self.report.skipped[counted or kind] += 1
            else:
                fresh.append(rec)
        return fresh

    def _insert(self, model: Any, rows: list[dict[str, Any]]) -> list[int]:
        """Bulk insert returning the new ids in the rows' order.

        SQLite answers INSERT … RETURNING one row per statement when the order must be
        kept, which made a 200,000-invoice import slow; there the import's transaction is
        the only writer (BEGIN IMMEDIATE), so the ids are given here and the rows go in one
        executemany. PostgreSQL keeps its sequences and returns the ids in batches."""
        if not rows:
            return []
        if self.s.get_bind().dialect.name == "sqlite":
            first = (self.s.scalar(select(func.max(model.id))) or 0) + 1
            ids = list(range(first, first + len(rows)))
            self.s.execute(
                insert(table_of(model)), [dict(row, id=i) for row, i in zip(rows, ids, strict=True)]
            )
            return ids
        result = self.s.execute(
            insert(table_of(model)).returning(model.__table__.c.id, sort_by_parameter_order=True),
            rows,
        )
        return list(result.scalars())

    def _text(self, kind: str, sid: str, value: str | None, size: int) -> str | None:
        if value is None:
            return None
        cut, was_cut = fit(value, size)
        if was_cut:  # §7.17: longer than our column; cut and said
            self.report.problem(kind, sid, "truncated", skip=False)
        return cut

    def _imported(self, kind: str, recs: Iterable[Any]) -> dict[int, Any]:
        if self.system.startswith("whm:"):  # WHM knows no billing: nothing to bring over
            return {}
        known = self.links(kind)
        return {known[r.source_id]: r for r in recs if r.source_id in known}

    def _update(self, model: Any, changes: list[dict[str, Any]], kind: str) -> None:
        if not changes:
            return
        table = table_of(model)
        columns = [c for c in changes[0] if c != "_id"]
        self.s.execute(
            update(table)
            .where(table.c.id == bindparam("_id"))
            .values({c: bindparam(c) for c in columns}),
            changes,
        )
        self.report.updated[kind] += len(changes)
