"""The import's report: what came over per kind, what was skipped and why, and the money
check. ``as_json`` is the one object ``python -m core.cli import … --json`` prints."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# The kinds every report names, even at zero (the CLI's JSON contract).
KINDS = ("clients", "products", "services", "invoices", "payments", "tickets", "users")


@dataclass
class Problem:
    kind: str
    source_id: str
    reason: str  # a code; the Settings tab shows it translated (imports.reason.<code>)


@dataclass
class Mismatch:
    client: str  # source client id
    source_open: str
    our_open: str
    source_credit: str
    our_credit: str


@dataclass
class Report:
    system: str
    dry_run: bool
    created: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)  # imported before, changed since
    problems: list[Problem] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    not_imported: list[str] = field(default_factory=list)  # secrets left behind, by design

    def problem(self, kind: str, source_id: object, reason: str, *, skip: bool = True) -> None:
        """Note a problem; ``skip`` when the row did not come over because of it."""
        self.problems.append(Problem(kind, str(source_id), reason))
        if skip:
            self.skipped[kind] += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": {k: self.created.get(k, 0) for k in (*KINDS, *sorted(self._extra()))},
            "skipped": {k: self.skipped.get(k, 0) for k in (*KINDS, *sorted(self._extra()))},
            "problems": [
                {"kind": p.kind, "source_id": p.source_id, "reason": p.reason}
                for p in self.problems
            ],
            "balance_mismatches": len(self.mismatches),
        }

    def _extra(self) -> set[str]:
        return (set(self.created) | set(self.skipped)) - set(KINDS)
