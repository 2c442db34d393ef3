"""What the daily run's steps share: the item, the outcome, the unique keys and the ledger.

Every effect of the run has a unique key recorded in ``automation_action`` in the same
transaction as the effect itself (``renewal:<service>:<period start>``,
``reminder:<kind>:<invoice>``, ``late_fee:<invoice>``, ``suspend:<service>:<due>``,
``terminate:<service>:<due>``, ``unsuspend:<service>:<due>``, ``cancel:<request>``,
``addon_end:<add-on>``, ``addon_quota:<service>:<run>``), backed by
the invoice-line unique (service, kind, period start) and the invoice's late-fee flag. A
failure is recorded under a key of its own (``<key>#failed:<run>``), so the next run tries the
item again. The SQL pieces here keep each selection on indexed columns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import String, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from core.models import (
    AutomationAction,
    CancellationRequest,
    Invoice,
    InvoiceItem,
    Service,
)
from core.platform import mail
from core.platform.db import unit_of_work
from core.platform.errors import DomainError
from core.platform.i18n import day

OVERDUE = "Overdue on Payment"  # the suspend reason automatic unsuspension is limited to
LIVE = ("active", "suspended")
DONE, SKIPPED, FAILED, AWAITING = "done", "skipped", "failed", "awaiting"
CHUNK = 500


@dataclass(frozen=True)
class Item:
    """One thing a run would do (preview) or does (run)."""

    step: str  # renewal | reminder | late_fee | suspend | terminate | unsuspend | cancellation
    key: str
    client_id: int
    client_name: str
    target: str  # the domain, or the invoice number
    service_id: int | None = None
    invoice_id: int | None = None
    due: date | None = None
    amount: Decimal | None = None
    kind: str = ""  # reminder kind, cancellation type
    period_start: date | None = None
    awaiting: bool = False  # a termination that waits for the owner's approval
    lines: tuple[str, ...] = ()  # a renewal's add-on lines, as its invoice will carry them


@dataclass
class Outcome:
    status: str
    detail: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers
def pending_request(service_col: Any) -> Any:
    return exists(
        select(CancellationRequest.id).where(
            CancellationRequest.service_id == service_col,
            CancellationRequest.processed_at.is_(None),
            InvoiceItem.period_start >= CancellationRequest.effective_date,
        )
    )


def key_missing(prefix: str, id_col: Any) -> Any:
    """NOT EXISTS an action whose key is ``prefix`` + the id (answered by the unique index)."""
    key = literal(prefix, String).concat(cast(id_col, String))
    return ~exists(select(AutomationAction.id).where(AutomationAction.key == key))


def done_keys(s: Session, keys: Iterable[str]) -> set[str]:
    wanted = list(dict.fromkeys(keys))
    found: set[str] = set()
    for i in range(0, len(wanted), CHUNK):
        part = wanted[i : i + CHUNK]
        found.update(s.scalars(select(AutomationAction.key).where(AutomationAction.key.in_(part))))
    return found


def fresh(s: Session, items: list[Item]) -> list[Item]:
    taken = done_keys(s, (item.key for item in items))
    return [item for item in items if item.key not in taken]


def earliest_unpaid_due(upto: date) -> Any:
    """Per service, the due date of its oldest unpaid renewal invoice (§3.5 ``due``), for the
    services whose oldest is due on ``upto`` or before (the only ones a caller keeps). The
    bound leaves the result unchanged (a service with an unpaid invoice due by ``upto`` has
    its oldest due by then too) and lets the read start from the few overdue invoices, on
    the (status, due_on) index, instead of grouping every renewal line of the book."""
    return (
        select(InvoiceItem.service_id.label("service_id"), func.min(Invoice.due_on).label("due"))
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(
            InvoiceItem.kind == "renewal",
            InvoiceItem.service_id.is_not(None),
            Invoice.status == "unpaid",
            Invoice.due_on <= upto,
        )
        .group_by(InvoiceItem.service_id)
        .subquery()
    )


def not_held(today: date) -> Any:
    return or_(Service.hold_until.is_(None), Service.hold_until < today)


def invoice_of_cancelled_service() -> Any:
    """An invoice billing a renewal, for a period from the day it takes effect on, of a
    service with a pending cancellation request (a period already begun stays due and its
    reminders go on, billing-rules rule 8)."""
    return exists(
        select(InvoiceItem.id)
        .join(CancellationRequest, CancellationRequest.service_id == InvoiceItem.service_id)
        .where(
            InvoiceItem.invoice_id == Invoice.id,
            InvoiceItem.kind == "renewal",
            CancellationRequest.processed_at.is_(None),
            InvoiceItem.period_start >= CancellationRequest.effective_date,
        )
    )


def record(
    s: Session,
    run_id: int,
    item: Item,
    *,
    status: str = DONE,
    invoice_id: int | None = None,
    **detail: Any,
) -> None:
    s.add(
        AutomationAction(
            **action_values(run_id, item, status=status, invoice_id=invoice_id, **detail)
        )
    )


def action_values(
    run_id: int,
    item: Item,
    *,
    status: str = DONE,
    invoice_id: int | None = None,
    **detail: Any,
) -> dict[str, Any]:
    """The ledger row of one done item, as column values (``record`` adds it; a group's
    bulk insert takes many)."""
    return {
        "run_id": run_id,
        "key": item.key,
        "kind": item.step,
        "service_id": item.service_id,
        "invoice_id": invoice_id or item.invoice_id,
        "status": status,
        "detail": json.dumps(detail, default=str) if detail else None,
    }


Apply = Callable[[Session, int, Item, date, Any], Outcome]


def grouped(
    apply: Apply, preload: Callable[[Session, list[Item]], Sequence[Any]] | None = None
) -> Callable[..., tuple[dict[str, str], list[Item]]]:
    """A step's group path from its one-item function ``apply(session, run, item, day, cfg)``:
    the group's rows are read at once (``preload``) and every item is applied in one
    transaction with one flush at the end. Any failure raises and writes nothing; the run
    then does each item alone, in its own transaction (``core.automation._attempt_group``).
    The items of a step touch distinct rows (one key per invoice or service), so an item
    never needs to read another's unflushed change."""

    def group(
        run_id: int, items: list[Item], today: date, cfg: Any
    ) -> tuple[dict[str, str], list[Item]]:
        with unit_of_work() as s:
            # Held here: the identity map keeps only weak references to loaded rows.
            kept = preload(s, items) if preload is not None else []
            with s.no_autoflush:
                outcomes = {item.key: apply(s, run_id, item, today, cfg).status for item in items}
            del kept
        return outcomes, []

    return group


