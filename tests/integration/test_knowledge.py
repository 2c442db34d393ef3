"""The knowledge base on a real database (SQLite always, PostgreSQL with TEST_DATABASE_URL):
accent-blind search in each language, who reads drafts, votes, and the desk's report."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from core.knowledge import articles, feedback, report
from core.platform import settings
from core.platform.db import unit_of_work
from core.platform.errors import Forbidden, NotFound, ValidationError
from sandbox.demo_articles import load_articles

AT = datetime(2026, 12, 1, 12, 0)
DAY, ONE = AT.date(), timedelta(days=1)


@pytest.fixture
def kb(personas):
    with unit_of_work() as s:
        ids = load_articles(s, AT)
    return ids


def _titles(rows):
    return [r.title for r in rows]


def test_search_finds_a_word_written_without_its_accent_in_spanish(personas, kb):
    found = articles.search_articles(personas.client_a.actor, "contrasena", "es")
    assert "Cómo cambiar o recuperar la contraseña de cPanel" in _titles(found)
    # ... and with it, and in capitals: the same folding on both sides.
    assert _titles(articles.search_articles(None, "CONTRASEÑA", "es")) == _titles(found)


def test_search_finds_a_word_written_without_its_accent_in_english(personas, kb):
    # "e-mail" articles in English; a written accent the English text does not carry is
    # folded away in the query as well.
    found = articles.search_articles(personas.client_a.actor, "mailbóx", "en")
    assert _titles(found)[0] == "How to create and set up a mailbox (e-mail account)"


def test_an_english_article_is_found_by_its_accented_word_written_without_it(personas, kb):
    """The English text can carry accents too (an Ecuadorian ID is a "cédula"): a reader
    who types it plainly finds the article, on each engine, and the Spanish one as well."""
    owner = personas.owner.actor
    category = articles.save_category(owner, "Facturación", "Billing", at=AT)
    article = articles.save_article(
        owner,
        category_id=category,
        title_es="Su cédula o RUC en las facturas",
        title_en="Your cédula or RUC on invoices",
        body_es="Las facturas llevan la cédula o el RUC que guarde en Mi cuenta.",
        body_en="Invoices carry the cédula or RUC you keep on My account.",
        at=AT,
    )
    articles.set_status(owner, article, "published", at=AT)
    assert _titles(articles.search_articles(personas.client_a.actor, "cedula", "en")) == [
        "Your cédula or RUC on invoices"
    ]
    assert "Su cédula o RUC en las facturas" in _titles(
        articles.search_articles(personas.client_b.actor, "cedula", "es")
    )


def test_search_reads_only_the_readers_language(personas, kb):
    assert articles.search_articles(None, "buzon", "en") == []
    assert _titles(articles.search_articles(None, "buzon", "es")) == [
        "Cómo crear y configurar una cuenta de correo (buzón)"
    ]


def test_a_ticket_subject_brings_the_mailbox_article_first(personas, kb):
    found = articles.search_articles(
        personas.client_a.actor, "No me llega el correo", "es", limit=3
    )
    assert _titles(found)[0] == "Cómo crear y configurar una cuenta de correo (buzón)"
    assert len(found) <= 3


def test_drafts_are_read_by_staff_only(personas, kb):
    owner, staff = personas.owner.actor, personas.staff.actor
    category = articles.categories()[0].id
    draft = articles.save_article(
        owner,
        category_id=category,
        title_es="Borrador secreto migración",
        title_en="Secret migration draft",
        body_es="Texto",
        body_en="Text",
        at=AT,
    )
    assert articles.read_article(staff, draft, "es").status == "draft"
    assert "Borrador secreto migración" in _titles(
        articles.search_articles(staff, "migracion", "es")
    )
    for reader in (personas.client_a.actor, personas.client_b.actor, None):
        with pytest.raises(NotFound):
            articles.read_article(reader, draft, "es")
        assert articles.search_articles(reader, "migracion", "es") == []
        assert draft not in [r.id for r in articles.list_articles(reader, "es")]
        with pytest.raises(NotFound):
            feedback.vote(reader, draft, stars=5, browser_token="t", at=AT)
    articles.set_status(owner, draft, "published", at=AT)
    assert articles.read_article(personas.client_b.actor, draft, "en").title == (
        "Secret migration draft"
    )


def test_clients_only_articles_and_the_public_switch(personas, kb):
    owner = personas.owner.actor
    d = articles.draft_of(owner, kb["billing"])
    articles.save_article(
        owner,
        article_id=d.id,
        category_id=d.category_id,
        title_es=d.title_es,
        title_en=d.title_en,
        body_es=d.body_es,
        body_en=d.body_en,
        public=False,
        at=AT,
    )
    with pytest.raises(NotFound):
        articles.read_article(None, kb["billing"], "es")
    assert articles.read_article(personas.client_a.actor, kb["billing"], "es").id == kb["billing"]
    # The owner may close the help pages to visitors altogether.
    assert articles.visitors_may_read()
    settings.put(owner, "knowledge.public_help", False)
    assert not articles.visitors_may_read()
    assert articles.list_articles(None, "es") == []
    assert articles.search_articles(None, "correo", "es") == []
    with pytest.raises(NotFound):
        articles.read_article(None, kb["mail"], "es")
    assert articles.list_articles(personas.client_a.actor, "es")


def test_only_the_desk_writes_articles(personas, kb):
    category = articles.categories()[0].id
    for actor in (personas.client_a.actor,):
        with pytest.raises(Forbidden):
            articles.save_article(
                actor,
                category_id=category,
                title_es="x",
                title_en="x",
                body_es="x",
                body_en="x",
                at=AT,
            )
        with pytest.raises(Forbidden):
            articles.set_status(actor, kb["mail"], "draft", at=AT)


def test_an_article_needs_both_languages_and_known_related_articles(personas, kb):
    owner = personas.owner.actor
    category = articles.categories()[0].id
    with pytest.raises(ValidationError) as missing:
        articles.save_article(
            owner,
            category_id=category,
            title_es="Hola",
            title_en="",
            body_es="x",
            body_en="x",
            at=AT,
        )
    assert missing.value.key == "error.kb_title_required"
    with pytest.raises(ValidationError) as related:
        articles.save_article(
            owner,
            category_id=category,
            title_es="Hola",
            title_en="Hi",
            body_es="x",
            body_en="x",
            related_ids=[9999],
            at=AT,
        )
    assert related.value.key == "error.kb_related_invalid"


def test_a_users_second_vote_replaces_the_first(personas, kb):
    a, b = personas.client_a.actor, personas.client_b.actor
    feedback.vote(a, kb["mail"], stars=2, at=AT)
    rating = feedback.vote(a, kb["mail"], stars=5, helpful=True, at=AT)
    assert rating.count == 1 and rating.average == Decimal("5.0")
    rating = feedback.vote(b, kb["mail"], stars=4, helpful=False, at=AT)
    assert (rating.average, rating.count, rating.helpful, rating.not_helpful) == (
        Decimal("4.5"),
        2,
        1,
        1,
    )
    # The article shows what the votes say, as the brief writes it.
    shown = articles.read_article(None, kb["mail"], "es").rating
    assert shown == rating
    assert feedback.my_vote(a, kb["mail"]) == feedback.MyVote(5, True)
    # "Useful?" alone keeps the stars already given.
    feedback.vote(a, kb["mail"], helpful=False, at=AT)
    assert feedback.my_vote(a, kb["mail"]) == feedback.MyVote(5, False)
    with pytest.raises(ValidationError):
        feedback.vote(a, kb["mail"], stars=6, at=AT)


def test_a_visitor_votes_once_per_browser_session_and_is_rate_limited(personas, kb):
    feedback.vote(None, kb["mail"], stars=1, browser_token="browser-1", address="1.2.3.4", at=AT)
    feedback.vote(None, kb["mail"], stars=3, browser_token="browser-1", address="1.2.3.4", at=AT)
    assert articles.read_article(None, kb["mail"], "es").rating.count == 1
    with pytest.raises(ValidationError):
        feedback.vote(None, kb["mail"], stars=3, at=AT)  # no browser session: no vote
    settings.put(personas.owner.actor, "knowledge.anonymous_votes_per_hour", 2)
    feedback.vote(None, kb["mail"], stars=4, browser_token="browser-2", address="1.2.3.4", at=AT)
    with pytest.raises(ValidationError) as limited:
        feedback.vote(
            None, kb["mail"], stars=5, browser_token="browser-3", address="1.2.3.4", at=AT
        )
    assert limited.value.key == "error.kb_vote_rate_limited"
    # Another address, or the same an hour later, may vote again.
    feedback.vote(None, kb["mail"], stars=5, browser_token="browser-3", address="5.6.7.8", at=AT)
    later = AT + timedelta(hours=1, minutes=1)
    feedback.vote(None, kb["mail"], stars=5, browser_token="browser-4", address="1.2.3.4", at=later)
    assert articles.read_article(None, kb["mail"], "es").rating.count == 4


def test_the_report_counts_views_votes_and_abandoned_ticket_forms(personas, kb):
    a = personas.client_a.actor
    feedback.record_view(a, kb["mail"], at=AT, form_token="form-1")
    feedback.record_view(a, kb["hosting"], at=AT, form_token="form-1")
    feedback.record_view(a, kb["mail"], at=AT, form_token="form-2")
    feedback.record_view(None, kb["mail"], at=AT)
    assert feedback.form_submitted("form-2") == 1
    feedback.vote(a, kb["mail"], stars=5, at=AT)
    feedback.vote(personas.client_b.actor, kb["hosting"], stars=2, at=AT)
    got = report.knowledge_report(personas.owner.actor, DAY - ONE, DAY + ONE, "es")
    by_id = {r.id: r for r in got.articles}
    assert by_id[kb["mail"]].views == 3 and by_id[kb["hosting"]].views == 1
    assert got.views == 4 and got.votes == 2
    assert [r.id for r in got.lowest] == [kb["hosting"], kb["mail"]]
    assert (got.forms_with_article, got.forms_abandoned) == (2, 1)
    with pytest.raises(Forbidden):
        report.knowledge_report(a, DAY, DAY, "es")
    with pytest.raises(Forbidden):  # the staff persona has no "reports" area
        report.knowledge_report(personas.staff.actor, DAY, DAY, "es")


def test_an_article_image_is_served_only_through_its_article(personas, kb):
    owner = personas.owner.actor
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 20
    image_id = articles.add_image(owner, kb["mail"], "paso1.png", png, at=AT)
    assert articles.image(None, kb["mail"], image_id).data == png
    with pytest.raises(NotFound):
        articles.image(None, kb["hosting"], image_id)
    with pytest.raises(ValidationError):
        articles.add_image(owner, kb["mail"], "x.png", b"not an image", at=AT)
