"""ARCHITECTURE §2.9: the settings no other test named, each stored straight into the ``setting``
table and its effect observed, so a setting that stopped being read would fail here."""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal

from core import catalog
from core.accounts import twofactor
from core.catalog.business_details import BUSINESS_LOGO
from core.catalog.repricing import REPRICING_KEY
from core.models import Service
from core.platform import settings
from core.platform.db import read_session
from core.support import sla
from core.support.sla import BUSINESS_HOURS_KEY, TARGETS_KEY


def test_require_2fa_staff_decides_whether_staff_must_enrol(personas):
    owner = personas.owner.actor
    assert twofactor.required_for("staff") and twofactor.required_for("owner")  # default on
    settings.put(owner, "security.require_2fa_staff", False)
    assert not twofactor.required_for("staff") and not twofactor.required_for("owner")
    settings.put(owner, "security.require_2fa_staff", True)
    assert twofactor.required_for("staff")
    assert not twofactor.required_for("client")  # clients choose for themselves either way


def _png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_logo_upload_id_is_the_logo_shown(personas):
    owner = personas.owner.actor
    data = _png()
    upload_id = catalog.save_logo(owner, "logo.png", data)
    assert settings.get_int(BUSINESS_LOGO) == upload_id
    assert catalog.logo().data == data and catalog.business().has_logo
    settings.put(owner, BUSINESS_LOGO, None)  # unset: no logo, though the upload remains
    assert catalog.logo() is None and not catalog.business().has_logo
    settings.put(owner, BUSINESS_LOGO, upload_id)
    assert catalog.logo().data == data


def test_repricing_setting_sets_the_renewal_price(personas):
    owner, a = personas.owner.actor, personas.client_a
    with read_session() as s:
        svc = s.get(Service, a.service_id)
        product_id, cycle, old = svc.product_id, svc.billing_cycle, svc.recurring_amount
        assert catalog.renewal_price(s, product_id, cycle, old, date(2027, 1, 5)) == old
    rule = {
        "product_id": product_id,
        "cycle": cycle,
        "amount": "12.50",
        "old": [str(old)],
        "since": "2027-01-01",
    }
    settings.put(owner, REPRICING_KEY, [rule])
    with read_session() as s:
        assert catalog.renewal_price(s, product_id, cycle, old, date(2027, 1, 5)) == Decimal(
            "12.50"
        )
        assert catalog.renewal_price(s, product_id, cycle, old, date(2026, 12, 5)) == old
    assert [r.amount for r in catalog.pending_repricing()] == [Decimal("12.50")]


def test_sla_hours_setting_sets_the_targets(personas):
    owner = personas.owner.actor
    default = sla.targets()
    start = datetime(2026, 11, 25, 14, 0)
    settings.put(owner, TARGETS_KEY, {"urgent": [2, 6]})
    assert sla.targets()["urgent"] == (2, 6)
    assert sla.targets()["low"] == default["low"]  # the others keep theirs
    assert sla.policy().first_response_due(start, "urgent") == datetime(2026, 11, 25, 16, 0)
    settings.put(owner, TARGETS_KEY, {"urgent": [6, 2]})  # malformed: the default again
    assert sla.targets()["urgent"] == default["urgent"]


def test_business_hours_setting_stops_the_sla_clock_out_of_hours(personas):
    owner = personas.owner.actor
    friday_evening = datetime(2026, 11, 27, 22, 0)  # naive UTC: 17:00 in Guayaquil
    assert sla.business_hours() is None  # calendar time
    calendar = sla.policy().first_response_due(friday_evening, "high")
    settings.put(owner, BUSINESS_HOURS_KEY, "mon-fri 08:00-18:00")
    assert sla.business_hours() is not None
    office = sla.policy().first_response_due(friday_evening, "high")
    assert calendar == datetime(2026, 11, 28, 2, 0)  # 4 h later
    assert office == datetime(2026, 11, 30, 16, 0)  # 1 h Friday + 3 h Monday
    settings.put(owner, BUSINESS_HOURS_KEY, "")
    assert sla.business_hours() is None
