"""The steps of the daily run, in the order of billing-rules §3.5 (payments and credit happen
as they arrive): renewal invoices, reminders, late fees, suspensions, terminations,
reactivations, cancellation requests.

Each step pairs a *selection* (a few SQL queries on indexed columns returning the items due on
the run date, without those already done) with an *execution* (one item in its own
transaction). The same selections feed the owner's preview, which writes nothing. The steps
live in ``core.automation.invoicing`` (renewal invoices), ``core.automation.dunning``
(reminders, late fees) and ``core.automation.service_steps``; what they share is in
``core.automation.items``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from core.automation import policy as automation_settings
from core.automation.addon_ends import do_end, select_ends
from core.automation.addon_quotas import do_quota, select_quotas
from core.automation.dunning import (
    do_late_fee,
    do_reminder,
    group_late_fees,
    group_reminders,
    select_late_fees,
    select_reminders,
)
from core.automation.einvoice_step import do_einvoice, select_einvoices
from core.automation.invoicing import do_renewal, select_renewals
from core.automation.items import (  # noqa: F401 - the names the run and its callers use
    AWAITING,
    DONE,
    FAILED,
    OVERDUE,
    SKIPPED,
    Item,
    Outcome,
    done_keys,
    record_failure,
)
from core.automation.policy import AutomationSettings
from core.automation.renewals import renew_group
from core.automation.service_steps import (  # noqa: F401 - finish/terminate: the owner's approval
    do_cancellation,
    do_suspend,
    do_terminate,
    do_unsuspend,
    finish_termination,
    may_unsuspend,
    select_cancellations,
    select_suspensions,
    select_terminations,
    select_unsuspensions,
    terminate_service,
)
from core.platform.db import reading


@dataclass(frozen=True)
class Step:
    name: str
    count: str  # the run's count it adds to
    select: Callable[[Session, date, AutomationSettings], list[Item]]
    # The last argument is the run's moment (ARCHITECTURE §2 rule 5: read once, by ``run``).
    execute: Callable[[int, Item, date, AutomationSettings, datetime], Outcome]
    # Optional: many items in one transaction (``core.automation.renewals``), falling back
    # to ``execute`` item by item when the group fails or hands items back.
    group: Callable[..., tuple[dict[str, str], list[Item]]] | None = None


# The order of billing-rules §3.5 (payments and credit happen as they arrive).
STEPS: tuple[Step, ...] = (
    Step("renewal", "invoices_created", select_renewals, do_renewal, renew_group),
    Step("reminder", "reminders_sent", select_reminders, do_reminder, group_reminders),
    Step("late_fee", "late_fees_added", select_late_fees, do_late_fee, group_late_fees),
    Step("suspend", "suspended", select_suspensions, do_suspend),
    Step("terminate", "terminated", select_terminations, do_terminate),
    Step("unsuspend", "unsuspended", select_unsuspensions, do_unsuspend),
    Step("cancellation", "cancellations_processed", select_cancellations, do_cancellation),
    # Add-ons the client cancelled end with their paid period (issue 19).
    Step("addon_end", "addons_ended", select_ends, do_end),
    # Disk-quota add-ons whose start or end the panel has not taken yet (issue 19).
    Step("addon_quota", "addon_quotas_set", select_quotas, do_quota),
    # SRI documents still owed an answer (issue 17): sent, or their authorisation asked again.
    Step("einvoice", "einvoices_sent", select_einvoices, do_einvoice),
)


def plan(on: date, cfg: AutomationSettings | None = None) -> list[Item]:
    """What a run on ``on`` would do now, step by step (reads only)."""
    with reading() as s:
        cfg = cfg or automation_settings.load(session=s)
        items: list[Item] = []
        for step in STEPS:
            items.extend(step.select(s, on, cfg))
        return items
