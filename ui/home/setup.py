"""The owner's first-run checklist on the home page (issue 16 item 20): what the business
still has to fill in before its invoices can go out — name, RUC, address and how to pay —
each a link to the place in Settings where it is filled in. Invoice mails wait in the outbox
until the list is empty (the rule: core.catalog.business_details.INVOICE_MAILS)."""

from __future__ import annotations

import streamlit as st

from core import catalog
from core.access import Actor
from ui.kit.context import tr, tr_count


def setup_checklist(actor: Actor) -> None:
    """Nothing once every detail is set; shown to the owner only (only they can set them)."""
    if not actor.is_owner:
        return
    missing = catalog.missing_details()
    if not missing:
        return
    with st.container(border=True):
        st.subheader(tr("setup.title"))
        st.warning(tr_count("setup.missing", len(missing)))
        for key in missing:
            st.page_link(
                "pages/settings.py",
                label=tr(f"setup.item.{key}"),
                icon=":material/check_box_outline_blank:",
                query_params={"tab": "business"},
            )
        st.caption(tr("setup.why"))
