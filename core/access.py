"""Who is acting, what they may do, and the scoped queries every core read goes through.

A page never holds an unscoped query: it passes the ``Actor`` to core, and core narrows every
read by it. A client reaches only rows of its own client id; an id that belongs to someone else
gives ``NotFound``, exactly like an id that does not exist, so nothing leaks by probing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from core.models import (
    AuditEntry,
    CancellationRequest,
    Client,
    ClientMembership,
    CreditEntry,
    ElectronicDocument,
    Invoice,
    InvoiceItem,
    Payment,
    PlanChange,
    Service,
    ServiceAddon,
    Ticket,
    TicketMessage,
    TransferReceipt,
    Upload,
    User,
)
from core.platform.errors import Forbidden, NotFound

ROLES = ("owner", "staff", "client")

# Staff permissions are granted by area; the owner has them all, clients none.
AREAS = ("tickets", "clients", "billing", "services", "reports")

# What the holder of a client account may let an invited user do (core.accounts.client_users).
# "contact" is the account's contact and billing details on "Mi cuenta".
CLIENT_PERMISSIONS = (
    "services",
    "billing",
    "tickets",
    "mailboxes",
    "plan_changes",
    "cancellations",
    "contact",
)

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
        "help",
    ),
    "staff": (
        "home",
        "tickets",
        "clients",
        "services",
        "billing",
        "reports",
        "account",
        "support",
        "help",
    ),
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
        "help",
    ),
}
# A client page an invited user opens only with one of these permissions; the rest (home,
# account, support, help) every member opens. Cancelling is done from a service's page.
CLIENT_PAGE_NEEDS: dict[str, tuple[str, ...]] = {
    "services": ("services", "cancellations"),
    "billing": ("billing",),
    "tickets": ("tickets",),
    "email_accounts": ("mailboxes",),
    "upgrades": ("plan_changes",),
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
    # For an invited user of a client account, what its holder let them do; None for the
    # holder, who may do everything in the account.
    client_permissions: frozenset[str] | None = None

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

    @property
    def is_account_holder(self) -> bool:
        return self.role == "client" and self.client_permissions is None

    def may(self, permission: str) -> bool:
        """May this actor use ``permission``'s part of a client account? Always true for the
        desk and the account's holder: the desk's limits are its areas (``can``)."""
        if permission not in CLIENT_PERMISSIONS:
            raise ValueError(f"unknown client permission {permission!r}")
        if self.client_permissions is None:
            return True
        return permission in self.client_permissions

    def label(self) -> str:
        return self.email or f"user:{self.user_id}"


SYSTEM = Actor(user_id=0, role="owner", email="automation")  # the daily run acts as the owner


def can_open_page(actor: Actor, page: str) -> bool:
    if page not in PAGES_BY_ROLE[actor.role]:
        return False
    area = PAGE_AREA.get(page)
    if actor.role == "staff" and area is not None:
        return actor.can(area)
    needs = CLIENT_PAGE_NEEDS.get(page)
    if actor.role == "client" and needs is not None:
        return any(actor.may(p) for p in needs)
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


def require_permission(actor: Actor, permission: str) -> None:
    """Refuse an invited user the parts of the account they were not given, as "not found":
    the same answer as another client's row, so nothing tells them what exists."""
    if not actor.may(permission):
        raise NotFound()


def require_any(actor: Actor, *permissions: str) -> None:
    """Like :func:`require_permission`, for a part that any of ``permissions`` reaches."""
    if not any(actor.may(p) for p in permissions):
        raise NotFound()


def require_account_holder(actor: Actor) -> None:
    """Only the account's holder manages its users."""
    if not actor.is_account_holder:
        raise NotFound()


T = TypeVar("T")

# Who a row belongs to: one client id, or a SELECT of client ids (a desk search by name).
ClientRef = int | Select[Any]


def _is(column: QueryableAttribute[Any], client: ClientRef) -> ColumnElement[bool]:
    if isinstance(client, Select):
        return column.in_(client)
    return column == client


# One scoping function per model that holds customer data: the condition "this row belongs to
# ``client``". The rule for each model, chosen once:
# - a table with its own ``client_id`` column is scoped by it. That holds for Payment,
#   TransferReceipt and CreditEntry too: each is written with its invoice's client (and a
#   payment's or credit entry's invoice may be null), so the own column is the owner;
# - a table without one goes through its parent, as a subquery rather than a join so the
#   caller's own joins never clash: InvoiceItem through its invoice, PlanChange and
#   CancellationRequest through their service (mailboxes live on the panel and are reached
#   through their service, Service's rule), TicketMessage through its ticket;
# - Client is its own row; User and Upload may have no client (staff), which never matches.
# AuditEntry's client_id is the client the action concerned; a client never reads the log,
# but the desk's "this client's activity" filters by it here.
def _client(client: ClientRef) -> ColumnElement[bool]:
    return _is(Client.id, client)


def _own(model: Any) -> Callable[[ClientRef], ColumnElement[bool]]:
    def scope(client: ClientRef) -> ColumnElement[bool]:
        return _is(model.client_id, client)

    scope.__name__ = f"_{model.__name__.lower()}"
    return scope


