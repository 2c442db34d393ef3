"""Cancellation requests (billing-rules §3.6): the client asks, the daily run carries it out.

* A client (their own services) or staff with the services right asks to cancel a service
  **immediately** (the next run removes it) or at the **end of the billing period** (the run
  removes it on the service's next due date, without ever suspending it first), with a reason.
* Before confirming, :func:`cancel_options` offers a cheaper plan where one exists: a product
  in the current product's ``upgrade_targets`` whose price for the same cycle is lower.
* On request (setting ``cancel_invoice_on_cancellation``, on by default) the service's unpaid
  invoices for periods that start once the cancellation takes effect are released
  (``core.services.leaving_invoices``); an unpaid period already begun stays due, with its
  reminders, unless the owner's ``void_begun_invoices_on_cancellation`` voids it too (billing-
  rules rule 8). Each voided invoice says why in its notes. No renewal follows a request.
* Staff see the pending requests and can undo one: the request goes, and the periods its
  invoices billed are freed so the next run bills them again.
* ``process`` is what the run does at the effective date; staff may also run it by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from core.access import SYSTEM, Actor, get_scoped, parse_id, require, require_permission
from core.billing.ledger import lock_client
from core.models import (
    AuditEntry,
    AutomationAction,
    CancellationRequest,
    Client,
    Invoice,
    InvoiceItem,
    Product,
    ProductPrice,
    Service,
)
from core.plan_changes.pricing import change_blocker
from core.platform import audit, mail, settings
from core.platform.clock import now
from core.platform.db import reading, transaction
from core.platform.errors import Conflict, NotFound, ValidationError
from core.platform.i18n import day, t
from core.rules.money import q2
from core.services import provisioning as services_provisioning
from core.services.leaving_invoices import Released, release_service_invoices

TYPES = ("immediate", "end_of_billing_period")
REQUESTABLE = ("active", "suspended")
REASON_MAX = 2000
CANCEL_INVOICES = "cancel_invoice_on_cancellation"  # billing-rules §7
# Rule 8: periods already begun stay due unless the owner chose WHMCS's behaviour (void them).
VOID_BEGUN = "void_begun_invoices_on_cancellation"


@dataclass(frozen=True)
class RetentionOffer:
    """A cheaper plan for the same cycle, shown before the client confirms."""

    product_id: int
    name: str
    cycle: str
    price: Decimal
    saving: Decimal  # per cycle, against what the client pays now


@dataclass(frozen=True)
class PendingRequest:
    id: int
    service_id: int
    client_id: int
    client_name: str
    domain: str
    type: str
    reason: str
    requested_at: datetime
    effective_date: date


@dataclass(frozen=True)
class CancelOptions:
    """What the service page needs to offer a cancellation (one read)."""

    service_id: int
    can_request: bool
    pending: PendingRequest | None
    offer: RetentionOffer | None
    end_of_period: date  # when an end-of-period cancellation would take effect
    begun_stays_due: bool = True  # rule 8: an unpaid period already begun is still owed


# ------------------------------------------------------------------------------ reads
def _pending_row(req: CancellationRequest, svc: Service) -> PendingRequest:
    return PendingRequest(
        id=req.id,
        service_id=svc.id,
        client_id=svc.client_id,
        client_name=svc.client.name,
        domain=svc.domain,
        type=req.type,
        reason=req.reason,
        requested_at=req.requested_at,
        effective_date=req.effective_date,
    )


def _pending_for(s: Session, service_id: int) -> CancellationRequest | None:
    return s.scalars(
        select(CancellationRequest).where(
            CancellationRequest.service_id == service_id,
            CancellationRequest.processed_at.is_(None),
        )
    ).first()


def _offer(s: Session, svc: Service, today: date) -> RetentionOffer | None:
    # Only what the service can take: a plan change the plan-change page would refuse
    # (a suspended service, an unpaid renewal, a change already open...) is no offer.
    if change_blocker(s, svc, today) is not None:
        return None
    targets = [int(t) for t in (svc.product.upgrade_targets or []) if str(t).isdigit()]
    if not targets:
        return None
    current = s.scalars(
        select(ProductPrice.price).where(
            ProductPrice.product_id == svc.product_id, ProductPrice.cycle == svc.billing_cycle
        )
    ).first()
    reference = svc.recurring_amount if current is None else min(current, svc.recurring_amount)
    rows = s.execute(
        select(Product.id, Product.name, ProductPrice.price)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(
            Product.id.in_(targets),
            Product.active.is_(True),
            Product.id != svc.product_id,
            ProductPrice.cycle == svc.billing_cycle,
            ProductPrice.price < reference,
        )
        .order_by(ProductPrice.price.desc(), Product.id)
    ).first()
    if rows is None:
        return None
    return RetentionOffer(
        product_id=rows[0],
        name=rows[1],
        cycle=svc.billing_cycle,
        price=rows[2],
        saving=q2(svc.recurring_amount - rows[2]),
    )


def _end_of_period(svc: Service, today: date) -> date:
    return max(svc.next_due_date or today, today)


def cancel_options(
    actor: Actor, service_id: int, *, today: date, session: Session | None = None
) -> CancelOptions:
    """The pending request of a service, or whether one may be made, with the retention
    offer (a cheaper plan, or None). NotFound for a service that is not the actor's."""
    require_permission(actor, "cancellations")
    with reading(session) as s:
        svc = get_scoped(s, actor, Service, service_id, "services")
        req = _pending_for(s, svc.id)
        return CancelOptions(
            service_id=svc.id,
            can_request=req is None and svc.status in REQUESTABLE,
            pending=None if req is None else _pending_row(req, svc),
            offer=_offer(s, svc, today) if req is None else None,
            end_of_period=_end_of_period(svc, today),
            begun_stays_due=not settings.get_bool(VOID_BEGUN, session=s),
        )


