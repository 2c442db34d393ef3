"""The desk's editor on the help page: categories, and articles written in Spanish and
English, saved as drafts, published or taken back, with uploaded images and related
articles. Shown to the owner and to staff with the tickets area (core checks it again)."""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from core.knowledge import articles, feedback
from core.platform import settings
from core.platform.clock import now
from ui.kit import flash
from ui.kit.context import errors_shown, lang, tr
from ui.knowledge.reader import open_article

FLASH = "kb_editor_flash"
PICK = "kb_edit_pick"
NEXT = "kb_edit_next"  # the article just saved, picked on the next run
NEW = 0


def _categories(actor: Actor, cats: list[articles.CategoryView]) -> None:
    with st.expander(tr("kb.categories"), expanded=not cats):
        for c in cats:
            st.text(f"{c.name_es} · {c.name_en}")
        with st.form("kb_new_category", clear_on_submit=True):
            c1, c2 = st.columns(2)
            name_es = c1.text_input(tr("kb.category_name_es"), max_chars=articles.NAME_MAX)
            name_en = c2.text_input(tr("kb.category_name_en"), max_chars=articles.NAME_MAX)
            if st.form_submit_button(tr("kb.category_add")):
                with errors_shown():
                    articles.save_category(actor, name_es, name_en, at=now())
                    flash.done(FLASH, "kb.category_saved")


def _form(
    actor: Actor, cats: list[articles.CategoryView], draft: articles.ArticleDraft | None
) -> None:
    names = {c.id: c.name(lang()) for c in cats}
    others = {r.id: r.title for r in articles.list_articles(actor, lang())}
    if draft is not None:
        others.pop(draft.id, None)
    suffix = NEW if draft is None else draft.id
    with st.form(f"kb_article_{suffix}"):
        category = st.selectbox(
            tr("kb.category"),
            list(names),
            format_func=names.get,
            index=list(names).index(draft.category_id)
            if draft and draft.category_id in names
            else 0,
        )
        public = st.checkbox(
            tr("kb.public"),
            value=True if draft is None else draft.public,
            help=tr("kb.public_help"),
        )
        es, en = st.columns(2)
        title_es = es.text_input(
            tr("kb.title_es"), value=draft.title_es if draft else "", max_chars=articles.TITLE_MAX
        )
        body_es = es.text_area(tr("kb.body_es"), value=draft.body_es if draft else "", height=320)
        title_en = en.text_input(
            tr("kb.title_en"), value=draft.title_en if draft else "", max_chars=articles.TITLE_MAX
        )
        body_en = en.text_area(tr("kb.body_en"), value=draft.body_en if draft else "", height=320)
        st.caption(tr("kb.markdown_rules"))
        related = st.multiselect(
            tr("kb.related"),
            list(others),
            default=[i for i in (draft.related_ids if draft else ()) if i in others],
            format_func=others.get,
        )
        if st.form_submit_button(tr("kb.save"), type="primary"):
            with errors_shown():
                saved = articles.save_article(
                    actor,
                    article_id=None if draft is None else draft.id,
                    category_id=category,
                    title_es=title_es,
                    title_en=title_en,
                    body_es=body_es,
                    body_en=body_en,
                    public=public,
                    related_ids=related,
                    at=now(),
                )
                st.session_state[NEXT] = saved
                flash.done(FLASH, "kb.saved")


def _status_and_images(actor: Actor, draft: articles.ArticleDraft) -> None:
    c1, c2 = st.columns(2)
    c1.caption(tr("kb.status_now", status=tr(f"kb.status.{draft.status}")))
    if draft.status == "draft":
        if c1.button(tr("kb.publish"), key="kb_publish", type="primary"):
            with errors_shown():
                articles.set_status(actor, draft.id, "published", at=now())
                flash.done(FLASH, "kb.published")
    elif c1.button(tr("kb.unpublish"), key="kb_unpublish"):
        with errors_shown():
            articles.set_status(actor, draft.id, "draft", at=now())
            flash.done(FLASH, "kb.unpublished")
    c2.button(tr("kb.preview"), key="kb_preview", on_click=open_article, args=(draft.id,))
    with st.expander(tr("kb.images")):
        for image_id in draft.image_ids:
            st.code(f"![{tr('kb.image_alt')}](image:{image_id})", language="markdown")
        picked = st.file_uploader(
            tr("kb.image_upload"), type=list(articles.IMAGE_TYPES) + ["jpeg"], key="kb_image"
        )
        if picked is not None and st.button(tr("kb.image_add"), key="kb_image_add"):
            with errors_shown():
                new_id = articles.add_image(
                    actor, draft.id, picked.name, picked.getvalue(), at=now()
                )
                flash.done(FLASH, "kb.image_added", marker=f"image:{new_id}")


def _owner_settings(actor: Actor) -> None:
    """Who may read and vote without signing in (the owner's choice)."""
    with st.expander(tr("kb.settings")):
        with settings.snapshot_scope():
            was_public = settings.get_bool(articles.PUBLIC_HELP)
            was_votes = settings.get_int(feedback.ANONYMOUS_VOTES_PER_HOUR)
        with st.form("kb_settings"):
            public = st.checkbox(tr("kb.settings_public"), value=was_public)
            votes = st.number_input(
                tr("kb.settings_votes"), min_value=0, max_value=10_000, value=was_votes, step=1
            )
            if st.form_submit_button(tr("action.save")):
                with errors_shown():
                    settings.put(actor, articles.PUBLIC_HELP, public)
                    settings.put(actor, feedback.ANONYMOUS_VOTES_PER_HOUR, int(votes))
                    flash.done(FLASH, "kb.settings_saved")


def edit(actor: Actor) -> None:
    flash.show(FLASH)
    if actor.is_owner:
        _owner_settings(actor)
    cats = articles.categories()
    _categories(actor, cats)
    if not cats:
        st.info(tr("kb.need_category"))
        return
    rows = articles.list_articles(actor, lang())
    labels = {NEW: tr("kb.new_article")}
    labels.update({r.id: f"{r.title} · {tr(f'kb.status.{r.status}')}" for r in rows})
    if NEXT in st.session_state:
        st.session_state[PICK] = st.session_state.pop(NEXT)
    if st.session_state.get(PICK) not in labels:
        st.session_state[PICK] = NEW
    picked = st.selectbox(tr("kb.pick_article"), list(labels), format_func=labels.get, key=PICK)
    draft = None
    if picked != NEW:
        with errors_shown():
            draft = articles.draft_of(actor, picked)
        if draft is None:
            return
        _status_and_images(actor, draft)
    _form(actor, cats, draft)
