"""The "Ayuda" page for a signed-in user: readers read and search; the owner and staff with
the tickets area also get the editor tab."""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from ui.kit.context import tr
from ui.kit.tabs import lazy_tabs
from ui.knowledge import editor, reader


def render(actor: Actor) -> None:
    st.title(tr("page.help"))
    if not (actor.is_staff_or_owner and actor.can("tickets")):
        reader.read(actor)
        return
    tabs = lazy_tabs(
        "kb_tab", {"read": tr("kb.tab_read"), "write": tr("kb.tab_write")}, url_param="kb"
    )
    if tabs["read"].open:
        with tabs["read"]:
            reader.read(actor)
    if tabs["write"].open:
        with tabs["write"]:
            editor.edit(actor)
