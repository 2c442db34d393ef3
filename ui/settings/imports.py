"""Settings → Import: bring a book over from WHMCS, FOSSBilling or a WHM server.

A dry run of the chosen source comes first and shows its report; only then does the Import
button work, with a progress bar, and the report again, and the imported panel accounts
checked against their WHM servers. Everything is done by ``core.imports``; this draws it.
Problems and differences are shown as plain text cells (source values are user content)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from core import imports, panel
from core.access import Actor
from core.panel.errors import PanelError
from ui.kit.context import errors_shown, tr
from ui.kit.tables import plain_table

SYSTEMS = ("whmcs", "fossbilling", "whm")
REPORT = "import_report"
DRY = "import_dry_of"  # the source the last dry run read: Import waits for it


def imports_tab(actor: Actor) -> None:
    st.caption(tr("imports.intro"))
    system = st.selectbox(
        tr("imports.system"),
        SYSTEMS,
        format_func=lambda key: tr(f"imports.system.{key}"),
        key="import_system",
    )
    source, server = None, None
    if system == "whm":
        names = [v.name for v in panel.list_servers(actor)]
        if not names:
            st.info(tr("imports.no_servers"))
            return
        server = st.selectbox(tr("imports.server"), names, key="import_server")
    else:
        # A password may be in the URL: typed like one, never echoed back.
        source = st.text_input(
            tr("imports.source_url"),
            key="import_url",
            type="password",
            help=tr("imports.source_url_help"),
        )
    chosen = (system, source or server or "")
    left, right = st.columns(2)
    if left.button(tr("imports.dry_run"), key="import_dry_run", type="secondary") and _run(
        actor, system, source, server, dry_run=True
    ):
        st.session_state[DRY] = chosen
    ready = st.session_state.get(DRY) == chosen
    if right.button(tr("imports.run"), key="import_run", type="primary", disabled=not ready):
        _run(actor, system, source, server, dry_run=False)
    if not ready:
        st.caption(tr("imports.run_needs_dry_run"))
    shown = st.session_state.get(REPORT)
    if shown:
        _report(shown)
        if not shown["dry_run"]:
            _panel_differences()
    _password_links(actor)


def _run(
    actor: Actor, system: str, source: str | None, server: str | None, *, dry_run: bool
) -> bool:
    bar = st.progress(0.0, text=tr("imports.progress.staff"))

    def progress(fraction: float, step: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=tr(f"imports.progress.{step}"))

    with errors_shown():
        try:
            report = imports.run(
                system,
                source=source,
                server=server,
                dry_run=dry_run,
                actor=actor,
                progress=progress,
            )
        except PanelError:
            st.error(tr("imports.panel.server_unreachable"))
            return False
        st.session_state[REPORT] = {
            **report.as_json(),
            "updated": dict(report.updated),
            "mismatches": [vars(m) for m in report.mismatches],
            "not_imported": list(report.not_imported),
        }
        return True
    return False


def _report(report: dict[str, Any]) -> None:
    if report["dry_run"]:
        st.info(tr("imports.report.dry"))
    else:
        st.success(tr("imports.report.done"))
    plain_table(
        [
            {
                tr("imports.col.kind"): tr(f"imports.kind.{kind}"),
                tr("imports.col.created"): count,
                tr("imports.col.updated"): report["updated"].get(kind, 0),
                tr("imports.col.skipped"): report["skipped"].get(kind, 0),
            }
            for kind, count in report["created"].items()
        ],
        right=(tr("imports.col.created"), tr("imports.col.updated"), tr("imports.col.skipped")),
    )
    problems = report["problems"]
    st.subheader(tr("imports.problems", count=len(problems)))
    if problems:
        plain_table(
            [
                {
                    tr("imports.col.kind"): tr(f"imports.kind.{p['kind']}"),
                    tr("imports.col.source_id"): p["source_id"],
                    tr("imports.col.reason"): tr(f"imports.reason.{p['reason']}"),
                }
                for p in problems
            ]
        )
    else:
        st.caption(tr("imports.no_problems"))
    st.subheader(tr("imports.mismatches", count=report["balance_mismatches"]))
    if report["mismatches"]:
        plain_table(
            [
                {
                    tr("imports.col.client"): m["client"],
                    tr("imports.col.source_open"): m["source_open"],
                    tr("imports.col.our_open"): m["our_open"],
                    tr("imports.col.source_credit"): m["source_credit"],
                    tr("imports.col.our_credit"): m["our_credit"],
                }
                for m in report["mismatches"]
            ]
        )
    else:
        st.caption(tr("imports.no_mismatches"))
    if report["not_imported"]:
        st.caption(tr("imports.not_imported", items=", ".join(report["not_imported"])))


def _panel_differences() -> None:
    st.subheader(tr("imports.panel.title"))
    differences = imports.panel_check()
    if not differences:
        st.caption(tr("imports.panel.ok"))
        return
    plain_table(
        [
            {
                tr("imports.col.server"): d.server,
                tr("imports.col.username"): d.username,
                tr("imports.col.problem"): tr(f"imports.panel.{d.problem}"),
            }
            for d in differences
        ]
    )


def _password_links(actor: Actor) -> None:
    count = imports.waiting(actor)
    if not count:
        return
    st.caption(tr("imports.passwords", count=count))
    if st.button(tr("imports.send_passwords"), key="import_send_passwords"):
        with errors_shown():
            sent = imports.send_password_links(actor)
            st.success(tr("imports.passwords_sent", count=sent))
