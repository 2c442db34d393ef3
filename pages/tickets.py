"""Support tickets: a client's own tickets and threads; the desk's triage queue and ticket view.

The role guard, then the page itself: ui/support/page.py (ARCHITECTURE §1).
"""

from ui.kit.context import guard
from ui.support import page

page.render(guard("tickets"))
