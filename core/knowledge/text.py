"""Pure text rules of the knowledge base: folding for search, and article Markdown made safe.

Staff write Markdown; readers' browsers must get none of it active. ``st.markdown`` without
``unsafe_allow_html`` already shows raw HTML as text, but it still turns ``[x](url)`` into a
live link and ``![x](url)`` into an image fetched from anywhere, so the rule is kept here, in
core, where a test can hold it: no HTML at all, links only http/https/mailto, images only the
article's own uploads (``![alt](image:ID)``, drawn by the page from the database).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

ALLOWED_SCHEMES = ("http://", "https://", "mailto:")

# Words too common to say anything about which article a subject is about.
STOP_WORDS = frozenset(
    [
        "que",
        "para",
        "con",
        "los",
        "las",
        "una",
        "uno",
        "por",
        "del",
        "como",
        "mas",
        "pero",
        "sus",
        "esta",
        "este",
        "esto",
        "ese",
        "esa",
        "hay",
        "muy",
        "sin",
        "sobre",
        "entre",
        "cuando",
        "donde",
        "porque",
        "the",
        "and",
        "for",
        "with",
        "not",
        "you",
        "your",
        "are",
        "can",
        "how",
        "what",
        "this",
        "that",
        "from",
        "have",
        "has",
        "was",
    ]
)

_CODE = re.compile(r"(```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)|`[^`\n]+`)", re.S)
_DANGEROUS_BLOCK = re.compile(
    r"<\s*(script|style|iframe|object|embed|template|textarea|noscript|svg|math)\b.*?"
    r"(?:<\s*/\s*\1\s*>|\Z)",
    re.I | re.S,
)
_TAG = re.compile(r"<!--.*?(?:-->|\Z)|<\s*/?\s*[A-Za-z!?][^>]*>", re.S)
# [text](destination "title") and ![alt](...): everything inside the parentheses (one level
# of nested ones allowed), so a destination with a tab or in <...> is judged too.
_LINK = re.compile(r"(!?)\[([^\]\n]*)\]\(((?:[^()\n]|\([^()\n]*\))*)\)")
_REF_DEF = re.compile(r"^ {0,3}\[([^\]\n]+)\]:[ \t]*<?(\S*?)>?(?:[ \t]+.*)?$", re.M)
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(image:(\d+)\)")
_WORD = re.compile(r"\w+", re.U)


def fold(value: str) -> str:
    """Lower case without accents: "Contraseña" → "contrasena" (what both searches compare)."""
    decomposed = unicodedata.normalize("NFKD", value or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def query_terms(query: str, limit: int = 8) -> list[str]:
    """The folded words of a search worth matching (3+ letters, not a stop word), in order,
    without repeats; only letters and digits, so nothing reaches a MATCH or tsquery raw."""
    terms: list[str] = []
    for word in _WORD.findall(fold(query)):
        word = word.replace("_", "")
        if len(word) >= 3 and word not in STOP_WORDS and word not in terms:
            terms.append(word)
    return terms[:limit]


def safe_url(url: str) -> bool:
    """Whether a link target may be live: http, https or mailto, after the entity decoding
    and whitespace a browser would ignore (``jav&#97;script:`` is ``javascript:``)."""
    decoded = html.unescape(url or "")
    cleaned = "".join(ch for ch in decoded if ch > " " and unicodedata.category(ch)[0] != "C")
    return cleaned.lower().startswith(ALLOWED_SCHEMES)


def _destination(inside: str) -> str:
    inside = inside.strip()
    if inside.startswith("<"):
        return inside[1:].split(">", 1)[0]
    return inside.split(None, 1)[0] if inside else ""


def _link(match: re.Match[str]) -> str:
    bang, label, url = match.group(1), match.group(2), _destination(match.group(3))
    if bang:
        if re.fullmatch(r"image:\d+", url):
            return match.group(0)
        return label  # an outside image would be fetched from anywhere: its alt text only
    if safe_url(url):
        return match.group(0)
    return label


def _ref_def(match: re.Match[str]) -> str:
    return match.group(0) if safe_url(match.group(2)) else ""


def _clean_prose(text: str) -> str:
    text = _DANGEROUS_BLOCK.sub("", text)
    previous = None
    while previous != text:  # "<scr<b>ipt>" becomes a tag again once the inner one goes
        previous = text
        text = _TAG.sub("", text)
    text = text.replace("<", "&lt;")  # whatever is left of "<" is shown, never parsed
    text = _REF_DEF.sub(_ref_def, text)
    return _LINK.sub(_link, text)


def sanitise(markdown: str) -> str:
    """Article Markdown with no HTML, no script, and no link other than http/https/mailto.

    Code spans and fenced blocks are kept as written: Markdown shows their content literally.
    """
    parts = _CODE.split(markdown or "")
    return "".join(part if i % 2 else _clean_prose(part) for i, part in enumerate(parts))


@dataclass(frozen=True)
class Part:
    """A piece of an article as drawn: Markdown text, or one of its uploaded images."""

    markdown: str = ""
    image_id: int | None = None
    alt: str = ""


def parts(markdown: str) -> list[Part]:
    """The sanitised article split at its ``![alt](image:ID)`` images."""
    clean = sanitise(markdown)
    found: list[Part] = []
    last = 0
    for match in _IMAGE.finditer(clean):
        if clean[last : match.start()].strip():
            found.append(Part(markdown=clean[last : match.start()]))
        found.append(Part(image_id=int(match.group(2)), alt=match.group(1)))
        last = match.end()
    if clean[last:].strip():
        found.append(Part(markdown=clean[last:]))
    return found


def image_ids_in(markdown: str) -> list[int]:
    return [int(m.group(2)) for m in _IMAGE.finditer(markdown or "")]
