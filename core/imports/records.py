"""What an adapter reads from a source, in our terms: one shape for WHMCS, FOSSBilling and
WHM, so the writer (``core.imports.writer``) is the same for all of them.

Ids are the source's, as strings; references to other rows are source ids too, resolved
by the writer through the mapping table."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass
class StaffRec:
    source_id: str
    email: str
    name: str
    password_hash: str | None
    active: bool


@dataclass
class DepartmentRec:
    source_id: str
    name: str
    email: str | None
    client_visible: bool


@dataclass
class ServerRec:
    source_id: str
    name: str
    hostname: str
    port: int
    secure: bool
    username: str
    active: bool


@dataclass
class ProductRec:
    source_id: str
    name: str
    description: str | None
    whm_package: str
    active: bool
    prices: dict[str, tuple[Decimal, Decimal]] = field(default_factory=dict)  # cycle → price, setup


@dataclass
class UserRec:
    source_id: str
    email: str
    name: str
    password_hash: str | None


@dataclass
class ClientRec:
    source_id: str
    name: str
    company: str | None
    email: str
    phone: str | None
    address: str | None
    city: str | None
    province: str | None
    country: str
    tax_id: str | None
    notes: str | None
    credit: Decimal
    created_at: datetime | None
    users: list[UserRec] = field(default_factory=list)


@dataclass
class ServiceRec:
    source_id: str
    client: str
    product: str
    server: str | None
    domain: str
    username: str | None
    status: str
    cycle: str
    next_due: date | None
    amount: Decimal
    first_amount: Decimal
    registered: date | None
    suspend_reason: str | None
    terminated_on: date | None


@dataclass
class ItemRec:
    description: str
    amount: Decimal
    taxed: bool
    service: str | None  # the source service a hosting line bills
    period_start: date | None


@dataclass
class InvoiceRec:
    source_id: str
    client: str
    number: str | None
    issued: date
    due: date
    paid_at: datetime | None
    status: str
    tax_rate: Decimal
    tax: Decimal  # the source's own tax figure (WHMCS stores it; FOSSBilling: computed)
    total: Decimal  # the source's total, checked against ours
    credit: Decimal  # account credit applied (§7.7)
    paid: Decimal  # net payments (in - refunds) on the invoice
    notes: str | None
    items: list[ItemRec] = field(default_factory=list)


@dataclass
class PaymentRec:
    source_id: str
    client: str
    invoice: str | None
    amount: Decimal
    method: str
    reference: str | None
    received: date


@dataclass
class MessageRec:
    body: str
    created_at: datetime | None
    staff: str | None  # source staff id, when a staff member wrote it
    staff_name: str | None  # WHMCS names the admin, not its id (§7.13)
    by_client: bool


@dataclass
class TicketRec:
    source_id: str
    client: str | None  # None: a guest ticket
    guest_name: str
    guest_email: str
    department: str | None
    number: str
    subject: str
    status: str
    priority: str
    created_at: datetime | None
    last_reply_at: datetime | None
    messages: list[MessageRec] = field(default_factory=list)


@dataclass
class Balance:
    """The money check's source side for one client (§7.7): open balance and credit."""

    open: Decimal
    credit: Decimal
