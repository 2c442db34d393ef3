"""The daily run's disk-quota step (issue 19): a quota add-on's start or end that the panel
has not yet taken (WHM was down after the commit) is set again. The setting itself is
``core.addons.quota.apply``, imported when it runs (the add-ons import billing, which the run's
other steps import first). Safe to repeat: it sets a quota by value, and only while an add-on
of the service is still marked ``panel_pending``."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.automation.items import DONE, SKIPPED, Item, Outcome, record
from core.models import Client, Service, ServiceAddon
from core.platform.db import unit_of_work


def select_quotas(s: Session, today: date, cfg: object) -> list[Item]:
    """One item per service with a quota add-on still marked pending."""
    rows = s.execute(
        select(Service.id, Client.id, Client.name, Service.domain)
        .join(Client, Client.id == Service.client_id)
        .where(
            Service.id.in_(
                select(ServiceAddon.service_id).where(ServiceAddon.panel_pending.is_(True))
            )
        )
        .order_by(Service.id)
    ).all()
    # The key names the service; a run records it with its own id (``do_quota``), since
    # a later start or end of an add-on may need the same service set again.
    return [
        Item(
            step="addon_quota",
            key=f"addon_quota:{sid}",
            client_id=client_id,
            client_name=name,
            target=domain,
            service_id=sid,
        )
        for sid, client_id, name, domain in rows
    ]


def do_quota(run_id: int, item: Item, today: date, cfg: object, at: datetime) -> Outcome:
    from core.addons.quota import apply, wanted
    from core.platform.db import reading

    assert item.service_id is not None
    with reading() as s:
        if wanted(s, item.service_id) is None:
            return Outcome(SKIPPED)  # set after commit meanwhile
    quota = apply(item.service_id, at)  # a panel failure raises: recorded, retried next run
    with unit_of_work() as s:
        record(
            s,
            run_id,
            replace(item, key=f"{item.key}:{run_id}"),
            quota_mb=quota if quota is not None else "unlimited",
        )
    return Outcome(DONE)
