"""Issue 19, disk-quota add-ons on the panel: an "extra disk" add-on raises its parent's cPanel
quota (WHM editquota, after commit) when its first invoice is paid, the quota goes back down
when it ends, it is set again after a plan change (changepackage resets it), a suspension keeps
it, and a panel that fails leaves the add-on pending for the daily run, which sets it safely.

Against the sandbox WHM server: client A's account ``clienta`` is on package ``basico``
(2048 MB); the add-on adds 1024 MB.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import addons, automation, billing
from core.access import SYSTEM
from core.addons import quota
from core.automation import oversight
from core.models import AuditEntry, InvoiceItem, Product, ProductPrice, Service, ServiceAddon
from core.panel.whm import WhmClient
from core.platform.db import read_session, unit_of_work
from core.platform.errors import DomainError
from core.services import provisioning as services_provisioning
from tests.panel_fixtures import calls, fake, whm  # noqa: F401 - fixtures

D = date.fromisoformat
BASICO, EXTRA = 2048, 1024


def noon(day: str) -> datetime:
    return datetime.fromisoformat(day + "T17:00:00")  # noon in Guayaquil, stored UTC


def disk_product(personas, *also_fits: int) -> int:
    """ "Espacio extra en disco": +1024 MB on the panel, 2.00 a month, fits the personas' plan."""
    with unit_of_work() as s:
        plan = s.get_one(Service, personas.client_a.service_id).product_id
        disk = Product(
            name="Espacio extra en disco",
            name_en="Extra disk space",
            whm_package="",
            kind="addon",
            addon_fits=[plan, *also_fits],
            addon_action="quota",
            addon_quota_mb=EXTRA,
        )
        s.add(disk)
        s.flush()
        s.add(ProductPrice(product_id=disk.id, cycle="monthly", price=Decimal("2.00")))
        return disk.id


def limit(fake) -> int | None:
    """The disk limit the panel reports for client A's account (listaccts over HTTP)."""
    with WhmClient(fake.url, "root", fake.token, timeout=2.0, backoff=(0.01,)) as whm:
        mb = whm.account("clienta")["disk_limit_mb"]
    return None if mb is None else int(mb)


def pay(invoice_id: int, on: date) -> None:
    with read_session() as s:
        from core.models import Invoice

        balance = s.get_one(Invoice, invoice_id).balance
    billing.record_payment(SYSTEM, [invoice_id], balance, received_on=on)


def addon(addon_id: int) -> ServiceAddon:
    with read_session() as s:
        return s.get_one(ServiceAddon, addon_id)


def ordered(personas, product_id: int) -> tuple[int, int]:
    """Client A pays December, then orders the add-on on 2026-12-20 (its invoice unpaid)."""
    a = personas.client_a
    pay(a.invoice_id, D("2026-12-01"))  # next due 2027-01-05
    return addons.order(a.actor, a.service_id, product_id, at=noon("2026-12-20"))


def ordered_and_paid(personas, product_id: int) -> int:
    addon_id, invoice_id = ordered(personas, product_id)
    pay(invoice_id, D("2026-12-20"))
    return addon_id


def audits(action: str) -> list[AuditEntry]:
    with read_session() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_paying_the_first_invoice_raises_the_quota_and_ending_it_lowers_it(fake, personas):
    disk = disk_product(personas)
    a = personas.client_a
    addon_id, invoice_id = ordered(personas, disk)
    assert limit(fake) == BASICO and calls(fake, "editquota") == []  # not before it is paid
    pay(invoice_id, D("2026-12-20"))
    assert (addon(addon_id).status, addon(addon_id).panel_pending) == ("active", False)
    assert limit(fake) == BASICO + EXTRA
    assert [e["params"]["quota"] for e in calls(fake, "editquota")] == ["3072"]
    assert len(audits("addon.quota_set")) == 1
    # Suspended with its parent it keeps the space; nothing is sent to the panel.
    services_provisioning.suspend(personas.owner.actor, a.service_id, "Abuso")
    assert addon(addon_id).status == "suspended" and limit(fake) == BASICO + EXTRA
    services_provisioning.unsuspend(personas.owner.actor, a.service_id)
    assert len(calls(fake, "editquota")) == 1
    # Cancelled at period end: the daily run ends it on Jan 5 and the quota goes back down.
    addons.cancel_at_period_end(a.actor, addon_id, at=noon("2026-12-21"))
    automation.run(D("2027-01-04"))
    assert limit(fake) == BASICO + EXTRA  # paid until Jan 4
    counts = automation.run(D("2027-01-05")).counts
    assert counts["addons_ended"] == 1 and counts["failures"] == 0
    assert addon(addon_id).status == "cancelled" and not addon(addon_id).panel_pending
    assert limit(fake) == BASICO
    assert [e["params"]["quota"] for e in calls(fake, "editquota")] == ["3072", "2048"]


def test_a_terminated_parent_has_no_account_left_to_set(fake, personas):
    disk = disk_product(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, disk)
    sent = len(calls(fake, "editquota"))
    services_provisioning.terminate(personas.owner.actor, a.service_id, today=D("2026-12-28"))
    gone = addon(addon_id)
    assert (gone.status, gone.panel_pending) == ("terminated", False)
    assert len(calls(fake, "editquota")) == sent and "clienta" not in fake.accounts


