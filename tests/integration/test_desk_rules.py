"""The desk rules the owner sets in Settings → SLA (auto-close days, attachment types and
size) on a real database: what the desk then does with them, who may set them, and that a
bad value changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.access import SYSTEM
from core.models import AuditEntry, Setting, Ticket
from core.platform.db import read_session
from core.platform.errors import Forbidden, ValidationError
from core.platform.i18n import error_text
from core.support import desk_admin as tickets_admin
from core.support import tickets

AT = datetime(2026, 11, 25, 15, 0)  # naive UTC
KEYS = ("tickets.autoclose_days", "tickets.attachment_types", "tickets.attachment_max_mb")
PDF = b"%PDF-1.4\n% ticket attachment\n"


def stored() -> dict[str, object]:
    with read_session() as s:
        rows = s.execute(select(Setting.key, Setting.value).where(Setting.key.in_(KEYS)))
        return {key: value for key, value in rows}


def audit_rows() -> int:
    with read_session() as s:
        return s.execute(select(func.count()).select_from(AuditEntry)).scalar_one()


def status(ticket_id: int) -> str:
    with read_session() as s:
        return s.get(Ticket, ticket_id).status


def test_the_defaults_are_read_before_anything_is_saved(personas):
    rules = tickets_admin.desk_rules()
    assert rules == tickets_admin.DeskRules(5, ("pdf", "jpg", "png", "gif", "txt", "zip"), 5)


def test_the_owner_saves_the_rules_and_the_desk_follows_them(personas):
    owner, staff, a = personas.owner.actor, personas.staff.actor, personas.client_a
    before = audit_rows()
    saved = tickets_admin.save_desk_rules(
        owner, autoclose_days=0, attachment_types=" .PDF, jpeg,png , pdf,", attachment_max_mb=2
    )
    assert saved == tickets_admin.DeskRules(0, ("pdf", "jpg", "png"), 2)
    assert tickets_admin.desk_rules() == saved
    assert stored() == {
        "tickets.autoclose_days": 0,
        "tickets.attachment_types": ["pdf", "jpg", "png"],
        "tickets.attachment_max_mb": 2,
    }
    assert audit_rows() == before + 3  # settings.put audits each key
    rules = tickets.attachment_rules()
    assert (rules.types, rules.max_mb) == (("pdf", "jpg", "png"), 2)
    # txt is no longer allowed, nor a 3 MB PDF (the old limit was 5 MB); 1.5 MB is fine.
    with pytest.raises(ValidationError):
        tickets.reply(a.actor, a.ticket_id, "log", files=[("log.txt", b"error\n")], at=AT)
    with pytest.raises(ValidationError):
        tickets.reply(a.actor, a.ticket_id, "pdf", files=[("b.pdf", PDF + b"x" * 3_000_000)], at=AT)
    tickets.reply(a.actor, a.ticket_id, "pdf", files=[("a.pdf", PDF + b"x" * 1_500_000)], at=AT)
    # An answered ticket far older than the default five days stays open: 0 turns it off.
    tickets.reply(staff, a.ticket_id, "¿Le funcionó?", at=AT)
    assert status(a.ticket_id) == "answered"
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=60)) == 0
    assert status(a.ticket_id) == "answered"
    tickets_admin.save_desk_rules(
        owner, autoclose_days="3", attachment_types=["pdf"], attachment_max_mb=2
    )
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=2)) == 0
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=3, minutes=1)) == 1
    assert status(a.ticket_id) == "closed"


def test_staff_and_clients_may_not_set_the_rules(personas):
    for who in (personas.staff, personas.client_a):
        with pytest.raises(Forbidden):
            tickets_admin.save_desk_rules(
                who.actor, autoclose_days=1, attachment_types="pdf", attachment_max_mb=1
            )
    assert stored() == {}


@pytest.mark.parametrize(
    ("days", "types", "mb", "key"),
    [
        (-1, "pdf", 5, "error.ticket_autoclose_days_invalid"),
        (366, "pdf", 5, "error.ticket_autoclose_days_invalid"),
        (2.5, "pdf", 5, "error.ticket_autoclose_days_invalid"),
        ("cinco", "pdf", 5, "error.ticket_autoclose_days_invalid"),
        (True, "pdf", 5, "error.ticket_autoclose_days_invalid"),
        (5, "", 5, "error.ticket_attachment_types_count"),
        (5, " , ,", 5, "error.ticket_attachment_types_count"),
        (5, ",".join(["pdf"] * 21), 5, "error.ticket_attachment_types_count"),
        (5, "pdf, ex e", 5, "error.ticket_attachment_extension_invalid"),
        (5, "pdf, tar.gz", 5, "error.ticket_attachment_extension_invalid"),
        (5, "pdf, abcdefghijk", 5, "error.ticket_attachment_extension_invalid"),
        (5, "pdf, exe", 5, "error.ticket_attachment_extension_unknown"),
        (5, "pdf", 0, "error.ticket_attachment_limit_invalid"),
        (5, "pdf", 51, "error.ticket_attachment_limit_invalid"),
        (5, "pdf", None, "error.ticket_attachment_limit_invalid"),
    ],
)
def test_invalid_rules_are_refused_and_change_nothing(personas, days, types, mb, key):
    owner = personas.owner.actor
    tickets_admin.save_desk_rules(
        owner, autoclose_days=7, attachment_types="pdf, zip", attachment_max_mb=3
    )
    before, audited = stored(), audit_rows()
    with pytest.raises(ValidationError) as err:
        tickets_admin.save_desk_rules(
            owner, autoclose_days=days, attachment_types=types, attachment_max_mb=mb
        )
    assert err.value.key == key
    assert error_text(err.value, "es") != key and error_text(err.value, "en") != key
    assert (stored(), audit_rows()) == (before, audited)
    assert tickets_admin.desk_rules() == tickets_admin.DeskRules(7, ("pdf", "zip"), 3)
