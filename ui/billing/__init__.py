"""The billing page's parts: one invoice, the desk's lists and the automation tab, and the
notice every billing form leaves after an action (ui.kit.flash under ``FLASH``)."""

from __future__ import annotations

from typing import NoReturn

from core import billing
from ui.kit import flash
from ui.kit.context import money

FLASH = "billing_flash"


def done(key: str, **params: str) -> NoReturn:
    flash.done(FLASH, key, **params)


def paid_done(result: billing.PaymentResult) -> NoReturn:
    if result.credited > 0:
        done("billing.payment_recorded_credit", amount=money(result.credited))
    else:
        done("billing.payment_recorded")
