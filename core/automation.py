"""The daily run: billing that runs itself (billing-rules §3), and its preview and ledger.

``python -m core.cli automation run [--date D] [--dry-run] [--json]`` calls :func:`run`.

* **One runner.** A lease row (``counter`` "automation.lock", holding its expiry in seconds)
  is taken with one conditional UPDATE: on PostgreSQL a second runner's UPDATE waits for the
  first to commit and then finds the lease taken; on SQLite writers are serialised by
  ``BEGIN IMMEDIATE``. The lease is renewed while the run works and released at the end, and
  a crashed run's lease simply expires. A second run reports "another run is in progress".
* **Idempotent.** The steps (``core.automation_steps``) select what is due on the run date
  and do each item in its own transaction under a unique key, so running a day twice, or
  after a crash, does nothing twice. A panel failure is recorded and retried next time.
* **Renewal on payment.** :func:`on_invoice_paid` (a billing paid hook, inside the paying
  transaction) moves ``next_due_date`` one cycle on from the period just paid, once per
  invoice (billing-rules §0.3, §1.4), and after commit tries to reactivate a service that
  was suspended for non-payment; whatever fails there, the next run retries. The run also
  renews any current period found paid without the hook (a process that never imported
  this module), through the same hook.
* Other areas' daily work is called when their module exists: paid orders' accounts and
  paid plan changes before the steps (``order_fulfilment.provision_pending``,
  ``plan_changes.apply_pending``), expired quotes, stale orders and the ticket auto-close
  after them; then the mail outbox retry.
* The owner's side — the preview of any date (nothing written), the ledger of runs and
  actions, holds, approval of terminations — is ``core.automation_owner``, re-exported here;
  the settings are ``core.automation_settings``.

Modules: ``automation_steps`` (the order), ``automation_invoicing`` (renewals, reminders,
late fees), ``automation_services`` (suspension, termination, reactivation, cancellations),
``automation_items`` (what they share: items, unique keys, the ledger rows).
"""

from __future__ import annotations

import importlib
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import audit, automation_settings, mail, services_provisioning, settings
from core.access import SYSTEM, Actor
from core.automation_renewals import GROUP
from core.automation_settings import CYCLES, SETTINGS_FORM, AutomationSettings  # noqa: F401
from core.automation_steps import (
    AWAITING,
    DONE,
    FAILED,
    OVERDUE,
    SKIPPED,
    STEPS,
    Item,
    done_keys,
    may_unsuspend,
    plan,
    record_failure,
)
from core.billing import register_paid_hook
from core.clock import now, to_local
from core.config import get_settings
from core.cycles import advance, is_recurring
from core.db import after_commit, reading, unit_of_work
from core.errors import DomainError
from core.i18n import day
from core.models import (
    AutomationRun,
    Counter,
    Invoice,
    InvoiceItem,
    Payment,
    Service,
)

log = logging.getLogger("anfitrion.automation")

