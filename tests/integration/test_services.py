"""core.services and its siblings (provisioning, credentials, demo accounts) against the
faithful fake WHM (a real HTTP server on loopback) and a real database on each engine:
scoping, the panel-first ordering, ambiguous outcomes, secrets.

The personas' server row is pointed at the fake by writing its port and (encrypted) token,
exactly as an owner would in settings. Client timeouts and backoff are shrunk so the suite
stays fast; the behaviour under test is the same.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import panel, services
from core.access import Actor
from core.models import AuditEntry, MailOutbox, Product, Server, Service
from core.platform import vault
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Conflict, DomainError, Forbidden, NotFound, ValidationError
from core.services import credentials as services_credentials
from core.services import provisioning as services_provisioning
from sandbox import demo
from sandbox import demo_accounts as services_demo
from sandbox.whm_server import FakeWhm, _check
from tests.panel_fixtures import FAST, calls, dead_port, point_server, ready, whm  # noqa: F401 - fixtures


def service(service_id: int) -> Service:
    with read_session() as s:
        return s.get(Service, service_id)


def audits(action: str | None = None) -> list[AuditEntry]:
    with read_session() as s:
        stmt = select(AuditEntry).where(AuditEntry.action.not_like("user.%"))
        stmt = stmt.order_by(AuditEntry.id)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        return list(s.scalars(stmt))


def outbox() -> list[MailOutbox]:
    with read_session() as s:
        return list(s.scalars(select(MailOutbox)))


def new_service(client_id: int, domain: str, status: str = "pending", username=None) -> int:
    with unit_of_work() as s:
        product = s.scalars(select(Product)).first()
        server = s.scalars(select(Server)).first()
        svc = Service(
            client_id=client_id,
            product_id=product.id,
            server_id=server.id,
            domain=domain,
            panel_username=username,
            status=status,
            billing_cycle="monthly",
            recurring_amount=Decimal("10.00"),
            anchor_day=5,
            registration_date=date(2026, 11, 1),
            next_due_date=date(2026, 12, 5),
        )
        s.add(svc)
        s.flush()
        return svc.id


def add_product(name: str = "Estándar", package: str = "estandar") -> int:
    with unit_of_work() as s:
        product = Product(name=name, whm_package=package, max_mailboxes=25, sort_order=1)
        s.add(product)
        s.flush()
        return product.id


def tickets_only_staff() -> Actor:
    return Actor(user_id=999, role="staff", email="t@test.ec", permissions=frozenset({"tickets"}))


# ------------------------------------------------------------------------- reads
@pytest.fixture
def fake(whm: FakeWhm, personas) -> Iterator[FakeWhm]:
    yield ready(whm)
    whm.clear_faults()
    panel.configure()


def test_client_lists_only_own_services_with_plan_due_date_and_amount_owed(fake, personas):
    page = services.list_services(personas.client_a.actor)
    assert page.total == 1 and [r.domain for r in page.rows] == ["cliente-a.ec"]
    row = page.rows[0]
    assert row.plan == "Básico" and row.next_due_date == date(2026, 12, 5)
    assert row.amount_owed == Decimal("11.50") and row.panel_error is None
    assert services.list_services(personas.client_a.actor, status="suspended").total == 0
    # A client's search never widens the scope.
    assert services.list_services(personas.client_a.actor, search="cliente-b").total == 1


def test_staff_and_owner_see_every_service_filtered_and_paged_in_sql(fake, personas):
    for who in (personas.staff, personas.owner):
        page = services.list_services(who.actor, limit=1, offset=1)
        assert page.total == 2 and len(page.rows) == 1 and page.pages == 2 and page.page == 2
    found = services.list_services(personas.staff.actor, search="Cliente B")
    assert [r.domain for r in found.rows] == ["cliente-b.ec"]
    assert services.list_services(personas.owner.actor, search="clienta").total == 1
    assert services.list_services(personas.owner.actor, status="active").total == 2
    with pytest.raises(ValidationError):
        services.list_services(personas.owner.actor, status="bogus")
    with pytest.raises(Forbidden):
        services.list_services(tickets_only_staff())


def test_find_services_searches_in_sql_within_the_actors_scope(fake, personas):
    a, b, owner = personas.client_a, personas.client_b, personas.owner.actor
    extra = [
        new_service(b.actor.client_id, f"tienda{i:02}.ec", "active", f"tienda{i:02}")
        for i in range(60)
    ]
    new_service(b.actor.client_id, "baja-b.ec", "cancelled", "bajab")
    found = services.find_services(owner)
    assert len(found) == services.MAX_FOUND  # at most 50, in domain order
    assert [o.domain for o in found][:2] == ["cliente-a.ec", "cliente-b.ec"]
    assert services.find_services(owner, "tienda59")[0].id == extra[-1]
    assert {o.domain for o in services.find_services(owner, "Cliente A")} == {"cliente-a.ec"}
    assert {o.client_name for o in services.find_services(owner, "clienta")} == {"Cliente A"}
    assert services.find_services(owner, "baja-b") == []  # not live
    assert [o.domain for o in services.find_services(owner, "baja", statuses=("cancelled",))] == [
        "baja-b.ec"
    ]
    assert services.find_services(owner, "100%_") == []  # wildcards are not patterns
    # A client finds their own services only, whatever they search for.
    assert [o.id for o in services.find_services(a.actor)] == [a.service_id]
    for term in ("cliente-b", "tienda", "Cliente B", "clienteb", ""):
        assert all(o.id == a.service_id for o in services.find_services(a.actor, term)), term
    assert services.find_services(a.actor, "x", keep=b.service_id) == []  # not theirs to keep
    assert len(services.find_services(b.actor)) == 61  # a client's own list is not cut
    assert services.find_services(owner, "tienda07", keep=a.service_id)[0].id == a.service_id
    with pytest.raises(Forbidden):
        services.find_services(tickets_only_staff())


def test_detail_reads_usage_from_the_panel_and_hides_foreign_services(fake, personas):
    a = personas.client_a
    detail = services.service_detail(a.actor, a.service_id)
    assert detail.domain == "cliente-a.ec" and detail.amount_owed == Decimal("11.50")
    assert detail.usage is not None and detail.usage.disk_used_mb > 0
    assert detail.usage.disk_limit_mb == 2048 and detail.usage.bandwidth_used_mb > 0
    assert detail.plan_options == [] and detail.panel_error is None
    for bad in (a.service_id, "nope", None, 10_000):
        with pytest.raises(NotFound):
            services.service_detail(personas.client_b.actor, bad)
    usage = services.usage(a.actor, a.service_id)
    assert usage.bandwidth_limit_mb == 20480


def test_detail_survives_an_unreachable_panel(fake, personas):
    point_server(dead_port(), fake.token)
    detail = services.service_detail(personas.client_a.actor, personas.client_a.service_id)
    assert detail.usage is None and detail.usage_error == "error.panel_unavailable"


# ------------------------------------------------------------ client self-service
def test_client_resets_the_cpanel_password_shown_once_and_never_kept(fake, personas, caplog):
    caplog.set_level(logging.DEBUG)
    a = personas.client_a
    password = services_credentials.reset_panel_password(a.actor, a.service_id)
    assert len(password) >= 16
    assert _check(password, fake.accounts["clienta"]["password_hash"])
    [mail] = outbox()
    assert mail.template == "panel_password_changed" and mail.to_addr == "a@test.ec"
    assert "cliente-a.ec" in mail.body_text and "clienta" in mail.body_text
    [entry] = audits("service.panel_password_reset")
    assert entry.client_id == a.actor.client_id and entry.target_id == a.service_id
    everything = [
        caplog.text,
        json.dumps(fake.log),
        json.dumps([e.details for e in audits()]),
        mail.subject + mail.body_text,
        str(service(a.service_id).panel_error),
    ]
    assert all(password not in text for text in everything)


def test_staff_reset_mails_the_client_in_their_language(fake, personas):
    b = personas.client_b
    services_credentials.reset_panel_password(personas.staff.actor, b.service_id)
    [mail] = outbox()
    assert mail.language == "en" and mail.subject == "Your cPanel password was changed"
    assert "support staff" in mail.body_text


def test_client_b_cannot_touch_client_a_service(fake, personas, client_b_as):
    a, b = personas.client_a, client_b_as
    fake.log.clear()
    mails_before, audits_before = len(outbox()), len(audits())  # B's invite, if any
    for action in (
        lambda: services_credentials.reset_panel_password(b.actor, a.service_id),
        lambda: services_credentials.sign_in_link(b.actor, a.service_id),
        lambda: services_credentials.sign_in_link(b.actor, a.service_id, "webmaild"),
        lambda: services.usage(b.actor, a.service_id),
    ):
        with pytest.raises(NotFound):
            action()
    assert fake.log == []  # refused before anything reached the panel
    assert (len(outbox()), len(audits())) == (mails_before, audits_before)
    for action in (
        lambda: services_provisioning.suspend(b.actor, a.service_id, "x"),
        lambda: services_provisioning.terminate(b.actor, a.service_id),
        lambda: services_provisioning.provision(b.actor, a.service_id),
        lambda: services_provisioning.resync(b.actor, a.service_id),
    ):
        with pytest.raises(Forbidden):
            action()


def test_sign_in_links_are_made_per_click_for_cpanel_and_webmail(fake, personas):
    a = personas.client_a
    first = services_credentials.sign_in_link(a.actor, a.service_id)
    second = services_credentials.sign_in_link(a.actor, a.service_id)
    webmail = services_credentials.sign_in_link(a.actor, a.service_id, "webmaild")
    assert "/login/?session=" in first and first != second
    assert ":2083/" in first and ":2096/" in webmail
    assert len(audits("service.sign_in_link")) == 3
    with pytest.raises(ValidationError):
        services_credentials.sign_in_link(a.actor, a.service_id, "whostmgrd")


def test_self_service_needs_an_active_service(fake, personas):
    a = personas.client_a
    services_provisioning.suspend(personas.staff.actor, a.service_id, "Falta de pago")
    for action in (
        lambda: services_credentials.reset_panel_password(a.actor, a.service_id),
        lambda: services_credentials.sign_in_link(a.actor, a.service_id),
    ):
        with pytest.raises(Conflict):
            action()


# --------------------------------------------------------- panel first, then DB
def test_panel_down_leaves_the_database_unchanged_and_a_retry_succeeds(fake, personas):
    staff, a = personas.staff.actor, personas.client_a
    point_server(dead_port(), fake.token)
    with pytest.raises(DomainError) as err:
        services_provisioning.suspend(
            staff, a.service_id, "Falta de pago", at=datetime(2026, 12, 3, 14, 5)
        )
    assert err.value.key == "error.panel_unavailable"
    svc = service(a.service_id)
    assert svc.status == "active" and svc.suspend_reason is None
    assert "suspendacct" in (svc.panel_error or "")  # noted apart, for staff
    # stamped with the action's moment, which its entry point read and passed down
    assert (svc.panel_error or "").startswith("2026-12-03 14:05 UTC · ")
    assert audits("service.suspended") == []

    point_server(fake.port, fake.token)
    services_provisioning.suspend(staff, a.service_id, "Falta de pago")
    svc = service(a.service_id)
    assert svc.status == "suspended" and svc.suspend_reason == "Falta de pago"
    assert svc.panel_error is None
    assert fake.accounts["clienta"]["suspended"] is True
    assert fake.accounts["clienta"]["suspendreason"] == "Falta de pago"
    assert len(audits("service.suspended")) == 1


def test_panel_down_during_password_reset_changes_nothing(fake, personas):
    a = personas.client_a
    before = fake.accounts["clienta"]["password_hash"]
    point_server(dead_port(), fake.token)
    with pytest.raises(DomainError) as err:
        services_credentials.reset_panel_password(a.actor, a.service_id)
    assert err.value.key == "error.panel_unavailable"
    assert outbox() == [] and audits() == []
    assert fake.accounts["clienta"]["password_hash"] == before


def test_wrong_token_is_reported_without_the_token(fake, personas):
    point_server(fake.port, "WRONGTOKEN123456")
    with pytest.raises(DomainError) as err:
        services_provisioning.unsuspend(personas.owner.actor, personas.client_a.service_id)
    assert err.value.key == "services.error_wrong_status"  # checked before the panel
    with pytest.raises(DomainError) as err:
        services_provisioning.suspend(personas.owner.actor, personas.client_a.service_id, "Abuso")
    assert err.value.key == "error.panel_auth"
    assert "WRONGTOKEN" not in str(service(personas.client_a.service_id).panel_error)
    sent = [e for e in fake.log if e["path"].endswith("/suspendacct")]
    assert len(sent) == 1 and sent[0]["status"] == 401  # an auth failure is never retried
    assert service(personas.client_a.service_id).status == "active"


def test_a_refusal_carries_cpanels_reason_without_the_xid(fake, personas):
    fake.inject("suspendacct", "reject", reason="The account is locked by root (XID 9zz8aa)")
    with pytest.raises(DomainError) as err:
        services_provisioning.suspend(personas.owner.actor, personas.client_a.service_id, "Abuso")
    assert err.value.key == "error.panel_rejected"
    assert err.value.params == {"reason": "The account is locked by root"}
    assert service(personas.client_a.service_id).status == "active"


def test_staff_without_the_services_permission_cannot_suspend(fake, personas):
    with pytest.raises(Forbidden):
        services_provisioning.suspend(tickets_only_staff(), personas.client_a.service_id, "x")
    assert fake.accounts["clienta"]["suspended"] is False
    assert service(personas.client_a.service_id).status == "active"


def test_suspend_unsuspend_change_plan_and_terminate(fake, personas):
    staff, sid = personas.staff.actor, personas.client_a.service_id
    with pytest.raises(ValidationError):
        services_provisioning.suspend(staff, sid, "   ")
    services_provisioning.suspend(staff, sid, "Falta de pago")
    with pytest.raises(Conflict):
        services_provisioning.suspend(staff, sid, "otra vez")
    services_provisioning.unsuspend(staff, sid)
    assert service(sid).status == "active" and fake.accounts["clienta"]["suspended"] is False

    premium = add_product()
    with pytest.raises(ValidationError):
        services_provisioning.change_plan(staff, sid, service(sid).product_id)
    with pytest.raises(ValidationError):
        services_provisioning.change_plan(staff, sid, 9999)
    services_provisioning.change_plan(staff, sid, premium)
    assert service(sid).product_id == premium and fake.accounts["clienta"]["plan"] == "estandar"

    services_provisioning.terminate(personas.owner.actor, sid, today=date(2026, 11, 30))
    svc = service(sid)
    assert svc.status == "terminated" and svc.terminated_on == date(2026, 11, 30)
    assert "clienta" not in fake.accounts
    actions = [e.action for e in audits()]
    assert actions == [
        "service.suspended",
        "service.unsuspended",
        "service.plan_changed",
        "service.terminated",
    ]


def test_terminate_counts_an_account_already_gone_as_removed(fake, personas):
    del fake.accounts["clientb"]
    services_provisioning.terminate(personas.owner.actor, personas.client_b.service_id)
    assert service(personas.client_b.service_id).status == "terminated"


# ------------------------------------------------------------------ provisioning
def test_provisioning_creates_the_account_and_activates_the_service(fake, personas):
    sid = new_service(personas.client_a.actor.client_id, "tienda-nueva.ec")
    made = services_provisioning.provision(personas.staff.actor, sid)
    assert made.username == "tiendanu" and not made.adopted
    acct = fake.accounts["tiendanu"]
    assert acct["domain"] == "tienda-nueva.ec" and acct["plan"] == "basico"
    assert acct["email"] == "a@test.ec"
    svc = service(sid)
    assert svc.status == "active" and svc.panel_username == "tiendanu"
    [entry] = audits("service.provisioned")
    assert entry.details["adopted"] is False
    assert calls(fake, "createacct")[0]["params"]["password"] == "***"
    # Running it again creates nothing: the account is there, it is adopted.
    again = services_provisioning.provision(personas.staff.actor, sid)
    assert again.adopted and len(calls(fake, "createacct")) == 1


def test_createacct_timing_out_after_the_commit_ends_with_one_adopted_account(fake, personas):
    panel.configure(timeout=0.5, backoff=(0.01, 0.01, 0.01), reconcile_wait=2.0)
    sid = new_service(personas.client_a.actor.client_id, "lenta.ec")
    fake.inject("createacct", "timeout_after_commit", seconds=3)
    made = services_provisioning.provision(personas.owner.actor, sid)
    assert made.adopted and made.username == "lenta"
    assert [u for u, a in fake.accounts.items() if a["domain"] == "lenta.ec"] == ["lenta"]
    assert len(calls(fake, "createacct")) == 1  # reconciled by reading, never repeated
    svc = service(sid)
    assert svc.status == "active" and svc.panel_username == "lenta"


def test_an_unconfirmed_createacct_changes_nothing_and_the_retry_adopts(fake, personas):
    panel.configure(timeout=0.5, backoff=(0.01, 0.01, 0.01), reconcile_wait=0.6)
    sid = new_service(personas.client_a.actor.client_id, "perdida.ec")
    fake.inject("createacct", "timeout_after_commit", seconds=3)

    def break_reads_once_created() -> None:  # the panel goes away right after creating
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if calls(fake, "createacct"):
                fake.inject("listaccts", "http500", times=None)
                return
            time.sleep(0.002)

    saboteur = threading.Thread(target=break_reads_once_created)
    saboteur.start()
    with pytest.raises(DomainError) as err:
        services_provisioning.provision(personas.owner.actor, sid)
    saboteur.join()
    assert err.value.key == "error.panel_unconfirmed"
    svc = service(sid)
    assert svc.status == "pending" and svc.panel_username is None
    assert "createacct" in (svc.panel_error or "")

    fake.clear_faults()
    made = services_provisioning.provision(personas.owner.actor, sid)
    assert made.adopted and made.username == "perdida"
    assert [u for u, a in fake.accounts.items() if a["domain"] == "perdida.ec"] == ["perdida"]
    assert len(calls(fake, "createacct")) == 1
    assert service(sid).status == "active" and service(sid).panel_error is None


def test_provisioning_avoids_usernames_taken_on_the_panel_or_in_the_book(fake, personas):
    fake.add_account("tiendaxx", "otra.ec")
    new_service(personas.client_b.actor.client_id, "reservado.ec", "active", "tiendaxy")
    sid = new_service(personas.client_a.actor.client_id, "tiendaxy.ec")
    made = services_provisioning.provision(personas.owner.actor, sid)
    assert made.username not in ("tiendaxx", "tiendaxy") and made.username.startswith("tienda")
    assert fake.accounts[made.username]["domain"] == "tiendaxy.ec"


# ------------------------------------------------------------------------ resync
def test_resync_takes_status_from_the_panel_and_reports_the_rest(fake, personas):
    owner, a, b = personas.owner.actor, personas.client_a, personas.client_b
    fake.accounts["clienta"].update(suspended=True, suspendreason="Abuse")
    fake.accounts["clienta"]["plan"] = "premium"
    report = services_provisioning.resync(owner, a.service_id)
    fields = {(d.field, d.fixed) for d in report.differences}
    assert fields == {("status", True), ("plan", False)}
    svc = service(a.service_id)
    assert svc.status == "suspended" and svc.suspend_reason == "Abuse"
    assert services_provisioning.resync(owner, a.service_id).differences == [
        d for d in report.differences if d.field == "plan"
    ]

    del fake.accounts["clientb"]
    report = services_provisioning.resync(owner, b.service_id)
    assert [(d.field, d.fixed) for d in report.differences] == [("account", False)]
    assert service(b.service_id).status == "active"  # a missing account is for staff to judge

    sid = new_service(a.actor.client_id, "huerfana.ec")
    fake.add_account("huerfana", "huerfana.ec")
    report = services_provisioning.resync(owner, sid)
    assert {d.field for d in report.differences} == {"username", "status"}
    svc = service(sid)
    assert svc.panel_username == "huerfana" and svc.status == "active"


# ----------------------------------------------------------------------- servers
def test_servers_keep_the_token_encrypted_and_never_return_it(fake, personas, caplog):
    caplog.set_level(logging.DEBUG)
    owner = personas.owner.actor
    view = services.save_server(
        owner,
        name="Principal",
        hostname="127.0.0.1",
        port=fake.port,
        scheme="http",
        token=fake.token,
        verify_tls=False,
    )
    assert view.token_source == "encrypted" and fake.token not in repr(view)
    with read_session() as s:
        stored = s.get(Server, view.id).token_encrypted
    assert stored and fake.token not in stored and vault.decrypt(stored) == fake.token
    report = services.test_connection(owner, view.id)
    assert {"basico", "estandar", "premium"} <= set(report.plans)
    assert report.missing_packages == []
    listed = services.list_servers(owner)
    assert {s.name for s in listed} == {"sandbox", "Principal"}
    assert fake.token not in repr(listed)
    # Updating without a token keeps the stored one.
    services.save_server(
        owner,
        server_id=view.id,
        name="Principal",
        hostname="127.0.0.1",
        port=fake.port,
        scheme="http",
        verify_tls=False,
    )
    assert services.test_connection(owner, view.id).plans
    everything = caplog.text + json.dumps([e.details for e in audits()])
    assert fake.token not in everything
    assert [e.action for e in audits()] == ["server.created", "server.updated"]


def test_server_settings_are_validated_and_owner_only(fake, personas):
    owner = personas.owner.actor
    with pytest.raises(Forbidden):
        services.list_servers(personas.staff.actor)
    with pytest.raises(Forbidden):
        services.save_server(personas.staff.actor, name="x", hostname="h.example", token="T")
    bad = [
        {"name": "", "hostname": "whm.example.ec", "token": "T"},
        {"name": "x", "hostname": "not a host", "token": "T"},
        {"name": "x", "hostname": "whm.example.ec", "port": 70000, "token": "T"},
        {"name": "x", "hostname": "whm.example.ec", "scheme": "http", "token": "T"},
        {"name": "x", "hostname": "whm.example.ec"},
        {"name": "x", "hostname": "whm.example.ec", "token": "T", "token_env": "WHM_TOKEN"},
    ]
    for fields in bad:
        with pytest.raises(ValidationError):
            services.save_server(owner, **fields)
    with pytest.raises(Conflict):
        services.save_server(owner, name="sandbox", hostname="whm.example.ec", token="T")
    view = services.save_server(owner, name="env", hostname="whm.example.ec", token_env="WHM_X")
    assert view.token_source == "env" and view.token_env == "WHM_X"


def test_test_connection_reports_a_bad_token_clearly(fake, personas, monkeypatch):
    owner = personas.owner.actor
    monkeypatch.setenv("ANFITRION_TEST_WHM", "BADTOKEN")
    view = services.save_server(
        owner,
        name="env",
        hostname="127.0.0.1",
        port=fake.port,
        scheme="http",
        token_env="ANFITRION_TEST_WHM",
    )
    with pytest.raises(DomainError) as err:
        services.test_connection(owner, view.id)
    assert err.value.key == "error.panel_auth"
    monkeypatch.setenv("ANFITRION_TEST_WHM", fake.token)
    assert services.test_connection(owner, view.id).plans


# -------------------------------------------------------------------------- demo
def test_demo_accounts_are_created_once_on_the_sandbox(whm, database):
    whm.reset()
    panel.configure(**FAST)
    try:
        with unit_of_work() as s:
            demo.load(s, date(2026, 11, 26), sandbox_token=whm.token)
        report = services_demo.ensure_demo_accounts(whm.port, whm.token)
        with read_session() as s:
            live = s.scalars(select(Service).where(Service.status.in_(services.LIVE))).all()
            suspended = {v.panel_username for v in live if v.status == "suspended"}
            port = s.scalars(select(Server.port)).one()
        assert port == whm.port
        assert report.failed == 0 and not report.skipped
        assert report.created == len(live) == len(whm.accounts)
        assert {v.panel_username for v in live} == set(whm.accounts)
        assert {u for u, a in whm.accounts.items() if a["suspended"]} == suspended
        for v in live:
            assert whm.accounts[v.panel_username]["domain"] == v.domain
        again = services_demo.ensure_demo_accounts(whm.port, whm.token)
        assert again.created == 0 and again.existing == len(live) and again.suspended == 0
        # A server that is not the sandbox (another token) is never touched.
        assert services_demo.ensure_demo_accounts(whm.port, "OTHER").skipped
        with read_session() as s:
            # The demo's own writes (its users, its help articles) are audited; the panel
            # sync adds nothing.
            stmt = select(func.count()).where(
                AuditEntry.action.not_like("user.%"), AuditEntry.action.not_like("kb.%")
            )
            assert s.execute(stmt).scalar_one() == 0
    finally:
        panel.configure()
