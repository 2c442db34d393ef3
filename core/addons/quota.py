"""Disk-quota add-ons (issue 19): "extra disk" raises the parent's cPanel quota while it runs.

The quota the panel should hold is the parent package's quota plus the MB of every running
(active or suspended: a suspension keeps the space) quota add-on. It changes when such an
add-on starts or ends, and after a plan change (changepackage puts the package's quota back).

ARCHITECTURE §2 rule 6: the change is marked in the transaction that causes it (the add-ons'
``panel_pending``), WHM is called after commit (``editquota``, with no transaction open) and
the mark is cleared once the panel agreed. A failure is noted on the service and audited; the
daily run's ``addon_quota`` step (``core.automation.addon_quotas``) sets it again. Setting a
quota is idempotent by value: applying twice sets the same number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core import panel
from core.access import SYSTEM
from core.models import Product, Service, ServiceAddon
from core.platform import audit
from core.platform.clock import now
from core.platform.db import after_commit, reading, unit_of_work
from core.platform.errors import DomainError

log = logging.getLogger("anfitrion.addons")

ACTION = "quota"
RUNNING = ("active", "suspended")  # a suspended add-on keeps its space
PARENT_LIVE = ("active", "suspended")
_SCHEDULED = "addon_quota_services"


def adds_quota(addon: ServiceAddon) -> bool:
    return addon.product.addon_action == ACTION and bool(addon.product.addon_quota_mb)


def mark(s: Session, addon: ServiceAddon) -> None:
    """In the caller's transaction: the add-on's start or end changes its parent's quota, to
    be set on the panel after commit (and by the daily run until the panel agrees)."""
    if not adds_quota(addon):
        return
    addon.panel_pending = True
    _after(s, addon.service_id)


def mark_service(s: Session, service_id: int) -> None:
    """After a plan change (changepackage reset the quota): the running quota add-ons of the
    service are set again on top of the new package's quota."""
    for addon in s.scalars(
        select(ServiceAddon)
        .join(Product, Product.id == ServiceAddon.product_id)
        .where(
            ServiceAddon.service_id == service_id,
            ServiceAddon.status.in_(RUNNING),
            Product.addon_action == ACTION,
        )
    ):
        mark(s, addon)


def product_changed(s: Session, product_id: int) -> None:
    """The owner changed a product's action or MB: its running add-ons' parents get their
    quota set again (whether it still adds disk or no longer does)."""
    for addon in s.scalars(
        select(ServiceAddon).where(
            ServiceAddon.product_id == product_id, ServiceAddon.status.in_(RUNNING)
        )
    ):
        addon.panel_pending = True
        _after(s, addon.service_id)


def _after(s: Session, service_id: int) -> None:
    scheduled: set[int] = s.info.setdefault(_SCHEDULED, set())
    if service_id not in scheduled:  # one panel call per service and transaction
        scheduled.add(service_id)
        after_commit(s, lambda: _apply_after_commit(service_id))


def _apply_after_commit(service_id: int) -> None:
    """Best effort right after commit: a failure is already noted and audited by ``apply``,
    and the add-ons stay pending for the daily run."""
    try:
        apply(service_id)
    except DomainError as exc:
        log.warning("service %s: disk quota left for the daily run (%s)", service_id, exc.key)
    except Exception:  # noqa: BLE001 - the change is committed; the daily run retries
        log.exception("service %s: disk quota left for the daily run", service_id)


@dataclass(frozen=True)
class Wanted:
    """What the panel should hold for a service, read with no transaction open."""

    service_id: int
    client_id: int
    live: bool  # the parent has an account whose quota can be set
    username: str
    package: str
    extra_mb: int
    pending: tuple[int, ...]  # the add-ons whose change this settles
    endpoint: panel.Endpoint | None


def wanted(s: Session, service_id: int) -> Wanted | None:
    """The service's quota as its add-ons want it; None when nothing is pending."""
    svc = s.get(Service, service_id)
    if svc is None:
        return None
    addons = s.scalars(select(ServiceAddon).where(ServiceAddon.service_id == service_id)).all()
    pending = tuple(a.id for a in addons if a.panel_pending)
    if not pending:
        return None
    extra = sum(
        a.product.addon_quota_mb or 0 for a in addons if a.status in RUNNING and adds_quota(a)
    )
    live = svc.status in PARENT_LIVE and bool(svc.panel_username) and svc.server is not None
    ep = None
    if live:
        assert svc.server is not None  # checked just above; tells the type checker
        ep = panel.endpoint(svc.server)
    return Wanted(
        svc.id,
        svc.client_id,
        live,
        svc.panel_username or "",
        svc.product.whm_package,
        extra,
        pending,
        ep,
    )


def pending_services(s: Session) -> list[int]:
    """The services with a quota change not yet on the panel (for the daily run)."""
    return sorted(
        set(s.scalars(select(ServiceAddon.service_id).where(ServiceAddon.panel_pending.is_(True))))
    )


def apply(service_id: int, at: datetime | None = None) -> int | None:
    """Set the service's disk quota on the panel to what its add-ons want, then clear their
    marks; returns the quota set (MB, None = unlimited or nothing to do).

    The entry point of the after-commit call and of the daily run's retry (which passes its
    moment ``at``). A parent without an account (terminated, cancelled) has no quota to set:
    the marks are cleared. A panel failure is noted on the service, audited and raised as
    the reader's DomainError; the marks stay for the next run."""
    at = at or now()
    with reading() as s:
        want = wanted(s, service_id)
    if want is None:
        return None
    quota: int | None = None
    if want.live:
        assert want.endpoint is not None  # a live parent has its server's endpoint
        whm = panel.client(want.endpoint)
        try:
            with panel.calling(want.service_id, write=True, at=at):
                base = whm.package_quota(want.package)
                quota = None if base is None else base + want.extra_mb
                whm.set_quota(want.username, quota)
        except DomainError as exc:
            with unit_of_work() as s:
                audit.record(
                    s,
                    SYSTEM,
                    "addon.quota_failed",
                    target_type="service",
                    target_id=want.service_id,
                    client_id=want.client_id,
                    error=exc.key,
                    at=at,
                )
            raise
    with unit_of_work() as s:
        again = wanted(s, service_id)
        # Cleared only when nothing changed meanwhile; otherwise the change's own call (or
        # the next run) sets the newer value.
        if again is None or (again.package, again.extra_mb) != (want.package, want.extra_mb):
            return quota
        s.execute(
            update(ServiceAddon)
            .where(ServiceAddon.id.in_(want.pending))
            .values(panel_pending=False)
        )
        if want.live:
            s.get_one(Service, service_id).panel_error = None
            audit.record(
                s,
                SYSTEM,
                "addon.quota_set",
                target_type="service",
                target_id=want.service_id,
                client_id=want.client_id,
                quota_mb=quota if quota is not None else "unlimited",
                extra_mb=want.extra_mb,
                at=at,
            )
    return quota
