"""Renewal on payment: a paid renewal moves the service on one cycle (billing-rules §0.3, §1.4).

* **In the paying transaction.** :func:`renew_on_payment` is a billing paid hook: it moves
  ``next_due_date`` one cycle on from the period just paid, once per invoice, and after
  commit tries to reactivate a service that was suspended for non-payment
  (:func:`reactivate_paid`); whatever fails there, the next run retries.
* **Listed, not registered.** ``core.billing.hooks.PAID_HOOKS`` names it, so a payment
  recorded by any process (a page, the CLI, a test) renews alike.
* **Caught up by the run.** The daily run (``core.automation``) renews any current period
  found paid without the hook (a payment recorded before the hook existed, or with it
  patched out), through the same hook (:func:`_catch_up_renewals`).

Kept apart from the runner because it runs wherever a payment is recorded, not only in the
daily run: a payment needs neither the lease nor the steps' order.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import SYSTEM, Actor
from core.automation import policy as automation_settings
from core.automation.steps import OVERDUE, may_unsuspend
from core.models import Invoice, InvoiceItem, Payment, Service
from core.platform import audit, mail, settings
from core.platform.clock import to_local
from core.platform.config import get_settings
from core.platform.db import after_commit, reading, unit_of_work
from core.platform.errors import DomainError
from core.platform.i18n import day
from core.rules.cycles import advance, is_recurring
from core.services import provisioning as services_provisioning

log = logging.getLogger("anfitrion.automation")  # the run's logger: one place to read its log

REANCHOR = "reanchor_on_late_payment"
UNSUSPEND = "unsuspend_enabled"


def _paid_day(s: Session, invoice: Invoice) -> date:
    """The business date the invoice was paid: its last payment's date, else when marked."""
    received = s.execute(
        select(func.max(Payment.received_on)).where(Payment.invoice_id == invoice.id)
    ).scalar_one()
    if received is not None:
        return received
    # mark_paid stamped paid_at (the paying action's moment) before the hooks run.
    assert invoice.paid_at is not None
    return to_local(invoice.paid_at, get_settings().tz).date()


def renew_on_payment(session: Session, invoice: Invoice, actor: Actor) -> None:
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
            and settings.get_bool(UNSUSPEND, session=session)
        ):
            after_commit(session, partial(reactivate_paid, svc.id, paid_on, invoice.paid_at))
        if svc.next_due_date != start or not is_recurring(svc.billing_cycle):
            continue  # not the period due now (already advanced, or paid ahead)
        old = svc.next_due_date
        assert old is not None  # equals the line's period_start, which is not NULL
        cycle = svc.billing_cycle
        if svc.status == "suspended" and settings.get_bool(REANCHOR, session=session):
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
    """A renewal paid without the hook running (see the module notes) is renewed now: the
    same hook, for each paid invoice of a current period."""
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
                renew_on_payment(s, s.get_one(Invoice, invoice_id), SYSTEM)
        except Exception:  # noqa: BLE001 - one invoice never stops the run
            log.exception("automation: catching up the renewal of invoice %s failed", invoice_id)
            counts["failures"] += 1


def reactivate_paid(service_id: int, on: date, at: datetime | None) -> bool:
    """After a payment commits: reactivate a service suspended for non-payment when nothing
    it owes is overdue any more. Best effort: a failure is left to the next run. ``on`` and
    ``at``: the payment's business date and moment."""
    try:
        with reading() as s:
            if not may_unsuspend(s, service_id, on):
                return False
        services_provisioning.unsuspend(SYSTEM, service_id, at=at)
        with unit_of_work() as s:
            svc = s.get_one(Service, service_id)
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
