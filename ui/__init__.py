"""Streamlit-side helpers shared by dashboard.py and the pages (core stays streamlit-free)."""
