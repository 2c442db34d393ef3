"""Settings (owner only): users and roles, security switches, audit log, outgoing mail.

The page draws only the open tab (ui.kit.tabs): each test opens the tab its form is on."""

from sqlalchemy import select

from core.accounts import user_by_email
from core.models import MailOutbox
from core.platform import settings
from core.platform.db import read_session
from tests.pages.apptest import app_as, open_tab, page_alone, texts, tr, tr_part
from tests.panel_fixtures import whm  # noqa: F401 - the fake panel fixture

TABS = "settings_tab"


def settings_tab(persona, label: str):
    """The settings page as ``persona``, on the tab ``label``."""
    at = app_as(persona, "settings")
    assert not at.exception
    return open_tab(at, TABS, label)


def test_the_owner_sees_the_team_and_the_audit_log(page_personas):
    at = app_as(page_personas.owner, "settings")
    assert not at.exception
    shown = texts(at)
    assert "staff@test.ec" in shown and "owner@test.ec" in shown
    assert "a@test.ec" not in at.dataframe[0].value.to_string()  # clients are not desk users
    # The audit log is a hidden tab: nothing of it is read or drawn until it is opened.
    assert "user.created" not in shown
    assert not at.get("download_button") and len(at.dataframe) == 1
    keys = {w.key for kind in ("text_input", "selectbox", "date_input") for w in at.get(kind)}
    assert not {"audit_actor", "audit_action", "audit_from"} & keys
    at = open_tab(at, TABS, tr("settings.audit"))
    assert not at.exception
    shown = texts(at)
    assert "user.created" in shown  # the audit log lists the personas' creation
    # the team is hidden
    assert len(at.dataframe) == 1 and tr("col.role") not in at.dataframe[0].value
    assert [b.key for b in at.get("download_button")] == ["audit_csv"]
    assert at.query_params["tab"] == "audit"  # the URL names the open tab


def test_a_link_to_a_tab_opens_it(page_personas):
    at = app_as(page_personas.owner, "settings", tab="audit")  # /settings?tab=audit
    assert not at.exception
    assert at.session_state[TABS] == tr("settings.audit")
    assert "user.created" in texts(at)
    at = open_tab(at, TABS, tr("settings.users"))  # the first tab leaves the URL clean
    assert "tab" not in at.query_params and "staff@test.ec" in texts(at)
    at = app_as(page_personas.owner, "settings", tab="nonsense")
    assert not at.exception and "staff@test.ec" in texts(at)  # the first tab
    assert "tab" not in at.query_params


def test_the_owner_invites_staff_who_get_a_welcome_link(page_personas):
    at = app_as(page_personas.owner, "settings")
    at.text_input(key="invite_email").input("nuevo.soporte@test.ec")
    at.text_input(key="invite_name").input("Nuevo Soporte")
    next(b for b in at.button if b.label == tr("settings.invite_submit")).click().run()
    with read_session() as s:
        user = user_by_email(s, "nuevo.soporte@test.ec")
        assert user.role == "staff" and user.password_hash is None
        assert s.scalars(select(MailOutbox.to_addr)).all() == ["nuevo.soporte@test.ec"]


def test_security_switches_are_saved(page_personas):
    at = settings_tab(page_personas.owner, tr("settings.security"))
    checkboxes = {c.label: c for c in at.checkbox}
    checkboxes[tr("settings.self_registration")].check()
    at.button(key="save_security").click().run()
    assert settings.get_bool("accounts.self_registration") is True


def test_queued_mail_is_readable_by_the_owner(page_personas):
    from core.accounts.recovery import request_reset
    from core.platform.clock import now

    request_reset("a@test.ec", now())
    at = settings_tab(page_personas.owner, tr("settings.outbox"))
    assert any("a@test.ec" in e.label for e in at.expander)
    assert any("?reset=" in t.value for t in at.text)


def test_nobody_but_the_owner_gets_settings(page_personas):
    for persona in (page_personas.staff, page_personas.client_a):
        at = page_alone(persona, "settings")
        assert [e.value for e in at.error] == [tr("error.page_not_allowed")]
        assert "owner@test.ec" not in texts(at)


# ------------------------------------------------------------------ the desk's settings
def _by_label(widgets, label: str):
    found = [w for w in widgets if w.label == label]
    assert found, f"no widget {label!r}; have {[w.label for w in widgets]}"
    return found[0]


def test_the_owner_gets_every_settings_tab(page_personas):
    at = app_as(page_personas.owner, "settings")
    assert not at.exception
    assert [t.label for t in at.tabs][:15] == [
        tr("settings.users"),
        tr("settings.security"),
        tr("settings.audit"),
        tr("settings.outbox"),
        tr("catalog.tab_business"),
        tr("catalog.tab_taxes"),
        tr("einvoice.tab"),
        tr("catalog.tab_products"),
        tr("catalog.tab_servers"),
        tr("catalog.tab_departments"),
        tr("catalog.tab_canned"),
        tr("catalog.tab_sla"),
        tr("catalog.tab_channels"),
        tr("catalog.tab_automation"),
        tr("catalog.tab_templates"),
    ]


