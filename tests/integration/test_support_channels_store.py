"""Support channels kept in the database: owner CRUD with validation, the list every role
reads with "open now" at a pinned time, and what the client's home page gets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.models import AuditEntry, SupportChannel
from core.platform.db import read_session
from core.platform.errors import Forbidden, NotFound, ValidationError
from core.support import channels as support_channels

GYE = ZoneInfo("America/Guayaquil")


def local(text: str) -> datetime:
    wall = datetime.fromisoformat(text).replace(tzinfo=GYE)
    return wall.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _seed(owner):
    wa = support_channels.save_channel(
        owner,
        kind="whatsapp",
        label="WhatsApp Soporte",
        target="+593 99 123 4567",
        prefill="Hola, soy cliente y necesito ayuda",
        hours="24/7",
        sort_order=1,
    )
    phone = support_channels.save_channel(
        owner,
        kind="phone",
        label="Oficina Guayaquil",
        target="04 600 1234 5",  # digits only are kept
        hours="mon-fri 08:00-18:00; sat 09:00-13:00",
        sort_order=2,
    )
    status = support_channels.save_channel(
        owner,
        kind="status",
        label="Estado",
        target="https://estado.hosting.ec",
        hours="closed",
        sort_order=3,
        active=False,
    )
    return wa, phone, status


def test_channels_in_order_with_open_now_at_a_pinned_time(personas):
    owner, a, b = personas.owner.actor, personas.client_a.actor, personas.client_b.actor
    wa, phone, status = _seed(owner)
    saturday_night = local("2026-11-28T20:00")
    shown = support_channels.list_channels(a, saturday_night)
    assert [c.id for c in shown] == [wa, phone]  # the inactive one is not for clients
    assert [c.open_now for c in shown] == [True, False]
    assert shown[0].url == (
        "https://wa.me/593991234567?text=Hola%2C%20soy%20cliente%20y%20necesito%20ayuda"
    )
    assert (shown[1].target, shown[1].url) == ("+0460012345", "tel:+0460012345")
    assert shown[1].hours_text == "lun–vie 08:00–18:00; sáb 09:00–13:00"
    # Closed now, but it opens: say when (issue 16 item 22), not a bare "Cerrado ahora".
    assert [c.opens_text for c in shown] == [None, "abre el lunes a las 08:00"]
    early = support_channels.list_channels(a, local("2026-11-25T06:30"))
    assert early[1].opens_text == "abre hoy a las 08:00"
    friday_night = support_channels.list_channels(b, local("2026-11-27T19:00"))
    assert friday_night[1].opens_text == "opens tomorrow at 09:00"
    weekday = local("2026-11-25T10:00")
    assert [c.open_now for c in support_channels.list_channels(a, weekday)] == [True, True]
    assert [c.open_now for c in support_channels.for_home(a, saturday_night)] == [True, False]
    english = support_channels.list_channels(b, weekday)
    assert english[1].hours_text == "Mon–Fri 08:00–18:00; Sat 09:00–13:00"
    every = support_channels.list_channels(owner, weekday, include_inactive=True)
    assert [c.id for c in every] == [wa, phone, status] and not every[2].open_now
    with pytest.raises(Forbidden):
        support_channels.list_channels(a, weekday, include_inactive=True)


def test_owner_crud_with_validation(personas):
    owner, staff = personas.owner.actor, personas.staff.actor
    with pytest.raises(Forbidden):
        support_channels.save_channel(staff, kind="phone", label="x", target="+593991234567")
    bad = [
        {"kind": "chat", "label": "Chat", "target": "http://chat.hosting.ec"},
        {"kind": "email", "label": "Correo", "target": "soporte@"},
        {"kind": "whatsapp", "label": "WA", "target": "12"},
        {"kind": "phone", "label": " ", "target": "+593991234567"},
        {"kind": "phone", "label": "Tel", "target": "+593991234567", "hours": "a veces"},
    ]
    for fields in bad:
        with pytest.raises(ValidationError):
            support_channels.save_channel(owner, **fields)
    with read_session() as s:
        assert s.scalars(select(SupportChannel)).all() == []
    cid = support_channels.save_channel(
        owner, kind="email", label="Correo", target="Soporte@Hosting.EC", hours="Mon-Fri 8:00-17:00"
    )
    with read_session() as s:
        row = s.get(SupportChannel, cid)
        assert (row.target, row.hours) == ("soporte@hosting.ec", "mon-fri 08:00-17:00")
        assert s.scalars(
            select(AuditEntry.action).where(AuditEntry.target_type == "support_channel")
        ).all() == ["support_channel.saved"]
    support_channels.save_channel(
        owner, channel_id=cid, kind="kb", label="Ayuda", target="https://ayuda.hosting.ec"
    )
    with read_session() as s:
        assert s.get(SupportChannel, cid).kind == "kb"
    with pytest.raises(NotFound):
        support_channels.save_channel(
            owner, channel_id=999, kind="kb", label="x", target="https://a.ec"
        )
    with pytest.raises(Forbidden):
        support_channels.delete_channel(staff, cid)
    support_channels.delete_channel(owner, cid)
    with pytest.raises(NotFound):
        support_channels.delete_channel(owner, cid)


def test_a_label_that_names_its_kind_is_not_repeated():
    """Issue 16 item 22: "WhatsApp · WhatsApp"."""
    title = support_channels.channel_title
    assert title("WhatsApp", "WhatsApp") == "WhatsApp"
    assert title("WhatsApp", "whatsapp ") == "WhatsApp"
    assert title("WhatsApp", "WhatsApp ventas") == "WhatsApp ventas"
    assert title("Teléfono", "Soporte técnico") == "Teléfono · Soporte técnico"
    assert title("Teléfono", "") == "Teléfono"
