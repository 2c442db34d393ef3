"""Business settings kept in the ``setting`` table (key → JSON value).

Reading is open to core (a setting is not customer data); writing is the owner's and is
audited. Decimal values are stored as strings so JSON keeps them exact. Every key is
declared once in :mod:`core.platform.settings_registry`; a key with no row reads as the
default declared there, and reading a key declared nowhere raises ``UnknownSetting``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from core.access import Actor, require_owner
from core.models import Setting
from core.platform import audit
from core.platform.db import reading, transaction
from core.platform.errors import ValidationError
from core.platform.settings_registry import default as _default
from core.platform.settings_registry import lookup

MAX_KEY = 80


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        raise ValidationError("error.billing_setting_invalid", setting="float")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


@dataclass
class _Snapshot:
    """Every setting as read once at the start of a unit of work (the daily run)."""

    values: dict[str, Any]
    valid: bool = True
    memo: dict[str, Any] = field(default_factory=dict)


_current: ContextVar[_Snapshot | None] = ContextVar("settings_snapshot", default=None)


def snapshot(session: Session | None = None) -> dict[str, Any]:
    """All stored settings in one read (key → value; keys never set are absent)."""
    with reading(session) as s:
        return {key: value for key, value in s.execute(select(Setting.key, Setting.value))}


@contextmanager
def snapshot_scope(session: Session | None = None) -> Iterator[dict[str, Any]]:
    """Within the block, :func:`get` answers from one snapshot read on entry instead of one
    SELECT per call (the daily run reads the same few settings for every item). Read afresh
    on each entry, so an owner's change takes effect on the next run; a :func:`put` inside
    the block drops the snapshot and later reads go to the table again."""
    snap = _Snapshot(snapshot(session))
    token = _current.set(snap)
    try:
        yield snap.values
    finally:
        _current.reset(token)


def memoised(name: str, build: Any) -> Any:
    """``build()`` once per snapshot scope (a parsed setting, say); called every time
    outside a scope or after the snapshot was dropped."""
    snap = _current.get()
    if snap is None or not snap.valid:
        return build()
    if name not in snap.memo:
        snap.memo[name] = build()
    return snap.memo[name]


def get(key: str, *, session: Session | None = None) -> Any:
    """The stored value of ``key``, or its declared default when it was never set."""
    value = stored(key, session=session)
    return _default(key) if value is None else value


def stored(key: str, *, session: Session | None = None) -> Any:
    """The value stored under ``key``, or None when unset (for a caller that must tell "unset"
    from "set to the default")."""
    lookup(key)  # an undeclared key is a bug, whether or not a row happens to exist
    snap = _current.get()
    if snap is not None and snap.valid:
        value = snap.values.get(key)
        return copy.deepcopy(value) if isinstance(value, (list, dict)) else value
    with reading(session) as s:
        row = s.get(Setting, key)
        return None if row is None else row.value


def get_bool(key: str, *, session: Session | None = None) -> bool:
    value = get(key, session=session)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "si", "sí")
    return bool(value)


def get_int(key: str, *, session: Session | None = None) -> int:
    default: int = lookup(key).default  # an unreadable value falls back to it, too
    value = get(key, session=session)
    if isinstance(value, bool):
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def get_text(key: str, *, session: Session | None = None) -> str:
    value = get(key, session=session)
    return "" if value is None else str(value)


def put(actor: Actor, key: str, value: Any, *, session: Session | None = None) -> None:
    """Store ``value`` under ``key`` (owner only, audited with the old and new value)."""
    require_owner(actor)
    key = (key or "").strip()
    if not key or len(key) > MAX_KEY:
        raise ValidationError("error.billing_setting_invalid", setting=key[:MAX_KEY])
    stored = _jsonable(value)
    snap = _current.get()
    if snap is not None:  # a change inside a snapshot scope: read the table from now on
        snap.valid = False
    by = actor.user_id or None  # the automation actor has no user row
    with transaction(session) as s:
        row = s.get(Setting, key)
        old = None if row is None else row.value
        if row is None:
            s.add(Setting(key=key, value=stored, updated_by=by))  # updated_at: its default
        else:
            row.value = stored
            row.updated_by = by
            # Written even when unchanged, so the column's onupdate stamps updated_at.
            flag_modified(row, "value")
        s.flush()
        # A setting whose name looks secret is logged as redacted, value and all.
        audit.record(
            s,
            actor,
            "setting.changed",
            target_type="setting",
            setting=key,
            old=audit.redact({key: old})[key],
            new=audit.redact({key: stored})[key],
        )
