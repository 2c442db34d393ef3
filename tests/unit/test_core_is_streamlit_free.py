"""House rule 1: core never imports streamlit, so it runs from cron, the CLI and tests."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "streamlit" or name.startswith("streamlit."):
            raise ImportError("core must not import streamlit: " + name)
        return None
sys.meta_path.insert(0, Block())
import core
names = [m.name for m in pkgutil.iter_modules(core.__path__)]
for name in names:
    importlib.import_module("core." + name)
print(len(names))
"""


def test_every_core_module_imports_with_streamlit_blocked():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 10  # the probe really walked the package