def retention_offer(
    actor: Actor, service_id: int, *, today: date, session: Session | None = None
) -> RetentionOffer | None:
    """The cheaper plan offered before a cancellation is confirmed, if there is one that
    the service can take on ``today``."""
    require_permission(actor, "cancellations")
    with reading(session) as s:
        return _offer(s, get_scoped(s, actor, Service, service_id, "services"), today)


def pending(
    actor: Actor, *, search: str | None = None, session: Session | None = None
) -> list[PendingRequest]:
    """The queue of requests not yet carried out, soonest first (staff with services)."""
    require_permission(actor, "cancellations")
    require(actor, "services")
    stmt = (
        select(CancellationRequest, Service)
        .join(Service, Service.id == CancellationRequest.service_id)
        .join(Client, Client.id == Service.client_id)
        .where(CancellationRequest.processed_at.is_(None))
        .order_by(CancellationRequest.effective_date, CancellationRequest.id)
    )
    term = (search or "").strip().lower().replace("%", "").replace("_", "")
    if term:
        like = f"%{term}%"
        stmt = stmt.where(
            or_(func.lower(Service.domain).like(like), func.lower(Client.name).like(like))
        )
    with reading(session) as s:
        return [_pending_row(req, svc) for req, svc in s.execute(stmt.limit(500)).all()]


