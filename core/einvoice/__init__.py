"""SRI electronic invoicing (issue 17): access keys, XML, signature, numbering, issuance.

The front door: what other areas and the SRI side call. ``issue_factura`` runs on full
payment (``core.billing.hooks``); ``issue_credit_note`` on a refund, a downgrade credit paid
back, or cancelling what was already invoiced (``core.einvoice.triggers``).
"""

from core.einvoice.amounts import SourceLine
from core.einvoice.issue import credited_so_far, factura_of, issue_credit_note, issue_factura
from core.einvoice.keys import access_key, check_digit, is_valid_access_key

__all__ = [
    "SourceLine",
    "access_key",
    "check_digit",
    "credited_so_far",
    "factura_of",
    "is_valid_access_key",
    "issue_credit_note",
    "issue_factura",
]
