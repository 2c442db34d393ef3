"""Home: a client's services and what they owe; for the desk, its counts and the owner's
figures on one screen (MRR and its trend, cash, aging, expected cash-in, churn, tickets).

The role guard, then the page itself: ui/home/page.py (ARCHITECTURE §1).
"""

from ui.home import page
from ui.kit.context import guard

page.render(guard("home"))
