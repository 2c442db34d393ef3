"""Help centre ("Ayuda"): search and read articles, rate them; the desk writes them.

The role guard, then the page itself: ui/knowledge/page.py (ARCHITECTURE §1). Signed-out
visitors reach /help through dashboard.py's public stand-in (ui/knowledge/reader.py).
"""

from ui.kit.context import guard
from ui.knowledge import page

page.render(guard("help"))
