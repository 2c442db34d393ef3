"""The sandbox SRI on loopback, and the app pointed at it (issue 17, the SRI side)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core.access import Actor
from core.models import ElectronicDocument, SriExchange
from core.platform import settings
from core.platform.db import read_session
from sandbox.sri_server import FakeSri


@pytest.fixture
def sri() -> Iterator[FakeSri]:
    # The tests' documents are dated 2026-11-26 (einvoice_helpers.AT): the date window (65)
    # is the sandbox's own test, not these.
    fake = FakeSri(check_dates=False).start()
    try:
        yield fake
    finally:
        fake.stop()


def connect(owner: Actor, fake: FakeSri, *, polls: int = 3, timeout: int = 5) -> None:
    """What the demo does: documents go to the sandbox by themselves, quickly."""
    settings.put(owner, "sri.transmit", True)
    settings.put(owner, "sri.reception_url_test", fake.recepcion_url)
    settings.put(owner, "sri.authorisation_url_test", fake.autorizacion_url)
    settings.put(owner, "sri.authorisation_polls", polls)
    settings.put(owner, "sri.poll_wait_ms", 0)
    settings.put(owner, "sri.timeout_seconds", timeout)


def document(document_id: int) -> ElectronicDocument:
    with read_session() as s:
        doc = s.get_one(ElectronicDocument, document_id)
        s.expunge(doc)
        return doc


def exchanges(document_id: int) -> list[tuple[str, str]]:
    with read_session() as s:
        return [
            (e.service, e.outcome)
            for e in s.scalars(
                select(SriExchange)
                .where(SriExchange.document_id == document_id)
                .order_by(SriExchange.id)
            )
        ]
