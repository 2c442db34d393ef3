"""Every visible text exists in Spanish and English, and every key the code uses exists."""

import re
import string
from decimal import Decimal
from pathlib import Path

from core.platform import i18n

ROOT = Path(__file__).resolve().parents[2]
# tr("key") in pages/ui, t("key", ...) in core, and keys held in *_key/"key." literals.
USE = re.compile(r"""\b(?:tr|t|i18n\.t)\(\s*["']([a-z0-9_]+\.[a-z0-9_.]+)["']""")


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_languages_have_the_same_keys():
    es, en = i18n.catalog("es"), i18n.catalog("en")
    assert sorted(set(es) - set(en)) == [], "missing in English"
    assert sorted(set(en) - set(es)) == [], "missing in Spanish"


def test_translations_are_not_empty_and_share_placeholders():
    es, en = i18n.catalog("es"), i18n.catalog("en")
    for key in es:
        assert es[key].strip() and en[key].strip(), key
        assert _fields(es[key]) == _fields(en[key]), key


def test_every_key_used_in_code_exists():
    known = set(i18n.catalog("es"))
    missing = []
    for folder in ("core", "pages", "ui"):
        for path in (ROOT / folder).rglob("*.py"):
            for key in USE.findall(path.read_text(encoding="utf-8")):
                if key not in known:
                    missing.append(f"{path.relative_to(ROOT)}: {key}")
    entry = (ROOT / "dashboard.py").read_text(encoding="utf-8")
    missing += [f"dashboard.py: {k}" for k in USE.findall(entry) if k not in known]
    assert missing == []


def test_every_page_has_a_title_in_both_languages():
    for page in (ROOT / "pages").glob("*.py"):
        for lang in i18n.LANGUAGES:
            assert f"page.{page.stem}" in i18n.catalog(lang)


def test_money_and_dates_follow_the_reader():
    assert i18n.money(Decimal("1234.5"), "es") == "$1.234,50"
    assert i18n.money(Decimal("1234.5"), "en") == "$1,234.50"
    from datetime import date

    assert i18n.day(date(2026, 11, 26), "es") == "26 nov 2026"
    assert i18n.day(date(2026, 11, 26), "en") == "Nov 26, 2026"


def test_spanish_is_the_default_and_unknown_languages_fall_back_to_it():
    assert i18n.t("signin.title") == "Iniciar sesión"
    assert i18n.t("signin.title", "fr") == "Iniciar sesión"
    assert i18n.t("signin.title", "en") == "Sign in"
