"""Clients page: search, the detail, create, the set-password link and "view as client".
The detail draws (and reads) only its open tab (ui.kit.tabs)."""

from sqlalchemy import select

from core.accounts import team as users
from core.models import AuditEntry, Client, MailOutbox
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from tests.pages.apptest import app_as, click, open_tab, page_alone, texts, tr

RUC = "1719141770001"
TABS = "clients_tab"


def give_staff(personas, *areas: str) -> None:
    users.set_access(
        personas.owner.actor,
        personas.staff.actor.user_id,
        permissions=list(areas),
        active=True,
        at=now(),
    )


def test_the_owner_finds_a_client_by_ruc_and_opens_it(page_personas):
    with unit_of_work() as s:
        client = s.get(Client, page_personas.client_a.actor.client_id)
        client.tax_id_type, client.tax_id = "ruc", RUC
    at = app_as(page_personas.owner, "clients")
    assert not at.exception
    assert tr("clients.found", n=2) in texts(at)
    at.text_input(key="clients_query").input(RUC)
    at = click(at, tr("clients.search_submit"))
    shown = texts(at)
    assert tr("clients.found.one") in shown and "a@test.ec" in shown and "b@test.ec" not in shown
    at.button(key="clients_open_btn").click().run()
    assert at.query_params["client"] == str(page_personas.client_a.actor.client_id)
    shown = texts(at)
    assert "$11,50" in shown  # what they owe
    assert at.text_input(key="clients_edit_name").value == "Cliente A"  # the first tab
    # The other tabs are hidden: nothing of them is drawn until one is opened.
    assert "F-A-1" not in shown and "T-A-1" not in shown and not at.dataframe
    for label, expected in (
        (tr("clients.tab_services"), "cliente-a.ec"),
        (tr("clients.tab_invoices"), "F-A-1"),
    ):
        at = open_tab(at, TABS, label)
        assert expected in texts(at), label
        assert not at.text_input, label  # the contact form is hidden now
    at = open_tab(at, TABS, tr("clients.tab_tickets"))
    assert "T-A-1" in texts(at) and "F-A-1" not in texts(at)
    assert at.query_params["tab"] == "tickets"
    at = open_tab(at, TABS, tr("clients.tab_audit"))
    assert not at.exception


def test_the_contact_tab_saves_the_client(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.owner, "clients", client=str(a.actor.client_id))
    at.text_input(key="clients_edit_phone").input("0991234567")
    at.button(key="clients_edit_submit").click().run()
    assert not at.exception and not at.error
    with read_session() as s:
        assert s.get(Client, a.actor.client_id).phone
    at = app_as(page_personas.owner, "clients", client=str(a.actor.client_id), tab="credit")
    assert not at.exception and at.session_state[TABS] == tr("clients.tab_credit")
    assert not at.text_input  # a link to a tab opens it, not the form


def test_search_by_domain_and_invoice_number(page_personas):
    at = app_as(page_personas.owner, "clients")
    for query, expected in (("cliente-b.ec", "b@test.ec"), ("F-A-1", "a@test.ec")):
        at.text_input(key="clients_query").input(query)
        at = click(at, tr("clients.search_submit"))
        assert tr("clients.found.one") in texts(at), query
        assert expected in at.dataframe[0].value.to_string(), query


def test_view_as_client_is_read_only_and_audited(page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.owner, "clients", client=str(a.actor.client_id))
    at.button(key="clients_view_as").click().run()
    assert not at.exception
    assert any(tr("clients.view_as_notice") in i.value for i in at.info)
    with read_session() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "client.viewed_as")).all()
    assert [(e.actor_label, e.client_id) for e in entries] == [("owner@test.ec", a.actor.client_id)]
    labels = {b.label for b in at.button}
    # The client's own actions (pay, upload a receipt, reset the panel password, open a ticket,
    # cancel) are not offered in the owner's read-only view of the client area.
    client_actions = {
        tr(key)
        for key in (
            "billing.pay_submit",
            "billing.upload_submit",
            "services.reset_button",
            "tickets.submit_new",
            "cancel.submit",
        )
    }
    assert labels.isdisjoint(client_actions) and tr("clients.view_as_close") in labels