def test_business_details_are_saved_from_the_form(page_personas):
    from core import catalog

    at = settings_tab(page_personas.owner, tr("catalog.tab_business"))
    at.text_input(key="business_name").input("Hosting Chimborazo")
    at.text_input(key="business_ruc").input("1719141770001")
    at.text_area(key="business_transfer").input("Banco Pichincha 2100")
    at.button(key="save_business").click().run()
    assert not at.error
    shop = catalog.business()
    assert (shop.name, shop.ruc, shop.transfer_instructions) == (
        "Hosting Chimborazo",
        "1719141770001",
        "Banco Pichincha 2100",
    )
    at.text_input(key="business_ruc").input("1790012345000")
    at.button(key="save_business").click().run()
    assert at.error and catalog.business().ruc == "1719141770001"


def test_a_tax_rate_is_added_from_the_form(page_personas):
    from datetime import date
    from decimal import Decimal

    from core import catalog

    at = settings_tab(page_personas.owner, tr("catalog.tab_taxes"))
    at.date_input(key="tax_rate_from").set_value(date(2027, 1, 1))
    at.selectbox(key="tax_rate_value").set_value(Decimal("13"))
    at.button(key="tax_rate_add_submit").click().run()
    assert not at.error
    assert catalog.iva_rate_on(date(2027, 1, 2)) == Decimal("13")
    assert catalog.iva_rate_on(date(2026, 12, 31)) == Decimal("15")


def test_a_price_change_from_the_form_waits_for_the_next_renewal(page_personas):
    from decimal import Decimal

    from core import catalog
    from core.models import Service

    at = settings_tab(page_personas.owner, tr("catalog.tab_products"))
    product_id = catalog.list_products(page_personas.owner.actor)[0].id
    at.selectbox(key="product_choice").set_value(product_id).run()
    at.text_input(key=f"product_{product_id}_price_monthly").input("12.50")
    at.checkbox(key=f"product_{product_id}_reprice").check()
    at.button(key=f"product_{product_id}_save").click().run()
    assert not at.error
    [rule] = catalog.pending_repricing()
    assert rule.amount == Decimal("12.50")
    with read_session() as s:
        amounts = set(s.scalars(select(Service.recurring_amount)))
    assert amounts == {Decimal("10.00")}  # unchanged until the next renewal


def test_servers_are_listed_without_their_token(page_personas):
    from core.models import Server
    from core.platform import vault
    from core.platform.db import unit_of_work

    with unit_of_work() as s:
        for server in s.scalars(select(Server)):
            server.token_encrypted = vault.encrypt("SECRET-TOKEN-123")
    at = settings_tab(page_personas.owner, tr("catalog.tab_servers"))
    frames = "\n".join(f.value.to_string() for f in at.dataframe)
    assert "sandbox" in frames and tr("catalog.credential_encrypted") in frames
    everything = texts(at) + frames + " ".join(str(t.value) for t in at.text_input)
    assert "SECRET-TOKEN-123" not in everything
    # no server chosen
    assert any(b.label == tr("catalog.test_connection") for b in at.button) is False
    server_id = next(iter(at.selectbox(key="server_choice").options[1:]), None)
    assert server_id is not None


def test_a_mail_template_is_previewed_and_saved(page_personas):
    from core.platform import settings as stored

    at = settings_tab(page_personas.owner, tr("catalog.tab_templates"))
    at.selectbox(key="template_name").set_value("welcome").run()
    box = at.text_area(key="template_text_welcome_es")
    assert "{{ link }}" in box.value
    box.input("Bienvenido a Hosting Chimborazo\nHola {{ name }}, entre aquí: {{ link }}")
    at.button(key="template_preview").click().run()
    assert "Bienvenido a Hosting Chimborazo" in [t.value for t in at.text]
    assert any("María Andrade" in t.value for t in at.text)
    at.button(key="template_save").click().run()
    assert stored.get_text("mail.template.es.welcome").startswith("Bienvenido a Hosting")
    at.text_area(key="template_text_welcome_es").input("Asunto\n{{ password }}")
    at.button(key="template_save").click().run()
    assert at.error and stored.get_text("mail.template.es.welcome").startswith("Bienvenido")


