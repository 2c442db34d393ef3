"""Services: a client's own services (and each one's usage, cPanel password and sign-in), and
every service with the panel actions for staff with the services permission and the owner.

The role guard, then the page itself: ui/services/page.py (ARCHITECTURE §1).
"""

from ui.kit.context import guard
from ui.services import page

page.render(guard("services"))
