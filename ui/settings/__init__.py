"""The settings page's tabs, and the notice a save leaves (ui.kit.flash under ``FLASH``)."""

from __future__ import annotations

from typing import NoReturn

from ui.kit import flash

FLASH = "settings_flash"


def saved(key: str = "settings.saved") -> NoReturn:
    flash.done(FLASH, key)