def _invoice_item(client: ClientRef) -> ColumnElement[bool]:
    return InvoiceItem.invoice_id.in_(select(Invoice.id).where(_is(Invoice.client_id, client)))


def _plan_change(client: ClientRef) -> ColumnElement[bool]:
    return PlanChange.service_id.in_(select(Service.id).where(_is(Service.client_id, client)))


def _cancellation(client: ClientRef) -> ColumnElement[bool]:
    return CancellationRequest.service_id.in_(
        select(Service.id).where(_is(Service.client_id, client))
    )


def _ticket_message(client: ClientRef) -> ColumnElement[bool]:
    return TicketMessage.ticket_id.in_(select(Ticket.id).where(_is(Ticket.client_id, client)))


SCOPES: dict[type, Callable[[ClientRef], ColumnElement[bool]]] = {
    Client: _client,
    Service: _own(Service),
    Invoice: _own(Invoice),
    InvoiceItem: _invoice_item,
    Payment: _own(Payment),
    TransferReceipt: _own(TransferReceipt),
    CreditEntry: _own(CreditEntry),
    ElectronicDocument: _own(ElectronicDocument),
    PlanChange: _plan_change,
    CancellationRequest: _cancellation,
    Ticket: _own(Ticket),
    TicketMessage: _ticket_message,
    Upload: _own(Upload),
    User: _own(User),
    ClientMembership: _own(ClientMembership),
    AuditEntry: _own(AuditEntry),
    ServiceAddon: _own(ServiceAddon),
}


# Which client permissions let an invited user see a model's rows (any one of them). A
# service is the way into its mailboxes, plan changes and cancellations, so those see it
# too; the actions on it check their own permission (``require_permission``). The Client
# row (the account's name, credit) is seen by every member; its contact details are
# guarded by "contact" in core.accounts.profile. Users and the audit log: holder only.
_BILLING = ("billing",)
PERMISSION_FOR: dict[type, tuple[str, ...]] = {
    Client: CLIENT_PERMISSIONS,
    Service: ("services", "mailboxes", "plan_changes", "cancellations"),
    Invoice: _BILLING,
    InvoiceItem: _BILLING,
    Payment: _BILLING,
    TransferReceipt: _BILLING,
    CreditEntry: _BILLING,
    ElectronicDocument: _BILLING,
    PlanChange: ("plan_changes",),
    CancellationRequest: ("cancellations",),
    Ticket: ("tickets",),
    TicketMessage: ("tickets",),
    Upload: ("tickets", "billing"),
    User: (),
    ClientMembership: (),
    AuditEntry: (),
    ServiceAddon: ("services", "cancellations"),
}


def _client_view(actor: Actor, model: type) -> ColumnElement[bool]:
    """What a client actor sees of ``model``: the account's rows, and for an invited user
    only those their permissions reach."""
    assert actor.client_id is not None  # __post_init__ guarantees it
    if actor.client_permissions is not None:
        needs = PERMISSION_FOR.get(model, ())
        if not any(p in actor.client_permissions for p in needs):
            return false()
    return of_client(model, actor.client_id)


def of_client(model: type, client: ClientRef) -> ColumnElement[bool]:
    """The condition "a ``model`` row of ``client``" (one id, or a SELECT of ids).

    For the desk's views that filter by a client the user picked, for system runs that work
    one client at a time, and to match a row to a record already scoped. It grants nothing:
    the caller has already checked who is asking.
    """
    scope = SCOPES.get(model)
    if scope is None:
        raise TypeError(f"{model.__name__} has no scoping function in access.SCOPES")
    return scope(client)


def visible(actor: Actor, model: type, area: str | None = None) -> ColumnElement[bool]:
    """The condition "a ``model`` row ``actor`` may see", for statements that are not a plain
    ``SELECT model`` (chosen columns, aggregates). Same rule as :func:`scoped`."""
    if actor.is_client:
        return _client_view(actor, model)
    if area is not None:
        require(actor, area)
    return true()


def scoped(actor: Actor, model: type[T], area: str | None = None) -> Select[T]:
    """``SELECT model`` narrowed to what ``actor`` may see.

    Clients see their own rows, by the model's function in ``SCOPES``. Staff need ``area``
    (when given) and then see every client's rows; the owner sees everything.
    """
    stmt = select(model)
    if actor.is_client:
        return stmt.where(_client_view(actor, model))
    if area is not None:
        require(actor, area)
    return stmt


def parse_id(value: object) -> int:
    """``value`` as an id. Ids are declared ``int``, but the CLI and tests may still hand over
    a string or anything else: what is not a whole number is NotFound, never a crash."""
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise NotFound() from None


def get_scoped(
    session: Session, actor: Actor, model: type[T], obj_id: int, area: str | None = None
) -> T:
    """One row by id, or NotFound when it does not exist or is not the actor's to see."""
    key = parse_id(obj_id)
    stmt = scoped(actor, model, area).where(model.id == key)  # type: ignore[attr-defined]
    row = session.scalars(stmt).first()
    if row is None:
        raise NotFound()
    return row
