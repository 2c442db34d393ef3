"""From a paid plan change to the new plan, exactly once (billing-rules §2).

The writing side of plan changes after confirm (``core.plan_changes.confirming`` freezes the
quote and makes the invoice): the paid-invoice hook, applying a paid change (panel first,
then billing), the owner's retry and the daily run's catch-up, quote expiry and renewal
terms. Kept apart from the pages' reads so the exactly-once rules sit in one place.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import services
from core.access import SYSTEM, Actor, parse_id, require_owner
from core.billing import cancel_invoice
from core.billing.ledger import lock_client, move_credit
from core.models import Invoice, PlanChange, Service
from core.plan_changes.common import _day, _iso, _lock_change, _lock_service
from core.platform import audit, mail
from core.platform.clock import now
from core.platform.config import get_settings
from core.platform.db import after_commit, reading, transaction
from core.platform.errors import Conflict, DomainError, NotFound
from core.platform.i18n import day as fmt_day
from core.platform.i18n import money as fmt_money
from core.platform.i18n import t
from core.rules.money import D, q2
from core.services import provisioning as services_provisioning

log = logging.getLogger("anfitrion.plan_changes")


# ------------------------------------------------------------------------ paid → applied
# Listed in ``core.billing.hooks.PAID_HOOKS``.
def apply_paid_plan_change(session: Session, invoice: Invoice, actor: Actor) -> None:
    """Inside the paying transaction: database only. The change becomes "paid" and is applied
    on the panel right after commit (retried by :func:`apply_pending` if that fails)."""
    changes = session.scalars(
        select(PlanChange).where(
            PlanChange.invoice_id == invoice.id, PlanChange.status == "pending"
        )
    ).all()
    assert invoice.paid_at is not None  # mark_paid stamped it before the hooks run
    for change in changes:
        _mark_paid(session, change, actor, invoice.paid_at)


def _mark_paid(session: Session, change: PlanChange, actor: Actor, at: datetime) -> None:
    change.status = "paid"
    audit.record(
        session,
        actor,
        "plan_change.paid",
        target_type="service",
        target_id=change.service_id,
        plan_change=change.id,
        invoice=change.invoice_id,
    )
    after_commit(session, partial(_apply_after_commit, change.id, at))


def _apply_after_commit(change_id: int, at: datetime) -> None:
    """Right after the paying commit, as of the payment's moment ``at``."""
    try:
        _apply_one(change_id, _day(at), at, None)
    except Exception:  # noqa: BLE001 - the payment is committed; the daily run retries
        log.exception("plan change %s could not be applied now; it stays pending", change_id)


def _due(change: PlanChange, day: date) -> bool:
    if change.status == "paid":
        return True
    if change.status == "scheduled":
        apply_on = _iso((change.quote or {}).get("apply_on"))
        return apply_on is not None and apply_on <= day
    return False


