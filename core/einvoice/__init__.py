"""SRI electronic invoicing (issue 17): access keys, XML, signature, numbering, issuance.

The front door: what other areas and the SRI side call. ``issue_factura`` runs on full
payment (billing/hooks.py); ``issue_credit_note`` on a refund, a downgrade credit paid back
or the cancellation of what was already invoiced.
"""

from core.einvoice.keys import access_key, check_digit, is_valid_access_key

__all__ = ["access_key", "check_digit", "is_valid_access_key"]
