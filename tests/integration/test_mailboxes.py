"""core.services.mailboxes against the faithful fake WHM and a real database on each engine: scoping
by the actor, validation before the panel, the panel's refusals as clear messages, secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core import panel
from core.access import Actor
from core.models import AuditEntry, Product, Service
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from core.services import mailboxes
from sandbox.whm_server import FakeWhm, _check
from tests.panel_fixtures import FAST, dead_port, point_server, ready, whm  # noqa: F401 - fixtures

PASSWORD = "Correo-Seguro-2026!"


def mutations(fake: FakeWhm) -> list[dict]:
    writes = {"Email::add_pop", "Email::passwd_pop", "Email::edit_pop_quota", "Email::delete_pop"}
    return [e for e in fake.log if e["function"] in writes]


def audits() -> list[AuditEntry]:
    with read_session() as s:
        stmt = select(AuditEntry).where(AuditEntry.action.like("mailbox.%"))
        return list(s.scalars(stmt.order_by(AuditEntry.id)))


def set_plan(**fields) -> None:
    with unit_of_work() as s:
        for product in s.scalars(select(Product)):
            for name, value in fields.items():
                setattr(product, name, value)


def boxes(fake: FakeWhm, user: str) -> set[str]:
    return set(fake.accounts[user]["mailboxes"])


@pytest.fixture
def fake(whm: FakeWhm, personas) -> Iterator[FakeWhm]:
    yield ready(whm, mailboxes=True)
    whm.clear_faults()
    panel.configure()


def test_client_lists_own_mailboxes_with_usage(fake, personas):
    a = personas.client_a
    [box] = mailboxes.list_mailboxes(a.actor, a.service_id)
    assert box.address == "ventas@cliente-a.ec" and box.quota_mb == 500
    assert box.used_mb > 0 and box.used_percent is not None and not box.suspended
    page = mailboxes.mailbox_page(a.actor)
    assert [o.domain for o in page.options] == ["cliente-a.ec"]
    assert page.service.id == a.service_id and page.writable and page.error is None
    assert page.max_mailboxes == 10 and page.max_quota_mb == 1024
    assert [m.address for m in page.mailboxes] == ["ventas@cliente-a.ec"]


def test_create_change_and_delete_a_mailbox(fake, personas):
    a = personas.client_a
    made = mailboxes.create_mailbox(a.actor, a.service_id, "Info", PASSWORD, 250)
    assert made.address == "info@cliente-a.ec" and made.password is None
    stored = fake.accounts["clienta"]["mailboxes"]["info@cliente-a.ec"]
    assert stored["quota_mb"] == 250 and _check(PASSWORD, stored["password_hash"])
    listed = {m.address: m for m in mailboxes.list_mailboxes(a.actor, a.service_id)}
    assert listed["info@cliente-a.ec"].quota_mb == 250

    mailboxes.change_password(a.actor, a.service_id, "info@cliente-a.ec", PASSWORD + "x")
    assert _check(PASSWORD + "x", stored["password_hash"])
    mailboxes.change_quota(a.actor, a.service_id, "info@cliente-a.ec", 1000)
    assert stored["quota_mb"] == 1000
    mailboxes.delete_mailbox(a.actor, a.service_id, "info@cliente-a.ec")
    assert boxes(fake, "clienta") == {"ventas@cliente-a.ec"}
    mailboxes.delete_mailbox(a.actor, a.service_id, "info@cliente-a.ec")  # already gone: fine
    assert [e.action for e in audits()] == [
        "mailbox.created",
        "mailbox.password_changed",
        "mailbox.quota_changed",
        "mailbox.deleted",
        "mailbox.deleted",
    ]


def test_a_generated_password_is_returned_once(fake, personas):
    a = personas.client_a
    made = mailboxes.create_mailbox(a.actor, a.service_id, "gerencia")
    assert made.password and len(made.password) >= 16
    stored = fake.accounts["clienta"]["mailboxes"]["gerencia@cliente-a.ec"]
    assert _check(made.password, stored["password_hash"]) and stored["quota_mb"] == 1024


def test_duplicate_mailbox_gives_a_clear_error(fake, personas):
    a = personas.client_a
    with pytest.raises(Conflict) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, "ventas", PASSWORD, 100)
    assert err.value.key == "error.mailbox_exists"
    assert err.value.params == {"address": "ventas@cliente-a.ec"}
    assert mutations(fake) == []
    # The panel's own refusal (a mailbox made meanwhile elsewhere) reads the same.
    fake.inject("add_pop", "reject", reason="The account nuevo@cliente-a.ec already exists!")
    with pytest.raises(Conflict) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, "nuevo", PASSWORD, 100)
    assert err.value.key == "error.mailbox_exists"
    with read_session() as s:
        assert s.get(Service, a.service_id).panel_error is None  # the user's input, not an outage


@pytest.mark.parametrize(
    ("local", "password", "quota", "key"),
    [
        ("", PASSWORD, 100, "error.mailbox_local_empty"),
        ("con espacio", PASSWORD, 100, "error.mailbox_local_space"),
        ("con espacio@cliente-a.ec", PASSWORD, 100, "error.mailbox_local_space"),
        ("ñandú!", PASSWORD, 100, "error.mailbox_local_chars"),
        ("a..b", PASSWORD, 100, "error.mailbox_local_dots"),
        (".inicio", PASSWORD, 100, "error.mailbox_local_dots"),
        ("cpanel", PASSWORD, 100, "error.mailbox_local_reserved"),
        ("x" * 65, PASSWORD, 100, "error.mailbox_local_long"),
        ("info@cliente-b.ec", PASSWORD, 100, "error.mailbox_local_at"),
        ("info@otro.ec", PASSWORD, 100, "error.mailbox_local_at"),
        ("a@b@cliente-a.ec", PASSWORD, 100, "error.mailbox_local_at"),
        ("info", PASSWORD, 2048, "error.mailbox_quota"),
        ("info", PASSWORD, 0, "error.mailbox_quota_positive"),
        ("info", PASSWORD, -50, "error.mailbox_quota_positive"),
        ("info", PASSWORD, "mucho", "error.mailbox_quota"),
        ("info", "corta1A!", 100, "error.mailbox_password_weak"),
        ("info", "solominusculas123", 100, "error.mailbox_password_weak"),
        ("info", "Info-info-2026", 100, "error.mailbox_password_weak"),
        ("info", "Aa1!Aa1!Aa1!Aa1!", 100, "error.mailbox_password_weak"),
    ],
)
def test_everything_is_validated_before_the_panel(fake, personas, local, password, quota, key):
    a = personas.client_a
    with pytest.raises(ValidationError) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, local, password, quota)
    assert err.value.key == key
    assert mutations(fake) == []


def test_the_plan_limits_the_number_of_mailboxes(fake, personas):
    a = personas.client_a
    set_plan(max_mailboxes=2)
    mailboxes.create_mailbox(a.actor, a.service_id, "dos", PASSWORD, 100)
    with pytest.raises(ValidationError) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, "tres", PASSWORD, 100)
    assert err.value.key == "error.mailbox_limit" and err.value.params == {"max": 2}
    assert len(mutations(fake)) == 1


def test_panel_refusals_become_translated_messages(fake, personas):
    a = personas.client_a
    fake.min_strength = 100  # a stricter server than our own rule
    with pytest.raises(ValidationError) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, "info", "Abcdefgh1234", 100)
    assert err.value.key == "error.mailbox_password_weak"
    fake.min_strength = 65
    fake.packages["basico"]["MAX_EMAILACCT_QUOTA"] = 200  # the server allows less than the plan
    with pytest.raises(ValidationError) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, "info", PASSWORD, 500)
    assert err.value.key == "error.mailbox_quota"
    fake.packages["basico"]["MAXPOP"] = 1
    with pytest.raises(ValidationError) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, "info", PASSWORD, 100)
    assert err.value.key == "error.mailbox_limit"
    with pytest.raises(NotFound) as err:
        mailboxes.change_password(a.actor, a.service_id, "nadie@cliente-a.ec", PASSWORD)
    assert err.value.key == "error.mailbox_not_found"
    fake.inject("passwd_pop", "reject", reason="Something unexpected (XID abc123)")
    with pytest.raises(DomainError) as err:
        mailboxes.change_password(a.actor, a.service_id, "ventas@cliente-a.ec", PASSWORD)
    assert err.value.key == "error.panel_rejected"
    assert err.value.params == {"reason": "Something unexpected"}
    assert audits() == []


def test_client_b_cannot_reach_client_a_mailboxes(fake, personas, client_b_as):
    a, b = personas.client_a, client_b_as
    before = json.dumps(fake.accounts["clienta"]["mailboxes"], sort_keys=True)
    fake.log.clear()
    for action in (
        lambda: mailboxes.list_mailboxes(b.actor, a.service_id),
        lambda: mailboxes.mailbox_page(b.actor, a.service_id),
        lambda: mailboxes.create_mailbox(b.actor, a.service_id, "robo", PASSWORD, 100),
        lambda: mailboxes.change_password(b.actor, a.service_id, "ventas", PASSWORD),
        lambda: mailboxes.change_quota(b.actor, a.service_id, "ventas", 10),
        lambda: mailboxes.delete_mailbox(b.actor, a.service_id, "ventas@cliente-a.ec"),
    ):
        with pytest.raises(NotFound):
            action()
    assert fake.log == []  # refused before anything reached the panel
    # Through their own service, A's addresses are outside B's domain.
    for action in (
        lambda: mailboxes.change_password(b.actor, b.service_id, "ventas@cliente-a.ec", PASSWORD),
        lambda: mailboxes.delete_mailbox(b.actor, b.service_id, "ventas@cliente-a.ec"),
        lambda: mailboxes.change_quota(b.actor, b.service_id, "ventas@cliente-a.ec", 10),
    ):
        with pytest.raises(ValidationError) as err:
            action()
        assert err.value.key == "error.mailbox_domain"
    assert mutations(fake) == [] and audits() == []
    assert json.dumps(fake.accounts["clienta"]["mailboxes"], sort_keys=True) == before
    assert [o.id for o in mailboxes.mailbox_page(b.actor).options] == [b.service_id]


def test_staff_need_the_services_permission_and_the_owner_reaches_any_service(fake, personas):
    a = personas.client_a
    tickets_only = Actor(user_id=99, role="staff", permissions=frozenset({"tickets"}))
    with pytest.raises(Forbidden):
        mailboxes.list_mailboxes(tickets_only, a.service_id)
    with pytest.raises(Forbidden):
        mailboxes.delete_mailbox(tickets_only, a.service_id, "ventas")
    owner = personas.owner.actor
    assert [m.address for m in mailboxes.list_mailboxes(owner, a.service_id)] == [
        "ventas@cliente-a.ec"
    ]
    page = mailboxes.mailbox_page(owner, search="cliente-b")
    assert [o.domain for o in page.options] == ["cliente-b.ec"]
    assert [m.address for m in page.mailboxes] == ["info@cliente-b.ec"]


def test_a_suspended_service_is_read_only(fake, personas):
    a = personas.client_a
    with unit_of_work() as s:
        s.get(Service, a.service_id).status = "suspended"
    page = mailboxes.mailbox_page(a.actor, a.service_id)
    assert not page.writable and [m.address for m in page.mailboxes] == ["ventas@cliente-a.ec"]
    with pytest.raises(Conflict):
        mailboxes.create_mailbox(a.actor, a.service_id, "info", PASSWORD, 100)


def test_panel_down_changes_nothing_and_says_so(fake, personas):
    a = personas.client_a
    point_server(dead_port(), fake.token)
    page = mailboxes.mailbox_page(a.actor, a.service_id)
    assert page.error == "error.panel_unavailable" and not page.writable
    with pytest.raises(DomainError) as err:
        mailboxes.list_mailboxes(a.actor, a.service_id)
    assert err.value.key == "error.panel_unavailable"
    point_server(fake.port, fake.token)
    fake.inject("add_pop", "http500", status=503)  # answered, but not done: nothing changed
    with pytest.raises(DomainError) as err:
        mailboxes.create_mailbox(a.actor, a.service_id, "info", PASSWORD, 100)
    assert err.value.key in ("error.panel_unavailable", "error.panel_unconfirmed")
    assert boxes(fake, "clienta") == {"ventas@cliente-a.ec"} and audits() == []
    fake.clear_faults()
    mailboxes.create_mailbox(a.actor, a.service_id, "info", PASSWORD, 100)  # the retry works
    assert boxes(fake, "clienta") == {"ventas@cliente-a.ec", "info@cliente-a.ec"}


def test_mailbox_passwords_never_reach_logs_audit_or_the_database(fake, personas, caplog):
    caplog.set_level(logging.DEBUG)
    a = personas.client_a
    mailboxes.create_mailbox(a.actor, a.service_id, "secreto", PASSWORD, 100)
    mailboxes.change_password(a.actor, a.service_id, "secreto", PASSWORD + "2")
    fake.inject("passwd_pop", "reject", reason="weird failure")
    with pytest.raises(DomainError):
        mailboxes.change_password(a.actor, a.service_id, "secreto", PASSWORD + "3")
    with read_session() as s:
        service = s.get(Service, a.service_id)
        stored = f"{service.panel_error} {[e.details for e in s.scalars(select(AuditEntry))]}"
    for secret in (PASSWORD, PASSWORD + "2", PASSWORD + "3"):
        assert secret not in caplog.text
        assert secret not in json.dumps(fake.log)
        assert secret not in stored
