"""What Streamlit would say in English unless told otherwise, said in the reader's language.

* Every select box and multiselect gets a translated placeholder ("Elija una opción", "No hay
  opciones") unless its caller gave one: Streamlit's own are "Choose an option" and "No
  options to select", and 68 calls would each have to remember it.
* ``page_style`` is our own CSS, drawn once per run by dashboard.py: it hides the English
  "Press Enter to submit form" hint under form fields (the form's submit button says what to
  do), relabels the file uploader's English, fits the client's tables to a phone, and
  raises the contrast of the few texts Streamlit's default theme draws below WCAG AA's 4.5:1
  (captions, the sidebar's links, the selected language button).

What no argument, format or CSS rule can reach stays in English; the README lists it
("Language: what stays in English").
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ui.kit.context import tr

_PATCHED = "_anfitrion_localised"

# Our own CSS: fixed text, no user content in it.
PAGE_STYLE = """
<style>
/* "Press Enter to submit form": English, and the submit button already says it. */
[data-testid="InputInstructions"] { display: none; }
/* Captions: Streamlit draws them at 60% opacity (3.0-3.8:1 on white or grey); a grey of
   their own keeps them quieter than the text and above 4.5:1. */
[data-testid="stCaptionContainer"] { opacity: 1 !important; }
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
[data-testid="stWidgetLabel"] small { color: #5f6169 !important; }
/* Links in the sidebar (the signed-in address): 2.9:1 in the theme's pale blue. */
[data-testid="stSidebar"] a, [data-testid="stCaptionContainer"] a { color: #0b57a4 !important; }
/* The selected button of a segmented control (the language): red on pink, 4.2:1. */
[data-variant="segmented_control"][data-selected="true"] p { color: #9e1b2a !important; }
/* A phone (390 px): the client's plain tables fit with tighter cells. */
@media (max-width: 640px) {
  [data-testid="stMarkdownContainer"] table th,
  [data-testid="stMarkdownContainer"] table td { padding: 0.4rem 0.35rem; font-size: 0.875rem; }
  [data-testid="stMarkdownContainer"] table { overflow-wrap: anywhere; }
}
/* The file uploader: its "5MB per file • PDF, JPG" repeats our label (which states the
   limit and the types, in the reader's language); its "Upload" button is relabelled. */
[data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] { display: none; }
[data-testid="stFileUploaderDropzone"] button span[data-has-shortcut]::after {
  content: "%(upload)s";
}
</style>
"""


def _placeholder(options: Any) -> str:
    try:
        empty = options is None or len(list(options)) == 0
    except TypeError:  # a one-shot iterable: Streamlit reads it, we cannot twice
        empty = False
    return tr("ui.no_options" if empty else "ui.choose")


def _with_placeholder(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def call(self: DeltaGenerator, label: str, *args: Any, **kw: Any) -> Any:
        if kw.get("placeholder") is None:
            args_list = list(args)
            options = args_list[0] if args_list else kw.get("options", ())
            if not isinstance(options, list | tuple | dict | range):
                options = list(options) if options is not None else []
                if args_list:
                    args_list[0] = options
                else:
                    kw["options"] = options
            kw["placeholder"] = _placeholder(options)
            args = tuple(args_list)
        return method(self, label, *args, **kw)

    setattr(call, _PATCHED, True)
    return call


def localise_widgets() -> None:
    """Once per process: give ``selectbox`` and ``multiselect`` translated placeholders.

    ``st.selectbox`` is a method bound to the main area when Streamlit is imported, so it is
    re-bound here too; ``st.sidebar.selectbox`` and a column's use the class's."""
    for name in ("selectbox", "multiselect"):
        method = getattr(DeltaGenerator, name)
        if not getattr(method, _PATCHED, False):
            method = _with_placeholder(method)
            setattr(DeltaGenerator, name, method)
        bound = getattr(st, name)
        if not getattr(bound, _PATCHED, False):
            setattr(st, name, method.__get__(bound.__self__))


def css_text(text: str) -> str:
    """``text`` as the inside of a CSS string (our own catalog text, quoted all the same)."""
    return "".join(ch if ch.isalnum() or ch in " .,;:()-¿?¡!" else f"\\{ord(ch):x} " for ch in text)


def page_style() -> None:
    st.html(PAGE_STYLE.replace("%(upload)s", css_text(tr("ui.upload_button"))))
