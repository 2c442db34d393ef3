"""The support desk's part of the daily run: tickets left waiting on the customer are closed.

Kept apart from ``core.support.tickets`` (which re-exports it), so the daily run imports the
desk's workflow and mail only, not the views, files and statistics the pages read (~0.05 s of
every cron start-up).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, scoped
from core.models import Client, Department, Service, Ticket
from core.platform import settings
from core.platform.db import reading, transaction
from core.support import flow
from core.support import notices as tickets_mail
from core.support.common import AUTOCLOSE_DAYS_KEY, WAITING_ON_CUSTOMER


def autoclose_waiting(actor: Actor, at: datetime, *, session: Session | None = None) -> int:
    """Close tickets that have waited on the customer (answered) for longer than the
    ``tickets.autoclose_days`` setting (default 5; 0 turns it off), and tell each client.
    Running it twice closes nothing twice. Returns how many closed.

    A backlog (thousands on a first run) is closed in groups of ``AUTOCLOSE_GROUP``, one
    transaction each; a group that fails rolls back whole and its tickets are then closed
    one per transaction, so one bad ticket never holds back the rest.

    The daily run calls ``autoclose_waiting(access.SYSTEM, at)``."""
    flow.require_desk(actor)
    days = settings.get_int(AUTOCLOSE_DAYS_KEY, session=session)
    if days <= 0:
        return 0
    cutoff = at - timedelta(days=days)
    waiting = (Ticket.status == WAITING_ON_CUSTOMER, Ticket.last_reply_at < cutoff)
    with reading(session) as s:
        # Sorted here: asked for id order, SQLite walked every ticket in it instead of
        # reading the few waiting ones from the (status, ...) index.
        ids = sorted(s.scalars(select(Ticket.id).where(*waiting)))
    if session is not None:  # inside the caller's transaction: no group to fall back from
        return _autoclose(session, actor, ids, cutoff, at)
    closed = 0
    for i in range(0, len(ids), AUTOCLOSE_GROUP):
        part = ids[i : i + AUTOCLOSE_GROUP]
        try:
            with transaction() as s:
                closed += _autoclose(s, actor, part, cutoff, at)
        except Exception:  # noqa: BLE001 - each ticket alone, below
            for ticket_id in part:
                try:
                    with transaction() as s:
                        closed += _autoclose(s, actor, [ticket_id], cutoff, at)
                except Exception:  # noqa: BLE001 - one ticket never stops the others
                    logging.getLogger(__name__).exception("auto-close of ticket %s", ticket_id)
    return closed


AUTOCLOSE_GROUP = 200


def _autoclose(s: Session, actor: Actor, ids: list[int], cutoff: datetime, at: datetime) -> int:
    """Close the still-waiting tickets of ``ids`` in the caller's transaction. Their rows are
    locked and read at once, with the clients, departments and services the mails name, so
    each close and mail costs no further read."""
    tickets = s.scalars(
        scoped(actor, Ticket, "tickets")
        .where(Ticket.id.in_(ids))
        .order_by(Ticket.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    # Held in ``named`` for the block: the identity map keeps only weak references.
    named: list[Any] = []
    for model, column in ((Client, "client_id"), (Department, "department_id")):
        wanted = {getattr(ticket, column) for ticket in tickets}
        named += s.scalars(select(model).where(model.id.in_(wanted))).all()
    wanted = {ticket.service_id for ticket in tickets if ticket.service_id}
    named += s.scalars(select(Service).where(Service.id.in_(wanted))).all()
    closed = 0
    with s.no_autoflush:
        for ticket in tickets:
            if ticket.status != WAITING_ON_CUSTOMER or ticket.last_reply_at >= cutoff:
                continue  # the customer wrote back meanwhile
            flow.close(s, actor, ticket, at)
            tickets_mail.to_client(s, ticket, "ticket_autoclosed")
            closed += 1
    return closed
