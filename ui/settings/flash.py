"""The settings page's notice after a save: a form stores it, reruns, and the page shows it
once at the top (pages/settings.py pops ``settings_flash``)."""

import streamlit as st


def saved(key: str = "settings.saved") -> None:
    st.session_state["settings_flash"] = key
    st.rerun()
