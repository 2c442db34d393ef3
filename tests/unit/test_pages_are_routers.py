"""ARCHITECTURE §1, rule 2: a file in pages/ is a router: its docstring, its imports, and one
call that hands the page's own role guard to a ``render`` in ui/. Its body lives in ui/."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "pages").glob("*.py"))


def _shape(path: Path) -> str | None:
    """What is wrong with the page, or None when it is a router."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    if not (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)):
        return "no docstring"
    rest = [n for n in body[1:] if not isinstance(n, ast.Import | ast.ImportFrom)]
    if len(rest) != 1 or not isinstance(rest[0], ast.Expr):
        return "more than one statement besides imports"
    call = rest[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "render"
        and len(call.args) == 1
        and not call.keywords
    ):
        return "the statement is not <module>.render(...)"
    guard = call.args[0]
    if not (
        isinstance(guard, ast.Call)
        and isinstance(guard.func, ast.Name)
        and guard.func.id == "guard"
        and [a.value for a in guard.args if isinstance(a, ast.Constant)] == [path.stem]
    ):
        return f'render is not given guard("{path.stem}")'
    sources = [
        node.module if isinstance(node, ast.ImportFrom) else alias.name
        for node in body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [None])
    ]
    if not sources or any(not (source or "").startswith("ui.") for source in sources):
        return "imports something outside ui/ (core, streamlit): the body belongs in ui/"
    return None


def test_there_are_pages():
    assert len(PAGES) >= 10


def test_every_page_is_a_guard_and_one_render_call():
    wrong = {p.name: why for p in PAGES if (why := _shape(p)) is not None}
    assert wrong == {}
