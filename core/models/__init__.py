"""SQLAlchemy tables, one module per business area: persistence only, no behaviour.

Every table is importable from ``core.models``; Alembic reads ``Base.metadata`` here.
"""

from core.models.accounts import ClientMembership, RecoveryCode, SignInThrottle, Token, User
from core.models.addons import AddonCharge, ServiceAddon
from core.models.automation import AutomationAction, AutomationRun
from core.models.base import Base, Money, Rate
from core.models.billing import CreditEntry, Invoice, InvoiceItem, Payment, TransferReceipt
from core.models.catalog import Product, ProductPrice
from core.models.clients import Client
from core.models.einvoice import ElectronicDocument
from core.models.imports import ImportLink
from core.models.knowledge import KbArticle, KbCategory, KbEvent, KbVote
from core.models.platform import AuditEntry, Counter, MailOutbox, RateEvent, Setting, Upload
from core.models.services import CancellationRequest, PlanChange, Server, Service
from core.models.sri import MailAttachment, SriExchange
from core.models.support import CannedReply, Department, SupportChannel, Ticket, TicketMessage

__all__ = [
    "Base",
    "Money",
    "Rate",
    "Client",
    "User",
    "ClientMembership",
    "RecoveryCode",
    "SignInThrottle",
    "Token",
    "Product",
    "ProductPrice",
    "Server",
    "Service",
    "PlanChange",
    "CancellationRequest",
    "Invoice",
    "InvoiceItem",
    "Payment",
    "TransferReceipt",
    "CreditEntry",
    "ElectronicDocument",
    "SriExchange",
    "MailAttachment",
    "Department",
    "Ticket",
    "TicketMessage",
    "CannedReply",
    "SupportChannel",
    "AutomationRun",
    "AutomationAction",
    "Upload",
    "AuditEntry",
    "MailOutbox",
    "RateEvent",
    "Counter",
    "Setting",
    "KbCategory",
    "KbArticle",
    "KbVote",
    "KbEvent",
    "ImportLink",
    "ServiceAddon",
    "AddonCharge",
]