def record_failure(run_id: int, item: Item, exc: BaseException) -> None:
    """A failed item, under a key of its own so the plain key stays free for the retry."""
    if isinstance(exc, DomainError):
        detail = {"error": exc.key, "params": {k: str(v) for k, v in exc.params.items()}}
    else:
        detail = {"error": "error.automation_internal", "params": {"kind": type(exc).__name__}}
    with unit_of_work() as s:
        s.add(
            AutomationAction(
                run_id=run_id,
                key=f"{item.key}#failed:{run_id}"[:120],
                kind=item.step,
                service_id=item.service_id,
                invoice_id=item.invoice_id,
                status=FAILED,
                detail=json.dumps(detail, default=str),
            )
        )


def key_taken(s: Session, key: str) -> bool:
    return (
        s.scalars(select(AutomationAction.id).where(AutomationAction.key == key)).first()
        is not None
    )


def link(invoice_id: int | None) -> str:
    return f"billing?invoice={invoice_id}" if invoice_id else "billing"


def service_mail(s: Session, service_id: int, template: str, today: date, **ctx: Any) -> None:
    svc = s.get_one(Service, service_id)
    client = svc.client
    mail.queue(
        s,
        to_addr=client.email,
        template=template,
        language=client.language,
        name=client.name,
        domain=svc.domain,
        when=day(today, client.language),
        **ctx,
    )
