"""The upgrades page (issue 19): before a plan change is confirmed, the client reads which
add-ons it would end and why; the add-ons that fit the new plan are not mentioned."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.models import Product, ProductPrice, ServiceAddon
from core.platform.db import unit_of_work
from tests.pages.apptest import app_as, tr
from tests.pages.test_upgrades_page import catalogue, fake, unblock  # noqa: F401 - fixtures
from tests.panel_fixtures import whm  # noqa: F401 - fixtures


def test_the_quote_says_which_add_ons_the_change_ends(fake, page_personas):
    estandar = catalogue()
    a = page_personas.client_a
    unblock(page_personas, a)
    with unit_of_work() as s:
        basico = s.scalars(select(Product).where(Product.name == "Básico")).one()
        for name, fits in (
            ("Certificado SSL", [basico.id]),
            ("Copias diarias", [basico.id, estandar]),
        ):
            extra = Product(name=name, whm_package="", kind="addon", addon_fits=fits)
            s.add(extra)
            s.flush()
            s.add(ProductPrice(product_id=extra.id, cycle="monthly", price=Decimal("2.00")))
            s.add(
                ServiceAddon(
                    client_id=a.actor.client_id,
                    service_id=a.service_id,
                    product_id=extra.id,
                    status="active",
                    recurring_amount=Decimal("2.00"),
                )
            )
    at = app_as(a, "upgrades")
    at.selectbox(key="upgrades_service").select(a.service_id).run()
    assert not at.exception
    warnings = [w.value for w in at.warning]
    assert (
        tr("addons.plan_change_ends", addon="Certificado SSL", reason=tr("addons.why_misfit"))
        in warnings
    )
    assert not [w for w in warnings if "Copias diarias" in w]  # it fits Estándar: kept
