"""One import: read a source, write it in one transaction, check the money, report.

The dry run is the same run rolled back at the end: its report (counts, problems, the money
check) is exactly what the import would do, and nothing stays written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from core.access import SYSTEM, Actor, require_owner
from core.imports.report import Report
from core.imports.source import Source
from core.imports.writer import Writer
from core.platform import audit
from core.platform.clock import now
from core.platform.db import refresh_statistics, unit_of_work

Progress = Callable[[float, str], None]

# Parents before children: each step resolves its references through the ones before it.
STEPS = (
    "staff",
    "departments",
    "servers",
    "products",
    "clients",
    "services",
    "invoices",
    "payments",
    "tickets",
)


class _RolledBack(Exception):
    """Raised inside the unit of work to undo a dry run."""


def _quiet(_fraction: float, _step: str) -> None:
    return None


def run(
    system: str,
    *,
    source: str | None = None,
    server: str | None = None,
    dry_run: bool = False,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    progress: Progress = _quiet,
) -> Report:
    """Import from ``system`` (whmcs | fossbilling | whm) and return the report."""
    require_owner(actor)  # the whole book changes hands: the owner's decision alone
    at = at or now()
    report = Report(system=system, dry_run=dry_run)
    try:
        with unit_of_work() as session:
            if system == "whm":
                from core.imports.whm import WhmReader

                reader: Any = WhmReader(session, server or "", report)
                _write(session, reader, report, at, progress)
            else:
                with Source(source or "") as src:
                    reader = _reader(system, src, report)
                    _write(session, reader, report, at, progress)
            if dry_run:
                raise _RolledBack
            audit.record(
                session,
                actor,
                "import.run",
                target_type="import",
                system=reader.system,
                created=dict(report.created),
                problems=len(report.problems),
                balance_mismatches=len(report.mismatches),
            )
    except _RolledBack:
        pass
    else:
        refresh_statistics()  # a whole book arrived: the planner's statistics follow it
    progress(1.0, "done")
    return report


def _reader(system: str, src: Source, report: Report) -> Any:
    from core.platform.errors import ValidationError

    if system == "whmcs":
        from core.imports.whmcs import WhmcsReader

        return WhmcsReader(src, report)
    if system == "fossbilling":
        from core.imports.fossbilling import FossReader

        return FossReader(src, report)
    raise ValidationError("imports.error.bad_system")


def _write(session: Any, reader: Any, report: Report, at: datetime, progress: Progress) -> None:
    writer = Writer(session, reader.system, report, at)
    if hasattr(reader, "known_links"):
        writer._links.update(reader.known_links())
    if hasattr(reader, "staff_names"):
        writer.staff_by_name = reader.staff_names()
    report.not_imported = list(reader.not_imported)
    for index, step in enumerate(STEPS):
        progress(index / (len(STEPS) + 1), step)
        read = getattr(reader, step, None)
        if read is None:
            continue
        for batch in read():
            getattr(writer, step)(batch)
    progress(len(STEPS) / (len(STEPS) + 1), "money_check")
    writer.money_check(reader.balances())
