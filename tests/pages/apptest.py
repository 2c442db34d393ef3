"""AppTest helpers: run dashboard.py as a signed-in persona and open one page."""

from __future__ import annotations

import re
from pathlib import Path
from string import Formatter

from streamlit.testing.v1 import AppTest

from core.platform.clock import now
from core.platform.i18n import catalog, normalise, t
from tests.personas import Persona

ENTRY = str(Path(__file__).resolve().parents[2] / "dashboard.py")


def app_as(persona: Persona | None, page: str | None = None, **query: str) -> AppTest:
    """The app after one run as ``persona`` (None: signed out), on ``pages/<page>.py``."""
    at = AppTest.from_file(ENTRY, default_timeout=30)
    if persona is not None:
        # What the sign-in gate leaves behind after a real sign-in (streamlit-notes §3.1).
        at.session_state["authentication_status"] = True
        at.session_state["username"] = persona.email
        at.session_state["anfitrion_signed_in_at"] = now()
        at.session_state["anfitrion_2fa_ok"] = True  # staff personas passed their second factor
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    return at


def tr(key: str, lang: str = "es", **params: object) -> str:
    """The text the page shows for ``key`` in ``lang`` (the personas read Spanish unless a
    test says otherwise), so assertions follow the catalog instead of copying its words."""
    return t(key, lang, **params)


def tr_part(key: str, lang: str = "es", **params: object) -> str:
    """The start of the text the page shows for ``key``: the catalog text with ``params``
    filled in, up to its first placeholder the test cannot know (a count of server packages,
    a lock time), so an assertion names the page's own words without guessing the rest."""
    text = catalog(normalise(lang)).get(key)
    if text is None:
        raise KeyError(f"no text {key!r} in the {lang!r} catalog")
    part = ""
    for literal, field, spec, _ in Formatter().parse(text):
        part += literal
        if field is None:
            continue
        if field not in params:
            break
        part += format(params[field], spec or "")
    part = part.strip()
    if not part:  # an empty fragment is in every text: the assertion would prove nothing
        raise ValueError(f"{key!r} starts with an unknown placeholder; pass its value")
    return part


def as_read(markdown: str) -> str:
    """Markdown as the reader sees its text: backslash escapes (ui.kit.tables) removed, so
    "shows none of it" assertions look at what is shown, not at its escaped source."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


def texts(at: AppTest) -> str:
    """Everything a reader sees as text on the page, for "shows none of it" assertions."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "success",
        "warning",
        "error",
        "text",
    ):
        parts.extend(as_read(str(getattr(e, "value", ""))) for e in getattr(at, kind))
    for metric in at.metric:
        parts.append(f"{metric.label} {metric.value}")
    for frame in at.dataframe:
        parts.append(frame.value.to_string())
    return "\n".join(parts)


def run_entry(at: AppTest) -> AppTest:
    """Run dashboard.py itself again, as the browser does after a signed-out form is sent.

    The one place where the tests touch AppTest's private attributes, because no public API
    asks for a run at the entry point: ``AppTest.run()`` resumes the navigation page the last
    run finished on, and ``AppTest.switch_page("dashboard.py")`` raises ValueError since the
    entry point is not a page registered with ``st.navigation``. Resuming the page is not
    enough for the sign-in, recovery and second-factor forms, which ``dashboard.py`` draws
    before ``st.navigation``: the run that drew them started at the entry point, a resumed run
    computes other widget ids for them (measured on streamlit 1.67), and the values the test
    typed and the submit click are dropped. Clearing both page hashes makes the next run
    start at the entry point, as the run that drew the form did (streamlit-notes §2.2a).
    """
    at._page_hash = ""  # the page asked for by switch_page(): none
    at._finished_page_script_hash = ""  # the page the last run ended on: none
    return at.run()


def signed_in(at: AppTest) -> bool:
    return "authentication_status" in at.session_state and bool(
        at.session_state["authentication_status"]
    )


def click(at: AppTest, label: str, *, entry: bool = False) -> AppTest:
    """Click the (form submit) button with this label and run; ``entry=True`` runs
    dashboard.py itself (signed-out forms live there, not in a page file)."""
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r}; have {[b.label for b in at.button]}"
    matches[0].click()
    return run_entry(at) if entry else at.run()


def page_alone(persona: Persona, page: str) -> AppTest:
    """Run one page file by itself with ``persona`` in session state, as if reached by a link
    that bypassed the navigation: what its own role guard shows is all there is."""
    from core.accounts import actor_from_user, user_by_email
    from core.platform.db import read_session

    at = AppTest.from_file(str(Path(ENTRY).parent / "pages" / f"{page}.py"), default_timeout=30)
    with read_session() as session:
        at.session_state["anfitrion_actor"] = actor_from_user(user_by_email(session, persona.email))
    return at.run()


def open_tab(at: AppTest, key: str, label: str) -> AppTest:
    """Open the tab ``label`` of the tracked ``st.tabs(..., key=key)`` and run, as a click on
    it does in a browser (pages draw only the open tab, ui.kit.tabs). AppTest has no tab click;
    the tabs' value in session state is the open tab's label."""
    labels = [t.label for t in at.tabs]
    assert label in labels, f"no tab {label!r}; have {labels}"
    at.session_state[key] = label
    return at.run()
