"""A client's own keys to their hosting: a new cPanel password and single-use sign-in links.

Self-service, so a client never has to ask staff for access: the client for their own services
(a foreign id is ``NotFound``), staff with "services" and the owner for any. Both follow the
ordering rule of ``core.services`` (read, close the read, call the panel, then record), and
neither keeps the secret it hands out: the password is shown once, and a link is made per
click because it expires within minutes. Split from ``core.services``; behaviour unchanged.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core import panel
from core.access import Actor, require_permission
from core.panel.whm import generate_password
from core.platform import mail
from core.platform.clock import now
from core.platform.config import get_settings
from core.platform.db import transaction
from core.platform.errors import Conflict, ValidationError
from core.platform.i18n import moment
from core.services import SIGN_IN_SERVICES
from core.services.target import audit_service, load_target, require_account


def reset_panel_password(
    actor: Actor, service_id: int, *, session: Session | None = None, at: datetime | None = None
) -> str:
    """Set a new strong cPanel password and return it, to be shown once.

    The password is never stored, logged or audited; the client gets a mail saying that it
    changed, without it. On any panel failure nothing is recorded but the failure itself.
    ``at``: the action's moment (default now), in the mail and on a panel failure's note.
    """
    require_permission(actor, "services")
    at = at or now()
    t = load_target(actor, service_id, session)
    if t.status != "active":
        raise Conflict("services.error_not_active")
    ep = require_account(t)
    password = generate_password(16)
    with panel.calling(t.id, write=True, at=at, session=session):
        panel.client(ep).set_password(t.username or "", password)
    with transaction(session) as s:
        audit_service(s, actor, "service.panel_password_reset", t, username=t.username)
        mail.queue(
            s,
            to_addr=t.client_email,
            template="panel_password_changed",
            language=t.client_language,
            name=t.client_name,
            domain=t.domain,
            username=t.username,
            when=moment(at, t.client_language, get_settings().tz),
            by_staff=not actor.is_client,
        )
    return password


def sign_in_link(
    actor: Actor,
    service_id: int,
    service: str = "cpaneld",
    *,
    session: Session | None = None,
) -> str:
    """A single-use sign-in link to cPanel ("cpaneld") or webmail ("webmaild"), made now.

    Links expire within minutes: make one per click and never keep it."""
    require_permission(actor, "services")
    if service not in SIGN_IN_SERVICES:
        raise ValidationError("services.error_sign_in_service")
    t = load_target(actor, service_id, session)
    if t.status != "active":
        raise Conflict("services.error_not_active")
    ep = require_account(t)
    with panel.calling(t.id, write=False):
        url = panel.client(ep).login_url(t.username or "", service)
    with transaction(session) as s:
        audit_service(s, actor, "service.sign_in_link", t, service=service)
    return url
