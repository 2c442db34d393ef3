"""The knowledge base's pure text rules: folding for search, and Markdown made safe."""

from __future__ import annotations

import pytest

from core.knowledge.text import fold, image_ids_in, parts, query_terms, safe_url, sanitise


def test_folding_drops_accents_and_case():
    assert fold("Contraseña ÁRBOL Pingüino") == "contrasena arbol pinguino"


def test_query_terms_keep_words_worth_matching_and_nothing_else():
    assert query_terms("¿Cómo cambio la contraseña del correo?") == [
        "cambio",
        "contrasena",
        "correo",
    ]
    assert query_terms('" OR * NEAR(x) -- ;') == ["near"]  # no MATCH syntax gets through


@pytest.mark.parametrize(
    "url, live",
    [
        ("https://anfitrion.ec", True),
        ("http://x.ec/a_(b)", True),
        ("mailto:soporte@anfitrion.ec", True),
        ("javascript:alert(1)", False),
        ("JaVaScRiPt:alert(1)", False),
        ("jav&#97;script:alert(1)", False),
        (" java\tscript:alert(1)", False),
        ("<java script:alert(1)>", False),
        ("data:text/html;base64,PHNjcmlwdD4=", False),
        ("vbscript:msgbox", False),
        ("/help?article=1", False),
        ("//evil.example/x", False),
    ],
)
def test_only_http_https_and_mailto_links_stay_live(url, live):
    assert safe_url(url) is live
    shown = sanitise(f"[texto]({url})")
    assert (shown == f"[texto]({url})") is live
    assert sanitise(f'[texto]({url} "título")') == (f'[texto]({url} "título")' if live else "texto")
    if not live:
        assert shown == "texto"


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=//evil/x.js></SCRIPT>",
        "<scr<script>ipt>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<iframe src=https://evil></iframe>",
        '<a href="javascript:alert(1)">x</a>',
        "<!-- <script>alert(1)</script> -->",
        "[r]: javascript:alert(1)\n\n[x][r]",
        "<javascript:alert(1)>",
    ],
)
def test_no_html_survives(markdown):
    shown = sanitise(markdown)
    assert "<" not in shown.replace("&lt;", "")
    assert "javascript:" not in shown.lower()
    assert "onerror=" not in shown and "onload=" not in shown or "<" not in shown


def test_code_is_kept_as_written_and_outside_images_become_their_alt_text():
    assert sanitise("Use `<b>` here") == "Use `<b>` here"
    assert sanitise("```\n<div>x</div>\n```") == "```\n<div>x</div>\n```"
    assert sanitise("![logo](https://tracker.example/p.png)") == "logo"


def test_an_article_splits_at_its_own_images():
    body = "Antes\n\n![Paso 1](image:7)\n\nDespués ![x](https://evil/p.png)"
    got = parts(body)
    assert [p.image_id for p in got] == [None, 7, None]
    assert got[1].alt == "Paso 1"
    assert got[2].markdown.strip() == "Después x"
    assert image_ids_in(body) == [7]
