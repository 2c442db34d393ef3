"""SQLAlchemy tables: persistence only, no behaviour.

Money columns are Numeric(12, 2) read back as Decimal. Timestamps are naive UTC (``clock.now``)
on both engines, so comparisons never mix aware and naive values. Billing dates are plain
calendar dates in the business time zone. Later issues extend this by Alembic migration.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.clock import now

Money = Numeric(12, 2, asdecimal=True)
Rate = Numeric(6, 3, asdecimal=True)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _id() -> Mapped[int]:
    return mapped_column(Integer, primary_key=True)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime, default=now, nullable=False)


class Client(Base):
    __tablename__ = "client"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(200))
    company: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    province: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2), default="EC")
    tax_id_type: Mapped[str] = mapped_column(String(20), default="consumidor_final")
    tax_id: Mapped[str | None] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(2), default="es")
    credit_balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class User(Base):
    __tablename__ = "user_account"
    id: Mapped[int] = _id()
    email: Mapped[str] = mapped_column(String(254), unique=True)  # lower-cased; the username
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(100))  # None until set by link
    role: Mapped[str] = mapped_column(String(10))  # owner | staff | client
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    language: Mapped[str] = mapped_column(String(2), default="es")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)  # staff areas
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    sessions_valid_after: Mapped[datetime] = mapped_column(DateTime, default=now)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    totp_secret: Mapped[str | None] = mapped_column(String(200))  # encrypted at rest
    totp_enabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created()
    client: Mapped[Client | None] = relationship()


class RecoveryCode(Base):
    __tablename__ = "recovery_code"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(100))
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Product(Base):
    __tablename__ = "product"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    whm_package: Mapped[str] = mapped_column(String(64))
    disk_mb: Mapped[int] = mapped_column(Integer, default=1024)
    max_mailboxes: Mapped[int] = mapped_column(Integer, default=10)
    mailbox_quota_mb: Mapped[int] = mapped_column(Integer, default=1024)
    prorata_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    prorata_day: Mapped[int | None] = mapped_column(Integer)
    prorata_next_month_after_day: Mapped[int | None] = mapped_column(Integer)
    credit_on_downgrade: Mapped[bool | None] = mapped_column(Boolean)  # None: the setting
    upgrade_targets: Mapped[list[int]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    prices: Mapped[list[ProductPrice]] = relationship(back_populates="product")


class ProductPrice(Base):
    __tablename__ = "product_price"
    __table_args__ = (UniqueConstraint("product_id", "cycle"),)
    id: Mapped[int] = _id()
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    cycle: Mapped[str] = mapped_column(String(20))
    price: Mapped[Decimal] = mapped_column(Money)
    setup_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    product: Mapped[Product] = relationship(back_populates="prices")


class Server(Base):
    __tablename__ = "server"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    hostname: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer, default=2087)
    scheme: Mapped[str] = mapped_column(String(5), default="https")
    username: Mapped[str] = mapped_column(String(64), default="root")
    # The API token is a secret: either the name of an environment variable holding it, or
    # the token encrypted with SECRET_KEY. Never stored or shown in clear.
    token_env: Mapped[str | None] = mapped_column(String(100))
    token_encrypted: Mapped[str | None] = mapped_column(Text)
    verify_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    max_accounts: Mapped[int] = mapped_column(Integer, default=500)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (Index("ix_service_status_due", "status", "next_due_date"),)
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    server_id: Mapped[int | None] = mapped_column(ForeignKey("server.id"))
    domain: Mapped[str] = mapped_column(String(253), index=True)
    panel_username: Mapped[str | None] = mapped_column(String(16))
    # pending | active | suspended | cancelled | terminated | fraud
    status: Mapped[str] = mapped_column(String(12), default="pending")
    billing_cycle: Mapped[str] = mapped_column(String(20))
    recurring_amount: Mapped[Decimal] = mapped_column(Money)
    first_payment_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    anchor_day: Mapped[int] = mapped_column(Integer)
    registration_date: Mapped[date] = mapped_column(Date)
    next_due_date: Mapped[date | None] = mapped_column(Date)
    next_invoice_date: Mapped[date | None] = mapped_column(Date)
    suspend_reason: Mapped[str | None] = mapped_column(String(200))
    hold_until: Mapped[date | None] = mapped_column(Date)  # no automatic suspension until
    terminated_on: Mapped[date | None] = mapped_column(Date)
    panel_error: Mapped[str | None] = mapped_column(Text)  # last failed panel call, for retry
    created_at: Mapped[datetime] = _created()
    client: Mapped[Client] = relationship()
    product: Mapped[Product] = relationship()
    server: Mapped[Server | None] = relationship()


class Invoice(Base):
    __tablename__ = "invoice"
    __table_args__ = (
        Index("ix_invoice_client_status", "client_id", "status"),
        Index("ix_invoice_status_due", "status", "due_on"),
        Index("ix_invoice_status_issued", "status", "issued_on"),
    )
    id: Mapped[int] = _id()
    number: Mapped[str | None] = mapped_column(String(30), unique=True)  # None while draft
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"))
    issued_on: Mapped[date] = mapped_column(Date, index=True)
    due_on: Mapped[date] = mapped_column(Date)
    # draft | unpaid | paid | cancelled | refunded
    status: Mapped[str] = mapped_column(String(12), default="unpaid")
    subtotal: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    tax_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    credit_applied: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    late_fee_applied: Mapped[bool] = mapped_column(Boolean, default=False)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime)
    fiscal_document_id: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    client: Mapped[Client] = relationship()
    items: Mapped[list[InvoiceItem]] = relationship(
        back_populates="invoice", order_by="InvoiceItem.id"
    )


class InvoiceItem(Base):
    __tablename__ = "invoice_item"
    # One renewal (or upgrade, or late fee) per service and period, whatever runs twice.
    __table_args__ = (UniqueConstraint("service_id", "kind", "period_start"),)
    id: Mapped[int] = _id()
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"), index=True)
    # renewal | setup | upgrade | late_fee | prorata | manual
    kind: Mapped[str] = mapped_column(String(12))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(String(300))
    amount: Mapped[Decimal] = mapped_column(Money)
    tax_rate: Mapped[Decimal] = mapped_column(Rate, default=Decimal("0"))
    tax_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    invoice: Mapped[Invoice] = relationship(back_populates="items")


class Upload(Base):
    """A file kept in the database so every replica can serve it (receipts, attachments)."""

    __tablename__ = "upload"
    id: Mapped[int] = _id()
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = _created()


class Payment(Base):
    __tablename__ = "payment"
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    method: Mapped[str] = mapped_column(String(30))  # transfer | cash | card | credit | other
    reference: Mapped[str | None] = mapped_column(String(100))
    received_on: Mapped[date] = mapped_column(Date, index=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = _created()


class TransferReceipt(Base):
    __tablename__ = "transfer_receipt"
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    upload_id: Mapped[int] = mapped_column(ForeignKey("upload.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    reject_reason: Mapped[str | None] = mapped_column(String(300))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    created_at: Mapped[datetime] = _created()


class CreditEntry(Base):
    __tablename__ = "credit_ledger"
    id: Mapped[int] = _id()
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)  # + adds credit, - uses it
    kind: Mapped[str] = mapped_column(String(20))  # manual|overpayment|refund|applied|downgrade
    reason: Mapped[str | None] = mapped_column(String(300))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = _created()


class PlanChange(Base):
    __tablename__ = "plan_change"
    id: Mapped[int] = _id()
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    from_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    to_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    from_cycle: Mapped[str] = mapped_column(String(20))
    to_cycle: Mapped[str] = mapped_column(String(20))
    quote: Mapped[dict] = mapped_column(JSON)  # frozen at request time, amounts as strings
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|applied|...
    requested_at: Mapped[datetime] = _created()
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)


class CancellationRequest(Base):
    __tablename__ = "cancellation_request"
    id: Mapped[int] = _id()
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id"), index=True)
    type: Mapped[str] = mapped_column(String(25))  # immediate | end_of_billing_period
    reason: Mapped[str] = mapped_column(Text)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = _created()
    effective_date: Mapped[date] = mapped_column(Date)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)


class Department(Base):
    __tablename__ = "department"
    id: Mapped[int] = _id()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(254))
    client_visible: Mapped[bool] = mapped_column(Boolean, default=True)
    staff_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        Index("ix_ticket_status_sla", "status", "sla_due_at"),
        # The triage queue's order and the desk's counts, read from the index alone.
        Index(
            "ix_ticket_queue", "status", "sla_due_at", "breached", "last_reply_at", "assignee_id"
        ),
    )
    id: Mapped[int] = _id()
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("client.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    subject: Mapped[str] = mapped_column(String(200))
    # open | answered | customer_reply | in_progress | on_hold | closed
    status: Mapped[str] = mapped_column(String(16), default="open")
    priority: Mapped[str] = mapped_column(String(8), default="medium")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    sla_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The SLA clock's start (None: created_at; a reopened ticket starts a new clock); the
    # resolution deadline; whether a deadline was missed. sla_due_at is the next deadline.
    sla_started_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    breached: Mapped[bool] = mapped_column(Boolean, default=False)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_reply_at: Mapped[datetime] = _created()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created()


class TicketMessage(Base):
    __tablename__ = "ticket_message"
    id: Mapped[int] = _id()
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)  # staff-only note
    attachment_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = _created()


class CannedReply(Base):
    __tablename__ = "canned_reply"
    id: Mapped[int] = _id()
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="es")


class SupportChannel(Base):
    __tablename__ = "support_channel"
    id: Mapped[int] = _id()
    kind: Mapped[str] = mapped_column(String(20))  # whatsapp|phone|email|chat|status
    label: Mapped[str] = mapped_column(String(100))
    target: Mapped[str] = mapped_column(String(300))
    hours: Mapped[str] = mapped_column(String(100), default="24/7")
    # kb (knowledge base) is a kind too; hours: core.sla.parse_hours; prefill: WhatsApp text.
    prefill: Mapped[str | None] = mapped_column(String(300))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AutomationRun(Base):
    __tablename__ = "automation_run"
    id: Mapped[int] = _id()
    run_date: Mapped[date] = mapped_column(Date)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = _created()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="running")


class AutomationAction(Base):
    __tablename__ = "automation_action"
    id: Mapped[int] = _id()
    run_id: Mapped[int] = mapped_column(ForeignKey("automation_run.id"), index=True)
    # e.g. "reminder:first:invoice:42" — the same effect can only ever be recorded once.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    service_id: Mapped[int | None] = mapped_column(ForeignKey("service.id"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    status: Mapped[str] = mapped_column(String(10), default="done")  # done | failed
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_client_at", "client_id", "at"),)
    id: Mapped[int] = _id()
    at: Mapped[datetime] = mapped_column(DateTime, default=now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    actor_label: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str | None] = mapped_column(String(30))
    target_id: Mapped[int | None] = mapped_column(Integer)
    client_id: Mapped[int | None] = mapped_column(Integer)
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class MailOutbox(Base):
    __tablename__ = "mail_outbox"
    __table_args__ = (Index("ix_mail_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = _id()
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(2), default="es")
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued|sending|sent
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=now)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created()
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)


class Token(Base):
    __tablename__ = "token"
    id: Mapped[int] = _id()
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))  # reset | verify | welcome
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256; never the token
    email: Mapped[str | None] = mapped_column(String(254))  # the address being verified
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = _created()


class RateEvent(Base):
    """One row per rate-limited request (e.g. password-reset per address)."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_key_at", "key", "at"),)
    id: Mapped[int] = _id()
    key: Mapped[str] = mapped_column(String(120))
    at: Mapped[datetime] = mapped_column(DateTime, default=now)


class Counter(Base):
    """Gap-free sequences (invoice and ticket numbers), incremented under a row lock."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Setting(Base):
    __tablename__ = "setting"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=now, onupdate=now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
