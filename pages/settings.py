"""Settings (owner): users and roles, security, the audit log and the outgoing mail; the
business's details, IVA rates, products, panel servers, the support desk's departments,
canned replies, SLA targets and channels, and the mail templates (automation settings live on
the billing page and are linked from here).

The role guard, then the page itself: ui/settings/page.py (ARCHITECTURE §1).
"""

from ui.kit.context import guard
from ui.settings import page

page.render(guard("settings"))
