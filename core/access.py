"""Who is acting, what they may do, and the scoped queries every core read goes through.

A page never holds an unscoped query: it passes the ``Actor`` to core, and core narrows every
read by it. A client reaches only rows of its own client id; an id that belongs to someone else
gives ``NotFound``, exactly like an id that does not exist, so nothing leaks by probing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.platform.errors import Forbidden, NotFound

ROLES = ("owner", "staff", "client")

# Staff permissions are granted by area; the owner has them all, clients none.
AREAS = ("tickets", "clients", "billing", "services", "reports")

# Pages each role may open (the file stems, which are also the URLs).
PAGES_BY_ROLE: dict[str, tuple[str, ...]] = {
    "client": (
        "home",
        "services",
        "billing",
        "tickets",
        "email_accounts",
        "upgrades",
        "account",
        "support",
    ),
    "staff": ("home", "tickets", "clients", "services", "billing", "reports", "account", "support"),
    "owner": (
        "home",
        "tickets",
        "clients",
        "services",
        "billing",
        "email_accounts",
        "upgrades",
        "reports",
        "settings",
        "account",
        "support",
    ),
}
# A staff page needs its area permission as well as the role.
PAGE_AREA = {"billing": "billing", "reports": "reports", "clients": "clients"}
STAFF_ONLY_PAGES = ("clients", "reports", "settings")


@dataclass(frozen=True)
class Actor:
    """The acting user, read once per script run from the database."""

    user_id: int
    role: str
    client_id: int | None = None
    email: str = ""
    language: str = "es"
    permissions: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")
        if self.role == "client" and self.client_id is None:
            raise ValueError("a client actor needs a client id")

    @property
    def is_client(self) -> bool:
        return self.role == "client"

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    @property
    def is_staff_or_owner(self) -> bool:
        return self.role in ("staff", "owner")

    def can(self, area: str) -> bool:
        """May this actor act on ``area`` as staff (tickets, clients, billing, ...)?"""
        if area not in AREAS:
            raise ValueError(f"unknown area {area!r}")
        if self.role == "owner":
            return True
        return self.role == "staff" and area in self.permissions

    def label(self) -> str:
        return self.email or f"user:{self.user_id}"


SYSTEM = Actor(user_id=0, role="owner", email="automation")  # the daily run acts as the owner


def can_open_page(actor: Actor, page: str) -> bool:
    if page not in PAGES_BY_ROLE[actor.role]:
        return False
    area = PAGE_AREA.get(page)
    if actor.role == "staff" and area is not None:
        return actor.can(area)
    return True


def pages_for(actor: Actor) -> list[str]:
    return [p for p in PAGES_BY_ROLE[actor.role] if can_open_page(actor, p)]


def require(actor: Actor, area: str) -> None:
    """Refuse unless the actor is staff with ``area`` or the owner."""
    if not actor.can(area):
        raise Forbidden()


def require_owner(actor: Actor) -> None:
    if not actor.is_owner:
        raise Forbidden()


T = TypeVar("T")


def scoped(actor: Actor, model: type[T], area: str | None = None) -> Select[T]:
    """``SELECT model`` narrowed to what ``actor`` may see.

    Clients see rows whose ``client_id`` is theirs. Staff need ``area`` (when given) and then
    see every client's rows; the owner sees everything.
    """
    stmt = select(model)
    if actor.is_client:
        column = getattr(model, "client_id", None)
        if column is None:
            raise TypeError(f"{model.__name__} has no client_id to scope by")
        return stmt.where(column == actor.client_id)
    if area is not None:
        require(actor, area)
    return stmt


def get_scoped(
    session: Session, actor: Actor, model: type[T], obj_id: Any, area: str | None = None
) -> T:
    """One row by id, or NotFound when it does not exist or is not the actor's to see."""
    try:
        key = int(obj_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    stmt = scoped(actor, model, area).where(model.id == key)  # type: ignore[attr-defined]
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound()
    return row
