"""The "help" page (AppTest on SQLite): every role reads and searches the demo's articles;
only the desk reads drafts and writes; visitors who are not signed in read public articles;
the ticket form suggests articles; the desk links one into a reply; the report tab counts."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core.knowledge import articles, feedback
from core.models import KbArticle, KbEvent, Ticket
from core.platform import settings
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from sandbox.demo_articles import load_articles
from tests.pages.apptest import app_as, click, open_tab, texts, tr

MAIL_ES = "Cómo crear y configurar una cuenta de correo (buzón)"
MAIL_EN = "How to create and set up a mailbox (e-mail account)"
CPANEL_ES = "Cómo cambiar o recuperar la contraseña de cPanel"
# What dashboard.py runs at /help for a visitor who is not signed in.
PUBLIC = "from ui.knowledge.reader import render_public\nrender_public()\n"


@pytest.fixture
def kb(page_personas):
    with unit_of_work() as s:
        return load_articles(s, now())


def _draft(owner) -> int:
    return articles.save_article(
        owner,
        category_id=articles.categories()[0].id,
        title_es="Borrador interno de migración",
        title_en="Internal migration draft",
        body_es="Solo para el equipo.",
        body_en="Team only.",
        at=now(),
    )


def _buttons(at) -> list[str]:
    return [b.label for b in at.button]


@pytest.mark.parametrize("who", ["owner", "staff", "client_a", "client_b"])
def test_every_role_reads_the_help_page(page_personas, kb, who):
    persona = getattr(page_personas, who)
    at = app_as(persona, "help")
    assert not at.exception
    lang = persona.actor.language
    assert tr("page.help", lang) in texts(at)
    assert (MAIL_EN if lang == "en" else MAIL_ES) in _buttons(at)
    desk = who in ("owner", "staff")  # the staff persona has the tickets area
    assert (tr("kb.tab_write", lang) in [t.label for t in at.tabs]) is desk


def test_search_in_the_url_finds_a_word_without_its_accent(page_personas, kb):
    at = app_as(page_personas.client_a, "help", q="contrasena")
    assert not at.exception
    assert _buttons(at)[0] == CPANEL_ES  # the title weighs most
    assert "Formas de pago y cómo reportar una transferencia" not in _buttons(at)
    # Client B reads English: the same search in English finds the English article.
    at = app_as(page_personas.client_b, "help", q="pássword")
    assert "How to change or recover your cPanel password" in _buttons(at)


def test_an_article_opens_from_the_url_with_its_rating_and_related_articles(page_personas, kb):
    feedback.vote(page_personas.client_b.actor, kb["mail"], stars=4, at=now())
    feedback.vote(page_personas.owner.actor, kb["mail"], stars=5, at=now())
    at = app_as(page_personas.client_a, "help", article=str(kb["mail"]))
    assert not at.exception
    shown = texts(at)
    assert MAIL_ES in [h.value for h in at.header]
    assert "Valoración media 4.5 / 5. Recuento de votos: 2" in shown
    assert tr("kb.useful_question") in shown and tr("kb.stars_question") in shown
    assert "Qué es y para qué sirve el área de clientes" in _buttons(at)  # related
    with read_session() as s:
        views = s.scalars(select(KbEvent).where(KbEvent.article_id == kb["mail"])).all()
    assert [e.kind for e in views] == ["view"]


def test_clients_cannot_read_a_draft_but_the_desk_can(page_personas, kb):
    draft = _draft(page_personas.owner.actor)
    for persona in (page_personas.client_a, page_personas.client_b):
        at = app_as(persona, "help", article=str(draft))
        assert not at.exception
        assert [e.value for e in at.error] == [tr("error.not_found", persona.actor.language)]
        assert "Borrador interno" not in texts(at) and "Internal migration" not in texts(at)
        at = app_as(persona, "help", q="migracion")
        assert not any("migra" in label.lower() for label in _buttons(at))
    at = app_as(page_personas.staff, "help", article=str(draft))
    assert "Borrador interno de migración" in [h.value for h in at.header]


def test_an_article_with_script_and_raw_html_shows_none_of_it(page_personas, kb):
    owner = page_personas.owner.actor
    nasty = articles.save_article(
        owner,
        category_id=articles.categories()[0].id,
        title_es="Artículo <b>raro</b>",
        title_en="Odd article",
        body_es=(
            "Hola <script>alert('kb')</script> <img src=x onerror=alert(2)> "
            "[clic](javascript:alert(3)) [bien](https://anfitrion.ec)"
        ),
        body_en="Hello",
        at=now(),
    )
    articles.set_status(owner, nasty, "published", at=now())
    at = app_as(page_personas.client_a, "help", article=str(nasty))
    body = "\n".join(m.value for m in at.markdown)
    assert "script" not in body and "onerror" not in body and "javascript" not in body
    assert "[bien](https://anfitrion.ec)" in body and "clic" in body
    assert "<b>" not in "\n".join(h.value for h in at.header)


def test_visitors_read_public_articles_unless_the_owner_closes_help(page_personas, kb):
    at = AppTest.from_string(PUBLIC, default_timeout=30).run()
    assert not at.exception
    assert MAIL_ES in _buttons(at)
    settings.put(page_personas.owner.actor, "knowledge.public_help", False)
    at = AppTest.from_string(PUBLIC, default_timeout=30).run()
    assert [i.value for i in at.info] == [tr("kb.signin_to_read")]
    assert MAIL_ES not in _buttons(at)


def test_the_ticket_subject_brings_suggestions_and_a_sent_form_is_not_abandoned(page_personas, kb):
    a = page_personas.client_a
    at = open_tab(app_as(a, "tickets"), "tickets_client_tab", tr("tickets.new_title"))
    subject = [w for w in at.text_input if w.label == tr("tickets.col.subject")][0]
    subject.input("No me llega el correo").run()
    assert not at.exception
    assert tr("kb.suggested") in texts(at)
    assert _buttons(at)[:1] == [MAIL_ES]
    token = at.session_state["kb_ticket_form"]
    # The client reads the article from the form, then sends the ticket after all.
    feedback.record_view(a.actor, kb["mail"], at=now(), form_token=token)
    [w for w in at.text_area if w.label == tr("tickets.message")][0].input("Sigue sin llegar.")
    click(at, tr("tickets.submit_new"))
    assert [s.value for s in at.success] == [tr("tickets.opened")]
    with read_session() as s:
        assert s.scalars(select(Ticket).where(Ticket.subject == "No me llega el correo")).one()
        events = s.scalars(select(KbEvent).where(KbEvent.kind == "from_ticket")).all()
    assert [e.submitted for e in events] == [True]


def test_staff_answer_a_ticket_with_an_article_link_in_one_click(page_personas, kb):
    a = page_personas.client_a
    with unit_of_work() as s:
        s.get(Ticket, a.ticket_id).subject = "Olvidé la contraseña de cPanel"
    at = app_as(page_personas.staff, "tickets", ticket=str(a.ticket_id))
    assert not at.exception
    click(at, CPANEL_ES)
    reply = [w for w in at.text_area if w.label == tr("tickets.message")][0]
    assert f"{CPANEL_ES}: http://127.0.0.1:8501/help?article={kb['hosting']}" in reply.value


def test_the_desk_writes_a_draft_and_publishes_it(page_personas, kb):
    owner = page_personas.owner
    at = app_as(owner, "help", kb="write")
    assert not at.exception
    fields = {w.label: w for w in [*at.text_input, *at.text_area]}
    fields[tr("kb.title_es")].input("Cómo apuntar su dominio")
    fields[tr("kb.title_en")].input("How to point your domain")
    fields[tr("kb.body_es")].input("Cambie los **DNS** en su registrador.")
    fields[tr("kb.body_en")].input("Change the **DNS** at your registrar.")
    click(at, tr("kb.save"))
    assert not at.exception
    assert [s.value for s in at.success] == [tr("kb.saved")]
    with read_session() as s:
        made = s.scalars(
            select(KbArticle).where(KbArticle.title_en == "How to point your domain")
        ).one()
    assert made.status == "draft"

    def found() -> list[str]:
        return [
            r.title
            for r in articles.search_articles(page_personas.client_a.actor, "apuntar dominio", "es")
        ]

    assert "Cómo apuntar su dominio" not in found()
    click(at, tr("kb.publish"))
    assert [s.value for s in at.success] == [tr("kb.published")]
    assert found()[0] == "Cómo apuntar su dominio"


def test_clients_get_no_editor_even_by_url(page_personas, kb):
    at = app_as(page_personas.client_a, "help", kb="write")
    assert not at.exception
    assert tr("kb.save") not in _buttons(at) and not at.tabs


def test_the_owners_report_counts_views_and_votes(page_personas, kb):
    a = page_personas.client_a
    feedback.record_view(a.actor, kb["mail"], at=now(), form_token="f1")
    feedback.vote(a.actor, kb["mail"], stars=5, at=now())
    at = app_as(page_personas.owner, "reports", report="knowledge")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[tr("kb.metric_views")] == "1"
    assert metrics[tr("kb.metric_votes")] == "1"
    assert metrics[tr("kb.metric_abandoned")] == "1"
    assert MAIL_ES in texts(at)


def test_the_owner_closes_help_to_visitors_from_the_editor(page_personas, kb):
    at = app_as(page_personas.owner, "help", kb="write")
    boxes = [c for c in at.checkbox if c.label == tr("kb.settings_public")]
    boxes[0].uncheck()
    [n for n in at.number_input if n.label == tr("kb.settings_votes")][0].set_value(5)
    [b for b in at.button if b.label == tr("action.save")][0].click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [tr("kb.settings_saved")]
    assert settings.get_bool("knowledge.public_help") is False
    assert settings.get_int("knowledge.anonymous_votes_per_hour") == 5
    # Staff get the editor but not the owner's switches.
    at = app_as(page_personas.staff, "help", kb="write")
    assert not [c for c in at.checkbox if c.label == tr("kb.settings_public")]


def test_an_uploaded_image_is_drawn_in_its_article(page_personas, kb):
    owner = page_personas.owner.actor
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    png = buffer.getvalue()
    image_id = articles.add_image(owner, kb["mail"], "paso-1.png", png, at=now())
    d = articles.draft_of(owner, kb["mail"])
    articles.save_article(
        owner,
        article_id=d.id,
        category_id=d.category_id,
        title_es=d.title_es,
        title_en=d.title_en,
        body_es=f"Antes.\n\n![Paso 1](image:{image_id})\n\nDespués.",
        body_en=d.body_en,
        at=now(),
    )
    at = app_as(page_personas.client_a, "help", article=str(kb["mail"]))
    assert not at.exception
    images = at.get("image")
    assert len(images) == 1
    shown = "\n".join(m.value for m in at.markdown)
    assert "Antes." in shown and "Después." in shown and "image:" not in shown
