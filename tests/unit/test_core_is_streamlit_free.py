"""House rule 1: core never imports streamlit, so it runs from cron, the CLI and tests."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter, so nothing the test session imported (the pages tier imports
# streamlit) hides an import. Every attempt is recorded, including one a module catches.
PROBE = """
import importlib, json, pkgutil, sys
tried = []
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            frame = sys._getframe(1)
            while frame and not frame.f_globals.get("__name__", "").startswith("core"):
                frame = frame.f_back
            tried.append((name, frame.f_globals["__name__"] if frame else None))
            raise ImportError("core must not import streamlit: " + name)
        return None
sys.meta_path.insert(0, Block())
import core
failed = []
def onerror(name):
    failed.append((name, repr(sys.exc_info()[1])))
names = ["core"]
for info in pkgutil.walk_packages(core.__path__, "core.", onerror=onerror):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed.append((info.name, repr(exc)))
print(json.dumps({"names": names, "failed": failed, "tried": tried,
                  "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "streamlit")}))
"""


def _module_names() -> set[str]:
    """Every module file under core/, as a dotted name (what the walk must reach)."""
    names = set()
    for path in (ROOT / "core").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_core_module_imports_with_streamlit_blocked():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["failed"] == []  # (module, error): a module that does not import at all
    assert seen["tried"] == []  # (streamlit module, the core module that asked for it)
    assert seen["loaded"] == []
    # The walk really reached every sub-package and module, not only the top level.
    assert set(seen["names"]) >= _module_names()
    assert any(name.count(".") >= 2 for name in seen["names"])


def test_no_core_function_imports_streamlit_later():
    """An import inside a function is not run by the probe above, so it is read from source."""
    found = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                mods = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""]
            else:
                continue
            if any(m == "streamlit" or m.startswith("streamlit.") for m in mods):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
