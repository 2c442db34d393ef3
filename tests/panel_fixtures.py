"""The fake WHM server wired to the personas' panel server, shared by every tier.

The personas' server row is pointed at the fake by writing its port and (encrypted) token,
exactly as an owner would in settings. Client timeouts and backoff are shrunk so the suite
stays fast; the behaviour under test is the same.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core import panel
from core.models import Server
from core.platform import vault
from core.platform.db import unit_of_work
from sandbox.whm_server import FakeWhm

FAST = {"timeout": 2.0, "backoff": (0.01, 0.01, 0.01), "reconcile_wait": 1.0}


def point_server(port: int, token: str) -> None:
    with unit_of_work() as s:
        for server in s.scalars(select(Server)):
            server.port, server.token_encrypted, server.token_env = port, vault.encrypt(token), None


def dead_port() -> int:
    """A loopback port nobody listens on: a panel that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def calls(fake: FakeWhm, function: str) -> list[dict]:
    return [e for e in fake.log if e["function"] == function]


@pytest.fixture(scope="module")
def whm() -> Iterator[FakeWhm]:
    with FakeWhm() as fake:
        yield fake


def ready(whm: FakeWhm, *, mailboxes: bool = False) -> FakeWhm:
    """A fresh fake with the personas' two accounts (and a mailbox each), pointed at."""
    whm.reset()
    whm.min_strength, whm.auth_status = 65, 401
    whm.add_account("clienta", "cliente-a.ec", "basico", contact_email="a@test.ec")
    whm.add_account("clientb", "cliente-b.ec", "basico", contact_email="b@test.ec")
    if mailboxes:
        whm.add_mailbox("clienta", "ventas", quota_mb=500)
        whm.add_mailbox("clientb", "info", quota_mb=500)
    point_server(whm.port, whm.token)
    panel.configure(**FAST)
    return whm


@pytest.fixture
def fake(whm: FakeWhm, personas) -> Iterator[FakeWhm]:
    """The personas (each engine) with their accounts on a fresh fake panel."""
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


@pytest.fixture
def page_fake(whm: FakeWhm, page_personas) -> Iterator[FakeWhm]:
    """The same for page tests (SQLite)."""
    yield ready(whm)
    whm.clear_faults()
    panel.configure()
