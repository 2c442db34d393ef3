"""The owner's flood guard for the desk: how many tickets and replies a client may post
(``core.support.limits``), a form under the desk rules on the SLA tab."""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from core.support import limits
from ui.kit.context import errors_shown, tr
from ui.settings import saved


def post_limits_form(actor: Actor) -> None:
    current = limits.post_limits()
    st.subheader(tr("limits.title"))
    st.caption(tr("limits.caption"))
    with st.form("desk_post_limits"):
        c1, c2, c3 = st.columns(3)
        new = c1.number_input(
            tr("limits.new_per_hour"),
            min_value=0,
            max_value=limits.MAX_PER_HOUR,
            value=min(current.new_per_hour, limits.MAX_PER_HOUR),
            step=1,
            key="limits_new_per_hour",
        )
        replies = c2.number_input(
            tr("limits.replies_per_hour"),
            min_value=0,
            max_value=limits.MAX_PER_HOUR,
            value=min(current.replies_per_hour, limits.MAX_PER_HOUR),
            step=1,
            key="limits_replies_per_hour",
        )
        minute = c3.number_input(
            tr("limits.posts_per_minute"),
            min_value=0,
            max_value=limits.MAX_PER_MINUTE,
            value=min(current.posts_per_minute, limits.MAX_PER_MINUTE),
            step=1,
            key="limits_posts_per_minute",
        )
        if st.form_submit_button(tr("action.save"), key="limits_save"):
            with errors_shown():
                limits.save_post_limits(
                    actor,
                    new_per_hour=int(new),
                    replies_per_hour=int(replies),
                    posts_per_minute=int(minute),
                )
                saved()
