"""The owner's automation section of the billing page (AppTest on SQLite, fake panel):
preview of a chosen date, the ledger, holds, approvals and settings. Staff with billing
rights and clients see none of it. Only the open tab is drawn (ui.kit.tabs): each test opens
the tab its form is on."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core import accounts, automation
from core.automation import oversight as automation_owner
from core.models import Service
from core.platform import settings, vault
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from tests.pages.apptest import app_as, open_tab, texts, tr
from tests.panel_fixtures import page_fake, whm  # noqa: F401 - fixtures
from tests.personas import TOTP_SECRET, Persona

D = date.fromisoformat
TITLE = tr("automation.title")
TABS = "auto_tab"


def button(at, label: str):
    return next(b for b in at.button if b.label == label)


def test_owner_previews_a_date_and_searches_it(page_fake, page_personas):
    at = app_as(page_personas.owner, "billing")
    assert not at.exception
    assert TITLE in [h.value for h in at.header]
    assert tr("automation.preview_pick") in texts(at)
    at.date_input(key="auto_preview_on").set_value(D("2026-12-10")).run()
    assert not at.exception
    preview = texts(at)
    assert tr("automation.step.suspend") in preview and tr("automation.step.late_fee") in preview
    assert "cliente-a.ec" in preview and "cliente-b.ec" in preview
    assert tr("automation.kind.first") in preview
    at.text_input(key="auto_preview_search").set_value("cliente-b").run()
    shown = texts(at)
    assert "cliente-b.ec" in shown and "cliente-a.ec" not in shown
    with read_session() as s:  # the preview wrote nothing
        assert {x.status for x in s.scalars(select(Service))} == {"active"}
    assert automation_owner.runs(page_personas.owner.actor) == []


def test_owner_reads_the_ledger_of_runs(page_fake, page_personas):
    page_fake.inject("suspendacct", "reject", times=1, reason="Cuenta bloqueada")
    automation.run(D("2026-12-10"))
    at = app_as(page_personas.owner, "billing")
    assert not at.exception
    assert "Cuenta bloqueada" not in texts(at)  # a hidden tab: the ledger is not even read
    at = open_tab(at, TABS, tr("automation.tab_ledger"))
    shown = texts(at)
    assert tr("automation.status.failed") in shown and "Cuenta bloqueada" in shown
    assert tr("automation.step.suspend") in shown and tr("automation.step.late_fee") in shown
    at.text_input(key="auto_action_search").set_value("F-B-1").run()
    ledger = at.dataframe[-1].value.to_string()
    assert "F-B-1" in ledger and "cliente-a.ec" not in ledger


def test_owner_holds_a_service_and_approves_a_termination(page_fake, page_personas):
    owner, a = page_personas.owner, page_personas.client_a
    settings.put(owner.actor, "terminate_enabled", True)
    settings.put(owner.actor, "terminate_requires_approval", True)
    automation.run(D("2027-01-04"))
    at = app_as(owner, "billing")
    assert tr("automation.approvals_title") not in texts(at)
    at = open_tab(at, TABS, tr("automation.tab_hold"))
    assert tr("automation.approvals_title") in texts(at)
    button(at, tr("automation.approve_submit")).click().run()
    assert [e.value for e in at.error] == [tr("billing.confirm_needed")]
    at.checkbox(key="auto_approve_ok").check()
    button(at, tr("automation.approve_submit")).click().run()
    assert not at.exception and [s.value for s in at.success] == [tr("automation.approved_done")]
    statuses = sorted(
        (sid, status) for sid, status in _statuses().items() if status == "terminated"
    )
    assert len(statuses) == 1
    # Hold the other one (still live) until a date.
    live = next(sid for sid, st in _statuses().items() if st != "terminated")
    at.date_input(key="auto_hold_until").set_value(D("2027-02-01"))
    at.selectbox(key="auto_hold_service").set_value(live)
    button(at, tr("automation.hold_submit")).click().run()
    assert not at.exception and [s.value for s in at.success] == [tr("automation.hold_done")]
    with read_session() as s:
        assert s.get(Service, live).hold_until == D("2027-02-01")
    assert a.service_id in _statuses()


def test_owner_changes_a_setting_and_a_bad_value_is_refused(page_fake, page_personas):
    owner = page_personas.owner
    at = app_as(owner, "billing")
    assert not [w for w in at.number_input if (w.key or "").startswith("auto_set_")]
    at = open_tab(at, TABS, tr("automation.tab_settings"))
    at.number_input(key="auto_set_suspend_days").set_value(8)
    at.checkbox(key="auto_set_terminate_enabled").check()
    button(at, tr("automation.settings_submit")).click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("automation.settings_saved")]
    current = automation_owner.current_settings(owner.actor)
    assert current.suspend_days == 8 and current.terminate_enabled
    at.text_input(key="auto_set_late_fee_amount").set_value("2,5x")
    button(at, tr("automation.settings_submit")).click().run()
    assert [e.value for e in at.error] == [tr("error.automation_invalid_late_fee_amount")]
    assert automation_owner.current_settings(owner.actor).late_fee_amount == current.late_fee_amount


def test_staff_with_billing_rights_and_clients_see_none_of_it(page_fake, page_personas):
    automation.run(D("2026-12-10"))
    with unit_of_work() as s:
        user = accounts.create_user(
            s,
            role="staff",
            email="cobros@test.ec",
            name="Cobros",
            password=page_personas.password,
            permissions=["billing"],
            at=now(),
        )
        user.verified_at = user.totp_enabled_at = now()
        user.totp_secret = vault.encrypt(TOTP_SECRET)
        biller = Persona(user.email, accounts.actor_from_user(user))
    for who in (biller, page_personas.client_a, page_personas.client_b):
        at = app_as(who, "billing")
        assert not at.exception
        shown = texts(at)
        assert TITLE not in shown and tr("automation.title", "en") not in shown
        assert (
            tr("automation.tab_ledger") not in shown
            and tr("automation.tab_ledger", "en") not in shown
        )
        assert not [w for w in at.date_input if (w.key or "").startswith("auto_")]
    assert "F-A-1" in texts(app_as(biller, "billing"))  # the back office itself is there


def test_the_hold_chooser_searches_services_in_sql(page_fake, page_personas):
    a, b = page_personas.client_a, page_personas.client_b
    at = open_tab(app_as(page_personas.owner, "billing"), TABS, tr("automation.tab_hold"))
    assert not at.exception
    assert set(at.selectbox(key="auto_hold_service").options) == {
        "cliente-a.ec · Cliente A",
        "cliente-b.ec · Cliente B",
    }
    at.text_input(key="auto_hold_search").input("cliente-b").run()
    assert at.selectbox(key="auto_hold_service").options == ["cliente-b.ec · Cliente B"]
    assert at.selectbox(key="auto_hold_service").value == b.service_id
    at.text_input(key="auto_hold_search").input("Cliente A").run()  # by the client's name
    assert at.selectbox(key="auto_hold_service").value == a.service_id
    at.text_input(key="auto_hold_search").input("nadie-se-llama-asi").run()
    assert not at.exception
    assert not [w for w in at.selectbox if w.key == "auto_hold_service"]
    assert tr("automation.hold_none_found") in texts(at)


def test_a_link_opens_the_automation_settings(page_fake, page_personas):
    # Settings → Automatización links here with ?auto=settings.
    at = app_as(page_personas.owner, "billing", auto="settings")
    assert not at.exception
    assert at.number_input(key="auto_set_suspend_days").value == 5
    assert tr("automation.preview_pick") not in texts(at)


def _statuses() -> dict[int, str]:
    with read_session() as s:
        return {sid: st for sid, st in s.execute(select(Service.id, Service.status))}


def test_the_preview_shows_each_renewals_add_on_lines(page_fake, page_personas):
    """Issue 19: a renewal that carries add-ons lists their lines as the invoice will."""
    from datetime import datetime
    from decimal import Decimal

    from core import addons, billing
    from core.access import SYSTEM
    from core.models import Invoice, Product, ProductPrice

    a = page_personas.client_a
    with unit_of_work() as s:
        plan = s.get_one(Service, a.service_id).product_id
        ssl = Product(name="Certificado SSL", whm_package="", kind="addon", addon_fits=[plan])
        s.add(ssl)
        s.flush()
        s.add(ProductPrice(product_id=ssl.id, cycle="monthly", price=Decimal("3.00")))
        ssl_id = ssl.id

    def paid(invoice_id: int, on: str) -> None:
        with read_session() as s:
            balance = s.get_one(Invoice, invoice_id).balance
        billing.record_payment(SYSTEM, [invoice_id], balance, received_on=D(on))

    paid(a.invoice_id, "2026-12-01")  # December paid: next due 2027-01-05
    noon = datetime(2026, 12, 20, 17, 0)
    _, invoice_id = addons.order(a.actor, a.service_id, ssl_id, at=noon)
    paid(invoice_id, "2026-12-20")
    at = app_as(page_personas.owner, "billing")
    at.date_input(key="auto_preview_on").set_value(D("2026-12-22")).run()
    assert not at.exception
    frame = next(d.value for d in at.dataframe if tr("automation.col.addons") in d.value.columns)
    row = frame[frame[tr("automation.col.target")] == "cliente-a.ec"].iloc[0]
    assert row[tr("automation.col.addons")] == (
        "Certificado SSL para cliente-a.ec, del 5 ene 2027 al 4 feb 2027"
    )
    at.text_input(key="auto_preview_search").set_value("certificado ssl").run()
    assert "cliente-a.ec" in texts(at) and "cliente-b.ec" not in texts(at)
