"""House rule 11: a name starting with ``_`` never crosses a package boundary.

A package is an area: ``core/billing/…`` is ``core.billing``, ``ui/kit/…`` is ``ui.kit``; a
top-level module (``core/access.py``, ``pages/home.py``, ``sandbox/demo.py``) is its own.
A package's front door (its ``__init__``) names what others may use, so a private name is
never taken from a front door either, not even by a module of the same package: what the
package's modules share lives in a named module of its own (``services/target.py``).
Product code only: tests may reach into private names.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TREES = ("core", "ui", "pages", "sandbox")
FRONT_DOORS = {
    ".".join(path.parent.relative_to(ROOT).parts)
    for tree in TREES
    for path in (ROOT / tree).rglob("__init__.py")
}


def _area(dotted: str) -> str:
    """The package a dotted name belongs to: its first two parts (``core.billing.ledger`` →
    ``core.billing``, ``core.access.Actor`` → ``core.access``, ``pages.home`` → itself)."""
    return ".".join(dotted.split(".")[:2])


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _modules():
    for tree in TREES:
        for path in sorted((ROOT / tree).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            yield path, ".".join(parts[:-1] if is_package else parts), is_package


def _absolute(node: ast.ImportFrom, name: str, is_package: bool) -> str:
    """``from .x import y`` read as the absolute module it names."""
    if not node.level:
        return node.module or ""
    base = name.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _crossings(source: str, where: str, name: str, is_package: bool) -> list[str]:
    """Each private name the module ``name`` (whose text is ``source``) takes from another
    package, as ``where:line what``."""
    here = _area(name)
    tree = ast.parse(source)
    found = []
    foreign: dict[str, str] = {}  # local name bound to another package's module → that module
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            module = _absolute(node, name, is_package)
            if module in FRONT_DOORS and module != name:
                found += [
                    f"{where}:{node.lineno} from {module} import {alias.name}"
                    for alias in node.names
                    if _private(alias.name)
                ]
            if module.split(".")[0] not in TREES or _area(module) == here:
                continue
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{where}:{node.lineno} from {module} import {alias.name}")
                elif _area(f"{module}.{alias.name}") != here:
                    foreign[alias.asname or alias.name] = f"{module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] not in TREES or _area(alias.name) == here:
                    continue
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"{where}:{node.lineno} import {alias.name}")
                if alias.asname:
                    foreign[alias.asname] = alias.name
    # ``from core.billing import ledger`` then ``ledger._x``; ``import core.x`` then
    # ``core.x._y`` is read from the attribute chain.
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        chain, value = [], node.value
        while isinstance(value, ast.Attribute):
            chain.insert(0, value.attr)
            value = value.value
        if not isinstance(value, ast.Name):
            continue
        if value.id in foreign:
            target = ".".join([foreign[value.id], *chain])
        elif value.id in TREES:
            target = ".".join([value.id, *chain])
        else:
            continue
        if _area(target) != here:
            found.append(f"{where}:{node.lineno} {target}.{node.attr}")
    return found


def test_no_private_name_crosses_a_package_boundary():
    found = []
    for path, name, is_package in _modules():
        source = path.read_text(encoding="utf-8")
        found += _crossings(source, str(path.relative_to(ROOT)), name, is_package)
    assert found == []


def test_the_check_sees_a_crossing():
    """The checker itself: each form it claims to catch is caught, the fine ones are not."""
    source = (
        "from core.billing.ledger import _lock\n"
        "from core.models.base import _id\n"
        "from core.billing import ledger\n"
        "import core.support.sla as sla\n"
        "ledger._lock()\n"
        "sla._minutes()\n"
        "core.rules.money._q()\n"
        "from . import _near\n"
        "from core.models import _shared\n"
    )
    found = _crossings(source, "probe", "core.models.probe", False)
    assert [hit.split(" ", 1)[1] for hit in found] == [
        "from core.billing.ledger import _lock",
        "from core.models import _near",  # the package's own front door, read as such
        "from core.models import _shared",
        "core.billing.ledger._lock",
        "core.support.sla._minutes",
        "core.rules.money._q",
    ]
