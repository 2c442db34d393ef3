"""``python -m bench.einvoice DATABASE_URL [COUNT]``: issue, sign and authorise COUNT facturas
(default 10,000) of the book's paid invoices against the sandbox SRI, and print one JSON line.

It runs in a process of its own (as ``bench.load`` does), with the sandbox SRI in a third
process, so the two share the machine's cores as the app and the SRI would. The path is the
product's: ``core.einvoice.issue_factura`` (XML, XSD check, XAdES-BES signature, secuencial) in
transactions of ``BATCH`` invoices, then ``core.einvoice.transmission.transmit`` per document
(recepción, autorización, the exchanges kept, the state written). The client's mail with the
RIDE is the one step left out of the timed path and timed on its own on a sample: it is
queued work, and the figure asked for is issuing, signing and authorising. The signing cost
is measured inside the issuing, around ``sign`` itself.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

BATCH = 200
WORKERS = 4  # documents in flight at once: the SRI's answer time bounds a batch
TARGET_S = 60
RIDE_SAMPLE = 200
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_sri(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox.sri_server", "--port", str(port), "--no-date-check"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("the sandbox SRI did not start")


def _set_up(port: int, at: datetime) -> None:
    from core.access import SYSTEM
    from core.einvoice import certificates, transmission
    from core.platform import settings
    from sandbox.demo_certificate import make_p12

    base = f"http://127.0.0.1:{port}/comprobantes-electronicos-ws/"
    for key, value in (
        ("business.ruc", "1792900018001"),
        ("business.address", "Av. Amazonas N00-00, Quito"),
        # The book's clients are consumidores finales with monthly invoices above the $50
        # limit; the bench measures the documents, not that rule.
        ("einvoice.final_consumer_limit", Decimal("1000000.00")),
        (transmission.TRANSMIT, True),
        (transmission.RECEPTION_URL_TEST, base + "RecepcionComprobantesOffline"),
        (transmission.AUTHORISATION_URL_TEST, base + "AutorizacionComprobantesOffline"),
        (transmission.AUTHORISATION_POLLS, 1),
        (transmission.POLL_WAIT_MS, 0),
    ):
        settings.put(SYSTEM, key, value)
    password = "bench-certificado"
    p12 = make_p12(ruc="1792900018001", holder="BENCH S.A.", password=password,
                   not_before=datetime(2020, 1, 1), days=365 * 10)  # fmt: skip
    certificates.upload(SYSTEM, p12, password, at=at)


def run(database_url: str, count: int) -> dict[str, float | int]:
    os.environ["DATABASE_URL"] = database_url
    from core.models import Invoice
    from core.platform import config, settings
    from core.platform.db import read_session

    config.get_settings.cache_clear()
    at = datetime(2026, 12, 1, 15, 0)
    port = _free_port()
    sri = _start_sri(port)
    try:
        _set_up(port, at)
        with read_session() as s:
            ids = list(
                s.scalars(
                    select(Invoice.id)
                    .where(Invoice.status == "paid", Invoice.total > 0)
                    .order_by(Invoice.id)
                    .limit(count)
                )
            )
        # Settings are read once for the whole bench, as the daily run reads them (a snapshot).
        with settings.snapshot_scope():
            return _measure(ids, at)
    finally:
        sri.terminate()
        sri.wait(timeout=10)


def _measure(ids: list[int], at: datetime) -> dict[str, float | int]:
    from core.einvoice import delivery, issue, states, transmission
    from core.models import ElectronicDocument, Invoice
    from core.platform.db import read_session, unit_of_work

    signing = {"s": 0.0, "n": 0}
    real_sign = issue.sign

    def timed_sign(*args, **kw):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        try:
            return real_sign(*args, **kw)
        finally:
            signing["s"] += time.perf_counter() - started
            signing["n"] += 1

    issue.sign = timed_sign  # the bench's own stopwatch around the product's signer
    started = time.perf_counter()
    documents: list[int] = []
    try:
        for i in range(0, len(ids), BATCH):
            with unit_of_work() as s:
                paid = []
                for invoice in s.scalars(select(Invoice).where(Invoice.id.in_(ids[i : i + BATCH]))):
                    assert invoice.paid_at is not None
                    paid.append((invoice, invoice.paid_at))
                documents.extend(doc.id for doc in issue.issue_facturas(s, paid))
    finally:
        issue.sign = real_sign
    issued_s = time.perf_counter() - started

    def no_mail(*_args: object) -> None:
        return None  # timed apart below

    started = time.perf_counter()
    counts = transmission.transmit_many(documents, at=at, workers=WORKERS, notify=no_mail)
    authorised_s = time.perf_counter() - started

    sample = documents[:RIDE_SAMPLE]
    started = time.perf_counter()
    with read_session() as s:
        for doc in s.scalars(select(ElectronicDocument).where(ElectronicDocument.id.in_(sample))):
            delivery.ride_of(doc)
    ride_ms = (time.perf_counter() - started) * 1000 / max(len(sample), 1)
    total_s = issued_s + authorised_s
    return {
        "documents": len(documents),
        "authorised": counts.get(states.AUTHORISED, 0),
        "not_authorised": len(documents) - counts.get(states.AUTHORISED, 0),
        "issue_and_sign_s": round(issued_s, 1),
        "send_and_authorise_s": round(authorised_s, 1),
        "total_s": round(total_s, 1),
        "target_s": TARGET_S,
        "signing_ms_per_document": round(signing["s"] * 1000 / max(signing["n"], 1), 2),
        "issue_ms_per_document": round(issued_s * 1000 / max(len(documents), 1), 2),
        "authorise_ms_per_document": round(authorised_s * 1000 / max(len(documents), 1), 2),
        "ride_ms_per_document": round(ride_ms, 2),
    }


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    count = int(args[1]) if len(args) > 1 else 10_000
    print(json.dumps(run(args[0], count)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
