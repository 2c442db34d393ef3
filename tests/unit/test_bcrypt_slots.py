"""Issue 20: a burst of sign-ins queues on one bcrypt slot per core, the library's own
check included (core.accounts.verify_password; ui.auth.signin routes ``Hasher.check_pw``).

bcrypt releases the GIL, so without the slots twenty checks at once are time-sliced over
the cores and all twenty end together at the burst's end."""

from __future__ import annotations

import os
import threading
import time

import bcrypt
import streamlit_authenticator as stauth

import ui.auth.signin  # noqa: F401 - routes the library's check through ours
from core import accounts


def _watch(monkeypatch) -> dict[str, int]:
    """Count the checks running at once, each held long enough to overlap."""
    real = bcrypt.checkpw
    seen = {"now": 0, "most": 0, "calls": 0}
    lock = threading.Lock()

    def checkpw(password: bytes, hashed: bytes) -> bool:
        with lock:
            seen["now"] += 1
            seen["calls"] += 1
            seen["most"] = max(seen["most"], seen["now"])
        time.sleep(0.05)
        try:
            return real(password, hashed)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(bcrypt, "checkpw", checkpw)
    return seen


def _burst(check, hashed: str, count: int) -> list[bool]:
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda: results.append(check("Bench-clave-2026", hashed)))
        for _ in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_checks_at_once_are_at_most_the_cores(monkeypatch):
    hashed = bcrypt.hashpw(b"Bench-clave-2026", bcrypt.gensalt(4)).decode()
    seen = _watch(monkeypatch)
    cores = os.cpu_count() or 1
    results = _burst(accounts.verify_password, hashed, 4 * cores)
    assert results == [True] * (4 * cores)
    assert seen["calls"] == 4 * cores
    assert seen["most"] <= cores


def test_the_librarys_check_is_ours(monkeypatch):
    hashed = bcrypt.hashpw(b"Bench-clave-2026", bcrypt.gensalt(4)).decode()
    seen = _watch(monkeypatch)
    cores = os.cpu_count() or 1
    results = _burst(stauth.Hasher.check_pw, hashed, 3 * cores)
    assert results == [True] * (3 * cores)
    assert seen["most"] <= cores
    # Ours strips the typed password as the form does, and a stored value bcrypt refuses is
    # a wrong password, not the library's ValueError.
    assert stauth.Hasher.check_pw("  Bench-clave-2026 ", hashed)
    assert not stauth.Hasher.check_pw("Bench-clave-2026", "not a bcrypt hash")
    assert not stauth.Hasher.check_pw("wrong", hashed)
