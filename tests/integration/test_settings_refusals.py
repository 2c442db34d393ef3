"""The settings store refuses what it cannot keep with a ValidationError the page can show
(before the type check these raised TypeError: the error was given ``key`` twice)."""

from __future__ import annotations

import pytest

from core.platform import settings
from core.platform.errors import ValidationError


def test_a_float_is_refused_as_an_invalid_setting(personas):
    with pytest.raises(ValidationError) as refused:
        settings.put(personas.owner.actor, "orders.cancel_unpaid_days", 1.5)
    assert refused.value.key == "error.billing_setting_invalid"
    assert refused.value.params == {"setting": "float"}


@pytest.mark.parametrize("key", ["", "   ", "x" * (settings.MAX_KEY + 1)])
def test_an_empty_or_overlong_key_is_refused(personas, key):
    with pytest.raises(ValidationError) as refused:
        settings.put(personas.owner.actor, key, 3)
    assert refused.value.key == "error.billing_setting_invalid"
