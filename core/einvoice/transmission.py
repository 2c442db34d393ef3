"""Moving a signed document through the SRI: recepción, then autorización (research §4.6).

States (``core.einvoice.states``)::

    signed ──RECIBIDA / DEVUELTA 43, 70──▶ received ──AUTORIZADO──▶ authorised (final)
       │                                     │ └──NO AUTORIZADO──▶ not_authorised (final)
       └──DEVUELTA (other)──▶ returned        └──EN PROCESO──▶ in_process ──▶ (asked again)

A timeout, a refused connection, a fault or DEVUELTA 50 (the SRI's internal error) leaves the
state as it was and schedules the next try with backoff; the daily run and the moment right
after a payment call :func:`transmit`. The same key and the same signed bytes are sent every
time (a new key would burn a secuencial). A document that was sent before with no usable
answer is first looked up at autorización, and sent again only if the SRI does not know it.
Every request and raw answer is kept in ``sri_exchange``, in the transaction that records the
new state.

One call handles one document: a short transaction claims it (``attempts`` moves on only if
nobody else moved it), the network calls run outside any transaction, and one transaction
writes the outcome. Two runs at once never send the same document twice in the same attempt.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import CursorResult, insert, or_, select, update
from sqlalchemy.orm import Session

from core.access import Actor, require
from core.einvoice import states
from core.einvoice.sri_client import (
    AUTHORISED,
    NOT_AUTHORISED,
    NOT_FOUND,
    RECEIVED,
    Authorisation,
    Exchange,
    SriClient,
    SriUnavailable,
)
from core.models import ElectronicDocument, Invoice, SriExchange
from core.platform import audit, settings
from core.platform.clock import now
from core.platform.db import after_commit, reading, unit_of_work
from core.platform.errors import Conflict, NotFound

log = logging.getLogger(__name__)

RECEPTION_URL_TEST = "sri.reception_url_test"
AUTHORISATION_URL_TEST = "sri.authorisation_url_test"
RECEPTION_URL_PRODUCTION = "sri.reception_url_production"
AUTHORISATION_URL_PRODUCTION = "sri.authorisation_url_production"
TIMEOUT_SECONDS = "sri.timeout_seconds"
AUTHORISATION_POLLS = "sri.authorisation_polls"
POLL_WAIT_MS = "sri.poll_wait_ms"
TRANSMIT = "sri.transmit"  # off until the owner (or the demo) connects the business

OPEN = (states.SIGNED, states.RECEIVED, states.IN_PROCESS)  # the SRI still owes an answer
FINAL = (states.AUTHORISED, states.RETURNED, states.NOT_AUTHORISED)
GO_TO_AUTHORISATION = {"43", "70"}  # already registered / still processing: ask, don't resend
TRANSIENT_RETURN = {"50"}  # the SRI's internal error: send again later
BACKOFF_MINUTES = (1, 5, 15, 60, 240, 720, 1440)
LEASE = timedelta(minutes=5)  # a claimed document is not taken by another worker meanwhile
BATCH = 25  # documents claimed and recorded per transaction by each worker

Notify = Callable[[Session, ElectronicDocument, datetime], None]


def backoff(attempts: int) -> timedelta:
    """1, 5, 15 minutes, 1, 4, 12 hours, then daily (the research's 24-hour alert window)."""
    return timedelta(minutes=BACKOFF_MINUTES[min(max(attempts, 1), len(BACKOFF_MINUTES)) - 1])


def client_for(environment: int, session: Session | None = None) -> SriClient:
    """A client for ambiente 1 (pruebas) or 2 (producción), from the endpoint settings."""
    if environment == 2:
        reception = settings.get_text(RECEPTION_URL_PRODUCTION, session=session)
        authorisation = settings.get_text(AUTHORISATION_URL_PRODUCTION, session=session)
    else:
        reception = settings.get_text(RECEPTION_URL_TEST, session=session)
        authorisation = settings.get_text(AUTHORISATION_URL_TEST, session=session)
    return SriClient(
        reception,
        authorisation,
        timeout=max(settings.get_int(TIMEOUT_SECONDS, session=session), 1),
    )


@dataclass
class _Outcome:
    """What the network side learnt; written in one transaction afterwards."""

    status: str
    exchanges: list[Exchange] = field(default_factory=list)
    messages: list[dict[str, str]] | None = None  # None: keep the stored ones
    authorisation: Authorisation | None = None
    retry: bool = False
    unreachable: bool = False  # no answer at all: the rest of a batch waits for the next run


@dataclass(frozen=True)
class _Claim:
    id: int
    status: str
    attempts: int  # before this try
    environment: int
    access_key: str
    xml: bytes


def _claim_many(document_ids: list[int], at: datetime) -> list[_Claim]:
    """Claim these documents' next attempt in one transaction (one commit for a batch: the
    commit, not the SRI, was most of a document's cost). A document moved by another worker
    since it was read is left to that worker."""
    claims: list[_Claim] = []
    # Due now, as ``due`` chose them: a worker whose list was read before another worker's
    # claim committed finds the lease (``next_attempt_at`` ahead) and leaves the document,
    # where the attempts counter alone would let it take the next attempt and send it twice.
    is_due = or_(
        ElectronicDocument.next_attempt_at.is_(None), ElectronicDocument.next_attempt_at <= at
    )
    with unit_of_work() as s:
        rows = s.execute(
            select(
                ElectronicDocument.id,
                ElectronicDocument.status,
                ElectronicDocument.attempts,
                ElectronicDocument.environment,
                ElectronicDocument.access_key,
                ElectronicDocument.xml_signed,
            ).where(
                ElectronicDocument.id.in_(document_ids),
                ElectronicDocument.status.in_(OPEN),
                is_due,
            )
        ).all()
        order = {doc_id: i for i, doc_id in enumerate(document_ids)}
        for doc_id, status, seen, environment, key, xml in sorted(rows, key=lambda r: order[r[0]]):
            moved = cast(
                "CursorResult[Any]",
                s.execute(
                    update(ElectronicDocument)
                    .where(
                        ElectronicDocument.id == doc_id,
                        ElectronicDocument.attempts == seen,
                        is_due,
                    )
                    .values(attempts=seen + 1, next_attempt_at=at + LEASE)
                ),
            ).rowcount
            if moved == 1:  # else another worker took this attempt
                claims.append(_Claim(doc_id, status, seen, environment, key, xml.encode()))
    return claims


def _apply(out: _Outcome, answer: Authorisation) -> bool:
    """Take one autorización answer into ``out``; True when it is final."""
    out.exchanges.append(answer.exchange)
    # What recepción said in this same try (43, 70) stays beside the final answer.
    if answer.state == AUTHORISED:
        out.status, out.authorisation, out.retry = states.AUTHORISED, answer, False
        out.messages = (out.messages or []) + answer.messages
        return True
    if answer.state == NOT_AUTHORISED:
        out.status, out.retry = states.NOT_AUTHORISED, False
        out.messages = (out.messages or []) + answer.messages
        return True
    out.status, out.retry = states.IN_PROCESS, True  # pending, or not listed yet
    return False


def _ask(client: SriClient, claim: _Claim, out: _Outcome, polls: int, wait_ms: int) -> None:
    """Ask autorización up to ``polls`` times while the SRI says it is still processing."""
    for i in range(max(polls, 1)):
        if i:
            time.sleep(wait_ms / 1000)
        if _apply(out, client.authorisation(claim.access_key)):
            return


def _talk(client: SriClient, claim: _Claim, polls: int, wait_ms: int, send_first: bool) -> _Outcome:
    out = _Outcome(claim.status)
    try:
        if claim.status == states.SIGNED and claim.attempts > 0 and not send_first:
            # Sent before without a usable answer: the SRI may have it (§4.6 idempotency).
            first = client.authorisation(claim.access_key)
            if first.state != NOT_FOUND:
                if not _apply(out, first):
                    _ask(client, claim, out, polls - 1, wait_ms)
                return out
            out.exchanges.append(first.exchange)
        if claim.status == states.SIGNED:
            reception = client.send(claim.xml)
            out.exchanges.append(reception.exchange)
            codes = {m["identificador"] for m in reception.messages}
            if reception.state != RECEIVED and not codes & GO_TO_AUTHORISATION:
                out.messages = reception.messages
                if codes & TRANSIENT_RETURN:
                    out.retry = True
                else:
                    out.status = states.RETURNED
                return out
            out.status = states.RECEIVED
            if reception.messages:
                out.messages = reception.messages
        _ask(client, claim, out, polls, wait_ms)
    except SriUnavailable as exc:
        out.exchanges.append(exc.exchange)
        out.retry = True
        out.unreachable = exc.exchange.outcome in ("timeout", "connection")
    return out


def _exchange_row(document_id: int, ex: Exchange, at: datetime) -> dict[str, Any]:
    return {
        "document_id": document_id,
        "service": ex.service,
        "request": ex.request.decode("utf-8", "replace"),
        "response": None if ex.response is None else ex.response.decode("utf-8", "replace"),
        "http_status": ex.http_status,
        "outcome": ex.outcome[:20],
        "duration_ms": ex.duration_ms,
        "at": at,
    }


def _record_many(
    outcomes: list[tuple[_Claim, _Outcome | None]], at: datetime, notify: Notify | None
) -> dict[int, str]:
    """Write what each try learnt, in one transaction; returns each document's status.
    ``None``: the try was not made (the SRI stopped answering earlier in the batch), so the
    claim is given back as it was, for the next run."""
    statuses: dict[int, str] = {}
    authorised: list[ElectronicDocument] = []
    with unit_of_work() as s:
        docs = {
            doc.id: doc
            for doc in s.scalars(
                select(ElectronicDocument).where(
                    ElectronicDocument.id.in_([claim.id for claim, _ in outcomes])
                )
            )
        }
        # The exchanges go in as one multi-row insert: nothing reads them back here.
        exchanges = [
            _exchange_row(claim.id, ex, at)
            for claim, out in outcomes
            if out is not None
            for ex in out.exchanges
        ]
        if exchanges:
            s.execute(insert(SriExchange), exchanges)
        for claim, out in outcomes:
            doc = docs[claim.id]
            if out is None:
                doc.attempts, doc.next_attempt_at = claim.attempts, None
                statuses[doc.id] = doc.status
                continue
            doc.status = out.status
            if out.messages is not None:
                doc.messages = json.dumps(out.messages, ensure_ascii=False)
            doc.next_attempt_at = at + backoff(doc.attempts) if out.retry else None
            answer = out.authorisation
            if answer is not None:
                doc.xml_authorised = answer.xml
                doc.authorisation_number = answer.number
                doc.authorised_at = answer.authorised_at or at
                authorised.append(doc)
            statuses[doc.id] = doc.status
        if notify is not None and authorised:
            s.flush()  # the states once for the batch; each mail's savepoint then has none
            for doc in authorised:
                try:
                    with s.begin_nested():
                        notify(s, doc, at)
                except Exception:  # noqa: BLE001 - the authorisation stands; "mail again" exists
                    log.exception("document %s: authorised, its mail not queued", doc.id)
    return statuses


def _send_batch(
    claims: list[_Claim],
    at: datetime,
    client: SriClient,
    polls: int,
    wait_ms: int,
    notify: Notify,
    send_first: bool = False,
) -> tuple[dict[int, str], bool]:
    """Talk to the SRI for each claim (outside any transaction), then record them all;
    returns each status and whether the SRI still answers. Once it stops answering, the rest
    are not tried: a timeout each would only hold the run, and the next run takes them."""
    outcomes: list[tuple[_Claim, _Outcome | None]] = []
    reachable = True
    for claim in claims:
        out = _talk(client, claim, polls, wait_ms, send_first) if reachable else None
        reachable = reachable and not (out is not None and out.unreachable)
        outcomes.append((claim, out))
    return _record_many(outcomes, at, notify), reachable


def _default_notify() -> Notify:
    from core.einvoice.delivery import mail_authorised  # delivery imports this module

    return mail_authorised


def transmit(
    document_id: int,
    *,
    at: datetime,
    client: SriClient | None = None,
    polls: int | None = None,
    wait_ms: int | None = None,
    notify: Notify | None = None,
    send_first: bool = False,
) -> str:
    """One step forward for one document; returns its status afterwards. ``notify`` (the
    client's mail with the RIDE, by default) runs in the transaction that authorises it.
    ``send_first``: the owner's resend goes straight to recepción."""
    claims = _claim_many([document_id], at)
    if not claims:
        with reading() as s:
            doc = s.get(ElectronicDocument, document_id)
            return doc.status if doc is not None else ""
    if polls is None or wait_ms is None:
        with reading() as s:
            polls = settings.get_int(AUTHORISATION_POLLS, session=s) if polls is None else polls
            wait_ms = settings.get_int(POLL_WAIT_MS, session=s) if wait_ms is None else wait_ms
    own = client is None
    sri = client or client_for(claims[0].environment)
    try:
        statuses, _ = _send_batch(
            claims, at, sri, polls, wait_ms, notify or _default_notify(), send_first
        )
    finally:
        if own:
            sri.close()
    return statuses[document_id]


def due(s: Session, upto: datetime, limit: int | None = None) -> list[int]:
    """Documents the SRI still owes an answer on whose next try has come (oldest first)."""
    stmt = (
        select(ElectronicDocument.id)
        .where(
            ElectronicDocument.status.in_(OPEN),
            or_(
                ElectronicDocument.next_attempt_at.is_(None),
                ElectronicDocument.next_attempt_at <= upto,
            ),
        )
        .order_by(ElectronicDocument.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(s.scalars(stmt))


def transmit_many(
    ids: Iterable[int], *, at: datetime, workers: int = 1, notify: Notify | None = None
) -> dict[str, int]:
    """Each document once; counts by resulting status. ``workers`` > 1 sends that many at a
    time (each worker with its own connection per ambiente): the SRI's answer time, not our
    CPU, bounds a batch. The claim in :func:`transmit` keeps two workers off one document."""
    pending = list(ids)
    if not pending:
        return {}
    with reading() as s:
        environments = dict(
            s.execute(
                select(ElectronicDocument.id, ElectronicDocument.environment).where(
                    ElectronicDocument.id.in_(pending)
                )
            )
            .tuples()
            .all()
        )
        polls = settings.get_int(AUTHORISATION_POLLS, session=s)
        wait_ms = settings.get_int(POLL_WAIT_MS, session=s)
        endpoints = {env: client_for(env, s) for env in set(environments.values())}
    for client in endpoints.values():
        client.close()  # only their settings are kept: each worker opens its own

    notify = notify or _default_notify()

    def work(part: list[int]) -> dict[str, int]:
        counts: dict[str, int] = {}
        clients = {
            env: SriClient(c.reception_url, c.authorisation_url, timeout=c.timeout)
            for env, c in endpoints.items()
        }
        answering = set(endpoints)  # an ambiente whose SRI stopped answering is left alone
        try:
            for i in range(0, len(part), BATCH):
                chunk = [d for d in part[i : i + BATCH] if environments.get(d) in answering]
                by_env: dict[int, list[_Claim]] = {}
                for claim in _claim_many(chunk, at) if chunk else []:
                    by_env.setdefault(claim.environment, []).append(claim)
                for env, batch in by_env.items():
                    statuses, reachable = _send_batch(
                        batch, at, clients[env], polls, wait_ms, notify
                    )
                    if not reachable:
                        answering.discard(env)
                    for status in statuses.values():
                        counts[status] = counts.get(status, 0) + 1
        finally:
            for client in clients.values():
                client.close()
        return counts

    workers = max(1, min(workers, len(pending)))
    parts = [pending[i::workers] for i in range(workers)]
    if workers == 1:
        results = [work(parts[0])]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(work, parts))
    total: dict[str, int] = {}
    for counts in results:
        for status, n in counts.items():
            total[status] = total.get(status, 0) + n
    return total


def _transmit_quietly(ids: list[int], at: datetime) -> None:
    try:
        transmit_many(ids, at=at)
    except Exception:  # noqa: BLE001 - the payment is committed; the daily run retries
        log.exception("electronic documents %s: sending failed now; the daily run retries", ids)


def send_due(actor: Actor, *, at: datetime | None = None) -> dict[str, int]:
    """The back office's "send the pending ones now": what the daily run would send."""
    require(actor, "billing")
    at = at or now()
    with reading() as s:
        ids = due(s, at)
    return transmit_many(ids, at=at)


def send_after_commit(session: Session, document_ids: list[int], at: datetime) -> None:
    """Send these documents right after the caller's transaction commits."""
    if document_ids:
        after_commit(session, partial(_transmit_quietly, list(document_ids), at))


# Listed in ``core.billing.hooks.PAID_HOOKS`` after the factura is issued.
def send_paid_factura(session: Session, invoice: Invoice, actor: Actor) -> None:
    """The factura issued for this payment goes to the SRI as soon as the payment commits."""
    if not settings.get_bool(TRANSMIT, session=session):
        return
    session.flush()
    ids = list(
        session.scalars(
            select(ElectronicDocument.id).where(
                ElectronicDocument.invoice_id == invoice.id,
                ElectronicDocument.status == states.SIGNED,
            )
        )
    )
    assert invoice.paid_at is not None  # mark_paid stamps it before the hooks run
    send_after_commit(session, ids, invoice.paid_at)


def resend(actor: Actor, document_id: int, *, at: datetime | None = None) -> str:
    """The owner sends a returned, refused or stuck document again, with the same key and
    bytes (after fixing what the SRI named: the agreement, the RUC's status, …)."""
    require(actor, "billing")
    at = at or now()
    with unit_of_work() as s:
        doc = s.get(ElectronicDocument, document_id)
        if doc is None:
            raise NotFound()
        if doc.status == states.AUTHORISED:
            raise Conflict("sri.error_already_authorised")
        if doc.status in (states.RETURNED, states.NOT_AUTHORISED):
            doc.status = states.SIGNED
        doc.next_attempt_at = None
        audit.record(
            s,
            actor,
            "einvoice.resent",
            target_type="electronic_document",
            target_id=doc.id,
            client_id=doc.client_id,
            at=at,
        )
    return transmit(document_id, at=at, send_first=True)
