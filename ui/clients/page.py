"""Clients (staff with the clients right, and the owner): search by name, e-mail, RUC or
cédula, domain, invoice or ticket number; a client's services, invoices, tickets, credit,
notes and audit trail; create and edit clients; send a set-password e-mail; and see the
client area as the client sees it, read-only (audited in core).

Thin on purpose: one core read per view, one core action per form. Whatever a person typed
(names, addresses, notes, reasons) is shown with st.text / st.dataframe, never as markdown.

Used by pages/clients.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import clients
from core.access import Actor
from core.accounts import throttle
from core.accounts.profile import PROVINCES, TAX_ID_TYPES
from core.clients import detail as clients_detail
from core.clients import records as clients_records
from core.platform import i18n
from core.platform.clock import now, today
from core.platform.config import get_settings
from core.platform.errors import NotFound
from ui.kit import flash, paging
from ui.kit.context import attempt, day, errors_shown, lang, money, tr, tr_count
from ui.kit.ids import query_id
from ui.kit.tabs import chosen_tab, lazy_tabs

FLASH = "clients_flash"
EYE = "clients_eye"
TAB = "clients_tab"
PER_PAGE = 25


def done(key: str, **params: str) -> None:
    flash.done(FLASH, key, **params)


def open_client(client_id: int) -> None:
    st.query_params["client"] = str(client_id)
    st.query_params.pop("tab", None)  # a client opens on its first tab
    st.session_state.pop(EYE, None)


def close_client() -> None:
    st.query_params.pop("client", None)
    st.query_params.pop("tab", None)
    st.session_state.pop(EYE, None)


def client_form(key: str, current: clients.ClientDetail | None) -> clients.ClientForm | None:
    """The contact and billing details form; returns what was submitted, or None."""
    with st.form(key):
        c1, c2 = st.columns(2)
        name = c1.text_input(tr("clients.name"), current.name if current else "", key=f"{key}_name")
        company = c2.text_input(
            tr("clients.company"), current.company if current else "", key=f"{key}_company"
        )
        email = c1.text_input(
            tr("clients.email"), current.email if current else "", key=f"{key}_email"
        )
        phone = c2.text_input(
            tr("clients.phone"), current.phone if current else "", key=f"{key}_phone"
        )
        kinds = list(TAX_ID_TYPES)
        kind = c1.selectbox(
            tr("clients.tax_id_type"),
            kinds,
            index=kinds.index(current.tax_id_type) if current else kinds.index("cedula"),
            format_func=lambda k: tr(f"taxid.{k}"),
            key=f"{key}_kind",
        )
        tax_id = c2.text_input(
            tr("clients.tax_id"), current.tax_id if current else "", key=f"{key}_tax_id"
        )
        address = c1.text_input(
            tr("clients.address"), current.address if current else "", key=f"{key}_address"
        )
        city = c2.text_input(tr("clients.city"), current.city if current else "", key=f"{key}_city")
        provinces = ["", *PROVINCES]
        province = c1.selectbox(
            tr("clients.province"),
            provinces,
            index=provinces.index(current.province)
            if current and current.province in provinces
            else 0,
            key=f"{key}_province",
        )
        country = c2.text_input(
            tr("clients.country"), current.country if current else "EC", key=f"{key}_country"
        )
        language = c1.selectbox(
            tr("clients.language"),
            i18n.LANGUAGES,
            index=i18n.LANGUAGES.index(current.language) if current else 0,
            format_func=i18n.LANGUAGE_NAMES.get,
            key=f"{key}_language",
        )
        notes = st.text_area(
            tr("clients.notes"), current.notes if current else "", key=f"{key}_notes"
        )
        label = tr("action.save") if current else tr("clients.create_submit")
        if not st.form_submit_button(label, key=f"{key}_submit"):
            return None
    return clients.ClientForm(
        name=name,
        email=email,
        company=company,
        phone=phone,
        address=address,
        city=city,
        province=province,
        country=country,
        tax_id_type=kind,
        tax_id=tax_id,
        language=language,
        notes=notes,
    )


def services_table(lines: list[clients.ServiceLine]) -> None:
    if not lines:
        st.info(tr("clients.no_services"))
        return
    rows = []
    for s in lines:
        row = {
            tr("col.domain"): s.domain,
            tr("col.plan"): s.plan,
            tr("col.status"): tr(f"status.{s.status}"),
            tr("col.cycle"): tr(f"cycle.{s.cycle}"),
            tr("col.next_due"): day(s.next_due_date),
        }
        if s.recurring_amount is not None:
            row[tr("col.recurring")] = money(s.recurring_amount)
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def tickets_table(lines: list[clients.TicketLine]) -> None:
    if not lines:
        st.info(tr("clients.no_tickets"))
        return
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("clients.col.number"): t.number,
                    tr("clients.col.subject"): t.subject,
                    tr("col.status"): tr(f"tickets.status.{t.status}"),
                    tr("clients.col.priority"): tr(f"tickets.priority.{t.priority}"),
                    tr("clients.col.last_reply"): i18n.moment(t.last_reply_at, lang()),
                }
                for t in lines
            ]
        ),
        hide_index=True,
        width="stretch",
    )


def eye_view(view: clients.ClientEyeView) -> None:
    """What the client sees, read-only: no button here acts for them."""
    box = st.container(border=True)
    box.info(tr("clients.view_as_notice"))
    box.text(view.client_name)
    c1, c2, c3, c4 = box.columns(4)
    if view.amount_owed is not None:
        c1.metric(tr("home.amount_owed"), money(view.amount_owed))
        c2.metric(tr("home.overdue"), money(view.overdue))
        c3.metric(tr("home.credit"), money(view.credit))
    c4.metric(tr("home.open_tickets"), view.open_tickets)
    with box:
        st.markdown(f"**{tr('home.my_services')}**")
        services_table(view.services)
        if view.billing is not None:
            st.markdown(f"**{tr('page.billing')}**")
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            tr("clients.col.number"): r.number or "",
                            tr("clients.col.issued"): day(r.issued_on),
                            tr("clients.col.due"): day(r.due_on),
                            tr("col.status"): tr(f"billing.status.{r.status}"),
                            tr("clients.col.total"): money(r.total),
                            tr("clients.col.balance"): money(r.balance),
                        }
                        for r in view.billing.invoices.rows
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            if view.billing.transfer_instructions:
                st.text(view.billing.transfer_instructions)
        if view.tickets is not None:
            st.markdown(f"**{tr('page.tickets')}**")
            tickets_table(view.tickets)
    if box.button(tr("clients.view_as_close"), key="clients_eye_close"):
        st.session_state.pop(EYE, None)
        st.rerun()


def signin_locks(owner: Actor, client_id: int) -> None:
    """The owner sees a client's failed sign-ins (and any wait) and clears them."""
    at = now()
    locks = throttle.lockouts_of_client(owner, client_id, at)
    if not locks:
        return
    st.markdown(f"**{tr('clients.signin_locks')}**")
    for lock in locks:
        line = "clients.signin_lock_line" if lock.seconds_left else "clients.signin_count_line"
        st.warning(tr(line, email=lock.email, failures=lock.failures, seconds=lock.seconds_left))
        if st.button(
            tr("clients.signin_clear", email=lock.email), key=f"clients_unlock_{lock.user_id}"
        ):
            with errors_shown():
                throttle.clear_for_user(owner, lock.user_id, now())
                done("clients.signin_cleared")


