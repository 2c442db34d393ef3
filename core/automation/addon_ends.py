"""The daily run's add-on step (issue 19): add-ons the client cancelled end on their period
end. The ending itself is ``core.addons.lifecycle.end``, imported when it runs: the add-ons
import billing, which the run's other steps import first."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import SYSTEM
from core.automation.items import DONE, SKIPPED, Item, Outcome, fresh, record
from core.models import Client, Service, ServiceAddon
from core.platform.db import unit_of_work

LIVE = ("pending", "active", "suspended")  # as core.addons.lifecycle.LIVE


def select_ends(s: Session, today: date, cfg: object) -> list[Item]:
    rows = s.execute(
        select(ServiceAddon.id, ServiceAddon.service_id, Client.id, Client.name, Service.domain)
        .join(Service, Service.id == ServiceAddon.service_id)
        .join(Client, Client.id == ServiceAddon.client_id)
        .where(ServiceAddon.status.in_(LIVE), ServiceAddon.cancel_at <= today)
        .order_by(ServiceAddon.id)
    ).all()
    items = [
        Item(
            step="addon_end",
            key=f"addon_end:{addon_id}",
            client_id=client_id,
            client_name=name,
            target=domain,
            service_id=service_id,
        )
        for addon_id, service_id, client_id, name, domain in rows
    ]
    return fresh(s, items)


def do_end(run_id: int, item: Item, today: date, cfg: object, at: datetime) -> Outcome:
    from core.addons.lifecycle import end

    addon_id = int(item.key.split(":")[1])
    with unit_of_work() as s:
        addon = s.get(ServiceAddon, addon_id)
        if addon is None or addon.status not in LIVE or addon.cancel_at is None:
            return Outcome(SKIPPED)
        end(s, SYSTEM, addon, "cancelled", addon.cancel_at, None)
        record(s, run_id, item)
    return Outcome(DONE)
