"""The sidebar's choice of client account, for a person invited into more than one (an
accountant for several businesses). The choice is kept in the session; ``gate`` builds the
actor for it on every run, and an account taken away meanwhile falls back to the first."""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from core.accounts import client_users
from ui.auth.signin import ACTING_FOR
from ui.kit.context import tr


def account_selector(actor: Actor) -> None:
    choices = client_users.accounts_of(actor)
    if len(choices) < 2:
        return
    ids = [c.client_id for c in choices]
    names = {c.client_id: c.name for c in choices}
    picked = st.selectbox(
        tr("client_users.acting_for"),
        ids,
        index=ids.index(actor.client_id) if actor.client_id in ids else 0,
        format_func=names.__getitem__,
        key="anfitrion_acting_for_choice",
    )
    if picked != actor.client_id:
        st.session_state[ACTING_FOR] = picked
        st.rerun()
