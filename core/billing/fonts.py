"""The Unicode font the invoice PDF embeds: DejaVu Sans, as matplotlib ships it.

fpdf2's built-in Helvetica covers Latin-1 only, so "Básico → Estándar" printed as
"Básico ? Estándar". DejaVu Sans has the arrows, dashes, currency signs and every Latin
letter. Its TTF files come from the matplotlib wheel (pinned in requirements.txt): the one
PyPI package found that ships DejaVu and installs everywhere pip does. Only the files are
read; matplotlib itself is never imported (it would cost a second at start-up).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from fpdf import FPDF

FAMILY = "DejaVuSans"
STYLES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf", "I": "DejaVuSans-Oblique.ttf"}
MISSING = "?"


class FontMissing(RuntimeError):
    """The font files are not installed (matplotlib missing from the environment)."""


@cache
def font_dir() -> Path:
    spec = importlib.util.find_spec("matplotlib")
    if spec is None or not spec.submodule_search_locations:
        raise FontMissing("matplotlib (which ships DejaVu Sans) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "mpl-data" / "fonts" / "ttf"
    if not (folder / STYLES[""]).is_file():
        raise FontMissing(f"DejaVu Sans not found in {folder}")
    return folder


@cache
def _code_points() -> frozenset[int]:
    """Every character the regular face has a glyph for (the other faces match it)."""
    with TTFont(font_dir() / STYLES[""], lazy=True) as font:
        return frozenset(font.getBestCmap())


def drawable(text: object) -> str:
    """``text`` with each character the font cannot draw (an emoji, say) replaced by "?"."""
    value = str(text if text is not None else "")
    points = _code_points()
    return "".join(ch if ord(ch) in points or ch in "\n\t" else MISSING for ch in value)


def use_unicode_font(pdf: FPDF) -> None:
    """Register DejaVu Sans (regular, bold, oblique) on ``pdf``; set it with ``FAMILY``."""
    for style, name in STYLES.items():
        pdf.add_font(FAMILY, style, str(font_dir() / name))
