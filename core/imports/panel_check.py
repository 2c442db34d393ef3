"""After an import: the imported services checked against the accounts on their WHM servers.

The import adopts accounts, it never creates them; this lists where book and panel disagree
(an account missing, a status that differs, an account nobody bills) for the owner to settle.
Read with no transaction open around the panel calls (ARCHITECTURE §2 rule 6)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core import panel
from core.models import ImportLink, Server, Service
from core.panel.errors import PanelError
from core.platform.db import read_session
from core.platform.errors import DomainError


@dataclass(frozen=True)
class Difference:
    server: str
    username: str
    problem: str  # missing_on_panel | status_differs | not_in_book | server_unreachable


def panel_check() -> list[Difference]:
    with read_session() as s:
        imported = select(ImportLink.target_id).where(ImportLink.kind == "services")
        rows = s.execute(
            select(
                Service.server_id,
                Service.panel_username,
                Service.status,
                Service.id.in_(imported),
            ).where(Service.server_id.is_not(None), Service.panel_username.is_not(None))
        ).all()
        wanted = {sid for sid, _u, _st, was_imported in rows if was_imported}
        servers: dict[int, tuple[str, panel.Endpoint | None]] = {}
        for server in s.scalars(select(Server).where(Server.id.in_(wanted))):
            try:
                servers[server.id] = (server.name, panel.endpoint(server))
            except DomainError:
                servers[server.id] = (server.name, None)
    found: list[Difference] = []
    for server_id, (name, ep) in sorted(servers.items()):
        # Every service on the server counts as "in the book"; only imported ones are checked.
        book = {u.lower() for sid, u, _st, _imp in rows if sid == server_id and u}
        ours = {u.lower(): st for sid, u, st, imp in rows if sid == server_id and u and imp}
        if ep is None:
            found.append(Difference(name, "", "server_unreachable"))
            continue
        try:
            accounts = {str(a.get("user", "")).lower(): a for a in panel.client(ep).list_accounts()}
        except PanelError:
            found.append(Difference(name, "", "server_unreachable"))
            continue
        for user, status in sorted(ours.items()):
            acct = accounts.get(user)
            if acct is None:
                if status in ("active", "suspended"):
                    found.append(Difference(name, user, "missing_on_panel"))
            elif bool(acct.get("suspended")) != (status == "suspended"):
                found.append(Difference(name, user, "status_differs"))
        for user in sorted(set(accounts) - book):
            found.append(Difference(name, user, "not_in_book"))
    return found