def render(actor: Actor) -> None:
    st.title(tr("page.clients"))
    money_ok = actor.can("billing")

    flash.show(FLASH)

    # ------------------------------------------------------------------------ detail
    if st.query_params.get("client"):
        selected = query_id("client")
        st.button(tr("clients.back"), key="clients_back", on_click=close_client)
        # The tabs below run only the open one (ui.kit.tabs), and the one read reads only its list.
        names = ["contact", "services"]
        if money_ok:
            names += ["invoices", "credit"]
        if actor.can("tickets"):
            names.append("tickets")
        names += ["users", "audit"]
        labels = {n: tr(f"clients.tab_{n}") for n in names}
        showing = chosen_tab(TAB, labels, url_param="tab")
        detail = None
        with errors_shown():
            if selected is None:
                raise NotFound()  # a malformed id reads like one that does not exist
            detail = clients_detail.client_detail(actor, selected, sections=[showing])
        if detail is None:
            st.stop()
        st.subheader(tr("clients.detail_title"))
        st.text(f"{detail.company} · {detail.name}" if detail.company else detail.name)
        st.caption(tr("clients.detail_caption", id=detail.id, since=day(detail.created_at.date())))
        st.text(detail.email)
        m1, m2, m3, m4 = st.columns(4)
        m1.metric(tr("clients.services"), len(detail.services))
        if detail.tickets is not None:
            m2.metric(tr("home.open_tickets"), sum(t.status != "closed" for t in detail.tickets))
        if detail.owed is not None:
            m3.metric(tr("home.amount_owed"), money(detail.owed))
            m4.metric(tr("home.credit"), money(detail.credit))

        a1, a2 = st.columns(2)
        if a1.button(tr("clients.send_link"), key="clients_send_link"):
            with errors_shown():
                sent_to = clients_records.send_password_link(actor, detail.id, now())
                done("clients.link_sent", email=sent_to)
        if a2.button(tr("clients.view_as"), key="clients_view_as"):
            with errors_shown():
                st.session_state[EYE] = clients_detail.view_as_client(
                    actor, detail.id, today(get_settings().tz), now()
                )
        eye = st.session_state.get(EYE)
        if eye is not None and eye.client_id == detail.id:
            eye_view(eye)

        tabs = lazy_tabs(TAB, labels, url_param="tab")
        if tabs["contact"].open:
            with tabs["contact"]:
                submitted = client_form("clients_edit", detail)
                if submitted is not None:
                    with errors_shown():
                        changed = clients_records.update_client(actor, detail.id, submitted, now())
                        done("clients.saved" if changed else "clients.unchanged")
        if tabs["services"].open:
            with tabs["services"]:
                services_table(detail.services)
        if detail.invoices is not None:
            if tabs["invoices"].open:
                with tabs["invoices"]:
                    if not detail.invoices:
                        st.info(tr("clients.no_invoices"))
                    else:
                        st.dataframe(
                            pd.DataFrame(
                                [
                                    {
                                        tr("clients.col.number"): i.number or "",
                                        tr("clients.col.issued"): day(i.issued_on),
                                        tr("clients.col.due"): day(i.due_on),
                                        tr("col.status"): tr(f"billing.status.{i.status}"),
                                        tr("clients.col.total"): money(i.total),
                                        tr("clients.col.balance"): money(i.balance),
                                    }
                                    for i in detail.invoices
                                ]
                            ),
                            hide_index=True,
                            width="stretch",
                        )
            if tabs["credit"].open:
                with tabs["credit"]:
                    st.metric(tr("home.credit"), money(detail.credit))
                    if detail.credit_lines:
                        st.dataframe(
                            pd.DataFrame(
                                [
                                    {
                                        tr("col.when"): i18n.moment(c.at, lang()),
                                        tr("clients.col.amount"): money(c.amount),
                                        tr("clients.col.kind"): c.kind,
                                        tr("clients.col.reason"): c.reason or "",
                                    }
                                    for c in detail.credit_lines
                                ]
                            ),
                            hide_index=True,
                            width="stretch",
                        )
        if detail.tickets is not None and tabs["tickets"].open:
            with tabs["tickets"]:
                tickets_table(detail.tickets)
        if tabs["users"].open:
            with tabs["users"]:
                if actor.is_owner:
                    signin_locks(actor, detail.id)
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                tr("col.email"): u.email,
                                tr("col.active"): u.active,
                                tr("clients.col.verified"): u.verified,
                                tr("clients.col.has_password"): u.has_password,
                                tr("col.last_login"): i18n.moment(u.last_login_at, lang()),
                            }
                            for u in detail.users
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                )
        if tabs["audit"].open:
            with tabs["audit"]:
                st.dataframe(
                    pd.DataFrame(
                        [
                            {
                                tr("col.when"): i18n.moment(a.at, lang()),
                                tr("col.actor"): a.actor,
                                tr("col.action"): a.action,
                                tr("col.details"): ", ".join(
                                    f"{k}={v}" for k, v in a.details.items()
                                ),
                            }
                            for a in detail.audit
                        ]
                    ),
                    hide_index=True,
                    width="stretch",
                )
        st.stop()

    # ------------------------------------------------------------------------ search
    with st.form("clients_search"):
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        query = c1.text_input(
            tr("clients.search"), key="clients_query", placeholder=tr("clients.search_hint")
        )
        c2.form_submit_button(tr("clients.search_submit"))
    page_no = st.session_state.get("clients_page_no", 1)
    found = attempt(lambda: clients.search_clients(actor, query, page=page_no, per_page=PER_PAGE))
    if found is not None and page_no > found.pages:  # a new search with fewer pages
        st.session_state["clients_page_no"] = 1
        found = attempt(lambda: clients.search_clients(actor, query, page=1, per_page=PER_PAGE))
    if found is not None:
        found_key = "clients.found_more" if found.more else "clients.found"
        st.caption(tr_count(found_key, found.total))
        if found.rows:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            tr("clients.col.id"): r.id,
                            tr("clients.name"): r.name,
                            tr("clients.company"): r.company or "",
                            tr("clients.email"): r.email,
                            tr("clients.tax_id"): r.tax_id or "",
                            tr("clients.city"): r.city or "",
                        }
                        for r in found.rows
                    ]
                ),
                hide_index=True,
                width="stretch",
            )
            labels = {r.id: f"{r.company or r.name} ({r.email})" for r in found.rows}
            o1, o2 = st.columns([3, 1], vertical_alignment="bottom")
            chosen = o1.selectbox(
                tr("clients.open_client"), list(labels), format_func=labels.get, key="clients_open"
            )
            o2.button(
                tr("clients.open"), key="clients_open_btn", on_click=open_client, args=(chosen,)
            )
            paging.pager(found, "clients_page_no", "clients", caption=False)

    with st.expander(tr("clients.new")):
        st.caption(tr("clients.new_help"))
        submitted = client_form("clients_new", None)
        if submitted is not None:
            with errors_shown():
                new_id = clients_records.create_client(actor, submitted, now())
                open_client(new_id)
                done("clients.created")