def test_sla_targets_and_a_support_channel_are_saved(page_personas):
    from core.platform.clock import now
    from core.support import channels as support_channels
    from core.support import sla

    at = settings_tab(page_personas.owner, tr("catalog.tab_sla"))
    at.number_input(key="sla_first_urgent").set_value(2)
    at.number_input(key="sla_resolution_urgent").set_value(6)
    at.text_input(key="sla_business_hours").input("mon-fri 08:00-18:00")
    at.button(key="sla_save").click().run()
    assert not at.error
    assert sla.targets()["urgent"] == (2, 6)
    assert sla.business_hours() is not None
    at = open_tab(at, TABS, tr("catalog.tab_channels"))
    _by_label(at.text_input, tr("catalog.channel_label")).input("WhatsApp ventas")
    _by_label(at.text_input, tr("catalog.channel_target")).input("+593 99 123 4567")
    at.button(key="channel_0_save").click().run()
    assert not at.error
    [channel] = support_channels.list_channels(page_personas.owner.actor, now())
    assert (channel.kind, channel.target) == ("whatsapp", "593991234567")


def test_the_desk_rules_are_saved_from_the_sla_tab(page_personas):
    from core.support import desk_admin as tickets_admin
    from core.support import tickets

    at = settings_tab(page_personas.owner, tr("catalog.tab_sla"))
    assert at.number_input(key="desk_autoclose_days").value == 5
    assert at.text_input(key="desk_attachment_types").value == "pdf, jpg, png, gif, txt, zip"
    at.number_input(key="desk_autoclose_days").set_value(0)
    at.number_input(key="desk_attachment_max_mb").set_value(10)
    at.text_input(key="desk_attachment_types").input("pdf, PNG, jpeg")
    at.button(key="desk_rules_save").click().run()
    assert not at.error
    assert tr("settings.saved") in texts(at)
    assert tickets_admin.desk_rules() == tickets_admin.DeskRules(0, ("pdf", "png", "jpg"), 10)
    assert tickets.attachment_rules().max_mb == 10
    at.text_input(key="desk_attachment_types").input("pdf, exe")
    at.button(key="desk_rules_save").click().run()
    assert [e.value for e in at.error] == [
        tr(
            "error.ticket_attachment_extension_unknown",
            ext="exe",
            known="pdf, jpg, jpeg, png, gif, webp, txt, log, zip",
        )
    ]
    assert tickets_admin.desk_rules().attachment_types == ("pdf", "png", "jpg")


def test_a_department_and_a_canned_reply_are_saved(page_personas):
    from core.support import desk_admin as tickets_admin

    at = settings_tab(page_personas.owner, tr("catalog.tab_departments"))
    _by_label(at.text_input, tr("catalog.department")).input("Ventas")
    at.button(key="department_0_save").click().run()
    assert not at.error
    names = [d.name for d in tickets_admin.departments(page_personas.owner.actor)]
    assert "Ventas" in names
    at = open_tab(at, TABS, tr("catalog.tab_canned"))
    _by_label(at.text_input, tr("catalog.canned_title")).input("Saludo")
    _by_label(at.text_area, tr("catalog.canned_body")).input("Gracias por escribirnos.")
    at.button(key="canned_0_save").click().run()
    assert not at.error
    [reply] = tickets_admin.canned_replies(page_personas.owner.actor)
    assert (reply.title, reply.language) == ("Saludo", "es")


def test_automation_is_linked_not_duplicated(page_personas):
    at = settings_tab(page_personas.owner, tr("catalog.tab_automation"))
    assert any(tr("catalog.automation_where") in i.value for i in at.info)
    [link] = at.get("page_link")  # to the billing page's automation settings tab
    assert (link.proto.page, link.proto.query_string) == ("billing", "auto=settings")


def test_test_connection_against_the_fake_panel(whm, page_personas):  # noqa: F811
    from core import panel
    from core.models import Server
    from core.platform.db import read_session as reading
    from tests.panel_fixtures import ready

    fake = ready(whm)
    try:
        with reading() as s:
            server_id = s.scalars(select(Server.id)).one()
        at = settings_tab(page_personas.owner, tr("catalog.tab_servers"))
        at.selectbox(key="server_choice").set_value(server_id).run()
        at.button(key="server_test").click().run()
        assert not at.exception and not at.error
        assert any(tr_part("catalog.connection_ok") in s.value for s in at.success)
        assert fake.token not in texts(at)
    finally:
        whm.clear_faults()
        panel.configure()


def test_switching_the_language_keeps_the_open_tab(page_personas):
    from dataclasses import replace

    from core import accounts
    from core.platform.clock import now
    from ui.kit.context import ACTOR_KEY

    owner = page_personas.owner
    at = settings_tab(owner, tr("settings.audit"))
    accounts.set_language(owner.actor, "en", now())
    at.session_state[ACTOR_KEY] = replace(owner.actor, language="en")  # as the gate reloads it
    at.run()
    assert not at.exception
    assert [t.label for t in at.tabs][:3] == [
        tr("settings.users", "en"),
        tr("settings.security", "en"),
        tr("settings.audit", "en"),
    ]
    assert at.session_state[TABS] == tr("settings.audit", "en") and "user.created" in texts(at)
