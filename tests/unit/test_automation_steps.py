"""The daily run and the paid hook name other areas' code instead of importing it; every name must
resolve, or a renamed function would quietly drop a step (accounts of paid orders never
created, stale orders never cancelled)."""

import pytest

from core import automation


@pytest.mark.parametrize(("module", "name"), automation.AREA_STEPS)
def test_every_daily_run_step_of_another_area_exists(module, name):
    assert callable(automation.area_step(module, name))


def test_a_name_outside_the_list_is_refused_not_skipped():
    with pytest.raises(LookupError):
        automation.area_step("core.orders", "provision_pending")  # moved to order_fulfilment


def test_every_reaction_to_a_paid_invoice_is_registered_once():
    """A payment renews the service, reprices it, provisions an order and applies a paid
    plan change, whichever process records it. The hooks are registered by importing the
    modules billing_ledger names; a hook moved to a module nobody imports would silently
    stop running, so each is checked here. (Their order follows import order, which is
    fine: none reads what another writes — a renewal's price, its next due date, a pending
    order's set-up after commit, a plan change's own lines.)"""
    from core import billing_ledger

    billing_ledger._load_paid_hooks()
    assert sorted((h.__module__, h.__name__) for h in billing_ledger.on_invoice_paid) == [
        ("core.automation_payment", "on_invoice_paid"),
        ("core.catalog_repricing", "_apply_repricing_on_renewal"),
        ("core.order_fulfilment", "_on_invoice_paid"),
        ("core.plan_changes_apply", "_on_invoice_paid"),
    ]
