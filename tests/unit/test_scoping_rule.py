"""ARCHITECTURE §2 rule 3: core scopes customer data through access.py, never by hand.

Every .py under core/ is parsed and searched for a hand-written client filter. What counts:

- a comparison (``==``, ``!=``) with a mapped column ``Model.client_id`` on either side
  (``Service.client_id == actor.client_id``, ``Invoice.client_id == client_id``): the class
  attribute, capitalised, is a SQL column, so the comparison is a WHERE filter;
- ``Model.id == <anything>.client_id`` (``Client.id == actor.client_id``): a client's own row
  picked by hand;
- ``<anything>.client_id.in_(...)``: a filter on a set of clients;
- ``filter_by(client_id=...)``.

What does not count, and why:

- the ON clause of ``.join()`` / ``.outerjoin()`` (``Client.id == Service.client_id``) relates
  two tables; it narrows nothing by who is asking;
- comparisons of instance attributes (``service.client_id != client_id``): Python checks that
  two rows already read through a scoped query belong together, not a query filter.

core/access.py is the one place allowed to write these filters.
"""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
ALLOWED = {CORE / "access.py"}
JOINS = {"join", "outerjoin", "join_from", "outerjoin_from"}


def _is_column(node: ast.expr, attr: str) -> bool:
    """``Model.attr`` where ``Model`` is a capitalised name (a mapped class or an alias)."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attr
        and isinstance(node.value, ast.Name)
        and node.value.id[:1].isupper()
    )


def _is_client_id(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "client_id"


def _join_conditions(tree: ast.AST) -> set[int]:
    """ids of the comparison nodes that are ON clauses of a join call."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in JOINS
        ):
            for arg in node.args:
                inside.update(id(n) for n in ast.walk(arg) if isinstance(n, ast.Compare))
    return inside


def hand_written_filters(source: str) -> list[int]:
    """Line numbers of hand-written client filters in ``source``."""
    tree = ast.parse(source)
    joins = _join_conditions(tree)
    found: list[int] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and id(node) not in joins:
            if not any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                continue
            sides = [node.left, *node.comparators]
            by_column = any(_is_column(side, "client_id") for side in sides)
            own_row = any(_is_column(side, "id") for side in sides) and any(
                _is_client_id(side) for side in sides
            )
            if by_column or own_row:
                found.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            by_set = node.func.attr == "in_" and _is_client_id(node.func.value)
            by_keyword = node.func.attr == "filter_by" and any(
                k.arg == "client_id" for k in node.keywords
            )
            if by_set or by_keyword:
                found.append(node.lineno)
    return sorted(found)


def test_the_check_catches_the_hand_written_patterns() -> None:
    caught = """
stmt.where(Service.client_id == actor.client_id)
stmt.where(client_id == Invoice.client_id)
stmt.where(Client.id == actor.client_id)
stmt.where(Service.client_id.in_(named))
stmt.where(CreditEntry.client_id != 3)
s.query(Ticket).filter_by(client_id=4)
"""
    assert hand_written_filters(caught) == [2, 3, 4, 5, 6, 7]
    left_alone = """
stmt.join(Client, Client.id == Service.client_id)
stmt.outerjoin(Client, Client.id == func.coalesce(Service.client_id, Invoice.client_id))
if service.client_id != client_id: pass
stmt.where(Invoice.id == key)
"""
    assert hand_written_filters(left_alone) == []


def test_core_scopes_by_client_only_through_access() -> None:
    offenders = [
        f"{path.relative_to(CORE.parent)}:{line}"
        for path in sorted(CORE.rglob("*.py"))
        if path not in ALLOWED
        for line in hand_written_filters(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], "scope through core/access.py (scoped, visible, of_client)"
