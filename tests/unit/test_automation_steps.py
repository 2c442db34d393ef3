"""The daily run names other areas' steps instead of importing them; every name must
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
