"""Billing: a client's invoices, receipts and credit; the back office for billing staff.

The role guard, then the page itself: ui/billing/page.py (ARCHITECTURE §1).
"""

from ui.billing import page
from ui.kit.context import guard

page.render(guard("billing"))
