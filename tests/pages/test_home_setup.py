"""The owner's first-run checklist on the home page (issue 16 item 20): what is missing of the
business's details, each linked to the Settings place that fills it in; gone once complete;
never shown to staff or clients."""

from __future__ import annotations

from core import catalog
from tests.pages.apptest import app_as, texts, tr


def links(at) -> list[tuple[str, str]]:
    return [(link.proto.label, link.proto.query_string) for link in at.get("page_link")]


def test_the_owner_sees_what_is_missing_with_links_to_settings(page_personas):
    at = app_as(page_personas.owner, "home")
    assert not at.exception
    assert tr("setup.title") in [h.value for h in at.subheader]
    assert tr("setup.missing", n=4) in texts(at)
    wanted = [(tr(f"setup.item.{key}"), "tab=business") for key in catalog.REQUIRED_DETAILS]
    assert [pair for pair in links(at) if pair in wanted] == wanted
    pages = {
        link.proto.page for link in at.get("page_link") if "tab=business" in link.proto.query_string
    }  # noqa: E501
    assert pages == {"settings"}

    owner = page_personas.owner.actor
    catalog.save_business(owner, name="Mi Hosting", ruc="1791458710001", address="Quito",
                          transfer_instructions="")  # fmt: skip
    at = app_as(page_personas.owner, "home")
    assert tr("setup.missing.one") in texts(at)
    assert [
        label
        for label, _ in links(at)
        if label.startswith(tr("setup.item.billing.transfer_instructions"))
    ]
    catalog.save_business(owner, name="Mi Hosting", ruc="1791458710001", address="Quito",
                          transfer_instructions="Banco Pichincha 123")  # fmt: skip
    at = app_as(page_personas.owner, "home")
    assert tr("setup.title") not in texts(at)


def test_staff_and_clients_see_no_checklist(page_personas):
    for who in (page_personas.staff, page_personas.client_a):
        at = app_as(who, "home")
        assert not at.exception and tr("setup.title") not in texts(at)
