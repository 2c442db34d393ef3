"""The desk's home counts are kept a short while per process (core.insights.desk_memo): a
change this process commits shows at once, whether made through an object or a bulk UPDATE;
a change written by another process (here: raw SQL beside the ORM) shows once the counts
are ``FRESH_FOR`` seconds old; a rollback keeps them."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text, update

from core.insights import desk_memo
from core.insights.overview import desk_counts
from core.models import Department, Ticket
from core.platform.db import read_session, unit_of_work
from core.support import tickets
from tests.personas import TODAY

AT = datetime(2026, 11, 26, 15, 0)


def open_tickets(owner) -> int:
    return desk_counts(owner, TODAY).open_tickets


def open_one(persona) -> int:
    with read_session() as s:
        dept = s.scalars(select(Department.id).order_by(Department.id)).first()
    return tickets.open_ticket(
        persona.actor, department_id=dept, subject="Sin correo", body="No llega.", at=AT
    )


def test_a_ticket_opened_or_closed_here_shows_on_the_next_read(personas):
    owner = personas.owner.actor
    before = open_tickets(owner)
    tid = open_one(personas.client_a)
    assert open_tickets(owner) == before + 1
    tickets.bulk_close(owner, [tid], at=AT)
    assert open_tickets(owner) == before
    # A bulk UPDATE skips the ORM's flush: it must drop the kept counts too.
    with unit_of_work() as s:
        s.execute(update(Ticket).where(Ticket.id == tid).values(status="open"))
    assert open_tickets(owner) == before + 1


def test_a_rolled_back_change_leaves_the_counts_right(personas):
    owner = personas.owner.actor
    before = open_tickets(owner)
    with pytest.raises(RuntimeError), unit_of_work() as s:
        s.execute(update(Ticket).values(status="closed"))
        raise RuntimeError("abandoned")
    assert open_tickets(owner) == before


def test_another_process_change_shows_once_the_counts_are_old(personas, monkeypatch):
    owner = personas.owner.actor
    before = open_tickets(owner)
    # Raw SQL outside any ORM session, as the daily run in its own process would be seen.
    with unit_of_work() as s:
        engine = s.get_bind()
    with engine.begin() as conn:
        conn.execute(text("UPDATE ticket SET status = 'closed'"))
    assert open_tickets(owner) == before  # kept: at most FRESH_FOR seconds old
    monkeypatch.setattr(desk_memo, "FRESH_FOR", 0.0)
    assert open_tickets(owner) == 0


def test_billing_figures_are_kept_apart_from_the_counts_without_them(personas):
    owner, staff = personas.owner.actor, personas.staff.actor
    assert not staff.can("billing")
    seen_by_staff = desk_counts(staff, TODAY)
    assert (seen_by_staff.unpaid_invoices, seen_by_staff.receivables) == (0, 0)
    assert desk_counts(owner, TODAY).unpaid_invoices > 0


def test_a_value_read_while_a_change_commits_is_not_kept():
    calls = []

    def compute() -> int:
        calls.append(1)
        desk_memo.forget()  # a watched change committed while this value was read
        return len(calls)

    assert desk_memo.remembered(("race",), compute) == 1
    assert desk_memo.remembered(("race",), lambda: 99) == 99  # not the stale 1
