"""E-mail accounts: the mailboxes of one of the client's services (the owner: any service),
with their usage, and create, change password, change quota and delete (after confirmation).

The role guard, then the page itself: ui/services/mailboxes.py (ARCHITECTURE §1).
"""

from ui.kit.context import guard
from ui.services import mailboxes

mailboxes.render(guard("email_accounts"))
