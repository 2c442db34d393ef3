"""Issue 16 item 2 in real Chromium: ordering a plan shows what it costs and the credit it
will use, places nothing until the client confirms, and then says the truth (paid by credit:
the account is active now)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from core import billing, panel
from core.models import Client, Service
from core.platform.db import read_session
from core.platform.i18n import money, t
from sandbox.whm_server import FakeWhm
from tests.e2e.conftest import serve_app, sign_in
from tests.e2e.journeys_conftest import eventually, main_text, settle
from tests.panel_fixtures import ready
from tests.personas import Personas

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shop() -> Iterator[tuple[str, Personas]]:
    with FakeWhm() as whm:

        def prepare(personas: Personas) -> None:
            ready(whm)
            panel.configure()
            billing.add_credit(
                personas.owner.actor, personas.client_a.actor.client_id, "50.00", "saldo"
            )

        yield from serve_app(prepare)


def test_an_order_paid_by_credit_is_confirmed_first_and_told_truly(shop, browser, shot):
    base, personas = shop
    a = personas.client_a
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, a.email, personas.password)
    page.goto(f"{base}/upgrades")
    settle(page)
    page.get_by_role("textbox", name=t("orders.domain")).fill("tienda-nueva.ec")
    page.get_by_role("button", name=t("orders.review")).click()
    settle(page)
    page.get_by_text(t("orders.confirm_by_credit", credit=money("11.50"))).wait_for()
    shot(page, "order-cost-and-credit")
    text = main_text(page)
    assert t("orders.quote_credit") in text and t("orders.quote_to_pay") in text
    with read_session() as s:  # nothing placed, no credit spent yet
        assert s.scalars(select(Service).where(Service.domain == "tienda-nueva.ec")).first() is None
        assert s.get(Client, a.actor.client_id).credit_balance == 50
    page.get_by_role("button", name=t("orders.submit")).click()
    settle(page)
    done = t(
        "orders.placed_active",
        domain="tienda-nueva.ec",
        total=money("11.50"),
        credit=money("11.50"),
    )
    page.get_by_text(done).wait_for(timeout=30_000)
    shot(page, "order-placed-active")

    def active() -> bool:
        with read_session() as s:
            svc = s.scalars(select(Service).where(Service.domain == "tienda-nueva.ec")).first()
            return svc is not None and svc.status == "active"

    eventually(active)
    context.close()
