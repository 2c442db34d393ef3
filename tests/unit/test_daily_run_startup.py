"""The daily run is a cron job started every day: its start-up loads what a run with nothing
to do needs (the models, the steps' selections), not the libraries of work it may not do.
A run that finds nothing costs well under a second at L (issue 20), half of it imports."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Loaded only when their work comes up: a panel call (requests), a secret read (cryptography),
# an SRI document (lxml), a password or a phone number checked, a mail rendered (jinja2).
NOT_AT_START = (
    "requests",
    "urllib3",
    "cryptography",
    "lxml",
    "zxcvbn",
    "email_validator",
    "phonenumbers",
    "stdnum",
    "jinja2",
    "core.einvoice",
    "core.support.views",
)

PROBE = """
import json, sys
import core.cli, core.automation
names = {m if m.startswith("core.") else m.split(".")[0] for m in sys.modules}
print(json.dumps(sorted(names)))
"""


def test_the_daily_run_starts_without_the_libraries_of_work_it_may_not_do():
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "sqlalchemy" in loaded and "core.automation.steps" in loaded  # the probe works
    assert sorted(name for name in NOT_AT_START if name in loaded) == []


def test_the_run_reads_the_sri_switch_the_sri_side_writes():
    from core.automation import einvoice_step
    from core.einvoice import transmission

    assert einvoice_step.TRANSMIT == transmission.TRANSMIT