def _apply_one(
    change_id: int,
    day: date,
    at: datetime,
    session: Session | None,
    *,
    raise_errors: bool = False,
) -> bool:
    """Apply one paid (or due scheduled) change: panel first, then billing, exactly once;
    ``day`` and ``at`` are the acting entry point's business date and moment."""
    with reading(session) as s:
        change = s.get(PlanChange, change_id)
        if change is None or not _due(change, day):
            return False
        svc = s.get(Service, change.service_id)
        needs_panel = svc is not None and svc.product_id != change.to_product_id
        service_id, to_product = change.service_id, change.to_product_id
    if needs_panel:
        try:
            # Panel first; the service's product moves only when the panel agreed, so it is
            # the marker that this part is done (a retry skips it).
            services_provisioning.change_plan(
                SYSTEM, service_id, to_product, session=session, at=at
            )
        except DomainError as exc:
            log.warning("plan change %s: panel step failed (%s); retried later", change_id, exc.key)
            if raise_errors:
                raise
            return False
    with transaction(session) as s:
        change = _lock_change(s, change_id)
        if change is None or not _due(change, day):
            return False  # applied meanwhile by another runner
        svc = _lock_service(s, change.service_id)
        if svc.product_id != change.to_product_id:
            return False
        q = change.quote or {}
        old_amount, old_cycle = svc.recurring_amount, svc.billing_cycle
        svc.recurring_amount = q2(D(str(q["to_amount"])))
        svc.billing_cycle = change.to_cycle
        # Add-ons that fit the new plan stay; the others end, saying why (issue 19).
        from core.addons.lifecycle import end_misfits  # add-ons import billing and services

        end_misfits(s, SYSTEM, svc.id, change.to_product_id, old_cycle != change.to_cycle, day)
        if q.get("moves_due_date") and q.get("next_due"):
            svc.next_due_date = date.fromisoformat(q["next_due"])
            svc.anchor_day = int(q["anchor_day"])
        credited = q2(D(str(q.get("balance_credit") or "0")))
        client = lock_client(s, svc.client_id)
        if credited > 0:
            move_credit(
                s,
                SYSTEM,
                client,
                credited,
                kind="downgrade",
                reason=f"{q.get('from_product', '')} → {q.get('to_product', '')}",
                invoice_id=change.invoice_id,
            )
            # The SRI side is imported when a downgrade credits: the daily run imports this
            # module every day, and the e-invoicing package (lxml, cryptography) is heavy.
            from core.einvoice.triggers import credit_note_on_downgrade

            credit_note_on_downgrade(
                s,
                SYSTEM,
                svc.id,
                credited,
                reason=f"Cambio de plan {q.get('from_product', '')} → {q.get('to_product', '')}",
                at=at,
            )
        change.status = "applied"
        change.applied_at = at
        audit.record(
            s,
            SYSTEM,
            "plan_change.applied",
            target_type="service",
            target_id=svc.id,
            client_id=svc.client_id,
            plan_change=change.id,
            from_amount=old_amount,
            to_amount=svc.recurring_amount,
            from_cycle=old_cycle,
            to_cycle=svc.billing_cycle,
            credited=credited,
        )
        lang = client.language
        mail.queue(
            s,
            to_addr=client.email,
            template="plan_change_applied",
            language=lang,
            name=client.name,
            domain=svc.domain,
            from_plan=str(q.get("from_product", "")),
            to_plan=str(q.get("to_product", "")),
            cycle=t(f"cycle.{svc.billing_cycle}", lang),
            amount=fmt_money(svc.recurring_amount, lang),
            next_due=fmt_day(svc.next_due_date, lang),
            credited=fmt_money(credited, lang) if credited > 0 else "",
            link=f"{get_settings().public_url}/services?service={svc.id}",
        )
    return True


def retry(
    actor: Actor,
    plan_change_id: int,
    *,
    session: Session | None = None,
    at: datetime | None = None,
) -> None:
    """The owner applies a paid change now instead of waiting for the daily run; a panel
    failure is reported as the panel's message. ``at``: the moment (default now)."""
    at = at or now()
    require_owner(actor)
    key = parse_id(plan_change_id)
    with reading(session) as s:
        change = s.get(PlanChange, key)
        if change is None:
            raise NotFound()
        if change.status != "paid":
            raise Conflict("error.upgrade_not_paid")
    if not _apply_one(key, _day(at), at, session, raise_errors=True):
        raise Conflict("error.upgrade_not_applied")


def _each(ids: list[int], session: Session | None, work: Any) -> int:
    """Run ``work(session, id)`` per item, each in its own transaction (or the caller's)."""
    done = 0
    for item in ids:
        try:
            with transaction(session) as s:
                if work(s, item):
                    done += 1
        except DomainError as exc:
            log.warning("plan change %s skipped: %s", item, exc.key)
    return done


