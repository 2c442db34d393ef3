"""Clients (staff with the clients right, and the owner): search by name, e-mail, RUC or
cédula, domain, invoice or ticket number; a client's services, invoices, tickets, credit,
notes and audit trail; create and edit clients; send a set-password e-mail; and see the
client area as the client sees it, read-only (audited in core).

The role guard, then the page itself: ui/clients/page.py (ARCHITECTURE §1).
"""

from ui.clients import page
from ui.kit.context import guard

page.render(guard("clients"))