def test_a_plan_change_sets_the_quota_again_on_the_new_package(fake, personas):
    with unit_of_work() as s:
        plus = Product(name="Plus", whm_package="estandar")  # 10240 MB
        other = Product(name="Otro", whm_package="premium")  # 30720 MB, the add-on misfits
        s.add_all([plus, other])
        s.flush()
        plus_id, other_id = plus.id, other.id
    disk = disk_product(personas, plus_id)
    a, owner = personas.client_a, personas.owner.actor
    addon_id = ordered_and_paid(personas, disk)
    services_provisioning.change_plan(owner, a.service_id, plus_id)
    # changepackage put estandar's 10240 back; the add-on's 1024 is added again.
    assert fake.accounts["clienta"]["plan"] == "estandar"
    assert limit(fake) == 10240 + EXTRA and not addon(addon_id).panel_pending
    # A plan it does not fit ends it (as the plan-change flow does): the package's quota.
    services_provisioning.change_plan(owner, a.service_id, other_id)
    assert limit(fake) == 30720 + EXTRA
    with unit_of_work() as s:
        from core.addons.lifecycle import end_misfits

        assert end_misfits(s, SYSTEM, a.service_id, other_id, False, D("2026-12-24")) == [addon_id]
    assert addon(addon_id).status == "cancelled" and limit(fake) == 30720


def test_a_failing_panel_leaves_it_pending_and_the_daily_run_sets_it(fake, personas):
    disk = disk_product(personas)
    a = personas.client_a
    addon_id, invoice_id = ordered(personas, disk)
    fake.inject("editquota", "http500", times=2)  # the call and its one retry
    pay(invoice_id, D("2026-12-20"))  # the payment stands; the panel part waits
    started = addon(addon_id)
    assert (started.status, started.panel_pending) == ("active", True)
    assert limit(fake) == BASICO
    failed = audits("addon.quota_failed")
    assert len(failed) == 1 and failed[0].target_id == a.service_id
    with read_session() as s:
        assert s.get_one(Service, a.service_id).panel_error  # staff see it on the service
    # The owner's preview lists the retry.
    rows = oversight.preview(personas.owner.actor, D("2026-12-21"))
    assert [(r.step, r.target) for r in rows if r.step == "addon_quota"] == [
        ("addon_quota", "cliente-a.ec")
    ]
    # Still down on the first run: recorded as a failure, still pending.
    fake.inject("editquota", "http500", times=2)
    first = automation.run(D("2026-12-21")).counts
    assert (first["addon_quotas_set"], first["failures"]) == (0, 1)
    assert addon(addon_id).panel_pending and limit(fake) == BASICO
    # Back up: the next run sets it, once.
    second = automation.run(D("2026-12-22")).counts
    assert (second["addon_quotas_set"], second["failures"]) == (1, 0)
    assert not addon(addon_id).panel_pending and limit(fake) == BASICO + EXTRA
    with read_session() as s:
        assert s.get_one(Service, a.service_id).panel_error is None
    assert automation.run(D("2026-12-23")).counts["addon_quotas_set"] == 0
    assert [r for r in oversight.preview(personas.owner.actor, D("2026-12-24"))
            if r.step == "addon_quota"] == []  # fmt: skip


def test_setting_it_again_is_idempotent(fake, personas):
    disk = disk_product(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, disk)
    assert quota.apply(a.service_id, noon("2026-12-21")) is None  # nothing pending
    with unit_of_work() as s:  # as if the answer had been lost: marked again
        s.get_one(ServiceAddon, addon_id).panel_pending = True
    assert quota.apply(a.service_id, noon("2026-12-21")) == BASICO + EXTRA
    with unit_of_work() as s:
        s.get_one(ServiceAddon, addon_id).panel_pending = True
    assert automation.run(D("2026-12-21")).counts["addon_quotas_set"] == 1
    assert [e["params"]["quota"] for e in calls(fake, "editquota")] == ["3072"] * 3
    assert limit(fake) == BASICO + EXTRA and not addon(addon_id).panel_pending


def test_an_unreachable_panel_is_the_readers_error_and_nothing_is_cleared(fake, personas):
    disk = disk_product(personas)
    a = personas.client_a
    addon_id = ordered_and_paid(personas, disk)
    with unit_of_work() as s:
        s.get_one(ServiceAddon, addon_id).panel_pending = True
    fake.inject("editquota", "reject", reason="Disk quotas are disabled")
    with pytest.raises(DomainError) as err:
        quota.apply(a.service_id, noon("2026-12-21"))
    assert err.value.key == "error.panel_rejected"
    assert addon(addon_id).panel_pending


def test_the_owner_changing_the_mb_sets_running_add_ons_again(fake, personas):
    from core import catalog

    disk = disk_product(personas)
    ordered_and_paid(personas, disk)
    owner = personas.owner.actor
    with read_session() as s:
        plan = s.get_one(Service, personas.client_a.service_id).product_id
    form = catalog.ProductForm(
        name="Espacio extra en disco",
        whm_package="",
        prices={"monthly": ("2.00", "")},
        kind="addon",
        addon_fits=[plan],
        addon_action="quota",
        addon_quota_mb="2048",
    )
    catalog.save_product(owner, form, product_id=disk)
    assert limit(fake) == BASICO + 2048


def test_the_preview_and_the_renewal_carry_the_add_on_line(fake, personas):
    disk = disk_product(personas)
    a = personas.client_a
    ordered_and_paid(personas, disk)
    text = "Espacio extra en disco para cliente-a.ec, del 5 ene 2027 al 4 feb 2027"
    rows = [
        r
        for r in oversight.preview(personas.owner.actor, D("2026-12-22"))
        if r.target == "cliente-a.ec"
    ]
    assert [(r.step, r.amount, r.lines) for r in rows] == [("renewal", Decimal("12.00"), (text,))]
    assert oversight.preview(personas.owner.actor, D("2026-12-22"), search="extra en disco")
    automation.run(D("2026-12-22"))
    with read_session() as s:
        described = s.scalars(
            select(InvoiceItem.description).where(
                InvoiceItem.kind == "addon", InvoiceItem.period_start == D("2027-01-05")
            )
        ).all()
    assert described == [text]
    assert a.service_id
