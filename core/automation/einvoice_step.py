"""The daily run's SRI step: documents the SRI still owes an answer on are sent or asked again.

Signed documents never sent (or sent without a usable answer), received ones and those "in
process" whose next try has come by the end of the run's day go through
``core.einvoice.transmission.transmit``, one at a time. The unique key carries the document's
attempt count, so each try is recorded once and two runs never make the same try twice (the
transmission's own claim guards the same).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.automation.items import DONE, SKIPPED, Item, Outcome, fresh, key_taken, record
from core.automation.policy import AutomationSettings
from core.models import Client, ElectronicDocument
from core.platform import settings
from core.platform.db import unit_of_work

PREFIX = "einvoice:"
# ``core.einvoice.transmission.TRANSMIT``, named here so that a run of a business not
# connected to the SRI never imports the SRI side (lxml, cryptography, requests: ~0.1 s of
# every cron start-up); a test holds the two equal.
TRANSMIT = "sri.transmit"


def select_einvoices(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    if not settings.get_bool(TRANSMIT, session=s):
        return []
    from core.einvoice import transmission

    upto = datetime.combine(today + timedelta(days=1), time.min)
    ids = transmission.due(s, upto)
    if not ids:
        return []
    rows = s.execute(
        select(
            ElectronicDocument.id,
            ElectronicDocument.attempts,
            ElectronicDocument.client_id,
            Client.name,
            ElectronicDocument.number,
            ElectronicDocument.invoice_id,
        )
        .join(Client, Client.id == ElectronicDocument.client_id)
        .where(ElectronicDocument.id.in_(ids))
        .order_by(ElectronicDocument.id)
    ).all()
    items = [
        Item(
            "einvoice",
            f"{PREFIX}{doc_id}:{attempts}",
            client_id,
            name,
            number,
            invoice_id=invoice_id,
        )
        for doc_id, attempts, client_id, name, number, invoice_id in rows
    ]
    return fresh(s, items)


def do_einvoice(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    from core.einvoice import transmission

    document_id = int(item.key.removeprefix(PREFIX).partition(":")[0])
    status = transmission.transmit(document_id, at=at)
    with unit_of_work() as s:
        if key_taken(s, item.key):
            return Outcome(SKIPPED)
        record(s, run_id, item, status=DONE, result=status)
    return Outcome(DONE, {"status": status})
