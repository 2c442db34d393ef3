"""The settings' list-and-edit pattern, one definition for every tab that keeps a list of
things (products, panel servers, departments, canned replies, support channels): the rows as
a table, "pick one or new", then the form for the picked one (or a blank one).

Keys follow the thing's ``name``: ``<name>_choice`` (the picker), ``<name>_form_<id>`` (the
form, one per record so a switch shows that record's values, 0 for new) and ``<name>_delete``;
the picker's label and its "new" entry are the i18n keys ``catalog.<name>_choice`` and
``catalog.<name>_new``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

import pandas as pd
import streamlit as st

from ui.kit.context import errors_shown, tr


class HasId(Protocol):
    @property
    def id(self) -> int: ...


R = TypeVar("R", bound=HasId)


def crud(
    name: str,
    rows: Sequence[R],
    *,
    columns: Callable[[R], dict[str, Any]],
    label: Callable[[R], str],
    form: Callable[[R | None, int], None],
    delete: Callable[[R], None] | None = None,
    before_form: Callable[[R], None] | None = None,
) -> dict[int, R]:
    """Draw the table, the picker and the form; returns the rows by id.

    ``form(picked, choice)`` draws the form's fields and its submit button (inside the
    ``st.form``); ``picked`` is None for a new one. ``before_form(picked)`` draws what goes
    between the picker and the form for an existing record (a server's connection test).
    ``delete(picked)`` removes an existing record when its delete button is pressed; a domain
    error it raises is shown, as the form's are."""
    st.dataframe(pd.DataFrame([columns(r) for r in rows]), hide_index=True, width="stretch")
    by_id = {r.id: r for r in rows}
    choice = st.selectbox(
        tr(f"catalog.{name}_choice"),
        [0, *by_id],
        format_func=lambda i: label(by_id[i]) if i else tr(f"catalog.{name}_new"),
        key=f"{name}_choice",
    )
    picked = by_id.get(choice)
    if before_form is not None and picked is not None:
        before_form(picked)
    with st.form(f"{name}_form_{choice}"):
        form(picked, choice)
    deletable = delete is not None and picked is not None
    if deletable and st.button(tr("catalog.delete"), key=f"{name}_delete"):
        with errors_shown():
            delete(picked)
    return by_id
