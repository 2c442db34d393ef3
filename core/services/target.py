"""The read before a panel call (ARCHITECTURE §2 rule 6): a service as the panel needs it,
read with no transaction open, and the checks and audit entry every panel action shares.

The services page's reads (``core.services``), staff's panel actions (``provisioning``) and a
client's own keys (``credentials``) all start from :func:`load_target`; the demo book builds
its sandbox accounts from :func:`panel_target`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core import panel
from core.access import Actor, get_scoped
from core.models import Service
from core.platform import audit
from core.platform.db import reading
from core.platform.errors import Conflict, DomainError


@dataclass(frozen=True)
class Target:
    """A service as a panel call needs it, read before the call (no transaction open)."""

    id: int
    client_id: int
    status: str
    domain: str
    username: str | None
    package: str
    endpoint: panel.Endpoint | None
    problem: DomainError | None  # why the server cannot be called (no token, ...)
    has_server: bool
    client_email: str
    client_name: str
    client_language: str

    @property
    def on_panel(self) -> bool:
        """The service has an account on a server: its changes must go through the panel."""
        return bool(self.username) and self.has_server


def panel_target(service: Service) -> Target:
    """What a panel call needs to know about ``service`` ."""
    server = service.server
    ep, problem = None, None
    if server is not None:
        try:
            ep = panel.endpoint(server)
        except DomainError as exc:
            problem = exc
    return Target(
        id=service.id,
        client_id=service.client_id,
        status=service.status,
        domain=service.domain.strip().lower(),
        username=service.panel_username,
        package=service.product.whm_package,
        endpoint=ep,
        problem=problem,
        has_server=server is not None,
        client_email=service.client.email,
        client_name=service.client.name,
        client_language=service.client.language,
    )


def load_target(actor: Actor, service_id: int, session: Session | None) -> Target:
    """The service as the actor may reach it: a client their own (else NotFound), staff
    with the services permission and the owner any."""
    with reading(session) as s:
        return panel_target(get_scoped(s, actor, Service, service_id, "services"))


def endpoint(t: Target) -> panel.Endpoint:
    if t.endpoint is None:
        raise t.problem or Conflict("services.error_no_server")
    return t.endpoint


def require_account(t: Target) -> panel.Endpoint:
    ep = endpoint(t)
    if not t.username:
        raise Conflict("services.error_no_account")
    return ep


def audit_service(s: Session, actor: Actor, action: str, t: Target, **details: Any) -> None:
    audit.record(
        s, actor, action, target_type="service", target_id=t.id, client_id=t.client_id, **details
    )
