"""A WHM server's accounts read as clients and services (import-sources.md §3): for the
businesses that kept billing in a spreadsheet. There is no billing data on a panel, so the
services come over monthly at the product's price with no due date, and the report says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import panel
from core.imports.records import Balance, ClientRec, ServiceRec
from core.imports.report import Report
from core.imports.values import email, text
from core.models import Client, Product, ProductPrice, Server, Service
from core.platform.errors import NotFound


class WhmReader:
    not_imported = ["account passwords (never readable from WHM)"]

    def __init__(self, session: Session, server_name: str, report: Report) -> None:
        server = session.scalars(select(Server).where(Server.name == server_name)).first()
        if server is None:
            raise NotFound("imports.error.no_server", name=server_name)
        self.system = f"whm:{server.name}"
        self.server_id = server.id
        self.report = report
        self.accounts: list[dict[str, Any]] = panel.client(panel.endpoint(server)).list_accounts()
        self.packages = {
            p.whm_package: p.id for p in session.scalars(select(Product)) if p.whm_package
        }
        # Accounts already billed here (a service on this server with that username) and
        # addresses already clients are adopted, never made twice.
        self.billed = {
            (u or "").lower(): i
            for i, u in session.execute(
                select(Service.id, Service.panel_username).where(Service.server_id == server.id)
            ).tuples()
            if u
        }
        emails = {email(a.get("email")) for a in self.accounts} - {""}
        self.known_clients = {
            e.lower(): i
            for i, e in session.execute(
                select(Client.id, Client.email).where(func.lower(Client.email).in_(emails))
            ).tuples()
        }
        self.monthly = dict(
            session.execute(
                select(ProductPrice.product_id, ProductPrice.price).where(
                    ProductPrice.cycle == "monthly"
                )
            )
            .tuples()
            .all()
        )

    def known_links(self) -> dict[str, dict[str, int]]:
        """Links the writer needs that live in our own book: packages and the server."""
        return {
            "products": dict(self.packages),
            "servers": {"server": self.server_id},
            "services": dict(self.billed),
            "clients": dict(self.known_clients),
        }

    @staticmethod
    def _client_key(acct: dict[str, Any]) -> str:
        # An empty address groups nothing: such an account becomes its own client.
        return email(acct.get("email")) or f"user:{acct.get('user')}"

    def clients(self) -> Iterator[list[ClientRec]]:
        seen: dict[str, ClientRec] = {}
        for acct in self.accounts:
            key = self._client_key(acct)
            if key in seen or text(acct.get("plan")) not in self.packages:
                continue  # an account whose package we do not sell brings no client
            started = acct.get("unix_startdate")
            seen[key] = ClientRec(
                source_id=key,
                name=text(acct.get("domain")) or text(acct.get("user")),
                company=None,
                email=email(acct.get("email")),
                phone=None,
                address=None,
                city=None,
                province=None,
                country="EC",
                tax_id=None,
                notes=None,
                credit=Decimal("0.00"),
                created_at=datetime.utcfromtimestamp(int(started)) if started else None,
            )
        yield list(seen.values())

    def services(self) -> Iterator[list[ServiceRec]]:
        found = []
        for acct in self.accounts:
            user = text(acct.get("user")).lower()
            plan = text(acct.get("plan"))
            product = self.packages.get(plan)
            if product is None:  # no product with this WHM package: the owner adds it first
                self.report.problem("services", user, "unknown_product")
                continue
            started = acct.get("unix_startdate")
            found.append(
                ServiceRec(
                    source_id=user,
                    client=self._client_key(acct),
                    product=plan,
                    server="server",
                    domain=text(acct.get("domain")).lower(),
                    username=user,
                    status="suspended" if acct.get("suspended") else "active",
                    cycle="monthly",
                    next_due=None,
                    amount=self.monthly.get(product, Decimal("0.00")),
                    first_amount=Decimal("0.00"),
                    registered=datetime.utcfromtimestamp(int(started)).date() if started else None,
                    suspend_reason=text(acct.get("suspendreason")) or None,
                    terminated_on=None,
                )
            )
        yield found

    def balances(self) -> dict[str, Balance]:
        return {}