# ---------------------------------------------------------------------------- actions
def _lock_service(s: Session, service_id: int) -> Service:
    svc = s.scalars(
        select(Service)
        .where(Service.id == service_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if svc is None:  # pragma: no cover - scoped just before
        raise NotFound()
    return svc


def request(
    actor: Actor,
    service_id: int,
    type: str,  # noqa: A002 - the column's name
    reason: str,
    *,
    today: date,
    session: Session | None = None,
    at: datetime | None = None,
) -> int:
    """Ask to cancel a service; returns the request id. The service's open invoices are
    released at once (setting ``cancel_invoice_on_cancellation``), the client gets a
    confirmation mail, and the daily run does the rest on the effective date. ``at``: the
    moment of the request (default now)."""
    require_permission(actor, "cancellations")
    at = at or now()
    if type not in TYPES:
        raise ValidationError("error.cancel_type")
    text = (reason or "").strip()
    if not text:
        raise ValidationError("error.cancel_reason_required")
    if len(text) > REASON_MAX:
        raise ValidationError("error.cancel_reason_long", n=REASON_MAX)
    with transaction(session) as s:
        found = get_scoped(s, actor, Service, service_id, "services")
        lock_client(s, found.client_id)  # client, then service: the order payments use
        svc = _lock_service(s, found.id)
        if _pending_for(s, svc.id) is not None:
            raise Conflict("error.cancel_already_requested")
        if svc.status not in REQUESTABLE:
            raise Conflict("error.cancel_wrong_status")
        effective = today if type == "immediate" else _end_of_period(svc, today)
        req = CancellationRequest(
            service_id=svc.id,
            type=type,
            reason=text,
            requested_by=actor.user_id or None,
            requested_at=at,
            effective_date=effective,
        )
        s.add(req)
        s.flush()
        released = Released()
        if settings.get_bool(CANCEL_INVOICES, session=s):
            released = _release(s, svc, req, at)
        cancelled, trimmed = released.cancelled, released.trimmed
        audit.record(
            s,
            actor,
            "cancellation.requested",
            target_type="cancellation_request",
            target_id=req.id,
            client_id=svc.client_id,
            service_id=svc.id,
            type=type,
            effective_date=effective.isoformat(),
            invoices_cancelled=",".join(str(i) for i in cancelled),
            invoices_trimmed=",".join(str(i) for i in trimmed),
            invoices_kept=",".join(str(i) for i in released.kept),
        )
        client = svc.client
        mail.queue(
            s,
            to_addr=client.email,
            template="cancellation_confirmed",
            language=client.language,
            name=client.name,
            domain=svc.domain,
            immediate=type == "immediate",
            effective=day(effective, client.language),
            released=bool(cancelled or trimmed),
            owed=bool(released.kept),
        )
        return req.id


def _release(s: Session, svc: Service, req: CancellationRequest, at: datetime) -> Released:
    """Free the service's open invoices for a request (billing-rules rule 8): the periods
    that start once the cancellation takes effect go; a period already begun stays due,
    unless the owner's ``void_begun_invoices_on_cancellation`` voids it too. Each voided
    invoice says why in its notes, in the client's language."""
    void = settings.get_bool(VOID_BEGUN, session=s)
    note = t(
        "cancel.void_note_begun" if void else "cancel.void_note",
        svc.client.language,
        number=str(req.id),
        domain=svc.domain,
    )
    return release_service_invoices(
        s,
        SYSTEM,
        svc.id,
        reason=f"cancellation request #{req.id}",
        at=at,
        keep_begun_before=None if void else req.effective_date,
        note=note,
    )


def undo(actor: Actor, request_id: int, *, session: Session | None = None) -> None:
    """Withdraw a pending request (staff with services). The renewal periods its invoices
    billed are freed (their lines leave the cancelled invoices, audited), so the next run
    bills them again; money those invoices returned to credit stays credit and is applied
    to the new invoice."""
    require_permission(actor, "cancellations")
    require(actor, "services")
    with transaction(session) as s:
        req = s.get(CancellationRequest, parse_id(request_id))
        if req is None:
            raise NotFound()
        if req.processed_at is not None:
            raise Conflict("error.cancel_not_pending")
        owner = s.get(Service, req.service_id)
        lock_client(s, owner.client_id if owner else None)
        svc = _lock_service(s, req.service_id)
        entry = s.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "cancellation.requested",
                AuditEntry.target_type == "cancellation_request",
                AuditEntry.target_id == req.id,
            )
        ).first()
        raw = str((entry.details or {}).get("invoices_cancelled", "")) if entry else ""
        invoice_ids = [int(x) for x in raw.split(",") if x.strip().isdigit()]
        freed: list[str] = []
        if invoice_ids and svc.next_due_date is not None:
            lines = s.scalars(
                select(InvoiceItem)
                .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
                .where(
                    InvoiceItem.invoice_id.in_(invoice_ids),
                    Invoice.status == "cancelled",
                    InvoiceItem.service_id == svc.id,
                    InvoiceItem.kind == "renewal",
                    InvoiceItem.period_start >= svc.next_due_date,
                )
            ).all()
            for line in lines:
                assert line.period_start is not None  # selected by period_start >= the due date
                freed.append(f"{line.invoice_id}:{line.period_start}")
                # The run's record of having billed this period steps aside with the line.
                done = f"renewal:{svc.id}:{line.period_start.isoformat()}"
                s.execute(
                    update(AutomationAction)
                    .where(AutomationAction.key == done)
                    .values(key=f"{done}#released:{req.id}")
                )
                s.delete(line)
        audit.record(
            s,
            actor,
            "cancellation.undone",
            target_type="cancellation_request",
            target_id=req.id,
            client_id=svc.client_id,
            service_id=svc.id,
            type=req.type,
            periods_freed=",".join(freed),
        )
        s.delete(req)


