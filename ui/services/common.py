"""What the services page's parts share: the notice an action leaves (ui.kit.flash under
``FLASH``) and the session key that carries a resync report to the next run.

One place for the page (ui/services/page.py), the staff tools (ui.services.staff_tools) and
the cancellation parts (ui.services.cancellation), so each says "done" the same way.
"""

from __future__ import annotations

from ui.kit import flash

FLASH = "services_flash"
RESYNC = "services_resync_report"


def done(key: str, **params: str) -> None:
    flash.done(FLASH, key, **params)
