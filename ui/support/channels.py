"""24/7 support: the provider's channels (WhatsApp, phone, e-mail, chat, status page,
knowledge base) with their office hours and whether each is attended right now.

Thin on purpose: the role guard, one core read, the rendering. Labels and targets are the
owner's text and are shown with st.text; the buttons carry our own words.

Used by pages/support.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from core.platform.clock import now
from core.support import channels as support_channels
from ui.kit.context import tr


def render(actor: Actor) -> None:
    st.title(tr("page.support"))
    st.caption(tr("support.intro"))

    channels = support_channels.list_channels(actor, now())
    if not channels:
        st.info(tr("support.none"))
        st.stop()

    for channel in channels:
        with st.container(border=True):
            info, action = st.columns([3, 1], vertical_alignment="center")
            with info:
                st.text(
                    support_channels.channel_title(
                        tr(f"support.kind.{channel.kind}"), channel.label
                    )
                )
                if channel.open_now:
                    st.badge(tr("support.open_now"), icon=":material/schedule:", color="green")
                else:
                    # "Closed now" alone reads as closed for good on a line with office hours.
                    closed = tr("support.closed_now")
                    if channel.opens_text:
                        closed = f"{closed} · {channel.opens_text}"
                    st.badge(closed, icon=":material/schedule:", color="gray")
                st.text(f"{tr('support.hours')}: {channel.hours_text}")
                if channel.kind in ("whatsapp", "phone", "email"):
                    st.text(channel.target)
            action.link_button(
                tr(f"support.action.{channel.kind}"),
                channel.url,
                width="stretch",
                type="primary",
                key=f"support_link_{channel.id}",
            )