def apply_pending(
    at: date | datetime, session: Session | None = None, *, moment: datetime | None = None
) -> int:
    """Apply every paid change still waiting (the panel failed, or the process stopped before
    the after-commit step) and every downgrade scheduled for a renewal that has come.
    Changes whose invoice was paid without the hook running are marked paid first.
    Returns how many were applied now; a re-run applies nothing twice. ``moment``: when
    (default now; the daily run passes its own), the changes' ``applied_at``."""
    moment = moment or now()
    day = _day(at)
    with reading(session) as s:
        missed = list(
            s.scalars(
                select(PlanChange.id)
                .join(Invoice, Invoice.id == PlanChange.invoice_id)
                .where(PlanChange.status == "pending", Invoice.status == "paid")
                .order_by(PlanChange.id)
            )
        )

    def mark(s: Session, change_id: int) -> bool:
        change = _lock_change(s, change_id)
        if change is None or change.status != "pending":
            return False
        invoice = s.get(Invoice, change.invoice_id)
        if invoice is None or invoice.status != "paid":
            return False
        change.status = "paid"
        audit.record(
            s,
            SYSTEM,
            "plan_change.paid",
            target_type="service",
            target_id=change.service_id,
            plan_change=change.id,
            invoice=change.invoice_id,
        )
        return True

    _each(missed, session, mark)
    with reading(session) as s:
        ready = list(
            s.scalars(
                select(PlanChange.id)
                .where(PlanChange.status.in_(("paid", "scheduled")))
                .order_by(PlanChange.id)
            )
        )
    applied = 0
    for change_id in ready:
        try:
            if _apply_one(change_id, day, moment, session):
                applied += 1
        except DomainError as exc:
            log.warning("plan change %s not applied: %s", change_id, exc.key)
    return applied


def expire_quotes(at: date | datetime, session: Session | None = None) -> int:
    """Cancel unpaid changes whose quote has run out (and their invoices), those whose
    invoice was cancelled meanwhile, and downgrades scheduled for the renewal of a service that
    ended before it. Returns how many were ended; a re-run ends none."""
    day = _day(at)
    with reading(session) as s:
        ids = list(
            s.scalars(
                select(PlanChange.id)
                .where(PlanChange.status.in_(("pending", "scheduled")))
                .order_by(PlanChange.id)
            )
        )

    def end(s: Session, change_id: int) -> bool:
        change = s.get(PlanChange, change_id)
        if change is None or change.status not in ("pending", "scheduled"):
            return False
        if change.status == "scheduled":
            svc = s.get(Service, change.service_id)
            if svc is None or svc.status in services.LIVE:
                return False
            change.status = "cancelled"
            audit.record(
                s,
                SYSTEM,
                "plan_change.cancelled",
                target_type="service",
                target_id=change.service_id,
                client_id=svc.client_id if svc else None,
                plan_change=change.id,
                service_status=svc.status if svc else None,
            )
            return True
        invoice = s.get(Invoice, change.invoice_id) if change.invoice_id else None
        if invoice is not None and invoice.status == "paid":
            return False  # paid, even late: apply_pending applies it
        valid_until = _iso((change.quote or {}).get("valid_until"))
        gone = invoice is not None and invoice.status in ("cancelled", "refunded")
        expired = valid_until is not None and day > valid_until
        if not (gone or expired):
            return False
        if invoice is not None and invoice.status in ("draft", "unpaid"):
            try:
                cancel_invoice(SYSTEM, invoice.id, reason="plan change quote expired", session=s)
            except Conflict:
                return False  # paid a moment ago: apply_pending takes it
        change = _lock_change(s, change_id)
        if change is None or change.status != "pending":
            return False
        change.status = "expired" if expired else "cancelled"
        svc = s.get(Service, change.service_id)
        audit.record(
            s,
            SYSTEM,
            f"plan_change.{change.status}",
            target_type="service",
            target_id=change.service_id,
            client_id=svc.client_id if svc else None,
            plan_change=change.id,
        )
        return True

    return _each(ids, session, end)


def scheduled_terms(
    service_id: int, period_start: date, *, session: Session | None = None
) -> tuple[Decimal, str, int] | None:
    """For renewal invoicing: a downgrade scheduled to take effect on ``period_start`` bills
    that period at its new price. Returns ``(amount, cycle, product_id)`` or None."""
    with reading(session) as s:
        rows = s.scalars(
            select(PlanChange).where(
                PlanChange.service_id == service_id, PlanChange.status == "scheduled"
            )
        ).all()
        for change in rows:
            q = change.quote or {}
            if _iso(q.get("apply_on")) == period_start:
                return q2(D(str(q["to_amount"]))), change.to_cycle, change.to_product_id
    return None
