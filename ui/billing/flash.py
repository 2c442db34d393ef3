"""The billing page's notice after an action: the action stores it and reruns with fresh data,
and the page shows it once at the top (pages/billing.py pops ``FLASH``).

One place for the invoice detail (ui.billing.invoice), the desk (ui.billing.desk) and the
owner's automation (ui.billing.automation), so every billing form says "done" the same way.
"""

from __future__ import annotations

import streamlit as st

from core import billing
from ui.kit.context import money

FLASH = "billing_flash"


def done(key: str, **params: str) -> None:
    """After a successful action: remember the message and rerun with fresh data."""
    st.session_state[FLASH] = (key, params)
    st.rerun()


def paid_done(result: billing.PaymentResult) -> None:
    if result.credited > 0:
        done("billing.payment_recorded_credit", amount=money(result.credited))
    else:
        done("billing.payment_recorded")
