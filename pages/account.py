"""My account: contact and billing details, e-mail, password, language, two-factor auth.

The role guard, then the page itself: ui/account/page.py (ARCHITECTURE §1).
"""

from ui.account import page
from ui.kit.context import guard

page.render(guard("account"))
