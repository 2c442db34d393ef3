"""Tickets on a real database (SQLite, and PostgreSQL when configured): scoping, internal
notes, attachments, transitions, SLA and the triage order, mails through aiosmtpd, auto-close
and the report frames."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core import clients
from core.access import SYSTEM, Actor
from core.insights.exports import export_csv
from core.models import Department, Service, Ticket, TicketMessage, Upload
from core.platform import mail, settings
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden, NotFound, ValidationError
from core.platform.uploads import MB
from core.support import sla, tickets
from core.support.stats import STATS_COLUMNS
from tests.panel_fixtures import dead_port, fake, point_server, whm  # noqa: F401 - fixtures

GYE = ZoneInfo("America/Guayaquil")
PDF = b"%PDF-1.4\n% ticket attachment\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 32
NOTE = "NOTA-INTERNA: el cliente debe 3 facturas, no ofrecer descuento"


def local(text: str) -> datetime:
    """Naive UTC of a Guayaquil wall-clock time."""
    wall = datetime.fromisoformat(text).replace(tzinfo=GYE)
    return wall.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


AT = local("2026-11-25T10:00")  # a Wednesday morning


def soporte() -> int:
    with read_session() as s:
        return s.scalars(select(Department.id).where(Department.name == "Soporte")).one()


def counts() -> tuple[int, int, int]:
    with read_session() as s:
        return tuple(
            s.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Ticket, TicketMessage, Upload)
        )


def ticket(ticket_id: int) -> Ticket:
    with read_session() as s:
        row = s.get(Ticket, ticket_id)
        s.expunge(row)
        return row


def open_as(persona, at: datetime = AT, **kw) -> int:
    args = {
        "department_id": soporte(),
        "subject": "Mi sitio no carga",
        "body": "Desde ayer el sitio muestra error 500.",
        "service_id": persona.service_id,
        "at": at,
    }
    args.update(kw)
    return tickets.open_ticket(persona.actor, **args)


# ------------------------------------------------------------------- scoping
def test_client_b_cannot_see_reply_close_or_download_a_tickets(personas, client_b_as):
    a, b = personas.client_a, client_b_as
    tid = open_as(a, files=[("captura.png", PNG)])
    upload_id = ticket_detail_upload(a.actor, tid)
    for foreign in (tid, a.ticket_id, str(tid), "abc", 99999):
        with pytest.raises(NotFound):
            tickets.ticket_view(b.actor, foreign, at=AT)
        with pytest.raises(NotFound):
            tickets.reply(b.actor, foreign, "hola", at=AT)
        with pytest.raises(NotFound):
            tickets.close_ticket(b.actor, foreign, at=AT)
        with pytest.raises(NotFound):
            tickets.transcript(b.actor, foreign)
    with pytest.raises(NotFound):
        tickets.attachment(b.actor, tid, upload_id)
    with pytest.raises(NotFound):  # B's own ticket id with A's file: still not B's
        tickets.attachment(b.actor, b.ticket_id, upload_id)
    own = tickets.client_tickets(b.actor, at=AT)
    assert [r.id for r in own.tickets.rows] == [b.ticket_id]
    assert [s.name for s in own.services] == ["cliente-b.ec"]
    # A reads their own file; staff too.
    assert tickets.attachment(a.actor, tid, upload_id).data == PNG
    assert tickets.attachment(personas.staff.actor, tid, upload_id).data == PNG
    assert ticket(tid).status == "open"


def ticket_detail_upload(actor: Actor, ticket_id: int) -> int:
    detail = tickets.ticket_view(actor, ticket_id, at=AT)
    return next(a.id for m in detail.messages for a in m.attachments)


def test_a_client_cannot_attach_a_ticket_to_a_service_not_theirs(personas):
    a, b = personas.client_a, personas.client_b
    before = counts()
    with pytest.raises(NotFound):
        open_as(a, service_id=b.service_id, files=[("x.pdf", PDF)])
    with pytest.raises(NotFound):
        open_as(a, service_id="999999")
    assert counts() == before
    # Staff opening for A cannot pick B's service either.
    with pytest.raises(ValidationError) as err:
        tickets.open_ticket(
            personas.staff.actor,
            client_id=a.actor.client_id,
            department_id=soporte(),
            service_id=b.service_id,
            subject="x",
            body="y",
            at=AT,
        )
    assert err.value.key == "error.ticket_service_not_clients"
    assert counts() == before


def test_hidden_departments_are_not_for_clients(personas):
    owner, a = personas.owner.actor, personas.client_a
    hidden = tickets.save_department(owner, name="Abuso", client_visible=False)
    assert [d.name for d in tickets.departments(a.actor)] == ["Soporte"]
    assert all(d.email is None and d.staff_ids == () for d in tickets.departments(a.actor))
    with pytest.raises(ValidationError) as err:
        open_as(a, department_id=hidden)
    assert err.value.key == "error.ticket_department_invalid"
    staff_view = tickets.departments(personas.staff.actor)
    assert {d.name for d in staff_view} == {"Soporte", "Abuso"}


def test_staff_without_the_tickets_right_is_refused(personas):
    billing_only = Actor(
        user_id=personas.staff.actor.user_id, role="staff", permissions=frozenset({"billing"})
    )
    with pytest.raises(Forbidden):
        tickets.ticket_view(billing_only, personas.client_a.ticket_id, at=AT)
    with pytest.raises(Forbidden):
        tickets.triage_queue(billing_only, at=AT)
    with pytest.raises(Forbidden):
        tickets.triage_queue(personas.client_a.actor, at=AT)


def test_opening_requires_a_verified_address_when_the_owner_says_so(personas):
    a = personas.client_a
    settings.put(personas.owner.actor, "accounts.require_verified_email", True)
    with unit_of_work() as s:
        from core.models import User

        s.get(User, a.actor.user_id).verified_at = None
    with pytest.raises(ValidationError) as err:
        open_as(a)
    assert err.value.key == "error.email_not_verified"


# ------------------------------------------------------------- internal notes
def test_internal_notes_never_reach_the_client(personas, smtp):
    a, staff = personas.client_a, personas.staff.actor
    tid = open_as(a)
    mail.deliver_due()
    smtp.messages.clear()
    tickets.add_note(staff, tid, NOTE, files=[("deuda.pdf", PDF)], at=AT + timedelta(minutes=5))
    tickets.reply(staff, tid, "Estamos revisando su sitio.", at=AT + timedelta(minutes=6))
    mail.deliver_due()

    # The page data of the client has the reply, never the note nor its file.
    view = tickets.ticket_view(a.actor, tid, at=AT)
    bodies = [m.body for m in view.messages]
    assert "Estamos revisando su sitio." in bodies and NOTE not in bodies
    assert not any(m.internal for m in view.messages)
    assert not any(att.filename == "deuda.pdf" for m in view.messages for att in m.attachments)
    assert view.context is None and view.canned == [] and view.assignable == []
    staff_view = tickets.ticket_view(staff, tid, at=AT)
    note = next(m for m in staff_view.messages if m.internal)
    assert note.body == NOTE
    note_file = note.attachments[0].id
    with pytest.raises(NotFound):
        tickets.attachment(a.actor, tid, note_file)
    assert tickets.attachment(staff, tid, note_file).data == PDF

    # The transcript a client downloads has no note; staff's has it.
    assert NOTE not in tickets.transcript(a.actor, tid)
    assert "deuda.pdf" not in tickets.transcript(a.actor, tid)
    assert NOTE in tickets.transcript(staff, tid)

    # Mails: the client got the reply only; nobody got the note's text.
    to_client = smtp.bodies_to("a@test.ec")
    assert len(to_client) == 1 and "Estamos revisando su sitio." in to_client[0]
    assert not any(NOTE in m.get_payload(decode=True).decode() for m in smtp.messages)

    # Report frames and their exports carry no message text at all.
    for group in ("department", "staff", "priority"):
        frame = tickets.stats_by(
            staff, group, since=AT - timedelta(days=1), until=AT + timedelta(days=1), at=AT
        )
        assert NOTE not in frame.to_csv() and NOTE not in export_csv(frame).decode("utf-8-sig")
    with pytest.raises(Forbidden):
        tickets.add_note(a.actor, tid, "soy cliente", at=AT)


# ---------------------------------------------------------------------- mails
def test_mails_reach_the_department_and_the_client(personas, smtp):
    owner, staff, a = personas.owner.actor, personas.staff.actor, personas.client_a
    tickets.save_department(
        owner,
        department_id=soporte(),
        name="Soporte",
        email="soporte@hosting.ec",
        staff_ids=[staff.user_id],
    )
    tid = open_as(a, subject="Correo caído", body="No recibo correos desde hoy.")
    mail.deliver_due()
    to_staff = smtp.bodies_to("staff@test.ec")
    assert len(to_staff) == 1 and "No recibo correos desde hoy." in to_staff[0]
    assert "cliente-a.ec" in to_staff[0] and f"/tickets?ticket={tid}" in to_staff[0]
    assert len(smtp.bodies_to("soporte@hosting.ec")) == 1
    assert smtp.bodies_to("a@test.ec") == []  # the client is not mailed their own words
    subject = next(m["Subject"] for m in smtp.messages if m["To"] == "staff@test.ec")
    subject = str(make_header(decode_header(subject)))
    assert "Correo caído" in subject and "Nuevo ticket" in subject

    tickets.reply(staff, tid, "Ya lo revisamos.", at=AT + timedelta(hours=1))
    mail.deliver_due()
    to_client = smtp.bodies_to("a@test.ec")
    assert len(to_client) == 1 and "Ya lo revisamos." in to_client[0]
    assert len(smtp.bodies_to("staff@test.ec")) == 1  # not mailed about their own reply

    tickets.reply(a.actor, tid, "Sigue sin funcionar.", at=AT + timedelta(hours=2))
    mail.deliver_due()
    assert "Sigue sin funcionar." in smtp.bodies_to("staff@test.ec")[-1]
    assert "Sigue sin funcionar." in smtp.bodies_to("soporte@hosting.ec")[-1]
    assert ticket(tid).status == "customer_reply"


def test_client_b_reads_mails_in_english(personas, smtp):
    b, staff = personas.client_b, personas.staff.actor
    tickets.reply(staff, b.ticket_id, "We are on it.", at=AT)
    mail.deliver_due()
    message = next(m for m in smtp.messages if m["To"] == "b@test.ec")
    subject = str(make_header(decode_header(message["Subject"])))
    assert subject == "[T-B-1] Reply to your ticket: Ayuda b"
    assert "We are on it." in message.get_payload(decode=True).decode()


# ----------------------------------------------------------------- attachments
def test_a_file_over_the_limit_or_of_a_bad_type_stores_nothing(personas):
    a = personas.client_a
    settings.put(personas.owner.actor, "tickets.attachment_max_mb", 1)
    before = counts()
    big = b"%PDF-1.4\n" + b"0" * MB
    cases = [
        ([("grande.pdf", big)], "error.ticket_attachment_too_large"),
        ([("factura.pdf", EXE)], "error.ticket_attachment_type"),  # an executable renamed
        ([("foto.pdf", PNG)], "error.ticket_attachment_type"),  # content and name disagree
        ([("ok.pdf", PDF), ("virus.exe", EXE)], "error.ticket_attachment_type"),
        ([("vacio.txt", b"")], "error.ticket_attachment_empty"),
        ([(f"f{i}.pdf", PDF) for i in range(6)], "error.ticket_attachment_count"),
    ]
    for files, key in cases:
        with pytest.raises(ValidationError) as err:
            open_as(a, files=files)
        assert err.value.key == key
        with pytest.raises(ValidationError):
            tickets.reply(a.actor, a.ticket_id, "adjunto", files=files, at=AT)
    assert counts() == before
    from core.platform.i18n import error_text

    with pytest.raises(ValidationError) as err:
        open_as(a, files=[("ok.pdf", PDF), ("grande.pdf", big)])
    assert error_text(err.value, "es") == (
        "El archivo adjunto 2 supera el límite de 1 MB. No se guardó nada."
    )
    # The allowed types are a setting: once txt is off, a text file is refused.
    tickets.set_attachment_rules(personas.owner.actor, ["pdf"], 2)
    with pytest.raises(ValidationError):
        open_as(a, files=[("log.txt", b"error 500 at line 3\n")])
    tid = open_as(a, files=[("grande.pdf", big)])  # 2 MB now allowed
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    with read_session() as s:
        stored = s.scalars(select(Upload)).one()
        assert (stored.client_id, stored.content_type) == (a.actor.client_id, "application/pdf")
    assert tickets.attachment(a.actor, tid, stored.id).filename == "grande.pdf"
    with pytest.raises(ValidationError):
        tickets.set_attachment_rules(personas.owner.actor, ["exe"], 2)
    with pytest.raises(Forbidden):
        tickets.set_attachment_rules(personas.staff.actor, ["pdf"], 2)


# ------------------------------------------------------------------ transitions
def test_transitions_outside_the_table_are_refused(personas):
    staff, a = personas.staff.actor, personas.client_a
    tid = open_as(a)
    with pytest.raises(ValidationError) as err:
        tickets.set_status(staff, tid, "customer_reply", at=AT)  # open → customer_reply
    assert err.value.key == "error.ticket_transition"
    tickets.set_status(staff, tid, "in_progress", at=AT)
    tickets.close_ticket(a.actor, tid, at=AT + timedelta(hours=1))
    for status in ("answered", "in_progress", "on_hold", "customer_reply"):
        with pytest.raises(ValidationError) as err:
            tickets.set_status(staff, tid, status, at=AT)
        assert err.value.key == "error.ticket_transition"
    with pytest.raises(ValidationError) as err:
        tickets.reply(a.actor, tid, "¿Sigue ahí?", at=AT)
    assert err.value.key == "error.ticket_closed"
    with pytest.raises(ValidationError):
        tickets.close_ticket(a.actor, tid, at=AT)  # closed → closed
    with pytest.raises(ValidationError):
        tickets.set_status(staff, tid, "bogus", at=AT)
    with pytest.raises(Forbidden):
        tickets.set_status(a.actor, tid, "open", at=AT)  # clients reopen, they don't set
    tickets.reopen_ticket(a.actor, tid, at=AT + timedelta(days=1))
    reopened = ticket(tid)
    assert (reopened.status, reopened.closed_at) == ("open", None)
    assert reopened.sla_started_at == AT + timedelta(days=1)
    with pytest.raises(ValidationError):
        tickets.reopen_ticket(a.actor, tid, at=AT)  # open → open
    changed = tickets.update_ticket(
        staff, tid, status="on_hold", priority="high", assignee_id=staff.user_id, at=AT
    )
    assert changed == ["status", "priority", "assignee"]
    assert tickets.TRANSITIONS["closed"] == frozenset({"open"})


# ------------------------------------------------------------------- assignment
def test_assignment_rules(personas, smtp):
    owner, staff, a = personas.owner.actor, personas.staff.actor, personas.client_a
    tid = open_as(a)
    tickets.assign(staff, tid, staff.user_id, at=AT)  # themselves
    assert ticket(tid).assignee_id == staff.user_id
    with pytest.raises(ValidationError) as err:  # the owner is not in "Soporte"
        tickets.assign(staff, tid, owner.user_id, at=AT)
    assert err.value.key == "error.ticket_assignee_not_in_department"
    with pytest.raises(ValidationError):  # a client is never an assignee
        tickets.assign(owner, tid, a.actor.user_id, at=AT)
    with pytest.raises(Forbidden):
        tickets.assign(a.actor, tid, staff.user_id, at=AT)
    tickets.assign(owner, tid, owner.user_id, at=AT)  # the owner: anyone on the desk
    tickets.assign(owner, tid, staff.user_id, at=AT)
    mail.deliver_due()
    assert any("asignó el ticket" in body for body in smtp.bodies_to("staff@test.ec"))
    tickets.assign(staff, tid, None, at=AT)
    assert ticket(tid).assignee_id is None


def test_bulk_assign_and_close_are_all_or_nothing(personas):
    owner, staff, a, b = (
        personas.owner.actor,
        personas.staff.actor,
        personas.client_a,
        personas.client_b,
    )
    ids = [a.ticket_id, b.ticket_id]
    assert tickets.bulk_assign(staff, ids, staff.user_id, at=AT) == 2
    assert {ticket(i).assignee_id for i in ids} == {staff.user_id}
    with pytest.raises(ValidationError):
        tickets.bulk_assign(staff, ids, owner.user_id, at=AT)
    assert {ticket(i).assignee_id for i in ids} == {staff.user_id}
    with pytest.raises(NotFound):
        tickets.bulk_close(staff, [a.ticket_id, 987654], at=AT)
    assert ticket(a.ticket_id).status == "open"
    with pytest.raises(ValidationError):
        tickets.bulk_close(staff, [], at=AT)
    assert tickets.bulk_close(staff, ids, at=AT) == 2
    assert tickets.bulk_close(staff, ids, at=AT) == 0  # already closed
    with pytest.raises(Forbidden):
        tickets.bulk_close(a.actor, [a.ticket_id], at=AT)


# --------------------------------------------------------------- SLA and triage
def test_sla_due_times_and_breach_follow_business_hours(personas):
    owner, staff, a = personas.owner.actor, personas.staff.actor, personas.client_a
    sla.set_business_hours(owner, "mon-fri 08:00-18:00")
    friday = local("2026-11-27T17:00")
    tid = open_as(a, at=friday, priority="high")  # 4 h first response, 24 h resolution
    row = ticket(tid)
    assert row.sla_due_at == local("2026-11-30T11:00")  # 1 h Friday + 3 h Monday
    assert row.resolution_due_at == local("2026-12-02T11:00")  # 24 office hours
    tickets.reply(staff, tid, "Revisando.", at=local("2026-11-30T12:00"))  # an hour late
    row = ticket(tid)
    assert row.breached and row.first_response_at == local("2026-11-30T12:00")
    assert row.sla_due_at == row.resolution_due_at
    # Targets are settings too: urgent 2 h / 6 h.
    sla.set_targets(owner, {"urgent": (2, 6)})
    tid2 = open_as(a, at=local("2026-11-25T09:00"), priority="urgent")
    assert ticket(tid2).sla_due_at == local("2026-11-25T11:00")
    tickets.set_priority(staff, tid2, "low", at=local("2026-11-25T09:30"))
    assert ticket(tid2).sla_due_at == local("2026-11-27T13:00")  # 9 + 10 + 5 office hours
    with pytest.raises(ValidationError):
        sla.set_targets(owner, {"urgent": (6, 2)})
    with pytest.raises(ValidationError):
        sla.set_business_hours(owner, "closed")
    with pytest.raises(Forbidden):
        sla.set_targets(staff, {"urgent": (1, 4)})


def test_triage_order_follows_sla_urgency_with_pinned_time_and_business_hours(personas):
    owner, staff, a, b = (
        personas.owner.actor,
        personas.staff.actor,
        personas.client_a,
        personas.client_b,
    )
    sla.set_business_hours(owner, "mon-fri 08:00-18:00")
    ventas = tickets.save_department(owner, name="Ventas", staff_ids=[staff.user_id])
    mk = dict(department_id=ventas, service_id=None)
    # Opened Friday 17:00: low → due Monday 08:00 + 23 h ≈ Wednesday 11:00 (24 office hours).
    low = open_as(a, at=local("2026-11-27T17:00"), priority="low", subject="low", **mk)
    # Opened Monday 09:00: urgent → due 10:00; high → due 13:00; medium → due 17:00.
    urgent = open_as(b, at=local("2026-11-30T09:00"), priority="urgent", subject="urg", **mk)
    high = open_as(a, at=local("2026-11-30T09:00"), priority="high", subject="high", **mk)
    medium = open_as(b, at=local("2026-11-30T09:00"), priority="medium", subject="med", **mk)
    # Opened Saturday: the clock starts Monday 08:00; urgent → due 09:00, breached at 09:30.
    weekend = open_as(a, at=local("2026-11-28T11:00"), priority="urgent", subject="wk", **mk)
    # Answered late earlier: breached flag stored, next deadline far away.
    answered = open_as(b, at=local("2026-11-30T08:00"), priority="urgent", subject="ans", **mk)
    tickets.reply(staff, answered, "Hola", at=local("2026-11-30T09:10"))  # due 09:00: late
    closed = open_as(a, at=local("2026-11-30T08:30"), priority="urgent", subject="x", **mk)
    tickets.close_ticket(staff, closed, at=local("2026-11-30T08:40"))

    now = local("2026-11-30T09:30")  # Monday 09:30
    queue = tickets.triage_queue(staff, at=now, department_id=ventas)
    order = [r.id for r in queue.tickets.rows]
    # Breached first, by deadline: weekend (09:00), answered (late first response; its
    # resolution is due 12:00); then the others by the soonest deadline.
    assert order == [weekend, answered, urgent, high, medium, low]
    flags = {r.id: r.breached for r in queue.tickets.rows}
    assert flags[weekend] and flags[answered]
    assert not any(flags[i] for i in (urgent, high, medium, low))
    assert closed not in order

    # Later the same day urgent breaches too and moves ahead of "answered".
    later = tickets.triage_queue(staff, at=local("2026-11-30T10:30"), department_id=ventas)
    assert [r.id for r in later.tickets.rows][:3] == [weekend, urgent, answered]

    # Filters: mine, unassigned, status, priority, all statuses; paging in SQL.
    tickets.assign(staff, high, staff.user_id, at=now)
    mine = tickets.triage_queue(staff, at=now, assignee="mine")
    assert [r.id for r in mine.tickets.rows] == [high]
    unassigned = tickets.triage_queue(staff, at=now, department_id=ventas, assignee="unassigned")
    assert high not in [r.id for r in unassigned.tickets.rows]
    by_priority = tickets.triage_queue(staff, at=now, department_id=ventas, priority="urgent")
    assert {r.id for r in by_priority.tickets.rows} == {weekend, answered, urgent}
    answered_only = tickets.triage_queue(staff, at=now, status="answered")
    assert [r.id for r in answered_only.tickets.rows] == [answered]
    everything = tickets.triage_queue(staff, at=now, department_id=ventas, status="all")
    assert everything.tickets.total == 7 and everything.tickets.rows[-1].id == closed
    page2 = tickets.triage_queue(staff, at=now, department_id=ventas, page=2, per_page=4)
    assert [r.id for r in page2.tickets.rows] == [medium, low]
    assert (page2.tickets.total, page2.tickets.pages) == (6, 2)
    found = tickets.triage_queue(staff, at=now, search="urg")
    assert [r.id for r in found.tickets.rows] == [urgent]
    with pytest.raises(ValidationError):
        tickets.triage_queue(staff, at=now, status="nope")


# ------------------------------------------------------------------ auto-close
def test_autoclose_after_n_days_and_the_setting_changes_it(personas, smtp):
    owner, staff, a = personas.owner.actor, personas.staff.actor, personas.client_a
    tid = open_as(a)
    tickets.reply(staff, tid, "¿Le funcionó?", at=AT)
    assert ticket(tid).status == "answered"
    waiting_client = personas.client_b.ticket_id  # open, not waiting on the customer
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=4)) == 0
    settings.put(owner, "tickets.autoclose_days", 10)
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=6)) == 0
    settings.put(owner, "tickets.autoclose_days", 0)  # off
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=60)) == 0
    settings.put(owner, "tickets.autoclose_days", 5)
    smtp.messages.clear()
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=5, minutes=1)) == 1
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=5, minutes=2)) == 0  # once
    row = ticket(tid)
    assert (row.status, row.closed_at) == ("closed", AT + timedelta(days=5, minutes=1))
    assert ticket(waiting_client).status == "open"
    mail.deliver_due()
    assert any("Cerramos su ticket" in body for body in smtp.bodies_to("a@test.ec"))
    # A customer reply stops the clock: nothing to close.
    tid2 = open_as(a)
    tickets.reply(staff, tid2, "¿Algo más?", at=AT)
    tickets.reply(a.actor, tid2, "Sí, una cosa.", at=AT + timedelta(days=1))
    assert tickets.autoclose_waiting(SYSTEM, AT + timedelta(days=30)) == 0
    with pytest.raises(Forbidden):
        tickets.autoclose_waiting(a.actor, AT)


# ------------------------------------------------------------- staff ticket view
def test_staff_view_shows_the_clients_services_invoices_and_panel_state(personas):
    staff, a = personas.staff.actor, personas.client_a
    view = tickets.ticket_view(staff, a.ticket_id, at=local("2026-12-10T10:00"))
    ctx = view.context
    assert [s.domain for s in ctx.services] == ["cliente-a.ec"]  # A's only
    assert [i.number for i in ctx.invoices] == ["F-A-1"]
    assert str(ctx.amount_owed) == "11.50" and str(ctx.overdue) == "11.50"  # due Dec 5
    assert ctx.services[0].on_panel and str(ctx.services[0].amount_owed) == "11.50"
    assert [o.id for o in view.assignable] == [staff.user_id]
    assert "open" not in view.next_statuses and "answered" in view.next_statuses
    # The personas' server has no API token: the panel shows as unreachable, nothing breaks.
    states = tickets.panel_states(staff, a.ticket_id)
    assert states[a.service_id].reachable is False
    with pytest.raises(Forbidden):
        tickets.panel_states(a.actor, a.ticket_id)
    with read_session() as s:
        assert s.get(Service, a.service_id).status == "active"


# --------------------------------------------------------------------- stats
def test_ticket_statistics_by_department_and_staff(personas):
    owner, staff, a = personas.owner.actor, personas.staff.actor, personas.client_a
    start = local("2030-01-16T10:00")  # far from the personas' own tickets (opened now)
    t1 = open_as(a, at=start, priority="urgent")  # first response due 11:00
    t2 = open_as(a, at=start, priority="low")
    tickets.assign(staff, t1, staff.user_id, at=start)
    tickets.reply(staff, t1, "ok", at=start + timedelta(minutes=30))
    tickets.close_ticket(staff, t1, at=start + timedelta(hours=2))
    tickets.reply(staff, t2, "ok", at=start + timedelta(hours=30))  # 24 h target: breached
    since, until = start - timedelta(hours=1), start + timedelta(days=1)
    at = start + timedelta(days=2)
    by_dept = tickets.stats_by(owner, "department", since=since, until=until, at=at)
    row = by_dept.set_index("group").loc["Soporte"]
    assert (row.opened, row.closed, row.open, row.breaches) == (2, 1, 1, 1)
    assert row.first_response_avg_h == pytest.approx((0.5 + 30) / 2)
    assert row.resolution_avg_h == pytest.approx(2.0)
    by_staff = tickets.stats_by(owner, "staff", since=since, until=until, at=at)
    assert set(by_staff["group"]) == {"Staff", "Sin asignar"}
    assert list(by_staff.columns) == list(STATS_COLUMNS)
    volume = tickets.volume_by_day(owner, since=since, until=until)
    assert volume["opened"].sum() == 2 and volume["closed"].sum() == 1
    later = start + timedelta(days=9)
    empty = tickets.stats_by(owner, "priority", since=later, until=later + timedelta(1), at=at)
    assert empty.empty
    with pytest.raises(Forbidden):
        tickets.stats_by(a.actor, "department", since=since, until=until, at=at)
    with pytest.raises(ValidationError):
        tickets.stats_by(owner, "client", since=since, until=until, at=at)


# ------------------------------------------------------- departments and canned
def test_departments_and_canned_replies_are_the_owners(personas):
    owner, staff = personas.owner.actor, personas.staff.actor
    with pytest.raises(Forbidden):
        tickets.save_department(staff, name="X")
    with pytest.raises(ValidationError):
        tickets.save_department(owner, name="Y", staff_ids=[personas.client_a.actor.user_id])
    from core.platform.errors import Conflict

    with pytest.raises(Conflict):
        tickets.save_department(owner, name="soporte")
    with pytest.raises(Conflict):
        tickets.delete_department(owner, soporte())  # it has tickets
    extra = tickets.save_department(owner, name="Facturación", email="Cobros@Hosting.ec")
    assert next(d for d in tickets.departments(owner) if d.id == extra).email == (
        "cobros@hosting.ec"
    )
    tickets.delete_department(owner, extra)
    es = tickets.save_canned_reply(owner, title="Saludo", body="Estimado cliente:", language="es")
    tickets.save_canned_reply(owner, title="Greeting", body="Dear client,", language="en")
    assert [c.title for c in tickets.canned_replies(staff, "es")] == ["Saludo"]
    assert len(tickets.canned_replies(staff)) == 2
    # Client B reads English: the English one comes first in B's ticket.
    view = tickets.ticket_view(staff, personas.client_b.ticket_id, at=AT)
    assert [c.title for c in view.canned] == ["Greeting", "Saludo"]
    with pytest.raises(NotFound):
        tickets.canned_replies(personas.client_a.actor)
    with pytest.raises(ValidationError):
        tickets.save_canned_reply(owner, title="", body="x", language="es")
    tickets.delete_canned_reply(owner, es)
    assert [c.title for c in tickets.canned_replies(staff)] == ["Greeting"]


def test_live_panel_state_from_the_fake_whm(fake, personas):
    """Suspended or not, and disk against the limit, read live; a dead panel is reported as
    unreachable without breaking the view."""
    staff, a, b = personas.staff.actor, personas.client_a, personas.client_b
    fake.add_account("clientb", "cliente-b.ec", "basico", suspended=True, reason="impago")
    states = tickets.panel_states(staff, a.ticket_id)
    assert list(states) == [a.service_id]  # A's services only
    live = states[a.service_id]
    assert live.reachable and live.exists and live.suspended is False
    assert live.disk_used_mb is not None and live.disk_used_mb >= 0
    assert tickets.panel_states(staff, b.ticket_id)[b.service_id].suspended is True
    fake.accounts.pop("clienta")
    assert tickets.panel_states(staff, a.ticket_id)[a.service_id].exists is False
    point_server(dead_port(), fake.token)
    assert tickets.panel_states(staff, a.ticket_id)[a.service_id].reachable is False
    assert tickets.ticket_view(staff, a.ticket_id, at=AT).context is not None


def test_the_desk_form_offers_that_clients_services_and_no_one_elses(personas):
    staff, a, b = personas.staff.actor, personas.client_a, personas.client_b
    choices = tickets.ticket_choices(staff, b.actor.client_id)
    assert choices.client_name == "Cliente B"
    assert [o.id for o in choices.services] == [b.service_id]
    assert soporte() in [d.id for d in choices.departments]
    for bad in ("abc", None, 999_999):
        with pytest.raises(NotFound):
            tickets.ticket_choices(staff, bad)
    with pytest.raises(Forbidden):  # a client cannot use the desk's form, not even for self
        tickets.ticket_choices(a.actor, a.actor.client_id)
    # Staff find the client by what the caller says, without the client records' permission.
    assert [c.id for c in clients.clients_for_ticket(staff, "b@test.ec").rows] == [
        b.actor.client_id
    ]
    with pytest.raises(Forbidden):
        clients.clients_for_ticket(a.actor, "Cliente")


def test_staff_open_a_ticket_for_a_client_which_mails_the_client(personas, smtp):
    staff, b = personas.staff.actor, personas.client_b
    tid = tickets.open_ticket(
        staff,
        client_id=b.actor.client_id,
        department_id=soporte(),
        service_id=b.service_id,
        subject="Su sitio fue suspendido",
        body="Detectamos un script malicioso en su cuenta.",
        priority="high",
        at=AT,
    )
    row = ticket(tid)
    assert (row.client_id, row.status, row.first_response_at) == (b.actor.client_id, "answered", AT)
    assert row.sla_due_at == row.resolution_due_at and not row.breached
    mail.deliver_due()
    assert "Detectamos un script malicioso" in smtp.bodies_to("b@test.ec")[0]
    assert smtp.bodies_to("staff@test.ec") == []  # the one who acted is not mailed
    assert tid in [r.id for r in tickets.client_tickets(b.actor, at=AT).tickets.rows]
    with pytest.raises(ValidationError):
        tickets.open_ticket(staff, department_id=soporte(), subject="x", body="y", at=AT)
