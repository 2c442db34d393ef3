"""The automation settings (billing-rules §7) the daily run reads: names and checks.

Every setting is kept in the ``setting`` table through ``core.platform.settings``; its default
and meaning are declared in ``core.platform.settings_registry`` and its check is here. The
run reads them once (:func:`load`) and passes the values down; the owner changes them
through :func:`save`, which validates all of them before writing any. Names mirror WHMCS's
(billing-rules §7) so a migration from it maps one to one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.models import Setting
from core.platform import settings, settings_registry
from core.platform.db import reading, transaction
from core.platform.errors import ValidationError
from core.rules.cycles import RECURRING_CYCLES
from core.rules.money import LATE_FEE_TYPES, D, q2

# Per-cycle override of invoice_days_before: "invoice_days_before.<cycle>"; unset = default.
OVERRIDE_PREFIX = "invoice_days_before."
OVERDUE_KINDS = ("first", "second", "third")
MAX_DAYS = 730


@dataclass(frozen=True)
class AutomationSettings:
    """What the daily run does, read once per run (each setting, its default and meaning are
    declared in ``core.platform.settings_registry``; defaults: WHMCS install values, §3)."""

    invoice_days_before: int
    continuous_invoicing: bool
    unpaid_reminder_days: int
    overdue_reminder_1_days: int
    overdue_reminder_2_days: int
    overdue_reminder_3_days: int
    late_fee_days: int
    late_fee_type: str
    late_fee_amount: Decimal
    late_fee_minimum: Decimal
    tax_late_fee: bool
    suspend_enabled: bool
    suspend_days: int
    unsuspend_enabled: bool
    terminate_enabled: bool
    terminate_days: int
    terminate_requires_approval: bool
    auto_cancellation_requests: bool
    cancel_invoice_on_cancellation: bool
    void_begun_invoices_on_cancellation: bool
    reanchor_on_late_payment: bool
    invoice_days_overrides: tuple[tuple[str, int], ...] = ()

    def days_before(self, cycle: str) -> int:
        return dict(self.invoice_days_overrides).get(cycle, self.invoice_days_before)

    def overdue_offsets(self) -> list[tuple[str, int]]:
        """The enabled overdue reminders as (kind, days after due), in order."""
        days: tuple[int, ...] = (self.overdue_reminder_1_days, self.overdue_reminder_2_days)
        days += (self.overdue_reminder_3_days,)
        return [(kind, d) for kind, d in zip(OVERDUE_KINDS, days, strict=True) if d > 0]


INT_FIELDS = (
    "invoice_days_before",
    "unpaid_reminder_days",
    "overdue_reminder_1_days",
    "overdue_reminder_2_days",
    "overdue_reminder_3_days",
    "late_fee_days",
    "suspend_days",
    "terminate_days",
)
BOOL_FIELDS = (
    "continuous_invoicing",
    "tax_late_fee",
    "suspend_enabled",
    "unsuspend_enabled",
    "terminate_enabled",
    "terminate_requires_approval",
    "auto_cancellation_requests",
    "cancel_invoice_on_cancellation",
    "void_begun_invoices_on_cancellation",
    "reanchor_on_late_payment",
)
MONEY_FIELDS = ("late_fee_amount", "late_fee_minimum")
# The smallest value each day count may take (a late fee or a suspension on the due date
# itself would hit clients who pay that day).
MIN_DAYS = {"late_fee_days": 1, "suspend_days": 1, "terminate_days": 1}
FIELD_NAMES = tuple(
    f.name for f in fields(AutomationSettings) if f.name != "invoice_days_overrides"
)
OVERRIDE_KEYS = tuple(f"{OVERRIDE_PREFIX}{cycle}" for cycle in RECURRING_CYCLES)
ALL_KEYS = (*FIELD_NAMES, *OVERRIDE_KEYS)
DEFAULTS = AutomationSettings(**{name: settings_registry.default(name) for name in FIELD_NAMES})
CYCLES = RECURRING_CYCLES  # each may override invoice_days_before
# The owner's settings form: the settings of billing-rules §7 this run reads, by group.
SETTINGS_FORM: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("invoices", ("invoice_days_before", "continuous_invoicing")),
    (
        "reminders",
        (
            "unpaid_reminder_days",
            "overdue_reminder_1_days",
            "overdue_reminder_2_days",
            "overdue_reminder_3_days",
        ),
    ),
    (
        "late_fee",
        ("late_fee_days", "late_fee_type", "late_fee_amount", "late_fee_minimum", "tax_late_fee"),
    ),
    (
        "suspension",
        ("suspend_enabled", "suspend_days", "unsuspend_enabled", "reanchor_on_late_payment"),
    ),
    ("termination", ("terminate_enabled", "terminate_days", "terminate_requires_approval")),
    (
        "cancellations",
        (
            "auto_cancellation_requests",
            "cancel_invoice_on_cancellation",
            "void_begun_invoices_on_cancellation",
        ),
    ),
)


def load(*, session: Session | None = None) -> AutomationSettings:
    """The settings in force, each falling back to its default when unset or unreadable.

    One query finds which of them are set (and loads those rows into the session), so the
    ``core.platform.settings`` readers below answer from memory; an unset one is its default."""
    with reading(session) as s:
        present = {row.key for row in s.scalars(select(Setting).where(Setting.key.in_(ALL_KEYS)))}

        def read(name: str, reader: Any) -> Any:
            return reader(name, session=s) if name in present else settings_registry.default(name)

        values: dict[str, Any] = {}
        for name in INT_FIELDS:
            values[name] = max(0, read(name, settings.get_int))
        for name in BOOL_FIELDS:
            values[name] = read(name, settings.get_bool)
        for name in MONEY_FIELDS:
            values[name] = _money(read(name, settings.get), getattr(DEFAULTS, name))
        fee_type = read("late_fee_type", settings.get_text)
        values["late_fee_type"] = fee_type if fee_type in LATE_FEE_TYPES else DEFAULTS.late_fee_type
        overrides = []
        for cycle, key in zip(RECURRING_CYCLES, OVERRIDE_KEYS, strict=True):
            value = read(key, settings.get_int)  # unset or blank: the family's default, -1
            if value >= 0:
                overrides.append((cycle, value))
        values["invoice_days_overrides"] = tuple(overrides)
    return AutomationSettings(**values)


def days_before(cycle: str, *, session: Session | None = None) -> int:
    """Days before the due date the renewal of ``cycle`` is invoiced (two reads, for the
    paid hook, which needs only this)."""
    with reading(session) as s:
        general = max(0, settings.get_int("invoice_days_before", session=s))
        value = settings.get_int(f"{OVERRIDE_PREFIX}{cycle}", session=s)
        return value if value >= 0 else general


def _money(raw: Any, default: Decimal) -> Decimal:
    if raw is None or isinstance(raw, (bool, float)):
        return default
    try:
        value = q2(D(raw if isinstance(raw, (int, str, Decimal)) else str(raw)))
    except (TypeError, ValueError):
        return default
    return value if value >= 0 else default


def _bad(name: str) -> ValidationError:
    """The refusal names the setting (one message per setting, in the reader's language)."""
    return ValidationError(f"error.automation_invalid_{name}")


def _clean(name: str, value: Any) -> Any:
    """One submitted value, checked and normalised (ValidationError names the setting)."""
    if name in INT_FIELDS or name in OVERRIDE_KEYS:
        if name in OVERRIDE_KEYS and (value is None or value == ""):
            return None  # back to the general value
        if isinstance(value, bool):
            raise _bad(name)
        try:
            number = int(str(value).strip())
        except (TypeError, ValueError):
            raise _bad(name) from None
        if not MIN_DAYS.get(name, 0) <= number <= MAX_DAYS:
            raise _bad(name)
        return number
    if name in BOOL_FIELDS:
        if not isinstance(value, bool):
            raise _bad(name)
        return value
    if name in MONEY_FIELDS:
        if isinstance(value, (bool, float)):
            raise _bad(name)
        try:
            amount = D(value if isinstance(value, (int, str, Decimal)) else str(value))
        except (TypeError, ValueError):
            raise _bad(name) from None
        if amount < 0 or q2(amount) != amount or amount > Decimal("100000"):
            raise _bad(name)
        return q2(amount)
    if name == "late_fee_type":
        if value not in LATE_FEE_TYPES:
            raise _bad(name)
        return value
    raise ValidationError("error.automation_setting_unknown")


def save(
    actor: Actor, values: Mapping[str, Any], *, session: Session | None = None
) -> AutomationSettings:
    """Store the submitted settings (owner only). All are checked first; one bad value
    stores none. Overdue reminders that are on must come in order (1st < 2nd < 3rd), and a
    percentage late fee cannot exceed 100 %. Returns the settings now in force."""
    require_owner(actor)
    clean = {name: _clean(name, value) for name, value in values.items()}
    with transaction(session) as s:
        merged = {name: getattr(load(session=s), name) for name in FIELD_NAMES}
        merged.update({k: v for k, v in clean.items() if k in FIELD_NAMES})
        on = [merged[f"overdue_reminder_{n}_days"] for n in (1, 2, 3)]
        on = [d for d in on if d > 0]
        if on != sorted(set(on)):
            raise ValidationError("error.automation_reminders_order")
        if merged["late_fee_type"] == "percentage" and merged["late_fee_amount"] > 100:
            raise ValidationError("error.automation_fee_percent")
        for name, value in clean.items():
            stored = str(value) if isinstance(value, Decimal) else value
            if settings.stored(name, session=s) != stored:
                settings.put(actor, name, value, session=s)
        return load(session=s)


def as_form(current: AutomationSettings) -> dict[str, Any]:
    """The values as the settings form shows them (overrides: None = the general value)."""
    values: dict[str, Any] = {name: getattr(current, name) for name in FIELD_NAMES}
    overrides = dict(current.invoice_days_overrides)
    for cycle, key in zip(RECURRING_CYCLES, OVERRIDE_KEYS, strict=True):
        values[key] = overrides.get(cycle)
    return values
