"""Plan changes and new orders: a client's quotes for their own services (credit, charge, IVA,
total and the formula in words), confirmation into an invoice, their open changes, and ordering
a new plan. The owner sees the same for any client's service, plus every change waiting to be
paid or applied and every order waiting to be set up.

The role guard, then the page itself: ui/plan_changes/page.py (ARCHITECTURE §1).
"""

from ui.kit.context import guard
from ui.plan_changes import page

page.render(guard("upgrades"))