def terminate_on_panel(request_id: int, *, today: date, at: datetime) -> bool:
    """The panel half of processing a request: remove the account of a live service.
    Returns True when there was something to remove. Raises the panel's DomainError.
    ``at``: the moment of the action (the run's, or staff's processing)."""
    with reading() as s:
        req = s.get(CancellationRequest, request_id)
        if req is None or req.processed_at is not None:
            return False
        svc = s.get(Service, req.service_id)
        live = svc is not None and svc.status in REQUESTABLE
        service_id = req.service_id
    if live:
        services_provisioning.terminate(SYSTEM, service_id, today=today, at=at)
    return live


def finish(
    s: Session, actor: Actor, request_id: int, *, today: date, at: datetime
) -> Service | None:
    """The database half, in the caller's transaction: the request is done, the service is
    cancelled, anything still open for it is released, and the client is told. Returns the
    service, or None when the request was already processed (or is gone). ``at``: the
    moment of the action that carries it out."""
    req = s.get(CancellationRequest, request_id)
    if req is None:
        return None
    owner = s.get(Service, req.service_id)
    lock_client(s, owner.client_id if owner else None)
    s.refresh(req, with_for_update=True)
    if req.processed_at is not None:
        return None
    svc = _lock_service(s, req.service_id)
    req.processed_at = at
    if svc.status in (*REQUESTABLE, "terminated", "pending"):
        svc.status = "cancelled"
    svc.terminated_on = svc.terminated_on or today
    svc.next_due_date = svc.next_invoice_date = None
    from core.addons.lifecycle import follow_parent  # add-ons import services: not at the top

    follow_parent(s, svc.id, "cancelled", today)  # its add-ons end with it (issue 19)
    _release(s, svc, req, at)
    audit.record(
        s,
        actor,
        "cancellation.processed",
        target_type="cancellation_request",
        target_id=req.id,
        client_id=svc.client_id,
        service_id=svc.id,
        type=req.type,
    )
    client = svc.client
    mail.queue(
        s,
        to_addr=client.email,
        template="service_terminated",
        language=client.language,
        name=client.name,
        domain=svc.domain,
        requested=True,
        when=day(today, client.language),
    )
    return svc


def process(
    actor: Actor,
    request_id: int,
    *,
    today: date,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """Carry out a request now (staff with services; the daily run does it on the
    effective date): the account leaves the panel first, then the database follows.
    ``at``: the moment of the action (default now)."""
    at = at or now()
    require(actor, "services")
    rid = parse_id(request_id)
    with reading(session) as s:
        if s.get(CancellationRequest, rid) is None:
            raise NotFound()
    terminate_on_panel(rid, today=today, at=at)
    with transaction(session) as s:
        if finish(s, actor, rid, today=today, at=at) is None:
            raise Conflict("error.cancel_not_pending")
