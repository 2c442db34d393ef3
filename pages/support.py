"""24/7 support: the provider's channels (WhatsApp, phone, e-mail, chat, status page,
knowledge base) with their office hours and whether each is attended right now.

The role guard, then the page itself: ui/support/channels.py (ARCHITECTURE §1).
"""

from ui.kit.context import guard
from ui.support import channels

channels.render(guard("support"))
