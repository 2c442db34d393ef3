"""Settings → Productos (issue 19): the owner makes an add-on product, says which plans it
fits and that staff act on it; it then shows on a client's service page of that plan."""

from __future__ import annotations

from core import addons, catalog
from tests.pages.apptest import app_as, texts, tr
from tests.pages.test_settings_page import settings_tab


def by_label(widgets, label: str):
    return next(w for w in widgets if w.label == label)


def test_the_owner_makes_an_add_on_that_fits_a_plan(page_personas):
    owner = page_personas.owner
    at = settings_tab(owner, tr("catalog.tab_products"))
    plan = catalog.list_products(owner.actor)[0]
    by_label(at.text_input, tr("catalog.product")).input("Certificado SSL")
    at.text_input(key="product_0_price_monthly").input("3.00")
    at.text_input(key="product_0_setup_monthly").input("5.00")
    at.selectbox(key="product_0_kind").set_value("addon")
    at.selectbox(key="product_0_action").set_value("staff")
    at.multiselect(key="product_0_fits").set_value([plan.id])
    at.button(key="product_0_save").click().run()
    assert not at.exception and not at.error
    made = next(p for p in catalog.list_products(owner.actor) if p.name == "Certificado SSL")
    assert (made.kind, made.addon_fits, made.addon_action, made.whm_package) == (
        "addon",
        (plan.id,),
        "staff",
        "",
    )
    assert tr("addons.kind.addon") in texts(at)
    a = page_personas.client_a
    assert [o.name for o in addons.offers(a.actor, a.service_id)] == ["Certificado SSL"]
    page = app_as(a, "services", service=str(a.service_id))
    assert tr("addons.title") in texts(page)
    assert any("Certificado SSL" in o for o in page.selectbox(key="addons_product").options)


def test_the_owner_makes_a_disk_add_on_and_a_bad_mb_is_refused(page_personas):
    """Action "quota": the add-on raises its parent's cPanel disk quota by the MB given; the
    MB must be a whole number above zero (a translated error otherwise, nothing saved)."""
    owner = page_personas.owner
    at = settings_tab(owner, tr("catalog.tab_products"))
    plan = catalog.list_products(owner.actor)[0]
    assert tr("addons.quota_mb") in [w.label for w in at.text_input]
    by_label(at.text_input, tr("catalog.product")).input("Espacio extra en disco")
    at.text_input(key="product_0_price_monthly").input("2.00")
    at.selectbox(key="product_0_kind").set_value("addon")
    at.selectbox(key="product_0_action").set_value("quota")
    assert tr("addons.action.quota") in at.selectbox(key="product_0_action").options
    at.multiselect(key="product_0_fits").set_value([plan.id])
    for bad in ("", "0", "-10", "1.5", "mucho"):
        at.text_input(key="product_0_quota_mb").input(bad)
        at.button(key="product_0_save").click().run()
        assert not at.exception
        assert [e.value for e in at.error] == [tr("addons.error_quota_mb")], bad
    assert "Espacio extra en disco" not in {p.name for p in catalog.list_products(owner.actor)}
    at.text_input(key="product_0_quota_mb").input("1024")
    at.button(key="product_0_save").click().run()
    assert not at.exception and not at.error
    made = next(p for p in catalog.list_products(owner.actor) if p.name == "Espacio extra en disco")
    assert (made.kind, made.addon_action, made.addon_quota_mb) == ("addon", "quota", 1024)
    # Editing it shows the MB it adds.
    at = settings_tab(owner, tr("catalog.tab_products"))
    at.selectbox(key="product_choice").set_value(made.id).run()
    assert at.text_input(key=f"product_{made.id}_quota_mb").value == "1024"