COUNTS = (
    "invoices_created",
    "reminders_sent",
    "late_fees_added",
    "suspended",
    "unsuspended",
    "terminated",
    "cancellations_processed",
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


def _acquire(on: date) -> tuple[int, int] | None:
    """Take the lease and open the run's ledger row in the same transaction; returns
    (lease token, run id), or None when another run holds the lease."""
    for _ in range(2):
        current = _seconds(now())
        expiry = current + int(LEASE.total_seconds())
        with unit_of_work() as s:
            taken = s.execute(
                update(Counter)
                .where(Counter.name == LOCK_NAME, Counter.value < current)
                .values(value=expiry)
            ).rowcount
            if taken == 1:
                s.execute(  # a run that held an expired lease crashed
                    update(AutomationRun)
                    .where(AutomationRun.status == "running")
                    .values(status="aborted", finished_at=now())
                )
                row = AutomationRun(run_date=on, dry_run=False, started_at=now())
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


def _renew(token: int) -> int:
    """Extend a lease that is past half its life; raise when it was lost."""
    current = _seconds(now())
    if token - current > LEASE.total_seconds() / 2:
        return token
    fresh = current + int(LEASE.total_seconds())
    with unit_of_work() as s:
        kept = s.execute(
            update(Counter)
            .where(Counter.name == LOCK_NAME, Counter.value == token)
            .values(value=fresh)
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
    lock, nothing is done and the result says ``locked``. ``at`` is the moment used for the
    ticket auto-close (default now)."""
    if dry_run:
        items = plan(on)
        awaiting = sum(1 for item in items if item.awaiting)
        return RunResult(
            on, _counts_of(items), dry_run=True, planned=tuple(items), awaiting=awaiting
        )
    lease = _acquire(on)
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
            _area_step_run("core.order_fulfilment", "provision_pending", on, counts)
            _area_step_run("core.plan_changes", "apply_pending", on, counts)
            _catch_up_renewals(counts)
            for step in STEPS:
                with reading() as s:
                    items = step.select(s, on, cfg)
                for part in _parts(items, GROUP if step.group else 1):
                    token = _renew(token)
                    outcomes, alone = _attempt_group(step.group, run_id, part, on, cfg)
                    for item in alone:
                        outcomes[item.key] = _attempt(step.execute, run_id, item, on, cfg)
                    for outcome in outcomes.values():
                        if outcome == DONE:
                            counts[step.count] += 1
                        elif outcome == AWAITING:
                            awaiting += 1
                        elif outcome == FAILED:
                            counts["failures"] += 1
            counts["plan_changes_expired"] = _area_step_run(
                "core.plan_changes", "expire_quotes", on, counts
            )
            _area_step_run("core.order_fulfilment", "cancel_stale", on, counts)
            _area_step_run("core.tickets", "autoclose_waiting", at or now(), counts)
            _mail(counts)
            status = "done"
    finally:
        _close(run_id, token, counts, awaiting, status)
    return RunResult(on, counts, run_id=run_id, awaiting=awaiting)


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
    execute: Callable[..., Any], run_id: int, item: Item, on: date, cfg: AutomationSettings
) -> str:
    try:
        return execute(run_id, item, on, cfg).status
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


# Other areas' parts of the daily run, named rather than imported: those modules import
# billing, which this module sits on, so a plain import would be circular. Every name must
# resolve (tests/unit/test_automation_steps.py): a rename must not quietly drop a step.
AREA_STEPS: tuple[tuple[str, str], ...] = (
    ("core.order_fulfilment", "provision_pending"),
    ("core.plan_changes", "apply_pending"),
    ("core.plan_changes", "expire_quotes"),
    ("core.order_fulfilment", "cancel_stale"),
    ("core.tickets", "autoclose_waiting"),
)
_resolved: dict[tuple[str, str], Callable[..., Any]] = {}


def area_step(module: str, name: str) -> Callable[..., Any]:
    """The function another area runs in the daily run; raises when it does not exist."""
    if (module, name) not in AREA_STEPS:
        raise LookupError(f"{module}.{name} is not a daily-run step")
    if (module, name) not in _resolved:
        fn = getattr(importlib.import_module(module), name)
        if not callable(fn):
            raise LookupError(f"{module}.{name} is not callable")
        _resolved[(module, name)] = fn
    return _resolved[(module, name)]


def _area_step_run(module: str, name: str, at: date | datetime, counts: dict[str, int]) -> int:
    """Run another area's part of the run (paid orders' accounts, plan-change quotes, stale
    orders, ticket auto-close); its failure counts as one failure and never stops the run."""
    try:
        fn = area_step(module, name)
        params = list(inspect.signature(fn).parameters)
        done = fn(SYSTEM, at) if params and params[0] == "actor" else fn(at)
    except Exception:  # noqa: BLE001
        log.exception("automation: %s.%s failed", module, name)
        counts["failures"] += 1
        return 0
    if isinstance(done, bool):
        return int(done)
    if isinstance(done, int):
        return done
    try:
        return len(done)  # type: ignore[arg-type]
    except TypeError:
        return 0


def _mail(counts: dict[str, int]) -> None:
    """Mail that failed to go out is put back and tried again (the outbox retry)."""
    try:
        mail.recover_stuck()
        mail.deliver_due(limit=500)
    except Exception:  # noqa: BLE001
        log.exception("automation: mail delivery failed; messages stay queued")
        counts["failures"] += 1


def _close(run_id: int, token: int, counts: dict[str, int], awaiting: int, status: str) -> None:
    """Write the run's outcome to the ledger and give the lease back, in one transaction."""
    with unit_of_work() as s:
        row = s.get(AutomationRun, run_id)
        row.finished_at = now()
        row.counts = {**counts, "awaiting_approval": awaiting}
        row.status = status
        s.execute(
            update(Counter).where(Counter.name == LOCK_NAME, Counter.value == token).values(value=0)
        )


# ---------------------------------------------------------------- renewal on payment
REANCHOR = "reanchor_on_late_payment"
UNSUSPEND = "unsuspend_enabled"


def _paid_day(s: Session, invoice: Invoice) -> date:
    """The business date the invoice was paid: its last payment's date, else when marked."""
    received = s.execute(
        select(func.max(Payment.received_on)).where(Payment.invoice_id == invoice.id)
    ).scalar_one()
    if received is not None:
        return received
    return to_local(invoice.paid_at or now(), get_settings().tz).date()


@register_paid_hook
def on_invoice_paid(session: Session, invoice: Invoice, actor: Actor) -> None:
    """A paid renewal moves the service's next due date one cycle on from the period it
    paid for, exactly once (the period must be the service's current due date, under a row
    lock). Periods already paid ahead are skipped. With ``reanchor_on_late_payment`` a
    service paid while suspended restarts from the payment date. DB work only: the panel
    reactivation is tried after commit."""
    lines = session.execute(
        select(InvoiceItem.service_id, InvoiceItem.period_start).where(
            InvoiceItem.invoice_id == invoice.id,
            InvoiceItem.kind == "renewal",
            InvoiceItem.service_id.is_not(None),
            InvoiceItem.period_start.is_not(None),
        )
    ).all()
    if not lines:
        return
    paid_on = _paid_day(session, invoice)
    for service_id, start in sorted(lines):
        svc = session.scalars(
            select(Service)
            .where(Service.id == service_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if svc is None or svc.status not in ("active", "suspended"):
            continue
        if (
            svc.status == "suspended"
            and svc.suspend_reason == OVERDUE
            and settings.get_bool(UNSUSPEND, True, session=session)
        ):
            after_commit(session, partial(reactivate_paid, svc.id, paid_on))
        if svc.next_due_date != start or not is_recurring(svc.billing_cycle):
            continue  # not the period due now (already advanced, or paid ahead)
        old = svc.next_due_date
        cycle = svc.billing_cycle
        if svc.status == "suspended" and settings.get_bool(REANCHOR, False, session=session):
            svc.anchor_day = paid_on.day
            new = advance(paid_on, cycle, svc.anchor_day)
        else:
            new = advance(old, cycle, svc.anchor_day)
            ahead = set(
                session.scalars(
                    select(InvoiceItem.period_start)
                    .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
                    .where(
                        InvoiceItem.service_id == svc.id,
                        InvoiceItem.kind == "renewal",
                        InvoiceItem.period_start >= new,
                        Invoice.status == "paid",
                    )
                )
            )
            while new in ahead:
                new = advance(new, cycle, svc.anchor_day)
        svc.next_due_date = new
        svc.next_invoice_date = new - timedelta(
            days=automation_settings.days_before(cycle, session=session)
        )
        audit.record(
            session,
            actor,
            "service.renewed",
            target_type="service",
            target_id=svc.id,
            client_id=svc.client_id,
            invoice=invoice.number,
            old_due=old.isoformat(),
            new_due=new.isoformat(),
        )


def _catch_up_renewals(counts: dict[str, int]) -> None:
    """A renewal paid while the hook was not registered (a process that never imported this
    module) is renewed now: the same hook, for each paid invoice of a current period."""
    with reading() as s:
        paid = s.scalars(
            select(Invoice.id)
            .join(InvoiceItem, InvoiceItem.invoice_id == Invoice.id)
            .join(
                Service,
                (Service.id == InvoiceItem.service_id)
                & (Service.next_due_date == InvoiceItem.period_start),
            )
            .where(
                InvoiceItem.kind == "renewal",
                Invoice.status == "paid",
                Service.status.in_(("active", "suspended")),
            )
            .distinct()
        ).all()
    for invoice_id in paid:
        try:
            with unit_of_work() as s:
                on_invoice_paid(s, s.get(Invoice, invoice_id), SYSTEM)
        except Exception:  # noqa: BLE001 - one invoice never stops the run
            log.exception("automation: catching up the renewal of invoice %s failed", invoice_id)
            counts["failures"] += 1


def reactivate_paid(service_id: int, on: date) -> bool:
    """After a payment commits: reactivate a service suspended for non-payment when nothing
    it owes is overdue any more. Best effort: a failure is left to the next run."""
    try:
        with reading() as s:
            if not may_unsuspend(s, service_id, on):
                return False
        services_provisioning.unsuspend(SYSTEM, service_id)
        with unit_of_work() as s:
            svc = s.get(Service, service_id)
            client = svc.client
            mail.queue(
                s,
                to_addr=client.email,
                template="service_unsuspended",
                language=client.language,
                name=client.name,
                domain=svc.domain,
                when=day(on, client.language),
            )
        return True
    except DomainError as exc:  # a known cause (panel down, no token): no traceback needed
        log.warning("reactivation of service %s after payment failed: %s", service_id, exc.key)
        return False
    except Exception:  # noqa: BLE001 - the payment is committed; the daily run retries
        log.warning("reactivation of service %s after payment failed", service_id, exc_info=True)
        return False


# The owner's side (preview, ledger, holds, approvals, settings), importable from here.
from core.automation_owner import (  # noqa: E402
    OWNER_TABS,
    ActionRow,
    AutomationView,
    HeldRow,
    PreviewRow,
    RunRow,
    ServiceChoice,
    actions,
    approve_termination,
    awaiting_terminations,
    current_settings,
    held_services,
    hold_service,
    owner_view,
    preview,
    runs,
    save_settings,
)

__all__ = [
    "COUNTS",
    "CYCLES",
    "IN_PROGRESS",
    "OWNER_TABS",
    "SETTINGS_FORM",
    "ActionRow",
    "AutomationView",
    "HeldRow",
    "PreviewRow",
    "RunResult",
    "RunRow",
    "ServiceChoice",
    "actions",
    "approve_termination",
    "awaiting_terminations",
    "current_settings",
    "held_services",
    "hold_service",
    "on_invoice_paid",
    "owner_view",
    "plan",
    "preview",
    "reactivate_paid",
    "run",
    "runs",
    "save_settings",
]
