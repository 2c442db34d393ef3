"""The help centre in Chromium (issue 19, acceptance 2 and 3).

1. A visitor who is not signed in opens a public article at /help?article=ID; its Markdown
   held a <script>, a javascript: link, raw HTML and an <img onerror>: none of it is active in
   the page (no dialog, no script run, no such element or link), the https link is live.
2. Client A types "correo" as a ticket subject, sees the mailbox article suggested, opens it,
   rates it 5 stars; the owner's report counts the view and the vote (and the form left).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.knowledge import articles
from core.models import KbEvent
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.i18n import t
from sandbox.demo_articles import load_articles
from tests.e2e.conftest import serve_app, sign_in, wait_for_app
from tests.e2e.journeys_conftest import open_page, settle
from tests.personas import TOTP_SECRET

MAIL_ES = "Cómo crear y configurar una cuenta de correo (buzón)"
NASTY_BODY = (
    "Texto normal.\n\n"
    "<script>window.__kbxss = 'script'; alert('script')</script>\n\n"
    "<img src=x onerror=\"window.__kbxss = 'img'\">\n\n"
    "<a href=\"javascript:window.__kbxss='a'\">html link</a>\n\n"
    "[enlace malo](javascript:window.__kbxss='md') y "
    "[otro](jav&#97;script:alert(1)) y [bueno](https://anfitrion.ec/ayuda)\n\n"
    '<iframe src="https://example.com"></iframe><b onmouseover="alert(1)">negrita html</b>\n'
)
IDS: dict[str, int] = {}


def _prepare(personas) -> None:
    owner = personas.owner.actor
    with unit_of_work() as s:
        IDS.update(load_articles(s, now()))
        IDS["nasty"] = articles.save_article(
            owner,
            category_id=articles.categories(s)[0].id,
            title_es="Artículo con trampas",
            title_en="Booby-trapped article",
            body_es=NASTY_BODY,
            body_en=NASTY_BODY,
            at=now(),
            session=s,
        )
        articles.set_status(owner, IDS["nasty"], "published", at=now(), session=s)


@pytest.fixture(scope="module")
def kb_app():
    yield from serve_app(_prepare)


def test_a_visitor_reads_a_public_article_and_none_of_its_html_is_active(kb_app, browser):
    base, _personas = kb_app
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page, f"{base}/help?article={IDS['nasty']}")
    page.get_by_role("heading", name="Artículo con trampas").wait_for(timeout=30_000)
    main = page.get_by_test_id("stMain")
    main.get_by_text("Texto normal.").wait_for()
    page.mouse.move(200, 400)  # over the article, where an onmouseover would fire
    page.wait_for_timeout(500)
    assert dialogs == []
    assert page.evaluate("window.__kbxss") is None
    markdown = main.get_by_test_id("stMarkdown")
    for selector in ("script", "img", "iframe", "b", "[onerror]", "[onmouseover]"):
        assert markdown.locator(selector).count() == 0, selector
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert page.locator("a[href='https://anfitrion.ec/ayuda']").count() == 1
    assert "window.__kbxss" not in main.inner_text()
    # The visitor searches without the accent and finds the cPanel password article.
    open_page(page, f"{base}/help?q=contrasena")
    main.get_by_role("button", name="Cómo cambiar o recuperar la contraseña de cPanel").wait_for()
    # The sign-in form stays at hand, in the sidebar.
    page.get_by_test_id("stSidebar").get_by_role("button", name=t("signin.submit")).wait_for()
    context.close()


def test_a_client_finds_the_mailbox_article_from_a_ticket_and_the_owner_counts_it(kb_app, browser):
    base, personas = kb_app
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, personas.client_a.email, personas.password)
    open_page(page, f"{base}/tickets")
    page.get_by_role("tab", name=t("tickets.new_title")).click()
    settle(page)
    page.get_by_role("textbox", name=t("tickets.col.subject")).press_sequentially("correo")
    suggestion = page.get_by_role("button", name=MAIL_ES)
    suggestion.wait_for(timeout=30_000)  # the live subject reran the page after a pause
    assert page.get_by_text(t("kb.suggested")).count() == 1
    suggestion.click()
    page.get_by_role("heading", name=MAIL_ES).wait_for(timeout=30_000)
    settle(page)
    assert f"article={IDS['mail']}" in page.url
    page.get_by_role("radio", name="5 out of 5 stars").click()
    page.get_by_text(t("kb.vote_saved")).wait_for(timeout=30_000)
    page.get_by_text(t("kb.rating", average="5", count=1)).wait_for()
    context.close()

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, base, personas.owner.email, personas.password, TOTP_SECRET)
    open_page(page, f"{base}/reports?report=knowledge")
    views = page.get_by_test_id("stMetric").filter(has_text=t("kb.metric_views"))
    views.wait_for(timeout=30_000)
    wait_for_app(page)

    def metric(key: str) -> str:
        box = page.get_by_test_id("stMetric").filter(has_text=t(key))
        return box.get_by_test_id("stMetricValue").inner_text().strip()

    with read_session() as s:
        mail_views = s.scalars(
            select(KbEvent.user_id).where(KbEvent.kind == "view", KbEvent.article_id == IDS["mail"])
        ).all()
        all_views = s.scalar(select(func.count()).where(KbEvent.kind == "view"))
    assert mail_views == [personas.client_a.actor.user_id]  # the client's one reading
    assert metric("kb.metric_views") == str(all_views)  # (the visitor's test read one more)
    assert metric("kb.metric_votes") == "1"
    assert metric("kb.metric_abandoned") == "1"  # the ticket was never sent
    context.close()
