"""The owner's settings, what runs by itself: the link to the automation settings (they live
on the billing page) and the mail templates' wording (issue 8)."""

import streamlit as st

from core import catalog
from core.access import Actor
from core.platform import i18n
from ui.kit.context import errors_shown, tr
from ui.settings import saved


def automation_tab(actor: Actor) -> None:
    """A link, nothing to read: it takes the actor only because the page calls every tab so."""
    st.info(tr("catalog.automation_where"))
    st.page_link(
        "pages/billing.py",
        label=tr("catalog.automation_link"),
        icon=":material/schedule:",
        query_params={"auto": "settings"},  # the billing page opens its settings tab
    )


def templates_tab(actor: Actor) -> None:
    st.caption(tr("catalog.templates_help"))
    m1, m2 = st.columns(2)
    tpl_name = m1.selectbox(
        tr("catalog.template"),
        catalog.template_names(),
        format_func=lambda n: (
            tr(f"catalog.template_{n}") if i18n.has(f"catalog.template_{n}") else n
        ),
        key="template_name",
    )
    tpl_lang = m2.selectbox(
        tr("clients.language"),
        i18n.LANGUAGES,
        format_func=i18n.LANGUAGE_NAMES.get,
        key="template_lang",
    )
    found_tpl = None
    with errors_shown():
        found_tpl = catalog.template(actor, tpl_name, tpl_lang)
    if found_tpl is not None:
        st.caption(
            tr("catalog.template_variables", names=", ".join(found_tpl.variables))
            if found_tpl.variables
            else tr("catalog.template_no_variables")
        )
        if found_tpl.override:
            st.caption(tr("catalog.template_overridden"))
        draft = st.text_area(
            tr("catalog.template_text"),
            found_tpl.current,
            height=260,
            key=f"template_text_{tpl_name}_{tpl_lang}",
        )
        n1, n2, n3 = st.columns(3)
        if n1.button(tr("catalog.template_preview"), key="template_preview"):
            with errors_shown():
                preview = catalog.preview_template(actor, tpl_name, tpl_lang, draft)
                box = st.container(border=True)
                box.caption(tr("catalog.template_subject"))
                box.text(preview.subject)
                box.caption(tr("catalog.template_body"))
                box.text(preview.body)
        if n2.button(tr("action.save"), key="template_save"):
            with errors_shown():
                catalog.save_template(actor, tpl_name, tpl_lang, draft)
                st.session_state.pop(f"template_text_{tpl_name}_{tpl_lang}", None)
                saved()
        if n3.button(
            tr("catalog.template_reset"), key="template_reset", disabled=not found_tpl.override
        ):
            with errors_shown():
                catalog.save_template(actor, tpl_name, tpl_lang, "")
                st.session_state.pop(f"template_text_{tpl_name}_{tpl_lang}", None)
                saved()
