"""The tickets page per role (AppTest on SQLite): own threads only, literal user text, the
queue for staff, and the page's actions."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Ticket, TicketMessage
from core.platform.clock import now
from core.platform.db import read_session
from core.support import tickets
from tests.pages.apptest import app_as, click, open_tab, texts, tr
from tests.panel_fixtures import page_fake, whm  # noqa: F401 - fixtures

XSS_SUBJECT = "<script>alert('asunto')</script>"
XSS_BODY = "Vea [link](http://x) y <script>alert(1)</script> **negrita**"
NOTE = "Nota interna: revisar la deuda antes de responder"


def _markdown_values(at) -> list[str]:
    kinds = ("markdown", "caption", "title", "header", "subheader", "info", "success", "warning")
    return [str(e.value) for kind in kinds for e in getattr(at, kind)]


def _text_values(at) -> list[str]:
    return [str(e.value) for e in at.text] + [str(e.value) for e in at.code]


def _status(ticket_id: int) -> str:
    with read_session() as s:
        return s.get(Ticket, ticket_id).status


def test_client_a_sees_own_tickets_and_thread_not_bs(page_personas):
    a = page_personas.client_a
    at = app_as(a, "tickets")
    assert not at.exception
    shown = texts(at)
    assert [tab.label for tab in at.tabs] == [tr("tickets.my_tickets"), tr("tickets.new_title")]
    assert "T-A-1" in shown and "Ayuda a" in shown
    assert "T-B-1" not in shown and "Ayuda b" not in shown and "cliente-b.ec" not in shown

    at = app_as(a, "tickets", ticket=str(a.ticket_id))
    assert not at.exception
    assert tr("tickets.ticket_title", number="T-A-1") in texts(at)
    assert "Hola" in _text_values(at) and "Ayuda a" in _text_values(at)
    assert any(b.label == tr("tickets.send_reply") for b in at.button)
    assert not at.metric  # no client context for a client


def test_client_b_with_as_ticket_in_the_url_sees_nothing_of_it(page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    for value in (str(a.ticket_id), "abc", "999999", "-1"):
        at = app_as(b, "tickets", ticket=value)
        assert not at.exception
        assert [e.value for e in at.error] == [tr("error.not_found", "en")]
        shown = texts(at)
        assert "T-A-1" not in shown and "Ayuda a" not in shown and "Hola" not in shown
        assert not at.text_area and not at.get("download_button")


def test_user_text_shows_literally_never_as_markdown_or_html(page_personas):
    a = page_personas.client_a
    tid = tickets.open_ticket(
        a.actor,
        department_id=_soporte(),
        subject=XSS_SUBJECT,
        body=XSS_BODY,
        service_id=a.service_id,
        at=now(),
    )
    for persona in (a, page_personas.staff):
        at = app_as(persona, "tickets", ticket=str(tid))
        assert not at.exception
        literal = _text_values(at)
        assert XSS_SUBJECT in literal and XSS_BODY in literal
        for value in _markdown_values(at):
            assert "<script>" not in value and "[link](http://x)" not in value
    # In the client's own list the subject is an escaped cell of a plain table (ui.kit.tables):
    # shown as the text it is, with nothing in the Markdown left to make a tag or a link.
    at = app_as(a, "tickets")
    assert XSS_SUBJECT in texts(at)
    for value in _markdown_values(at):
        assert "<script>" not in value and "](http" not in value
    # In the desk's lists the subject is a dataframe cell, also literal.
    at = app_as(page_personas.staff, "tickets")
    frame = at.dataframe[0].value
    assert XSS_SUBJECT in frame.to_string()
    assert all("<script>" not in v for v in _markdown_values(at))


def test_staff_sees_the_queue_and_the_client_context(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.staff, "tickets")
    assert not at.exception
    shown = texts(at)
    assert tr("tickets.queue_title") in shown
    assert "T-A-1" in shown and "T-B-1" in shown
    assert any(b.label == tr("tickets.bulk_close") for b in at.button)

    at = app_as(page_personas.staff, "tickets", ticket=str(a.ticket_id))
    assert not at.exception
    shown = texts(at)
    assert tr("tickets.client_context") in shown
    assert "cliente-a.ec" in shown and "F-A-1" in shown
    assert "cliente-b.ec" not in shown and "F-B-1" not in shown
    assert tr("tickets.panel_unreachable") in shown  # the personas' server has no token
    labels = {m.label: m.value for m in at.metric}
    assert labels[tr("tickets.open_invoices_total")] == "$11,50"


def test_a_note_added_on_the_page_never_shows_to_the_client(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.staff, "tickets", ticket=str(a.ticket_id))
    at.text_area(key="tickets_reply_body").input(NOTE)
    click(at, tr("tickets.add_note"))
    assert not at.exception
    assert [s.value for s in at.success] == [tr("tickets.note_added")]
    assert NOTE in _text_values(at)
    with read_session() as s:
        note = s.scalars(select(TicketMessage).where(TicketMessage.body == NOTE)).one()
        assert note.internal
    assert _status(a.ticket_id) == "open"  # a note changes nothing

    client = app_as(a, "tickets", ticket=str(a.ticket_id))
    assert NOTE not in texts(client) and tr("tickets.internal_note") not in texts(client)


def test_client_replies_closes_and_reopens(page_personas):
    a = page_personas.client_a
    at = app_as(a, "tickets", ticket=str(a.ticket_id))
    click(at, tr("tickets.send_reply"))  # empty: refused
    assert [e.value for e in at.error] == [tr("error.ticket_body_required")]
    at.text_area(key="tickets_reply_body").input("Sigue fallando.")
    click(at, tr("tickets.send_reply"))
    assert [s.value for s in at.success] == [tr("tickets.reply_sent")]
    assert "Sigue fallando." in _text_values(at)
    click(at, tr("tickets.close"))
    assert [s.value for s in at.success] == [tr("tickets.closed_done")]
    assert _status(a.ticket_id) == "closed"
    click(at, tr("tickets.reopen"))
    assert [s.value for s in at.success] == [tr("tickets.reopened")]
    assert _status(a.ticket_id) == "open"


def test_client_opens_a_ticket_from_the_form(page_personas):
    a = page_personas.client_a
    at = app_as(a, "tickets")
    assert not at.text_input  # the form is drawn only once its tab is open
    at = open_tab(at, "tickets_client_tab", tr("tickets.new_title"))
    _widget(at, "text_input", tr("tickets.col.subject")).input("No puedo entrar a cPanel")
    _widget(at, "text_area", tr("tickets.message")).input("Me dice clave incorrecta.")
    click(at, tr("tickets.submit_new"))
    assert not at.exception
    assert [s.value for s in at.success] == [tr("tickets.opened")]
    with read_session() as s:
        created = s.scalars(
            select(Ticket).where(Ticket.subject == "No puedo entrar a cPanel")
        ).one()
        assert created.client_id == a.actor.client_id and created.sla_due_at is not None


def test_staff_open_a_ticket_for_a_client_who_called(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.staff, "tickets")
    assert not [w for w in at.text_input if w.key == "tickets_dn_search"]  # off: not drawn
    at.toggle(key="tickets_dn_open").set_value(True).run()
    at.text_input(key="tickets_dn_search").input("Cliente A").run()
    assert not at.exception
    assert at.selectbox(key="tickets_dn_client").value == a.actor.client_id
    _widget(at, "text_input", tr("tickets.col.subject")).input("Llamó: no recibe correos")
    _widget(at, "text_area", tr("tickets.message")).input(
        "Revisamos el MX de su dominio y le escribimos."
    )
    click(at, tr("tickets.submit_new"))
    assert not at.exception
    assert [s.value for s in at.success] == [tr("tickets.opened_for_client")]
    with read_session() as s:
        created = s.scalars(
            select(Ticket).where(Ticket.subject == "Llamó: no recibe correos")
        ).one()
        assert created.client_id == a.actor.client_id and created.status == "answered"


def test_a_link_with_tab_new_opens_the_new_ticket_form(page_personas):
    at = app_as(page_personas.client_a, "tickets", tab="new")
    assert not at.exception
    assert _widget(at, "text_input", tr("tickets.col.subject")) is not None
    assert "T-A-1" not in texts(at)  # the list's tab is not drawn meanwhile


def test_staff_bulk_closes_from_the_queue(page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    at = app_as(page_personas.staff, "tickets")
    at.multiselect[0].select(a.ticket_id).select(b.ticket_id)
    click(at, tr("tickets.bulk_close"))
    assert not at.exception
    assert [s.value for s in at.success] == [tr("tickets.bulk_closed", n=2)]
    assert _status(a.ticket_id) == _status(b.ticket_id) == "closed"


def _soporte() -> int:
    from core.models import Department

    with read_session() as s:
        return s.scalars(select(Department.id).where(Department.name == "Soporte")).one()


def _widget(at, kind: str, label: str):
    matches = [w for w in getattr(at, kind) if w.label == label]
    assert len(matches) == 1, f"{kind} {label!r}: {len(matches)} found"
    return matches[0]


def test_staff_sees_the_live_panel_state_beside_the_ticket(page_fake, page_personas):
    b = page_personas.client_b
    page_fake.add_account("clientb", "cliente-b.ec", "basico", suspended=True, reason="impago")
    at = app_as(page_personas.staff, "tickets", ticket=str(b.ticket_id))
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame[tr("tickets.col.panel")]) == [tr("tickets.panel_suspended")]
    assert "MB" in frame[tr("tickets.col.disk")][0]


def test_staff_changes_priority_and_assignee_on_the_page(page_personas):
    a, staff = page_personas.client_a, page_personas.staff
    at = app_as(staff, "tickets", ticket=str(a.ticket_id))
    boxes = {box.label: box for box in at.selectbox}
    boxes[tr("tickets.col.priority")].set_value("urgent")
    boxes[tr("tickets.col.assignee")].set_value(staff.actor.user_id)
    click(at, tr("tickets.save_changes"))
    assert not at.exception
    assert [s.value for s in at.success] == [tr("tickets.saved")]
    with read_session() as s:
        row = s.get(Ticket, a.ticket_id)
        assert (row.priority, row.assignee_id) == ("urgent", staff.actor.user_id)
