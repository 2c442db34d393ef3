"""The support page (AppTest on SQLite): the configured channels for every role, with an
"open now" indicator that is deterministic because one channel is 24/7 and one is closed."""

from __future__ import annotations

from core.support import channels as support_channels
from tests.pages.apptest import app_as, texts, tr


def _seed(owner) -> None:
    support_channels.save_channel(
        owner,
        kind="whatsapp",
        label="WhatsApp 24/7 [x](http://x)",
        target="+593 99 123 4567",
        prefill="Hola, necesito ayuda",
        hours="24/7",
        sort_order=1,
    )
    support_channels.save_channel(
        owner,
        kind="phone",
        label="Línea fija",
        target="+593 4 600 1234",
        hours="closed",
        sort_order=2,
    )
    support_channels.save_channel(
        owner,
        kind="status",
        label="Estado (oculto)",
        target="https://estado.hosting.ec",
        active=False,
    )


def _links(at) -> list[tuple[str, str]]:
    return [(e.proto.label, e.proto.url) for e in at.get("link_button")]


def test_client_sees_channels_with_open_now(page_personas):
    _seed(page_personas.owner.actor)
    at = app_as(page_personas.client_a, "support")
    assert not at.exception
    shown = texts(at)
    assert tr("page.support") in shown
    # The label already names the kind: not "WhatsApp · WhatsApp 24/7" (issue 16 item 22).
    assert "WhatsApp 24/7 [x](http://x)" in [t.value for t in at.text]
    assert f"{tr('support.kind.phone')} · Línea fija" in [t.value for t in at.text]
    assert "Estado (oculto)" not in shown
    assert f"{tr('support.hours')}: {tr('support.hours_always')}" in shown
    assert f"{tr('support.hours')}: {tr('support.hours_closed')}" in shown
    badges = [m.value for m in at.markdown if "badge" in m.value]
    assert len(badges) == 2
    assert tr("support.open_now") in badges[0] and tr("support.closed_now") in badges[1]
    assert _links(at) == [
        (
            tr("support.action.whatsapp"),
            "https://wa.me/593991234567?text=Hola%2C%20necesito%20ayuda",
        ),
        (tr("support.action.phone"), "tel:+59346001234"),
    ]
    assert all("[x](http://x)" not in m.value for m in at.markdown)  # the label stays text


def test_every_role_reads_the_page_in_its_language(page_personas):
    _seed(page_personas.owner.actor)
    at = app_as(page_personas.client_b, "support")
    assert not at.exception
    shown = texts(at)
    assert (
        f"{tr('support.hours', 'en')}: {tr('support.hours_always', 'en')}" in shown
        and tr("support.open_now", "en") in shown
        and tr("support.closed_now", "en") in shown
    )
    for persona in (page_personas.staff, page_personas.owner):
        at = app_as(persona, "support")
        assert not at.exception
        assert "Línea fija" in texts(at)


def test_no_channels_yet(page_personas):
    at = app_as(page_personas.client_a, "support")
    assert not at.exception
    assert tr("support.none") in texts(at)
