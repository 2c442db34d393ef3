"""Services page ("services"), per role, against the faithful fake WHM on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core import accounts, panel
from core.models import AuditEntry, MailOutbox, Service
from core.platform import vault
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from sandbox.whm_server import FakeWhm, _check
from tests.pages.apptest import app_as, texts, tr
from tests.panel_fixtures import FAST, dead_port, point_server, ready, whm  # noqa: F401 - fixtures
from tests.personas import Persona


def status_of(service_id: int) -> str:
    with read_session() as s:
        return s.get(Service, service_id).status


def panel_audits() -> list[str]:
    with read_session() as s:
        stmt = select(AuditEntry.action).where(AuditEntry.action.like("service.%"))
        return list(s.scalars(stmt))


@pytest.fixture
def fake(whm: FakeWhm, page_personas) -> Iterator[FakeWhm]:
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


def test_client_lists_own_services_only(fake, page_personas):
    at = app_as(page_personas.client_a, "services")
    assert not at.exception
    shown = texts(at)
    assert "cliente-a.ec" in shown and "cliente-b.ec" not in shown
    assert "$11,50" in shown and "5 dic 2026" in shown
    # A phone's width (issue 16 item 23): domain, status, due date, amount owed; the plan
    # is in the service's view.
    assert "Básico" not in shown
    table = next(m.value for m in at.markdown if m.value.startswith("| "))
    header = table.splitlines()[0]
    assert [c.strip() for c in header.strip("|").split("|")] == [
        tr("col.domain"),
        tr("col.status"),
        tr("col.next_due"),
        tr("col.balance_due"),
    ]
    at.selectbox(key="services_status").select("suspended").run()
    assert tr("services.none") in texts(at)


def test_client_detail_resets_password_once_and_signs_in(fake, page_personas):
    a = page_personas.client_a
    at = app_as(a, "services", service=str(a.service_id))
    assert not at.exception
    shown = texts(at)
    assert tr("services.usage_title") in shown and tr("services.disk") in shown
    links = at.get("page_link")
    assert links and links[0].proto.query_string == f"service={a.service_id}"

    at.button(key="services_reset").click().run()
    [code] = at.code
    assert _check(code.value, fake.accounts["clienta"]["password_hash"])
    assert any(tr("services.reset_shown_once") in w.value for w in at.warning)
    with read_session() as s:
        [mail] = s.scalars(select(MailOutbox)).all()
    assert code.value not in mail.body_text

    at.button(key="services_signin_webmaild").click().run()
    assert not at.code  # the password is gone after the next interaction
    [link] = at.get("link_button")
    assert "/login/?session=clienta" in link.proto.url and ":2096/" in link.proto.url


def test_client_b_sees_nothing_of_client_a(fake, page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    at = app_as(b, "services", service=str(a.service_id))
    assert not at.exception
    shown = texts(at)
    assert tr("error.not_found", "en") in shown
    assert "cliente-a.ec" not in shown and "clienta" not in shown and "$11.50" not in shown
    assert [btn.key for btn in at.button] == ["services_back_missing"]
    assert not at.metric and not at.get("page_link")
    fake.log.clear()
    at = app_as(b, "services", service="not-a-number")
    assert tr("error.not_found", "en") in texts(at) and fake.log == []


def test_panel_unreachable_shows_a_clear_message_and_changes_nothing(fake, page_personas):
    a = page_personas.client_a
    before = fake.accounts["clienta"]["password_hash"]
    at = app_as(a, "services", service=str(a.service_id))
    point_server(dead_port(), fake.token)
    at.button(key="services_reset").click().run()
    assert not at.exception and not at.code
    [error] = at.error
    assert tr("error.panel_unavailable") in error.value
    assert fake.accounts["clienta"]["password_hash"] == before
    assert panel_audits() == []
    with read_session() as s:
        assert s.scalars(select(MailOutbox)).all() == []
    at = app_as(a, "services", service=str(a.service_id))  # the detail still opens
    assert tr("services.usage_unavailable", reason=tr("error.panel_unavailable")) in texts(at)


def test_staff_sees_every_service_and_suspends_with_a_reason(fake, page_personas):
    a = page_personas.client_a
    at = app_as(page_personas.staff, "services")
    shown = texts(at)
    assert "cliente-a.ec" in shown and "cliente-b.ec" in shown and "Cliente B" in shown
    at.text_input(key="services_search").input("cliente-b").run()
    shown = texts(at)
    assert "cliente-b.ec" in shown and "cliente-a.ec" not in shown

    at = app_as(page_personas.staff, "services", service=str(a.service_id))
    at.text_input(key="services_reason").input("Falta de pago")
    at.button(key="services_suspend_submit").click().run()
    assert not at.exception
    assert status_of(a.service_id) == "suspended"
    assert fake.accounts["clienta"]["suspended"] is True
    assert tr("services.suspended_done") in [s.value for s in at.success]
    at.button(key="services_unsuspend").click().run()
    assert status_of(a.service_id) == "active" and not fake.accounts["clienta"]["suspended"]


def test_terminate_needs_the_confirmation(fake, page_personas):
    b = page_personas.client_b
    at = app_as(page_personas.owner, "services", service=str(b.service_id))
    assert at.button(key="services_terminate").disabled
    at.checkbox(key="services_terminate_ok").check().run()
    at.button(key="services_terminate").click().run()
    assert not at.exception
    assert status_of(b.service_id) == "terminated" and "clientb" not in fake.accounts


def test_owner_resyncs_from_the_panel(fake, page_personas):
    a = page_personas.client_a
    fake.accounts["clienta"].update(suspended=True, suspendreason="Abuse")
    at = app_as(page_personas.owner, "services", service=str(a.service_id))
    at.button(key="services_resync").click().run()
    assert not at.exception
    assert status_of(a.service_id) == "suspended"
    assert tr("services.resync_differences") in texts(at)


def test_staff_without_the_services_permission_gets_no_service(fake, page_personas):
    with unit_of_work() as s:
        user = accounts.create_user(
            s,
            role="staff",
            email="tickets@test.ec",
            name="Solo tickets",
            password=page_personas.password,
            permissions=["tickets"],
            at=now(),
        )
        user.verified_at = user.totp_enabled_at = now()  # desk users have their second factor
        user.totp_secret = vault.encrypt("JBSWY3DPEHPK3PXP")
        actor = accounts.actor_from_user(user)
    a = page_personas.client_a
    for query in ({}, {"service": str(a.service_id)}):
        at = app_as(Persona(actor.email, actor), "services", **query)
        assert not at.exception
        shown = texts(at)
        assert tr("error.forbidden") in shown and "cliente-a.ec" not in shown
        assert not at.metric and not at.dataframe


def test_owner_changes_the_plan(fake, page_personas):
    from core.models import Product

    with unit_of_work() as s:
        s.add(Product(name="Estándar", whm_package="estandar", sort_order=1))
    a = page_personas.client_a
    at = app_as(page_personas.owner, "services", service=str(a.service_id))
    at.button(key="services_plan_submit").click().run()
    assert not at.exception
    assert fake.accounts["clienta"]["plan"] == "estandar"
    assert tr("services.plan_changed_done", plan="Estándar") in [x.value for x in at.success]


def test_the_overdue_suspension_reason_is_in_the_readers_language(fake, page_personas):
    """Issue 16 item 18: the panel's "Overdue on Payment" was shown as is in Spanish."""
    from core.automation.items import OVERDUE
    from core.services import SUSPEND_REASON_KEYS

    assert OVERDUE in SUSPEND_REASON_KEYS  # the reason automation writes is the one mapped
    a, b = page_personas.client_a, page_personas.client_b
    with unit_of_work() as s:
        for sid in (a.service_id, b.service_id):
            svc = s.get(Service, sid)
            svc.status, svc.suspend_reason = "suspended", OVERDUE
    at = app_as(a, "services", service=str(a.service_id))
    assert not at.exception
    shown = [t.value for t in at.text]
    assert tr("services.reason_overdue") in shown and OVERDUE not in texts(at)
    at = app_as(b, "services", service=str(b.service_id))
    assert tr("services.reason_overdue", "en") in [t.value for t in at.text]
