"""Replies that misbehave (issue 16, item 15): the panel client reads a reply as it arrives,
under a size cap and an overall deadline. Against the WHM stand-in on loopback, whose
``drip`` fault sends the answer a byte every 2 s and whose ``flood`` fault announces 400 MB
(or no length at all) and streams zeros."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from core.panel.transport import MAX_REPLY_BYTES
from core.panel.whm import PanelUnavailable, WhmClient
from sandbox.whm_server import MB, FakeWhm


@pytest.fixture(scope="module")
def server() -> Iterator[FakeWhm]:
    with FakeWhm() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeWhm) -> FakeWhm:
    server.reset()
    server.add_account("alice", "alice.example")
    return server


def client(fake: FakeWhm, **kw) -> WhmClient:
    opts = {"timeout": 3.0, "backoff": (), "reconcile_wait": 8.0, **kw}
    return WhmClient(fake.url, "root", fake.token, **opts)


def calls(fake: FakeWhm, function: str) -> list[dict]:
    return [e for e in fake.log if e["function"] == function]


def flooded(fake: FakeWhm) -> int:
    """Bytes the flood got out before the client hung up (the server logs it on its way out)."""
    for _ in range(100):
        if fake.flooded:
            return fake.flooded[0]
        time.sleep(0.05)
    raise AssertionError("the flood never ended: the client kept reading")


def test_a_reply_dripping_a_byte_every_two_seconds_times_out(fake):
    fake.inject("listaccts", "drip", seconds=2)
    started = time.monotonic()
    with client(fake) as c, pytest.raises(PanelUnavailable, match="timed out") as err:
        c.list_accounts()
    # connect + read timeout is the whole exchange's deadline (3 s here), plus one drip
    assert time.monotonic() - started < 7
    assert err.value.ambiguous is True and fake.token not in str(err.value)


def test_a_dripping_read_is_retried_and_then_answers(fake):
    fake.inject("listaccts", "drip", seconds=2)
    with client(fake, backoff=(0.01,)) as c:
        assert [a["user"] for a in c.list_accounts()] == ["alice"]
    assert len(calls(fake, "listaccts")) == 2


def test_a_dripping_write_is_reconciled_not_repeated(fake):
    fake.inject("suspendacct", "drip", seconds=2)
    with client(fake, backoff=(0.2,)) as c:
        c.suspend("alice", "Factura vencida")  # done by the panel; confirmed by reading it
    assert fake.accounts["alice"]["suspended"] is True
    assert len(calls(fake, "suspendacct")) == 1  # sent once, never repeated


def test_a_400_mb_reply_is_refused_without_reading_it(fake):
    fake.inject("listaccts", "flood")  # Content-Length: 400 MB
    started = time.monotonic()
    with client(fake) as c, pytest.raises(PanelUnavailable, match="too large"):
        c.list_accounts()
    assert time.monotonic() - started < 3
    assert flooded(fake) < 64 * MB  # at most what the sockets' buffers took, never 400 MB


def test_a_reply_without_a_length_is_cut_off_at_the_cap(fake):
    fake.inject("listaccts", "flood", sized=False)  # no Content-Length: zeros until we leave
    with client(fake) as c, pytest.raises(PanelUnavailable, match="too large"):
        c.list_accounts()
    assert MAX_REPLY_BYTES < flooded(fake) < MAX_REPLY_BYTES + 64 * MB
