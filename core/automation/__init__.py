"""The daily run: billing that runs itself (billing-rules §3).

``python -m core.cli automation run [--date D] [--dry-run] [--json]`` calls :func:`run`.

* **One runner.** A lease row (``counter`` "automation.lock", holding its expiry in seconds)
  is taken with one conditional UPDATE: on PostgreSQL a second runner's UPDATE waits for the
  first to commit and then finds the lease taken; on SQLite writers are serialised by
  ``BEGIN IMMEDIATE``. The lease is renewed while the run works and released at the end, and
  a crashed run's lease simply expires. A second run reports "another run is in progress".
* **Idempotent.** The steps (``core.automation.steps``) select what is due on the run date
  and do each item in its own transaction under a unique key, so running a day twice, or
  after a crash, does nothing twice. A panel failure is recorded and retried next time.
* **Renewal on payment** is ``core.automation.on_payment`` (the billing paid hook); the run
  first catches up any current period found paid without the hook, through the same hook.
* Other areas' daily work: paid orders' accounts and paid plan changes before the steps
  (``orders.fulfilment.provision_pending``, ``plan_changes.apply.apply_pending``), expired quotes,
  stale orders and the ticket auto-close after them; then the mail outbox retry.
* The owner's side — the preview of any date (nothing written), the ledger of runs and
  actions, holds, approval of terminations — is ``core.automation.oversight``; the settings are
  ``core.automation.policy``.

Modules: ``steps`` (the order), ``invoicing`` (renewal invoices; ``renewals`` bills them in
groups), ``dunning`` (reminders, late fees), ``service_steps`` (suspension, termination,
reactivation, cancellations), ``items`` (what they share: items, unique keys, the ledger rows).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError

from core import plan_changes
from core.access import SYSTEM

# Other areas' parts of the run are imported, not looked up by name: a rename then fails at
# import instead of quietly dropping a step (paid orders never provisioned).
from core.automation import policy as automation_settings
from core.automation.on_payment import _catch_up_renewals
from core.automation.policy import AutomationSettings
from core.automation.renewals import GROUP
from core.automation.steps import (
    AWAITING,
    DONE,
    FAILED,
    SKIPPED,
    STEPS,
    Item,
    done_keys,
    plan,
    record_failure,
)
from core.models import AutomationRun, Counter
from core.orders import fulfilment as order_fulfilment
from core.platform import mail, settings
from core.platform.clock import now
from core.platform.db import reading, refresh_statistics, unit_of_work
from core.platform.errors import DomainError
from core.support import autoclose as tickets_autoclose

log = logging.getLogger("anfitrion.automation")

COUNTS = (
    "invoices_created",
    "reminders_sent",
    "late_fees_added",
    "suspended",
    "unsuspended",
    "terminated",
    "cancellations_processed",
    "addons_ended",
    "addon_quotas_set",
    "einvoices_sent",
    "plan_changes_expired",
    "failures",
)
IN_PROGRESS = "another run is in progress"
LOCK_NAME = "automation.lock"
LEASE = timedelta(minutes=10)
_LEASE_EPOCH = datetime(2024, 1, 1)  # seconds since then fit the 32-bit counter column


# ------------------------------------------------------------------------------ lock
def _seconds(at: datetime) -> int:
    return int((at - _LEASE_EPOCH).total_seconds())


def _acquire(on: date, started: datetime) -> tuple[int, int] | None:
    """Take the lease and open the run's ledger row in the same transaction; returns
    (lease token, run id), or None when another run holds the lease. ``started``: the real
    time, read by ``run``."""
    for _ in range(2):
        current = _seconds(started)
        expiry = current + int(LEASE.total_seconds())
        with unit_of_work() as s:
            taken = cast(
                "CursorResult[Any]",
                s.execute(
                    update(Counter)
                    .where(Counter.name == LOCK_NAME, Counter.value < current)
                    .values(value=expiry)
                ),
            ).rowcount
            if taken == 1:
                s.execute(  # a run that held an expired lease crashed
                    update(AutomationRun)
                    .where(AutomationRun.status == "running")
                    .values(status="aborted", finished_at=started)
                )
                row = AutomationRun(run_date=on, dry_run=False, started_at=started)
                row.status = "running"
                s.add(row)
                s.flush()
                return expiry, row.id
            if s.get(Counter, LOCK_NAME) is not None:
                return None
        try:  # the very first run: make the lease row, then take it
            with unit_of_work() as s:
                s.add(Counter(name=LOCK_NAME, value=0))
        except IntegrityError:  # another runner made it at the same moment
            pass
    return None


def _renew(token: int, at: datetime) -> int:
    """Extend a lease that is past half its life (at real time ``at``, read by ``run``);
    raise when it was lost."""
    current = _seconds(at)
    if token - current > LEASE.total_seconds() / 2:
        return token
    fresh = current + int(LEASE.total_seconds())
    with unit_of_work() as s:
        kept = cast(
            "CursorResult[Any]",
            s.execute(
                update(Counter)
                .where(Counter.name == LOCK_NAME, Counter.value == token)
                .values(value=fresh)
            ),
        ).rowcount
    if kept != 1:
        raise RuntimeError("the automation lease was lost; stopping this run")
    return fresh


# ------------------------------------------------------------------------------- run
@dataclass(frozen=True)
class RunResult:
    run_date: date
    counts: dict[str, int]
    run_id: int | None = None
    locked: bool = False  # another run held the lock: this one did nothing
    dry_run: bool = False
    planned: tuple[Item, ...] = ()  # dry run: what would be done
    awaiting: int = 0  # terminations left for the owner's approval

    @property
    def message(self) -> str:
        return IN_PROGRESS if self.locked else ""


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNTS, 0)


def _counts_of(items: list[Item]) -> dict[str, int]:
    counts = _zero()
    by_step = {step.name: step.count for step in STEPS}
    for item in items:
        if not item.awaiting:
            counts[by_step[item.step]] += 1
    return counts


def run(on: date, *, dry_run: bool = False, at: datetime | None = None) -> RunResult:
    """The daily run for business date ``on`` (acting as ``access.SYSTEM``).

    ``dry_run`` computes what would be done and writes nothing. When another run holds the
    lock, nothing is done and the result says ``locked``. ``at`` is the moment of the run
    (default now), passed to every step that stamps a time (paid, processed, applied, the
    ticket auto-close). The lease, the run's ledger row and the mail outbox are kept on real
    time instead, read here as the run goes: a lease measures how long the run has held it,
    and mail queued during the run is due only after ``at``."""
    at = at or now()
    if dry_run:
        items = plan(on)
        awaiting = sum(1 for item in items if item.awaiting)
        return RunResult(
            on, _counts_of(items), dry_run=True, planned=tuple(items), awaiting=awaiting
        )
    lease = _acquire(on, now())
    if lease is None:
        return RunResult(on, _zero(), locked=True)
    token, run_id = lease
    counts, awaiting, status = _zero(), 0, "failed"
    try:
        # Settings are read once for the whole run (a change made meanwhile counts next
        # run): one snapshot instead of a SELECT per setting per item.
        with settings.snapshot_scope():
            cfg = automation_settings.load()
            # Payments that came in may have left panel work undone: accounts of paid orders
            # and paid plan changes first, so renewals are billed on the plan in force.
            _area_step_run(order_fulfilment.provision_pending, on, counts, moment=at)
            _area_step_run(plan_changes.apply_pending, on, counts, moment=at)
            _catch_up_renewals(counts)
            for step in STEPS:
                with reading() as s:
                    items = step.select(s, on, cfg)
                for part in _parts(items, GROUP if step.group else 1):
                    token = _renew(token, now())
                    outcomes, alone = _attempt_group(step.group, run_id, part, on, cfg)
                    for item in alone:
                        outcomes[item.key] = _attempt(step.execute, run_id, item, on, cfg, at)
                    for outcome in outcomes.values():
                        if outcome == DONE:
                            counts[step.count] += 1
                        elif outcome == AWAITING:
                            awaiting += 1
                        elif outcome == FAILED:
                            counts["failures"] += 1
            counts["plan_changes_expired"] = _area_step_run(plan_changes.expire_quotes, on, counts)
            _area_step_run(order_fulfilment.cancel_stale, on, counts)
            _area_step_run(tickets_autoclose.autoclose_waiting, at, counts)
            _mail(counts, now())
            status = "done"
    finally:
        _close(run_id, token, counts, awaiting, status, now())
    if any(counts.values()):  # a run that found nothing to do writes nothing
        _refresh_statistics()
    return RunResult(on, counts, run_id=run_id, awaiting=awaiting)


def _refresh_statistics() -> None:
    """The planner's statistics after a run that wrote (``db.refresh_statistics``): the
    pages read the book as the run leaves it. Never fails the run that is already done."""
    try:
        refresh_statistics()
    except Exception:  # noqa: BLE001 - the statistics are refreshed by the next run
        log.warning("automation: the planner's statistics were not refreshed", exc_info=True)


def _parts(items: list[Item], size: int) -> list[list[Item]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _attempt_group(
    group: Callable[..., tuple[dict[str, str], list[Item]]] | None,
    run_id: int,
    items: list[Item],
    on: date,
    cfg: AutomationSettings,
) -> tuple[dict[str, str], list[Item]]:
    """A step's group path when it has one; on any failure nothing of the group was
    written, and every item is done alone (``_attempt``), where failures are recorded."""
    if group is None:
        return {}, items
    try:
        return group(run_id, items, on, cfg)
    except Exception:  # noqa: BLE001 - the one-at-a-time path decides each item
        log.info("automation: a group of %s items is done one by one", len(items), exc_info=True)
        return {}, items


def _attempt(
    execute: Callable[..., Any],
    run_id: int,
    item: Item,
    on: date,
    cfg: AutomationSettings,
    at: datetime,
) -> str:
    try:
        return execute(run_id, item, on, cfg, at).status
    except IntegrityError as exc:
        with reading() as s:
            if done_keys(s, [item.key]):  # its unique key is taken: done first elsewhere
                log.warning("automation item %s was already done", item.key)
                return SKIPPED
        log.exception("automation item %s failed", item.key)
        record_failure(run_id, item, exc)
        return FAILED
    except Exception as exc:  # noqa: BLE001 - one item's failure never stops the others
        if not isinstance(exc, DomainError):
            log.exception("automation item %s failed", item.key)
        record_failure(run_id, item, exc)
        return FAILED


def _area_step_run(
    fn: Callable[..., Any], at: date | datetime, counts: dict[str, int], **kw: Any
) -> int:
    """Run another area's part of the run (paid orders' accounts, plan-change quotes, stale
    orders, ticket auto-close); its failure counts as one failure and never stops the run.
    ``kw``: keyword arguments of that part (the run's moment)."""
    try:
        params = list(inspect.signature(fn).parameters)
        done = fn(SYSTEM, at, **kw) if params and params[0] == "actor" else fn(at, **kw)
    except Exception:  # noqa: BLE001
        log.exception("automation: %s.%s failed", fn.__module__, fn.__name__)
        counts["failures"] += 1
        return 0
    if isinstance(done, bool):
        return int(done)
    if isinstance(done, int):
        return done
    try:
        return len(done)
    except TypeError:
        return 0


def _mail(counts: dict[str, int], at: datetime) -> None:
    """Mail that failed to go out is put back and tried again (the outbox retry), as of the
    real time ``at`` read by ``run``."""
    try:
        mail.recover_stuck(at=at)
        mail.deliver_due(at, limit=500)
    except Exception:  # noqa: BLE001
        log.exception("automation: mail delivery failed; messages stay queued")
        counts["failures"] += 1


def _close(
    run_id: int, token: int, counts: dict[str, int], awaiting: int, status: str, at: datetime
) -> None:
    """Write the run's outcome to the ledger (finished at real time ``at``) and give the
    lease back, in one transaction."""
    with unit_of_work() as s:
        row = s.get_one(AutomationRun, run_id)
        row.finished_at = at
        row.counts = {**counts, "awaiting_approval": awaiting}
        row.status = status
        s.execute(
            update(Counter).where(Counter.name == LOCK_NAME, Counter.value == token).values(value=0)
        )


__all__ = [
    "COUNTS",
    "IN_PROGRESS",
    "RunResult",
    "run",
]
