"""The desk's lists read only as far as the page they show (issue 20's growth target):
the triage queue in its order page after page, whatever mix of late, breached-early, on-time
and closed tickets it holds; and a whole-book list counted only ``paging.COUNT_AHEAD`` rows
past its page, saying "more than N" until the reader gets near its end."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from core import clients
from core.billing import views as billing
from core.models import Department, Ticket
from core.platform import paging
from core.platform.db import read_session, unit_of_work
from core.support import tickets

AT = datetime(2026, 11, 25, 15, 0)
# (status, deadline in hours from AT or None, breached): every band of the queue's order
MIX = [
    ("open", -30, False),
    ("customer_reply", -2, False),
    ("in_progress", -30, False),  # same deadline as the first: the latest reply first
    ("open", 5, True),  # breached early (first response late), deadline ahead
    ("on_hold", None, True),
    ("answered", 3, False),
    ("open", 8, False),
    ("open", None, False),
    ("closed", -50, True),
    ("closed", 2, False),
    ("answered", -1, False),
]


def build(personas) -> list[int]:
    with read_session() as s:
        dept = s.scalars(select(Department.id).order_by(Department.id)).first()
    ids = []
    for i, (status, hours, breached) in enumerate(MIX):
        tid = tickets.open_ticket(
            personas.owner.actor,  # the desk opens them: no client's hourly limit
            client_id=personas.client_a.actor.client_id,
            department_id=dept,
            subject=f"Caso {i}",
            body="…",
            at=AT,
        )
        with unit_of_work() as s:
            s.execute(
                update(Ticket)
                .where(Ticket.id == tid)
                .values(
                    status=status,
                    sla_due_at=None if hours is None else AT + timedelta(hours=hours),
                    breached=breached,
                    last_reply_at=AT - timedelta(minutes=i),
                )
            )
        ids.append(tid)
    return ids


def expected(ids: list[int], shown: set[str]) -> list[int]:
    """The queue's order, from its rule: late first (not closed, breached or past its
    deadline), then by deadline (none last), the latest reply, the id."""
    with read_session() as s:
        rows = s.scalars(select(Ticket).where(Ticket.id.in_(ids))).all()

    def key(t: Ticket):
        late = t.status != "closed" and (t.breached or (t.sla_due_at and t.sla_due_at < AT))
        due = t.sla_due_at or datetime.max
        return (not late, t.sla_due_at is None, due, -t.last_reply_at.timestamp(), t.id)

    return [t.id for t in sorted(rows, key=key) if t.status in shown]


def walk(staff, status: str | None, per_page: int) -> list[int]:
    seen, page = [], 1
    while True:
        got = tickets.triage_queue(staff, at=AT, status=status, page=page, per_page=per_page)
        if not got.tickets.rows:
            return seen
        seen += [r.id for r in got.tickets.rows]
        page += 1


def test_the_queue_keeps_its_order_page_after_page(personas):
    ids = build(personas)
    staff = personas.owner.actor
    everything = {s for s, _, _ in MIX} | {"open"}
    open_ones = everything - {"closed"}
    for per_page in (1, 2, 3, 25):
        assert [i for i in walk(staff, "all", per_page) if i in ids] == expected(ids, everything)
        assert [i for i in walk(staff, None, per_page) if i in ids] == expected(ids, open_ones)
        assert [i for i in walk(staff, "open", per_page) if i in ids] == expected(ids, {"open"})
    # Page 2 of 3 a page starts where page 1 ended, counting both.
    first = tickets.triage_queue(staff, at=AT, status="all", per_page=3)
    second = tickets.triage_queue(staff, at=AT, status="all", per_page=3, page=2)
    assert not {r.id for r in first.tickets.rows} & {r.id for r in second.tickets.rows}
    assert first.tickets.total == second.tickets.total >= len(ids)


def test_a_long_list_is_counted_only_past_its_page(personas, monkeypatch):
    build(personas)
    staff = personas.owner.actor
    everything = tickets.triage_queue(staff, at=AT, status="all").tickets
    assert not everything.more
    monkeypatch.setattr(paging, "COUNT_AHEAD", 4)
    first = tickets.triage_queue(staff, at=AT, status="all", per_page=2).tickets
    assert (first.total, first.more, first.pages) == (4, True, 2)
    # Further along, it counts further; near the end the count is exact again.
    third = tickets.triage_queue(staff, at=AT, status="all", per_page=2, page=3).tickets
    assert (third.total, third.more) == (8, True)
    last_page = (everything.total + 1) // 2
    last = tickets.triage_queue(staff, at=AT, status="all", per_page=2, page=last_page).tickets
    assert (last.total, last.more) == (everything.total, False)
    assert [r.id for r in first.rows] == [r.id for r in everything.rows[:2]]


def test_the_desk_invoices_are_counted_past_the_page_and_stay_in_order(personas, monkeypatch):
    owner = personas.owner.actor
    whole = billing.list_invoices(owner, per_page=200)
    assert not whole.more and whole.total >= 2
    monkeypatch.setattr(paging, "COUNT_AHEAD", 1)
    capped = billing.list_invoices(owner, per_page=1)
    assert (capped.total, capped.more) == (1, True)
    walked = [
        billing.list_invoices(owner, per_page=1, page=p).rows[0].id
        for p in range(1, whole.total + 1)
    ]
    assert walked == [r.id for r in whole.rows]
    end = billing.list_invoices(owner, per_page=1, page=whole.total)
    assert (end.total, end.more) == (whole.total, False)


def test_the_client_list_says_more_than_n_and_keeps_its_name_order(personas, monkeypatch):
    owner = personas.owner.actor
    whole = clients.search_clients(owner, "", per_page=200)
    assert not whole.more and whole.total >= 2  # client A and client B at least
    monkeypatch.setattr(paging, "COUNT_AHEAD", 1)
    capped = clients.search_clients(owner, "", per_page=1)
    assert (capped.total, capped.more) == (1, True)
    walked = [
        clients.search_clients(owner, "", page=p, per_page=1).rows[0].id
        for p in range(1, whole.total + 1)
    ]
    assert walked == [r.id for r in whole.rows]
    end = clients.search_clients(owner, "", page=whole.total, per_page=1)
    assert (end.total, end.more) == (whole.total, False)
