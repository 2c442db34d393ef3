"""The service steps of the daily run (billing-rules §3.5, §3.6): suspension and termination
of overdue services, reactivation of paid ones, and cancellation requests at their date.

Panel work goes through ``core.services.provisioning``: the panel first, with no transaction
open, then the database; the action and the client's mail follow in one more transaction once
the panel agreed (ARCHITECTURE rule 6). A refusal from the panel is the item's failure,
retried next run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import SYSTEM
from core.automation.items import (
    AWAITING,
    DONE,
    LIVE,
    OVERDUE,
    SKIPPED,
    Item,
    Outcome,
    earliest_unpaid_due,
    fresh,
    key_taken,
    link,
    not_held,
    pending_request,
    record,
    service_mail,
)
from core.automation.policy import AutomationSettings
from core.models import (
    AutomationAction,
    CancellationRequest,
    Client,
    Invoice,
    InvoiceItem,
    Service,
)
from core.platform.db import reading, unit_of_work
from core.platform.errors import Conflict
from core.services import cancellations
from core.services import leaving_invoices as cancellations_invoices
from core.services import provisioning as services_provisioning


# ------------------------------------------------- 4./5. suspension and termination
def _overdue_services(
    s: Session, today: date, days: int, statuses: tuple[str, ...], step: str
) -> list[Item]:
    upto = today - timedelta(days=days)
    due_q = earliest_unpaid_due(upto)
    rows = s.execute(
        select(Service.id, Service.client_id, Client.name, Service.domain, due_q.c.due)
        .join(due_q, due_q.c.service_id == Service.id)
        .join(Client, Client.id == Service.client_id)
        .where(
            Service.status.in_(statuses),
            not_held(today),
            ~pending_request(Service.id),
            due_q.c.due <= upto,
        )
        .order_by(Service.id)
    ).all()
    items = [
        Item(
            step=step,
            key=f"{step}:{sid}:{due.isoformat()}",
            client_id=client_id,
            client_name=name,
            target=domain,
            service_id=sid,
            due=due,
        )
        for sid, client_id, name, domain, due in rows
    ]
    return fresh(s, items)


def select_suspensions(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    """Active services whose oldest unpaid renewal is ``suspend_days`` overdue (§3.5), not
    on hold (``hold_until`` >= the run date) and without a cancellation request."""
    if not cfg.suspend_enabled:
        return []
    return _overdue_services(s, today, cfg.suspend_days, ("active",), "suspend")


def _still_overdue(service_id: int, today: date, days: int, statuses: tuple[str, ...]) -> bool:
    with reading() as s:
        upto = today - timedelta(days=days)
        due_q = earliest_unpaid_due(upto)
        return (
            s.execute(
                select(Service.id)
                .join(due_q, due_q.c.service_id == Service.id)
                .where(
                    Service.id == service_id,
                    Service.status.in_(statuses),
                    not_held(today),
                    ~pending_request(Service.id),
                    due_q.c.due <= upto,
                )
            ).first()
            is not None
        )


def do_suspend(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    assert item.service_id is not None
    if not _still_overdue(item.service_id, today, cfg.suspend_days, ("active",)):
        return Outcome(SKIPPED)  # paid (or put on hold) since the selection
    try:
        services_provisioning.suspend(SYSTEM, item.service_id, OVERDUE, at=at)
    except Conflict as exc:
        if exc.key == "services.error_wrong_status":
            return Outcome(SKIPPED)
        raise
    with unit_of_work() as s:
        record(s, run_id, item, due=item.due)
        service_mail(s, item.service_id, "service_suspended", today, link=link(None))
    return Outcome(DONE)


def select_terminations(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    """Live services whose oldest unpaid renewal is ``terminate_days`` overdue. With
    ``terminate_requires_approval`` they are listed for the owner instead of removed."""
    if not cfg.terminate_enabled:
        return []
    items = _overdue_services(s, today, cfg.terminate_days, LIVE, "terminate")
    if cfg.terminate_requires_approval:
        items = [replace(item, awaiting=True) for item in items]
    return items


def do_terminate(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    assert item.service_id is not None
    if not _still_overdue(item.service_id, today, cfg.terminate_days, LIVE):
        return Outcome(SKIPPED)
    if item.awaiting:
        with unit_of_work() as s:
            if key_taken(s, item.key):
                return Outcome(SKIPPED)
            record(s, run_id, item, status=AWAITING, due=item.due)
        return Outcome(AWAITING)
    terminate_service(item.service_id, today, at)
    with unit_of_work() as s:
        finish_termination(s, item.service_id, today, at)
        record(s, run_id, item, due=item.due)
    return Outcome(DONE)


def terminate_service(service_id: int, today: date, at: datetime) -> None:
    """The panel half of an automatic termination (a gone account counts as removed);
    ``at`` is the moment of the action (the run's, or the owner's approval)."""
    try:
        services_provisioning.terminate(SYSTEM, service_id, today=today, at=at)
    except Conflict as exc:
        if exc.key != "services.error_wrong_status":  # already terminated: nothing to do
            raise


def finish_termination(s: Session, service_id: int, today: date, at: datetime) -> None:
    """The database half: its open invoices are cancelled (§3.5) and the client is told;
    ``at`` is the moment of the action (the run's, or the owner's approval)."""
    cancellations_invoices.release_service_invoices(
        s, SYSTEM, service_id, reason="terminated: overdue", at=at
    )
    service_mail(s, service_id, "service_terminated", today, requested=False)


# ---------------------------------------------------------------- 6. unsuspension
def select_unsuspensions(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    """Suspended services whose overdue invoices are all paid, when the suspension was for
    "Overdue on Payment" (never another reason, §3.5)."""
    if not cfg.unsuspend_enabled:
        return []
    # The services owing an overdue renewal, read once from the (few) overdue invoices: as a
    # correlated NOT EXISTS, SQLite walked every overdue invoice for each suspended service.
    overdue = set(
        s.scalars(
            select(InvoiceItem.service_id)
            .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
            .where(
                InvoiceItem.kind == "renewal",
                Invoice.status == "unpaid",
                Invoice.due_on < today,
            )
            # No DISTINCT (the set does it): SQLite answered one by walking every renewal
            # line in service order instead of starting from the few overdue invoices.
        )
    )
    rows = [
        row
        for row in s.execute(
            select(Service.id, Service.client_id, Client.name, Service.domain)
            .join(Client, Client.id == Service.client_id)
            .where(Service.status == "suspended", Service.suspend_reason == OVERDUE)
            .order_by(Service.id)
        )
        if row[0] not in overdue
    ]
    if not rows:
        return []
    ids = [r[0] for r in rows]
    suspended_for = last_suspension_dues(s, ids)
    unpaid: dict[int, list[date]] = {}
    for sid, due in s.execute(
        select(InvoiceItem.service_id, Invoice.due_on)
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(
            InvoiceItem.service_id.in_(ids),
            InvoiceItem.kind == "renewal",
            Invoice.status == "unpaid",
        )
    ):
        assert sid is not None  # the IN filter leaves out lines without a service
        unpaid.setdefault(sid, []).append(due)
    items = []
    for sid, client_id, name, domain in rows:
        cause = suspended_for.get(sid)
        if cause is not None and any(due <= cause for due in unpaid.get(sid, [])):
            continue  # the invoice it was suspended for is still unpaid
        items.append(
            Item(
                step="unsuspend",
                key=f"unsuspend:{sid}:{(cause or today).isoformat()}",
                client_id=client_id,
                client_name=name,
                target=domain,
                service_id=sid,
                due=cause,
            )
        )
    return fresh(s, items)


def last_suspension_dues(s: Session, service_ids: list[int]) -> dict[int, date]:
    """The due date each service was last suspended for by the run (from its action key)."""
    found: dict[int, date] = {}
    if not service_ids:
        return found
    for sid, key in s.execute(
        select(AutomationAction.service_id, AutomationAction.key)
        .where(
            AutomationAction.kind == "suspend",
            AutomationAction.status == DONE,
            AutomationAction.service_id.in_(service_ids),
        )
        .order_by(AutomationAction.id)
    ):
        assert sid is not None  # the IN filter leaves out actions without a service
        try:
            found[sid] = date.fromisoformat(key.rsplit(":", 1)[1])
        except (IndexError, ValueError):
            continue
    return found


def may_unsuspend(s: Session, service_id: int, today: date) -> bool:
    """Whether a suspended service may be reactivated now (same rule as the selection)."""
    svc = s.get(Service, service_id)
    if svc is None or svc.status != "suspended" or svc.suspend_reason != OVERDUE:
        return False
    dues = s.scalars(
        select(Invoice.due_on)
        .join(InvoiceItem, InvoiceItem.invoice_id == Invoice.id)
        .where(
            InvoiceItem.service_id == service_id,
            InvoiceItem.kind == "renewal",
            Invoice.status == "unpaid",
        )
    ).all()
    cause = last_suspension_dues(s, [service_id]).get(service_id)
    return not any(due < today or (cause is not None and due <= cause) for due in dues)


def do_unsuspend(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    assert item.service_id is not None
    with reading() as s:
        if not may_unsuspend(s, item.service_id, today):
            return Outcome(SKIPPED)
    try:
        services_provisioning.unsuspend(SYSTEM, item.service_id, at=at)
    except Conflict as exc:
        if exc.key == "services.error_wrong_status":
            return Outcome(SKIPPED)
        raise
    with unit_of_work() as s:
        if not key_taken(s, item.key):
            record(s, run_id, item)
        service_mail(s, item.service_id, "service_unsuspended", today)
    return Outcome(DONE)


# ------------------------------------------------------------- 7. cancellations
def select_cancellations(s: Session, today: date, cfg: AutomationSettings) -> list[Item]:
    """Requests whose effective date has come (immediate ones: the next run)."""
    if not cfg.auto_cancellation_requests:
        return []
    rows = s.execute(
        select(
            CancellationRequest.id,
            CancellationRequest.type,
            CancellationRequest.effective_date,
            Service.id,
            Service.client_id,
            Client.name,
            Service.domain,
        )
        .join(Service, Service.id == CancellationRequest.service_id)
        .join(Client, Client.id == Service.client_id)
        .where(
            CancellationRequest.processed_at.is_(None),
            CancellationRequest.effective_date <= today,
        )
        .order_by(CancellationRequest.id)
    ).all()
    items = [
        Item(
            step="cancellation",
            key=f"cancel:{rid}",
            client_id=client_id,
            client_name=name,
            target=domain,
            service_id=sid,
            due=effective,
            kind=kind,
        )
        for rid, kind, effective, sid, client_id, name, domain in rows
    ]
    return fresh(s, items)


def do_cancellation(
    run_id: int, item: Item, today: date, cfg: AutomationSettings, at: datetime
) -> Outcome:
    request_id = int(item.key.split(":", 1)[1])
    cancellations.terminate_on_panel(request_id, today=today, at=at)
    with unit_of_work() as s:
        if cancellations.finish(s, SYSTEM, request_id, today=today, at=at) is None:
            return Outcome(SKIPPED)
        record(s, run_id, item, type=item.kind)
    return Outcome(DONE)
