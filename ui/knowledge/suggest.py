"""The knowledge base where tickets are written.

- While a client types a new ticket's subject, the three best matching articles appear; one
  opens on the help page, counted against this form (its token), so the desk's report can
  tell how many forms were left after an article answered the question.
- On the desk's side of a ticket, the articles matching its subject are one click from the
  reply box: the click appends the article's title and public link.
"""

from __future__ import annotations

import secrets

import streamlit as st

from core.access import Actor
from core.knowledge import articles, feedback
from core.platform.config import get_settings
from core.platform.errors import DomainError
from ui.kit.context import lang, tr
from ui.knowledge.reader import FROM_TICKET

SUGGESTED = 3


def form_token() -> str:
    """The open new-ticket form's token (one per form; a sent form starts a new one)."""
    token: str = st.session_state.setdefault(FROM_TICKET, secrets.token_urlsafe(16))
    return token


def ticket_sent() -> None:
    """The form was sent: articles opened from it did not stop this ticket."""
    token = st.session_state.pop(FROM_TICKET, None)
    if token:
        try:
            feedback.form_submitted(token)
        except DomainError:
            return  # the ticket itself is in; only the report's count would miss it


def _open(article_id: int) -> None:
    st.switch_page("pages/help.py", query_params={"article": str(article_id), "from": "ticket"})


def suggestions(actor: Actor, subject: str) -> None:
    """Under the subject: articles that may answer it before the ticket is sent."""
    form_token()
    if not subject or not subject.strip():
        return
    found = articles.search_articles(actor, subject, lang(), limit=SUGGESTED)
    if not found:
        return
    with st.container(border=True):
        st.caption(tr("kb.suggested"))
        for row in found:
            if st.button(
                row.title,
                key=f"kb_suggest_{row.id}",
                type="tertiary",
                icon=":material/lightbulb:",
            ):
                _open(row.id)


def article_link(article_id: int, title: str) -> str:
    """Plain text for a reply (ticket messages are shown as text, never Markdown)."""
    return f"{title}: {get_settings().public_url}/help?article={article_id}"


def _append(reply_key: str, text: str) -> None:
    current = st.session_state.get(reply_key) or ""
    st.session_state[reply_key] = (current.rstrip() + "\n\n" if current.strip() else "") + text


def link_buttons(actor: Actor, subject: str, reply_key: str) -> None:
    """The desk answers with an article: the best matches for the ticket's subject (or for
    what is typed in the search box), each one click from the reply."""
    with st.expander(tr("kb.answer_with_article")):
        query = st.text_input(tr("kb.search"), value=subject, key="kb_link_q", max_chars=200)
        found = articles.search_articles(actor, query or "", lang(), limit=SUGGESTED)
        if not found:
            st.caption(tr("kb.no_results"))
        for row in found:
            st.button(
                row.title,
                key=f"kb_link_{row.id}",
                icon=":material/add_link:",
                on_click=_append,
                args=(reply_key, article_link(row.id, row.title)),
            )
