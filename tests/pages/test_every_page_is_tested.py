"""Meta-test: each page in pages/ has its own AppTest file in tests/pages/."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_has_an_apptest_file():
    tested = {p.name for p in (ROOT / "tests" / "pages").glob("test_*.py")}
    missing = [
        page.name
        for page in sorted((ROOT / "pages").glob("*.py"))
        if not any(name.startswith(f"test_{page.stem}") for name in tested)
        or not any(
            f'"{page.stem}"' in (ROOT / "tests" / "pages" / name).read_text(encoding="utf-8")
            for name in tested
            if name.startswith(f"test_{page.stem}")
        )
    ]
    assert missing == [], f"pages without an AppTest test: {missing}"
