"""The "Ayuda" page as readers see it: search (``?q=``), categories, one article
(``?article=ID``) with its images, related articles and the "was it useful?" vote.

Signed-out visitors read it too (``actor`` None): dashboard.py routes /help here for them.
Article text is Markdown written by staff and shown only after core's sanitiser
(``core.knowledge.text``); titles likewise.
"""

from __future__ import annotations

import secrets

import streamlit as st

from core.access import Actor
from core.knowledge import articles, feedback
from core.knowledge.text import parts, sanitise
from core.platform.clock import now
from core.platform.errors import DomainError, NotFound
from ui.kit.context import errors_shown, lang, show_error, tr

BROWSER_KEY = "kb_browser"  # a visitor's one vote per article and browser session
VIEWED = "kb_viewed"  # articles already counted as read in this session
FROM_TICKET = "kb_ticket_form"  # the open new-ticket form's token (ui.knowledge.suggest)
SEARCH_KEY = "q"  # the search box, bound to ?q=


def open_article(article_id: int) -> None:
    st.query_params["article"] = str(article_id)


def _close_article() -> None:
    st.query_params.pop("article", None)
    st.query_params.pop("from", None)


def rating_line(rating: feedback.Rating) -> str:
    average = "0" if rating.average is None else f"{rating.average.normalize():f}"
    return tr("kb.rating", average=average, count=rating.count)


def _article_buttons(rows: list[articles.ArticleRow], key: str) -> None:
    for row in rows:
        label = sanitise(row.title)
        if row.status == "draft":
            label = f"{label} · {tr('kb.status.draft')}"
        st.button(
            label,
            key=f"{key}_{row.id}",
            on_click=open_article,
            args=(row.id,),
            type="tertiary",
            icon=":material/article:",
        )


def _count_view(actor: Actor | None, article_id: int) -> None:
    """Once per session and article; opened from the ticket form it also carries that
    form's token, so the report can tell whether the ticket was sent after all."""
    viewed = st.session_state.setdefault(VIEWED, set())
    from_ticket = st.query_params.get("from") == "ticket"
    mark = (article_id, from_ticket)
    if mark in viewed:
        return
    token = st.session_state.get(FROM_TICKET) if from_ticket else None
    try:
        feedback.record_view(actor, article_id, at=now(), form_token=token)
    except DomainError:
        return
    viewed.add(mark)


def _vote(actor: Actor | None, article_id: int, field: str, key: str) -> None:
    value = st.session_state.get(key)
    if value is None:
        return
    choice = {"stars": {"stars": int(value) + 1}, "helpful": {"helpful": value == 1}}[field]
    token = st.session_state.setdefault(BROWSER_KEY, secrets.token_urlsafe(24))
    try:
        feedback.vote(
            actor,
            article_id,
            browser_token=token,
            address=st.context.ip_address,
            at=now(),
            **choice,
        )
        st.session_state["kb_vote_notice"] = "kb.vote_saved"
    except DomainError as exc:
        st.session_state["kb_vote_notice"] = exc


def _votes(actor: Actor | None, view: articles.ArticleView) -> None:
    st.caption(rating_line(view.rating))
    token = st.session_state.get(BROWSER_KEY)
    mine = feedback.my_vote(actor, view.id, token)
    thumbs_key, stars_key = f"kb_helpful_{view.id}", f"kb_stars_{view.id}"
    if mine is not None:
        if mine.helpful is not None:
            st.session_state.setdefault(thumbs_key, 1 if mine.helpful else 0)
        if mine.stars is not None:
            st.session_state.setdefault(stars_key, mine.stars - 1)
    st.write(tr("kb.useful_question"))
    st.feedback(
        "thumbs", key=thumbs_key, on_change=_vote, args=(actor, view.id, "helpful", thumbs_key)
    )
    st.write(tr("kb.stars_question"))
    st.feedback("stars", key=stars_key, on_change=_vote, args=(actor, view.id, "stars", stars_key))
    notice = st.session_state.pop("kb_vote_notice", None)
    if isinstance(notice, Exception):
        show_error(notice)
    elif notice:
        st.success(tr(notice))


def article_view(actor: Actor | None, article_id: str) -> None:
    st.button(tr("kb.back"), on_click=_close_article, icon=":material/arrow_back:", key="kb_back")
    try:
        view = articles.read_article(actor, article_id, lang())
    except NotFound as exc:
        show_error(exc)
        return
    _count_view(actor, view.id)
    st.header(sanitise(view.title), anchor=False)
    caption = sanitise(view.category)
    if view.status == "draft":
        caption += f" · {tr('kb.status.draft')}"
    st.caption(caption)
    for part in parts(view.body):
        if part.image_id is None:
            st.markdown(part.markdown)
            continue
        with errors_shown():
            stored = articles.image(actor, view.id, part.image_id)
            st.image(stored.data, caption=part.alt or None)
    st.divider()
    _votes(actor, view)
    if view.related:
        st.subheader(tr("kb.related"), anchor=False)
        _article_buttons(list(view.related), "kb_related")


def _listing(actor: Actor | None) -> None:
    query = st.text_input(
        tr("kb.search"),
        key=SEARCH_KEY,
        bind="query-params",
        type="search",
        live=True,
        placeholder=tr("kb.search_placeholder"),
        max_chars=200,
    )
    if query and query.strip():
        found = articles.search_articles(actor, query, lang())
        if not found:
            st.info(tr("kb.no_results"))
        _article_buttons(found, "kb_hit")
        return
    rows = articles.list_articles(actor, lang())
    if not rows:
        st.info(tr("kb.empty"))
        return
    for category in articles.categories():
        inside = [r for r in rows if r.category_id == category.id]
        if inside:
            st.subheader(sanitise(category.name(lang())), anchor=False)
            _article_buttons(inside, "kb_list")


def read(actor: Actor | None) -> None:
    """The reader's part of the page: one article when the URL names one, else the list."""
    article_id = st.query_params.get("article")
    if article_id:
        article_view(actor, article_id)
    else:
        _listing(actor)


def render_public() -> None:
    """/help for a visitor who is not signed in."""
    st.title(tr("page.help"))
    if not articles.visitors_may_read():
        st.info(tr("kb.signin_to_read"))
        return
    read(None)
