"""What the tickets page's parts share: the notice after an action, the open ticket in the URL,
the status and priority labels, times in the reader's zone, and attachments (the uploader the
reply forms and the new-ticket form use, and a file's size in KB).

One place for the page (ui/support/page.py), one ticket (ui.support.thread) and the forms
(ui.support.forms), so every ticket form says "done" the same way and the lists, the thread
and the filters name a status alike. Nothing here shows what a person typed; the parts that
do show it with st.text / st.dataframe or the escaped tables of ui.kit.tables, never as live
markdown or HTML.
"""

from __future__ import annotations

import streamlit as st

from core.platform.config import get_settings
from core.platform.i18n import moment
from core.support import tickets
from ui.kit import flash
from ui.kit.context import lang, tr

FLASH = "tickets_flash"
REPLY = "tickets_reply_body"
# A widget's value cannot change once it is drawn in a run, so a sent reply empties the reply
# box through this flag, which the page reads (and pops) before anything is drawn.
CLEAR = "tickets_clear_reply"


def done(key: str, clear_reply: bool = False, **params: str) -> None:
    """After a successful action: remember the message and rerun with fresh data."""
    st.session_state[CLEAR] = clear_reply
    flash.done(FLASH, key, **params)


def when(value) -> str:
    return moment(value, lang(), get_settings().tz)


def show_ticket(ticket_id: int) -> None:
    """The open ticket lives in the URL (``?ticket=``): a link or a reload opens it again."""
    st.query_params["ticket"] = str(ticket_id)


def leave_ticket() -> None:
    st.query_params.pop("ticket", None)


def status_label(status: str | None) -> str:
    return tr("tickets.filter_open_work") if status is None else tr(f"tickets.status.{status}")


def priority_label(priority: str | None) -> str:
    return tr("tickets.filter_all") if priority is None else tr(f"tickets.priority.{priority}")


def kb(size: int) -> str:
    return tr("tickets.size_kb", n=max(1, round(size / 1024)))


def files(uploaded) -> list[tuple[str, bytes]]:
    return [(f.name, f.getvalue()) for f in uploaded or []]


def uploader(rules: tickets.AttachmentRules, key: str):
    return st.file_uploader(
        # The label names the types: the uploader's own line saying them is hidden (English).
        tr(
            "tickets.attachments",
            mb=rules.max_mb,
            n=rules.max_files,
            types=", ".join(ext.upper() for ext in rules.extensions),
        ),
        type=rules.extensions,
        accept_multiple_files=True,
        max_upload_size=rules.max_mb,
        key=key,
    )
