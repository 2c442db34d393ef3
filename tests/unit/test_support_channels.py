"""Support channels without a database: links, target validation, "open now" at pinned times."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.models import SupportChannel
from core.platform.errors import ValidationError
from core.rules.sla import parse_hours
from core.support.channels import channel_link, clean_target, describe_hours, is_open

GYE = ZoneInfo("America/Guayaquil")


def utc(local: str) -> datetime:
    wall = datetime.fromisoformat(local).replace(tzinfo=GYE)
    return wall.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def channel(hours: str) -> SupportChannel:
    return SupportChannel(kind="phone", label="Soporte", target="+593991234567", hours=hours)


# ---------------------------------------------------------------------- links
def test_whatsapp_link_has_digits_and_the_prefilled_text_encoded():
    target = clean_target("whatsapp", "+593 99 123-4567")
    assert target == "593991234567"
    link = channel_link("whatsapp", target, "Hola, necesito ayuda con mi hosting & correo ñ")
    assert link == (
        "https://wa.me/593991234567?text="
        "Hola%2C%20necesito%20ayuda%20con%20mi%20hosting%20%26%20correo%20%C3%B1"
    )
    assert channel_link("whatsapp", target, "") == "https://wa.me/593991234567"


def test_phone_email_and_url_links():
    phone = clean_target("phone", "+593 4 600 1234")
    assert phone == "+59346001234"
    assert channel_link("phone", phone) == "tel:+59346001234"
    email = clean_target("email", "  Soporte@Ejemplo.EC ")
    assert email == "soporte@ejemplo.ec"
    assert channel_link("email", email) == "mailto:soporte@ejemplo.ec"
    assert channel_link("email", email, "Ayuda urgente") == (
        "mailto:soporte@ejemplo.ec?subject=Ayuda%20urgente"
    )
    for kind in ("chat", "status", "kb"):
        url = clean_target(kind, " https://estado.ejemplo.ec/?x=1 ")
        assert url == "https://estado.ejemplo.ec/?x=1"
        assert channel_link(kind, url) == url


@pytest.mark.parametrize(
    ("kind", "target", "key"),
    [
        ("phone", "123", "error.ticket_channel_phone"),
        ("phone", "+593 99 abc 4567", "error.ticket_channel_phone"),
        ("whatsapp", "1234567890123456", "error.ticket_channel_phone"),  # 16 digits
        ("email", "no-es-un-correo", "error.email_invalid"),
        ("chat", "http://chat.ejemplo.ec", "error.ticket_channel_url"),  # https only
        ("status", "javascript:alert(1)", "error.ticket_channel_url"),
        ("kb", "https://", "error.ticket_channel_url"),
        ("kb", "https://user:pw@kb.ejemplo.ec", "error.ticket_channel_url"),
        ("chat", "https://chat.ejemplo.ec/a b", "error.ticket_channel_url"),
        ("fax", "12345678", "error.ticket_channel_kind"),
    ],
)
def test_bad_targets_are_refused(kind, target, key):
    with pytest.raises(ValidationError) as err:
        clean_target(kind, target)
    assert err.value.key == key


# ------------------------------------------------------------------- open now
@pytest.mark.parametrize(
    ("hours", "local", "expected"),
    [
        ("24/7", "2026-11-29T03:00", True),  # Sunday night
        ("closed", "2026-11-25T12:00", False),
        ("mon-fri 08:00-18:00", "2026-11-25T12:00", True),  # Wednesday noon
        ("mon-fri 08:00-18:00", "2026-11-25T19:00", False),
        ("mon-fri 08:00-18:00", "2026-11-28T12:00", False),  # Saturday
        ("mon-fri 08:00-18:00; sat 09:00-13:00", "2026-11-28T12:00", True),
        ("fri 22:00-06:00", "2026-11-28T02:00", True),  # Saturday 02:00, Friday's night
        ("not valid hours", "2026-11-25T12:00", False),  # unreadable hours never say open
    ],
)
def test_open_now_at_pinned_times_in_the_business_zone(hours, local, expected):
    assert is_open(channel(hours), utc(local), GYE) is expected


def test_hours_read_in_each_language():
    hours = parse_hours("mon-fri 08:00-18:00; sat 09:00-13:00")
    assert describe_hours(hours, "es") == "lun–vie 08:00–18:00; sáb 09:00–13:00"
    assert describe_hours(hours, "en") == "Mon–Fri 08:00–18:00; Sat 09:00–13:00"
    assert describe_hours(parse_hours("24/7"), "es") == "24/7, todos los días"
    assert describe_hours(parse_hours("closed"), "en") == "Not attended for now"
    assert describe_hours(parse_hours("daily 07:00-22:00"), "es") == "todos los días 07:00–22:00"
