"""ui.kit.ids.query_id: an id from the URL becomes an int at the boundary, or None."""

from __future__ import annotations

import pytest

from ui.kit import ids


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"invoice": "7"}, 7),
        ({"invoice": "-1"}, -1),  # a whole number: core answers NotFound for it
        ({"invoice": "abc"}, None),
        ({"invoice": "1.5"}, None),
        ({"invoice": ""}, None),
        ({}, None),
        ({"ticket": "7"}, None),  # another parameter is not this one
    ],
)
def test_query_id(monkeypatch, params, expected):
    monkeypatch.setattr(ids.st, "query_params", params)
    assert ids.query_id("invoice") == expected
