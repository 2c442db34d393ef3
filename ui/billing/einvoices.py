"""SRI electronic documents on the billing page (issue 17).

``invoice_documents``: under one invoice, its factura and credit notes; the RIDE and the XML
download once the SRI authorised them (a client reaches only their own, core scopes it).
``register_tab``: the back office's register: every document, its state, the SRI's messages in
the reader's language beside the SRI's own text, the exchanges kept, "send again", "mail the
client again", "send the pending ones now", and the month's export for the accountant.
Everything the SRI or a client wrote is shown as plain text or in a table, never as markdown.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.access import Actor
from core.einvoice import connection, delivery, owed, register, states, transmission
from ui.billing import done
from ui.kit.context import day, errors_shown, lang, money, tr, tr_count

STATUSES = states.ALL


def _status(status: str) -> str:
    return tr(f"sri.status.{status}")


def invoice_documents(actor: Actor, invoice_id: int) -> None:
    docs = delivery.of_invoice(actor, invoice_id)
    st.subheader(tr("sri.client.title"))
    if not docs:
        st.caption(tr("sri.client.none"))
        return
    for doc in docs:
        kind = tr(f"sri.doc_type.{doc.doc_type}")
        if doc.status != states.AUTHORISED:
            st.caption(
                tr(
                    "sri.client.pending",
                    doc_type=kind,
                    number=doc.number,
                    status=_status(doc.status),
                )
            )
            if actor.is_client:
                continue
        st.text(f"{kind} {doc.number} · {_status(doc.status)} · {doc.access_key}")
        c1, c2 = st.columns(2)
        c1.download_button(
            tr("sri.client.ride", number=doc.number),
            data=lambda i=doc.id: delivery.ride_for(actor, i, lang=lang()).data,
            file_name=delivery.ride_of_name(doc),
            mime="application/pdf",
            on_click="ignore",
            key=f"sri_ride_{doc.id}",
        )
        c2.download_button(
            tr("sri.client.xml", number=doc.number),
            data=lambda i=doc.id: delivery.xml_for(actor, i).data,
            file_name=delivery.xml_of_name(doc),
            mime="application/xml",
            on_click="ignore",
            key=f"sri_xml_{doc.id}",
        )


def register_tab(actor: Actor) -> None:
    st.caption(tr("sri.page.intro"))
    connection_form(actor)
    _owed(actor)
    f1, f2 = st.columns(2)
    status = f1.selectbox(
        tr("sri.page.filter_status"),
        [None, *STATUSES],
        format_func=lambda v: tr("sri.page.all") if v is None else _status(v),
        key="sri_f_status",
    )
    month = f2.text_input(tr("sri.page.filter_month"), placeholder="2026-11", key="sri_f_month")
    rows: list[register.Row] = []
    with errors_shown():
        rows = register.documents(actor, status=status, month=month or None, limit=500)
    if st.button(tr("sri.page.retry_due"), key="sri_send_due"):
        with errors_shown():
            counts = transmission.send_due(actor)
            done("sri.page.retried", count=str(sum(counts.values())))
    if not rows:
        st.info(tr("sri.page.none"))
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("sri.col.doc_type"): tr(f"sri.doc_type.{r.doc_type}"),
                        tr("sri.col.number"): r.number,
                        tr("sri.col.client"): r.client,
                        tr("sri.col.invoice"): r.invoice,
                        tr("sri.col.issued_on"): day(r.issued_on),
                        tr("sri.col.total"): money(r.total),
                        tr("sri.col.status"): _status(r.status),
                        tr("sri.col.modifies"): r.modifies,
                        tr("sri.col.access_key"): r.access_key,
                    }
                    for r in rows
                ]
            ),
            hide_index=True,
            width="stretch",
        )
        by_id = {r.id: r for r in rows}
        chosen = st.selectbox(
            tr("sri.page.pick"),
            list(by_id),
            format_func=lambda i: f"{by_id[i].number} · {_status(by_id[i].status)}",
            key="sri_pick",
        )
        if chosen is not None:
            _one(actor, by_id[chosen])
    if month:
        valid = False
        with errors_shown():
            register.month_bounds(month)
            valid = True
        if valid:
            _export(actor, month)


def _owed(actor: Actor) -> None:
    """Paid invoices whose factura was refused at the time, each with its reason, and one
    button to issue them once the cause is fixed (``core.einvoice.owed``)."""
    rows: list[owed.Owed] = []
    with errors_shown():
        rows = owed.owed(actor)
    if not rows:
        return
    st.warning(tr_count("sri.owed.title", len(rows)))
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("sri.col.invoice"): r.number,
                    tr("sri.col.client"): r.client,
                    tr("sri.col.total"): money(r.total),
                    tr("sri.owed.reason"): tr(r.reason, **r.params),
                }
                for r in rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(tr("sri.owed.help"))
    if st.button(tr("sri.owed.issue"), key="sri_issue_owed"):
        with errors_shown():
            result = owed.issue_owed(actor)
            done("sri.owed.issued", issued=str(result.issued), refused=str(result.refused))


def _one(actor: Actor, row: register.Row) -> None:
    st.text(f"{tr('sri.col.status')}: {_status(row.status)}")
    if row.authorisation_number:
        st.text(f"{tr('sri.col.authorisation_number')}: {row.authorisation_number}")
    st.text(f"{tr('sri.page.attempts')}: {row.attempts}")
    if row.next_attempt_at and row.status in transmission.OPEN:
        st.text(f"{tr('sri.page.next_attempt')}: {row.next_attempt_at:%Y-%m-%d %H:%M} UTC")
    st.markdown(f"**{tr('sri.page.messages')}**")
    if not row.messages:
        st.caption(tr("sri.page.no_messages"))
    else:
        shown = [register.translate(m, lang()) for m in row.messages]
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "#": m.code,
                        tr("sri.page.messages"): m.text,
                        tr("sri.page.original"): m.original,
                    }
                    for m in shown
                ]
            ),
            hide_index=True,
            width="stretch",
        )
    c1, c2 = st.columns(2)
    if row.status != states.AUTHORISED and c1.button(tr("sri.page.resend"), key="sri_resend"):
        with errors_shown():
            status = transmission.resend(actor, row.id)
            done("sri.page.resent", status=_status(status))
    if row.status == states.AUTHORISED and c2.button(tr("sri.page.mail_again"), key="sri_mail"):
        with errors_shown():
            email = delivery.mail_again(actor, row.id)
            done("sri.page.mailed", email=email)
    with st.expander(tr("sri.page.exchanges")):
        exchanged = register.exchanges(actor, row.id)
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "at": f"{e.at:%Y-%m-%d %H:%M:%S}",
                        "service": e.service,
                        "outcome": e.outcome,
                        "http": e.http_status,
                        "ms": e.duration_ms,
                    }
                    for e in exchanged
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def _export(actor: Actor, month: str) -> None:
    st.markdown(f"**{tr('sri.page.export')}**")
    c1, c2 = st.columns(2)
    c1.download_button(
        tr("sri.page.export_zip"),
        data=lambda: register.export_month(actor, month)[0],
        file_name=f"sri-{month}.zip",
        mime="application/zip",
        on_click="ignore",
        key="sri_export_zip",
    )
    c2.download_button(
        tr("sri.page.export_csv"),
        data=lambda: register.export_month(actor, month)[1],
        file_name=f"sri-{month}.csv",
        mime="text/csv",
        on_click="ignore",
        key="sri_export_csv",
    )


def connection_form(actor: Actor) -> None:
    """The owner's connection to the SRI (on/off, endpoints, timeout)."""
    if not actor.is_owner:
        return
    current = connection.read()
    with st.expander(tr("sri.conn.title")), st.form("sri_connection"):
        transmit = st.checkbox(tr("sri.conn.transmit"), value=current.transmit)
        fields = {
            name: st.text_input(tr(f"sri.conn.{name}"), value=getattr(current, name))
            for name in (
                "reception_test",
                "authorisation_test",
                "reception_production",
                "authorisation_production",
            )
        }
        timeout = st.number_input(
            tr("sri.conn.timeout"),
            min_value=1,
            max_value=connection.MAX_TIMEOUT_SECONDS,
            value=current.timeout_seconds,
        )
        if st.form_submit_button(tr("sri.conn.save")):
            with errors_shown():
                connection.save(
                    actor,
                    connection.Connection(
                        transmit=transmit, timeout_seconds=int(timeout), **fields
                    ),
                )
                done("sri.conn.saved")