def test_staff_send_a_set_password_link(page_personas):
    give_staff(page_personas, "tickets", "services", "clients")
    b = page_personas.client_b
    at = app_as(page_personas.staff, "clients", client=str(b.actor.client_id))
    assert not at.exception
    at.button(key="clients_send_link").click().run()
    assert [s.value for s in at.success] == [tr("clients.link_sent", email="b@test.ec")]
    with read_session() as s:
        assert s.scalars(select(MailOutbox.to_addr)).all() == ["b@test.ec"]


def test_staff_without_billing_see_no_money_on_a_client(page_personas):
    give_staff(page_personas, "tickets", "services", "clients")
    a = page_personas.client_a
    at = app_as(page_personas.staff, "clients", client=str(a.actor.client_id))
    assert [t.label for t in at.tabs] == [
        tr("clients.tab_contact"),
        tr("clients.tab_services"),
        tr("clients.tab_tickets"),
        tr("clients.tab_users"),
        tr("clients.tab_audit"),
    ]
    at.button(key="clients_view_as").click().run()
    shown = texts(at)
    assert "$" not in shown and "F-A-1" not in shown and "cliente-a.ec" in shown


def test_staff_create_a_client(page_personas):
    give_staff(page_personas, "tickets", "services", "clients")
    at = app_as(page_personas.staff, "clients")
    at.text_input(key="clients_new_name").input("Diego Vera")
    at.text_input(key="clients_new_email").input("diego@vera.example")
    at.text_input(key="clients_new_tax_id").input("1234567890")  # a bad cédula
    at = click(at, tr("clients.create_submit"))
    assert at.error and "Diego" not in texts(at).split(tr("page.clients"))[0]
    at.text_input(key="clients_new_tax_id").input("1719141770")
    at = click(at, tr("clients.create_submit"))
    assert not at.exception
    with read_session() as s:
        client = s.scalars(select(Client).where(Client.email == "diego@vera.example")).one()
        assert client.tax_id == "1719141770"
        assert s.scalars(select(MailOutbox.to_addr)).all() == ["diego@vera.example"]


def test_staff_without_the_clients_right_get_no_page(page_personas):
    at = page_alone(page_personas.staff, "clients")
    assert [e.value for e in at.error] == [tr("error.page_not_allowed")]
    assert "a@test.ec" not in texts(at)


def test_a_malformed_or_unknown_client_id_shows_only_not_found(page_personas):
    for value in ("abc", "999999", "-1", "1.5"):
        at = app_as(page_personas.owner, "clients", client=value)
        assert not at.exception
        assert [e.value for e in at.error] == [tr("error.not_found")]
        assert [btn.key for btn in at.button] == ["clients_back"]
        assert not at.metric and "a@test.ec" not in texts(at)


def test_the_owner_sees_and_clears_a_clients_sign_in_wait(page_personas):
    """Issue 16 item 8: the owner can see and clear a client's lockout (staff cannot)."""
    from core import accounts
    from core.accounts import throttle

    a = page_personas.client_a
    with unit_of_work() as s:
        for _ in range(5):
            accounts.record_sign_in_failure(s, a.email, now())
    query = {"client": str(a.actor.client_id), "tab": "users"}
    at = app_as(page_personas.owner, "clients", **query)
    lines = [w.value for w in at.warning]
    assert any(line.startswith(f"{a.email}: 5 ") for line in lines), lines
    at = click(at, tr("clients.signin_clear", email=a.email))
    assert tr("clients.signin_cleared") in [s.value for s in at.success]
    with read_session() as s:
        assert throttle.wait_seconds(s, a.email, now()) == 0
    with unit_of_work() as s:
        accounts.record_sign_in_failure(s, a.email, now())
    give_staff(page_personas, "clients")
    staff = app_as(page_personas.staff, "clients", **query)
    assert not any(a.email in w.value for w in staff.warning)
    assert tr("clients.signin_clear", email=a.email) not in [b.label for b in staff.button]
