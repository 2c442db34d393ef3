"""Issue 20: ``python -m bench --sessions … --signins …`` against the real app on loopback.

A small real run: the XS book (built in about a second) in SQLite, the app started by the
bench itself, 3 protocol sessions switching pages for ~10 s and 2 sign-ins submitted at
once through the real form. The figures depend on the machine; their shape, that pages
were switched and that nothing failed do not.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

CAPACITY_KEYS = {"sessions", "p50_ms", "p95_ms", "errors", "server_cpu_s", "switches"}


@pytest.mark.timeout(180)
def test_sessions_and_signins_over_the_protocol(tmp_path):
    out = tmp_path / "bench.json"
    env = {
        **os.environ,
        "ANFITRION_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bench-XS.db'}",
    }
    command = [sys.executable, "-m", "bench", "--scale", "XS", "--capacity-only"]
    command += ["--sessions", "3", "--signins", "2", "--session-seconds", "10"]
    command += ["--out", str(out)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]

    figures = json.loads(out.read_text(encoding="utf-8"))
    assert isinstance(figures["capacity"], list) and len(figures["capacity"]) == 1
    capacity = figures["capacity"][0]
    assert capacity.keys() >= CAPACITY_KEYS
    assert capacity["sessions"] == 3
    assert capacity["errors"] == 0, capacity["error_kinds"]
    assert capacity["switches"] > 0
    assert 0 < capacity["p50_ms"] <= capacity["p95_ms"]
    assert capacity["server_cpu_s"] > 0
    assert figures["capacity_knee"] is None or figures["capacity_knee"] == 3

    split = figures["signin_split"]
    assert split["signins"] == 2 and split["bcrypt_rounds"] == 12
    assert split["errors"] == 0, split["error_kinds"]
    assert figures["signin_p95_ms"] == split["form_p95_ms"] > 0
    for part in ("bcrypt_ms", "authenticator_ms", "page_ms"):
        assert part in split
    # Two checks on this machine's cores: the floor is one or two checks deep.
    assert split["bcrypt_one_ms"] <= split["bcrypt_floor_p95_ms"] <= 2 * split["bcrypt_one_ms"]
    # The sign-in really checked a 12-round hash: it cannot be cheaper than one check.
    assert figures["signin_p95_ms"] >= split["bcrypt_one_ms"] * 0.5
