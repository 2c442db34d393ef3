"""A client account's own users (issue 19): invitation by a single-use link, permissions
scoped in core, revocation that ends sessions, and one person acting for two accounts.

For each permission an invited user with only that permission can do that part and gets
"not found" on every other part (acceptance 4).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select

from core import accounts, plan_changes, services
from core.access import CLIENT_PERMISSIONS, PAGES_BY_ROLE, Actor, get_scoped, pages_for
from core.accounts import client_users, profile, recovery, twofactor
from core.billing.invoice_view import invoice_detail
from core.billing.receipts import upload_receipt
from core.billing.views import client_billing_view
from core.models import AuditEntry, ClientMembership, Department, Invoice, Ticket, User
from core.panel import configure as configure_panel
from core.platform import mail
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import NotFound, ValidationError
from core.services import cancellations, credentials, mailboxes
from core.support import tickets
from core.support.views import client_tickets, ticket_view
from tests.panel_fixtures import ready, whm  # noqa: F401 - fixture
from tests.personas import TODAY, Persona, Personas

AT = datetime(2026, 11, 26, 15, 0)
LINK = re.compile(r"\?reset=([A-Za-z0-9_\-]+)")
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


def _invite(holder: Persona, email: str, perms: list[str], at: datetime = AT) -> int:
    return client_users.invite(
        holder.actor, email=email, name="Invitada", permissions=perms, language="es", at=at
    )


def _actor(email: str, client_id: int | None = None) -> Actor:
    with read_session() as s:
        user = accounts.user_by_email(s, email)
        assert user is not None
        return accounts.actor_from_user(user, client_id)


def _department() -> int:
    with read_session() as s:
        return s.scalars(select(Department.id)).first()  # type: ignore[return-value]


# What each permission lets an invited user do, against client A's own rows; each returns
# normally when allowed and raises NotFound when not.
def _services(a: Actor, p: Persona) -> None:
    assert services.list_services(a).rows
    assert credentials.reset_panel_password(a, p.service_id, at=AT)  # type: ignore[arg-type]


def _billing(a: Actor, p: Persona) -> None:
    assert invoice_detail(a, p.invoice_id, today=TODAY).id == p.invoice_id  # type: ignore[arg-type]
    assert upload_receipt(a, p.invoice_id, "pago.png", PNG, amount=Decimal("11.50"))  # type: ignore[arg-type]
    assert [r.id for r in client_billing_view(a, today=TODAY).invoices.rows] == [p.invoice_id]


def _tickets(a: Actor, p: Persona) -> None:
    ticket_view(a, p.ticket_id, at=AT)  # type: ignore[arg-type]
    tickets.open_ticket(a, department_id=_department(), subject="Factura", body="Consulta", at=AT)
    assert len(client_tickets(a, at=AT).tickets.rows) == 2


def _mailboxes(a: Actor, p: Persona) -> None:
    assert [m.address for m in mailboxes.list_mailboxes(a, p.service_id)] == [  # type: ignore[arg-type]
        "ventas@cliente-a.ec"
    ]


def _plan_changes(a: Actor, p: Persona) -> None:
    plan_changes.upgrades_view(a, at=AT)


def _cancellations(a: Actor, p: Persona) -> None:
    # The service's page is where it is cancelled: its detail is readable, its tools not.
    assert services.service_detail(a, p.service_id, with_usage=False).domain == "cliente-a.ec"  # type: ignore[arg-type]
    cancellations.request(
        a,
        p.service_id,
        "end_of_billing_period",
        "ya no",
        today=TODAY,
        at=AT,  # type: ignore[arg-type]
    )


def _contact(a: Actor, p: Persona) -> None:
    current = profile.get_profile(a)
    profile.update_profile(a, replace(current, company="Contadores S.A."), AT)


PROBES: dict[str, Callable[[Actor, Persona], None]] = {
    "services": _services,
    "billing": _billing,
    "tickets": _tickets,
    "mailboxes": _mailboxes,
    "plan_changes": _plan_changes,
    "cancellations": _cancellations,
    "contact": _contact,
}


def test_every_permission_has_its_probe():
    assert set(PROBES) == set(CLIENT_PERMISSIONS)


@pytest.fixture
def fake(whm, personas):
    yield ready(whm, mailboxes=True)
    configure_panel()


@pytest.mark.parametrize("permission", CLIENT_PERMISSIONS)
def test_a_user_with_one_permission_does_exactly_that(personas: Personas, fake, permission):
    a = personas.client_a
    _invite(a, "solo@test.ec", [permission])
    solo = _actor("solo@test.ec")
    assert solo.client_id == a.actor.client_id and solo.client_permissions == {permission}
    PROBES[permission](solo, a)
    for other, probe in PROBES.items():
        if other != permission:
            with pytest.raises(NotFound):
                probe(solo, a)
    # Not the account's users either: that is the holder's alone.
    with pytest.raises(NotFound):
        client_users.list_users(solo)


def test_pages_follow_the_permissions(personas: Personas):
    a = personas.client_a
    _invite(a, "soporte@test.ec", ["tickets"])
    _invite(a, "baja@test.ec", ["cancellations"])
    assert pages_for(_actor("soporte@test.ec")) == ["home", "tickets", "account", "support", "help"]
    assert "services" in pages_for(_actor("baja@test.ec"))
    assert pages_for(a.actor) == list(PAGES_BY_ROLE["client"])


def test_tickets_only_gets_not_found_on_an_invoice(personas: Personas):
    a = personas.client_a
    _invite(a, "soporte@test.ec", ["tickets"])
    user = _actor("soporte@test.ec")
    with read_session() as s:
        assert get_scoped(s, user, Ticket, a.ticket_id).id == a.ticket_id  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            get_scoped(s, user, Invoice, a.invoice_id)  # type: ignore[arg-type]


def test_invite_link_is_single_use_and_sets_their_own_password(personas: Personas, smtp):
    a = personas.client_a
    _invite(a, "Contadora@Test.ec", ["billing"], at=now())
    mail.deliver_due()
    [body] = smtp.bodies_to("contadora@test.ec")
    assert "Cliente A" in body
    raw = LINK.search(body).group(1)  # type: ignore[union-attr]
    assert recovery.reset_password(raw, "Libro-mayor-azul-77", now()) == "contadora@test.ec"
    with pytest.raises(ValidationError):
        recovery.reset_password(raw, "Otra-clave-segura-88", now())
    with read_session() as s:
        user = accounts.user_by_email(s, "contadora@test.ec")
        assert user is not None and user.client_id is None and user.role == "client"
        assert accounts.verify_password("Libro-mayor-azul-77", user.password_hash)
        holder = s.get(User, a.actor.user_id)
        assert holder is not None and accounts.verify_password(
            personas.password, holder.password_hash
        )


def test_holder_lists_edits_and_revoking_signs_them_out(personas: Personas):
    a = personas.client_a
    membership = _invite(a, "disenador@test.ec", ["tickets"])
    [row] = client_users.list_users(a.actor)
    assert (row.email, row.permissions, row.active, row.has_password) == (
        "disenador@test.ec",
        ("tickets",),
        True,
        False,
    )
    client_users.set_permissions(a.actor, membership, ["services", "tickets"], AT)
    assert _actor("disenador@test.ec").client_permissions == {"services", "tickets"}

    signed_in = AT + timedelta(minutes=1)
    with read_session() as s:
        assert accounts.check_session(s, "disenador@test.ec", signed_in).actor is not None
    client_users.revoke(a.actor, membership, AT + timedelta(minutes=2))
    with read_session() as s:
        check = accounts.check_session(s, "disenador@test.ec", signed_in)
        assert check.actor is None  # the open session and any cookie end at once
        user = accounts.user_by_email(s, "disenador@test.ec")
        assert user is not None and not user.active
        actions = s.scalars(
            select(AuditEntry.action).where(AuditEntry.actor_id == a.actor.user_id)
        ).all()
    assert {"client_user.invited", "client_user.permissions_changed", "client_user.revoked"} <= set(
        actions
    )
    assert [r.active for r in client_users.list_users(a.actor)] == [False]
    with pytest.raises(NotFound):
        client_users.set_permissions(a.actor, membership, ["services"], AT)


def test_the_audit_log_records_the_invited_user_who_acted(personas: Personas):
    a = personas.client_a
    _invite(a, "soporte@test.ec", ["tickets"])
    user = _actor("soporte@test.ec")
    tickets.open_ticket(user, department_id=_department(), subject="Hola", body="Ayuda", at=AT)
    with read_session() as s:
        entry = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.like("ticket.%"))
            .order_by(AuditEntry.id.desc())
        ).first()
    assert entry is not None
    assert (entry.actor_id, entry.actor_label) == (user.user_id, "soporte@test.ec")


def test_holder_of_b_cannot_touch_a_membership_of_a(personas: Personas):
    membership = _invite(personas.client_a, "x@test.ec", ["tickets"])
    b = personas.client_b.actor
    with pytest.raises(NotFound):
        client_users.set_permissions(b, membership, ["billing"], AT)
    with pytest.raises(NotFound):
        client_users.revoke(b, membership, AT)
    assert client_users.list_users(b) == []
    assert _actor("x@test.ec").client_permissions == {"tickets"}


def test_one_person_acts_for_two_accounts_and_chooses(personas: Personas):
    a, b = personas.client_a, personas.client_b
    _invite(a, "contador@test.ec", ["billing"])
    _invite(b, "contador@test.ec", ["tickets"])
    first = _actor("contador@test.ec")
    assert [c.client_id for c in client_users.accounts_of(first)] == [
        a.actor.client_id,
        b.actor.client_id,
    ]
    assert [c.name for c in client_users.accounts_of(first)] == ["Cliente A", "Cliente B"]
    for_b = _actor("contador@test.ec", b.actor.client_id)
    assert for_b.client_id == b.actor.client_id and for_b.client_permissions == {"tickets"}
    with read_session() as s:
        assert get_scoped(s, for_b, Ticket, b.ticket_id).id == b.ticket_id  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            get_scoped(s, for_b, Ticket, a.ticket_id)  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            get_scoped(s, for_b, Invoice, b.invoice_id)  # type: ignore[arg-type]
        assert get_scoped(s, first, Invoice, a.invoice_id).id == a.invoice_id  # type: ignore[arg-type]
    # An account they were never given is not a choice: the first one is used.
    assert _actor("contador@test.ec", 999_999).client_id == a.actor.client_id


def test_invite_refusals_write_nothing(personas: Personas):
    a = personas.client_a
    for email, perms, key in (
        ("nadie@test.ec", [], "client_users.error.permission_required"),
        ("nadie@test.ec", ["root"], "client_users.error.permission_invalid"),
        ("staff@test.ec", ["tickets"], "client_users.error.email_unavailable"),
        ("a@test.ec", ["tickets"], "client_users.error.email_unavailable"),
        ("no es correo", ["tickets"], "error.email_invalid"),
    ):
        with pytest.raises(ValidationError) as err:
            _invite(a, email, perms)
        assert err.value.key == key
    _invite(a, "dos@test.ec", ["tickets"])
    with pytest.raises(ValidationError) as err:
        _invite(a, "dos@test.ec", ["billing"])
    assert err.value.key == "client_users.error.already_member"
    with read_session() as s:
        assert accounts.user_by_email(s, "nadie@test.ec") is None
        assert len(s.scalars(select(ClientMembership)).all()) == 1
    # Invited users do not invite: only the account's holder manages its users.
    with pytest.raises(NotFound):
        _invite(Persona("dos@test.ec", _actor("dos@test.ec")), "tres@test.ec", ["tickets"])


def test_a_revoked_person_can_be_invited_again(personas: Personas):
    a = personas.client_a
    membership = _invite(a, "vuelve@test.ec", ["tickets"])
    client_users.revoke(a.actor, membership, AT)
    assert _actor("vuelve@test.ec").client_permissions == frozenset()
    assert _invite(a, "vuelve@test.ec", ["billing"], at=AT + timedelta(hours=1)) == membership
    assert _actor("vuelve@test.ec").client_permissions == {"billing"}
    with unit_of_work() as s:
        user = accounts.user_by_email(s, "vuelve@test.ec")
        assert user is not None and user.active


def test_a_holder_invited_elsewhere_acts_there_only_as_invited(personas: Personas):
    a, b = personas.client_a, personas.client_b
    _invite(a, "b@test.ec", ["tickets"])  # B's holder helps A with support
    own = _actor("b@test.ec")
    assert own.client_id == b.actor.client_id and own.is_account_holder
    there = _actor("b@test.ec", a.actor.client_id)
    assert there.client_id == a.actor.client_id and not there.is_account_holder
    with read_session() as s:
        assert get_scoped(s, there, Ticket, a.ticket_id).id == a.ticket_id  # type: ignore[arg-type]
        with pytest.raises(NotFound):
            get_scoped(s, there, Invoice, a.invoice_id)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        client_users.list_users(there)
    assert [c.name for c in client_users.accounts_of(own)] == ["Cliente B", "Cliente A"]


def test_an_invited_user_turns_on_their_own_two_factor(personas: Personas):
    a = personas.client_a
    _invite(a, "segura@test.ec", ["billing"])
    user = _actor("segura@test.ec")
    uri, _png = twofactor.begin_setup(user)
    secret = parse_qs(urlparse(uri).query)["secret"][0]
    moment = now()
    codes = twofactor.confirm_setup(user, pyotp.TOTP(secret).at(moment), moment)
    assert len(codes) > 0
    assert twofactor.is_enabled(user.user_id)
    assert not twofactor.is_enabled(a.actor.user_id)  # the holder's own sign-in is untouched
    [row] = client_users.list_users(a.actor)
    assert row.two_factor
