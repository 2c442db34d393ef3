"""Anfitrión's behaviour, one package per business area (ARCHITECTURE §1).

Nothing here imports streamlit; pages and ui/ call in, never the other way."""
