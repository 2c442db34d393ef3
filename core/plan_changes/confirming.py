"""Confirming a plan change (billing-rules §2.2): the quote frozen into a ``PlanChange``
with its invoice, exactly once per service and day.

The client's confirm (``plan_changes.confirm``) calls :func:`_confirm` inside its
transaction: it locks the client and the service, returns the change already made when the
same one is asked for again (a double click), re-checks the blockers and prices the quote
the same way the page showed it (``core.plan_changes.pricing``), then records the change
and issues its invoice. What happens once that invoice is paid is ``core.plan_changes.apply``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import SYSTEM, Actor, get_scoped
from core.billing import LineInput, create_invoice, issue_invoice
from core.billing.ledger import lock_client
from core.models import InvoiceItem, PlanChange, Service
from core.plan_changes.common import OPEN, Confirmed, _lock_service
from core.plan_changes.pricing import _blocker, _build, _pick
from core.platform import audit
from core.platform.errors import Conflict
from core.platform.i18n import t


def changed_today(s: Session, service_id: int, day: date) -> bool:
    """A change billed from ``day`` exists (applied or withdrawn): one change a day per
    service, so the next one, unless it waits for the renewal, is for tomorrow. The page
    asks this too, so the limit shows before confirming."""
    return (
        s.scalars(
            select(InvoiceItem.id).where(
                InvoiceItem.service_id == service_id,
                InvoiceItem.kind == "upgrade",
                InvoiceItem.period_start == day,
            )
        ).first()
        is not None
    )


# ------------------------------------------------------------------------ confirm
def _confirm(
    s: Session,
    actor: Actor,
    service_id: int,
    to_product_id: int,
    to_cycle: str,
    day: date,
    at: datetime,
) -> Confirmed:
    found = get_scoped(s, actor, Service, service_id, "services")
    lock_client(s, found.client_id)  # one change at a time per client, as billing locks
    svc = _lock_service(s, found.id)
    again = _repeat(s, svc.id, to_product_id, to_cycle, day)
    if again is not None:
        return Confirmed(again.id, again.invoice_id, again.status, repeated=True)
    blocked = _blocker(s, svc, day)
    if blocked is not None:
        raise Conflict(blocked[0], **blocked[1])
    product, price = _pick(s, svc, to_product_id, to_cycle)
    q = _build(s, svc, product, price, day)
    if changed_today(s, svc.id, day) and not q.at_renewal:
        raise Conflict("error.upgrade_again_tomorrow")
    change = PlanChange(
        service_id=svc.id,
        from_product_id=svc.product_id,
        to_product_id=product.id,
        from_cycle=svc.billing_cycle,
        to_cycle=price.cycle,
        quote=q.frozen(),
        status="scheduled" if q.at_renewal else "pending",
        requested_at=at,
    )
    s.add(change)
    s.flush()
    audit.record(
        s,
        actor,
        "plan_change.requested",
        target_type="service",
        target_id=svc.id,
        client_id=svc.client_id,
        plan_change=change.id,
        from_product=q.from_product,
        to_product=q.to_product,
        to_cycle=q.to_cycle,
        net=q.net,
        total=q.total,
        at_renewal=q.at_renewal,
    )
    if q.at_renewal:
        return Confirmed(change.id, None, change.status, repeated=False)
    lang = svc.client.language
    line = LineInput(
        description=t(
            "upgrades.invoice_line",
            lang,
            domain=svc.domain,
            from_plan=q.from_product,
            to_plan=q.to_product,
            cycle=t(f"cycle.{q.to_cycle}", lang),
        ),
        amount=q.payable,
        kind="upgrade",
        service_id=svc.id,
        period_start=day,
        period_end=q.next_due - timedelta(days=1) if q.next_due else None,
    )
    invoice_id = create_invoice(
        SYSTEM,
        svc.client_id,
        [line],
        issued_on=day,
        due_on=q.valid_until,
        draft=True,
        session=s,
        at=at,
    )
    change.invoice_id = invoice_id
    s.flush()
    # Issuing applies the client's credit and settles a zero total: the paid hook then
    # finds this change by its invoice and applies it after commit.
    issue_invoice(SYSTEM, invoice_id, issued_on=day, due_on=q.valid_until, session=s, at=at)
    return Confirmed(change.id, invoice_id, change.status, repeated=False)


def _repeat(
    s: Session, service_id: int, to_product_id: int, to_cycle: str, day: date
) -> PlanChange | None:
    """The same change asked for today, open or already applied (a double click)."""
    try:
        product_id = int(to_product_id)
    except (TypeError, ValueError):
        return None
    rows = s.scalars(
        select(PlanChange).where(
            PlanChange.service_id == service_id,
            PlanChange.to_product_id == product_id,
            PlanChange.to_cycle == to_cycle,
            PlanChange.status.in_((*OPEN, "applied")),
        )
    ).all()
    for row in rows:
        if (row.quote or {}).get("change_date") == day.isoformat():
            return row
    return None
