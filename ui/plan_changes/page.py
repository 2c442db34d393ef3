"""Plan changes and new orders: a client's quotes for their own services (credit, charge, IVA,
total and the formula in words), confirmation into an invoice, their open changes, and ordering
a new plan. The owner sees the same for any client's service, plus every change waiting to be
paid or applied and every order waiting to be set up.

Thin on purpose: the role guard, one core read, the rendering, and one core action per form.
Texts typed by people (domains, the panel's error text) are shown as plain text.

Used by pages/upgrades.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core import addons, orders, plan_changes
from core.access import Actor, can_open_page
from core.platform.errors import NotFound
from ui.kit import flash
from ui.kit.context import day, errors_shown, lang, money, tr
from ui.kit.ids import query_id
from ui.kit.tables import plain_table

FLASH = "upgrades_flash"


def done(key: str, invoice_id: int | None = None, number: str | None = None, **params: str) -> None:
    """After a successful action: remember the message (and the invoice, by id and by the
    number every other page shows) and rerun."""
    flash.done(FLASH, key, extra=None if invoice_id is None else (invoice_id, number), **params)


def invoice_link(actor: Actor, invoice_id: int | None, number: str | None = None) -> None:
    if invoice_id is None or not can_open_page(actor, "billing"):
        return
    st.page_link(
        "pages/billing.py",
        label=tr("upgrades.open_invoice", number=number or "—"),
        icon=":material/receipt_long:",
        query_params={"invoice": str(invoice_id)},
    )


LINKS_LISTED = 5  # more invoices than this to open: one chosen from a list, one link


def invoice_links(actor: Actor, key: str, invoices: dict[int, tuple[str | None, str]]) -> None:
    """A link to each invoice of a list (id → (number, what it is for)): a client's few as
    links under the table; a long desk list (200 orders at a big host) as a choice and the
    one link, since a column of two hundred links is neither readable nor quick to draw."""
    if not invoices or not can_open_page(actor, "billing"):
        return
    if len(invoices) <= LINKS_LISTED:
        for invoice_id, (number, _what) in invoices.items():
            invoice_link(actor, invoice_id, number)
        return
    chosen = st.selectbox(
        tr("upgrades.invoice_choose"),
        list(invoices),
        format_func=lambda i: f"{invoices[i][0] or '—'} · {invoices[i][1]}",
        key=key,
    )
    invoice_link(actor, chosen, invoices[chosen][0])


def pick_service() -> None:
    chosen = st.session_state.get("upgrades_service")
    if chosen is None:
        st.query_params.pop("service", None)
    else:
        st.query_params["service"] = str(chosen)


def clear_service() -> None:
    st.query_params.pop("service", None)


def render(actor: Actor) -> None:
    staff = not actor.is_client
    st.title(tr("page.upgrades"))

    linked: int | None = None  # the invoice the notice links, not linked twice below
    if flash_invoice := flash.show(FLASH):
        invoice_link(actor, *flash_invoice)
        linked = flash_invoice[0]

    search = st.text_input(tr("upgrades.search"), key="upgrades_search") if staff else None
    # No ?service= (or an empty one) selects nothing; a malformed one is not found.
    service_id = query_id("service")
    view = None
    with errors_shown():
        if service_id is None and st.query_params.get("service"):
            raise NotFound()
        view = plan_changes.upgrades_view(actor, service_id, search=search)
    if view is None:
        st.button(tr("upgrades.back"), key="upgrades_back", on_click=clear_service)
        st.stop()

    # --- choose a service, see the quotes, confirm ------------------------------------------------

    st.subheader(tr("upgrades.change_title"))
    labels = {
        c.id: f"{c.domain} · {c.plan}" + (f" · {c.client_name}" if staff else "")
        for c in view.services
    }
    options: list[int | None] = [None, *labels]
    current_id = view.current.id if view.current else None
    st.selectbox(
        tr("upgrades.choose_service"),
        options,
        index=options.index(current_id) if current_id in options else 0,
        format_func=lambda sid: tr("upgrades.choose_placeholder") if sid is None else labels[sid],
        key="upgrades_service",
        on_change=pick_service,
    )
    if not view.services and not staff:
        st.info(tr("upgrades.no_services"))

    cur = view.current
    if cur is not None:
        if staff:
            st.text(tr("upgrades.client_line", client=cur.client_name))
        c1, c2, c3, c4 = st.columns(4)
        c1.metric(tr("col.plan"), cur.plan)
        c2.metric(tr("col.cycle"), tr(f"cycle.{cur.cycle}"))
        c3.metric(tr("col.recurring"), money(cur.amount))
        c4.metric(tr("col.next_due"), day(cur.next_due))
        if view.blocked is not None:
            st.warning(tr(view.blocked[0], **view.blocked[1]))
        elif view.no_targets or not view.quotes:
            st.info(tr("upgrades.no_targets"))
        else:

            def option(i: int) -> str:
                q = view.quotes[i]
                if q.at_renewal:
                    amount = tr("upgrades.option_at_renewal", date=day(q.apply_on))
                elif q.net < 0:
                    amount = tr("upgrades.option_credit", amount=money(q.balance_credit))
                else:
                    amount = money(q.total)
                return tr(
                    "upgrades.option",
                    plan=q.to_product,
                    cycle=tr(f"cycle.{q.to_cycle}"),
                    price=money(q.to_amount),
                    amount=amount,
                )

            chosen = st.radio(
                tr("upgrades.choose_target"),
                list(range(len(view.quotes))),
                format_func=option,
                key="upgrades_target",
            )
            q = view.quotes[chosen or 0]
            st.markdown(f"**{tr('upgrades.quote_title')}**")
            if q.at_renewal:
                st.info(tr("upgrades.at_renewal_notice", date=day(q.apply_on)))
            else:
                rows = [
                    (tr("upgrades.line_credit", plan=q.from_product), f"−{money(q.credit)}"),
                    (tr("upgrades.line_charge", plan=q.to_product), money(q.charge)),
                    (tr("upgrades.line_net"), money(q.net)),
                    (tr("upgrades.line_iva", rate=str(q.tax_rate.normalize())), money(q.tax)),
                    (tr("upgrades.line_total"), money(q.total)),
                ]
                if q.balance_credit > 0:
                    rows.append((tr("upgrades.line_balance_credit"), money(q.balance_credit)))
                st.dataframe(
                    pd.DataFrame(
                        rows, columns=[tr("upgrades.col_concept"), tr("upgrades.col_amount")]
                    ),
                    hide_index=True,
                )
            st.markdown(f"**{tr('upgrades.formula_title')}**")
            for sentence in plan_changes.explain(q, lang()):
                st.text(sentence)
            # Issue 19: the add-ons the change would end, and why, said before confirming.
            for name, reason in addons.ending_with(
                actor, q.service_id, q.to_product_id, q.to_cycle, lang()
            ):
                st.warning(
                    tr("addons.plan_change_ends", addon=name, reason=tr(f"addons.why_{reason}"))
                )
            st.caption(tr("upgrades.valid_until", date=day(q.valid_until)))
            if not q.at_renewal:  # the limit is said before confirming, not after
                st.caption(tr("upgrades.once_a_day"))
            accepted = st.checkbox(tr("upgrades.accept"), key="upgrades_accept")
            if st.button(
                tr("upgrades.confirm"),
                key="upgrades_confirm",
                type="primary",
                disabled=not accepted,
            ):
                with errors_shown():
                    made = plan_changes.confirm(actor, cur.id, q.to_product_id, q.to_cycle)
                    if made.invoice_id is None:
                        done("upgrades.scheduled_done", date=day(q.apply_on))
                    else:
                        message = {
                            "applied": "upgrades.applied_done",
                            "paid": "upgrades.paid_done",
                        }.get(made.status, "upgrades.confirmed_done")
                        done(message, made.invoice_id, made.invoice_number)

    # --- plan changes -----------------------------------------------------------------------------

    st.subheader(tr("upgrades.changes_title_staff" if staff else "upgrades.changes_title"))
    if not view.changes:
        st.info(tr("upgrades.no_changes"))
    else:
        table = []
        for ch in view.changes:
            row = {tr("col.domain"): ch.domain}
            if staff:
                row[tr("upgrades.col_client")] = ch.client_name
            row.update(
                {
                    tr("upgrades.col_change"): tr(
                        "upgrades.change_cell",
                        from_plan=ch.from_product,
                        to_plan=ch.to_product,
                        cycle=tr(f"cycle.{ch.to_cycle}"),
                    ),
                    tr("col.status"): tr(f"upgrades.status.{ch.status}"),
                    tr("upgrades.col_when"): day(ch.apply_on or ch.valid_until),
                    tr("upgrades.col_invoice"): ch.invoice_number or "—",
                    tr("upgrades.col_total"): money(ch.total),
                }
            )
            if staff:
                row[tr("upgrades.col_problem")] = ch.problem or ""
            table.append(row)
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
        invoice_links(
            actor,
            "upgrades_change_invoice",
            {
                ch.invoice_id: (ch.invoice_number, f"{ch.domain} · {ch.to_product}")
                for ch in view.changes
                if ch.status == "pending" and ch.invoice_id is not None and ch.invoice_id != linked
            },
        )

        open_ones = {
            c.id: f"{c.domain} · {c.to_product}"
            for c in view.changes
            if c.status in ("pending", "scheduled")
        }
        if open_ones:
            with st.form("upgrades_cancel_form"):
                target = st.selectbox(
                    tr("upgrades.cancel_choose"),
                    list(open_ones),
                    format_func=open_ones.get,
                    key="upgrades_cancel_choice",
                )
                if st.form_submit_button(tr("upgrades.cancel_button")):
                    with errors_shown():
                        plan_changes.cancel(actor, target)
                        done("upgrades.cancelled_done")
        unapplied = {
            c.id: f"{c.domain} · {c.to_product}" for c in view.changes if c.status == "paid"
        }
        if unapplied and actor.is_owner:
            with st.form("upgrades_retry_form"):
                target = st.selectbox(
                    tr("upgrades.retry_choose"),
                    list(unapplied),
                    format_func=unapplied.get,
                    key="upgrades_retry_choice",
                )
                if st.form_submit_button(tr("upgrades.retry_button")):
                    with errors_shown():
                        plan_changes.retry(actor, target)
                        done("upgrades.applied_now_done")

    # --- new orders -------------------------------------------------------------------------------

    st.subheader(tr("orders.title_staff" if staff else "orders.title"))
    if view.pending_orders:
        rows = []
        for o in view.pending_orders:
            row = {tr("col.domain"): o.domain}
            if staff:
                row[tr("upgrades.col_client")] = o.client_name
            row.update(
                {
                    tr("col.plan"): o.product,
                    tr("col.cycle"): tr(f"cycle.{o.cycle}"),
                    tr("orders.col_ordered"): day(o.ordered_on),
                    tr("col.status"): tr(f"orders.stage.{o.stage}"),
                    tr("upgrades.col_invoice"): o.invoice_number or "—",
                    tr("upgrades.col_total"): money(o.total),
                }
            )
            if staff:
                row[tr("upgrades.col_problem")] = o.problem or ""
            rows.append(row)
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        invoice_links(
            actor,
            "upgrades_order_invoice",
            {
                o.invoice_id: (o.invoice_number, o.domain)
                for o in view.pending_orders
                if o.stage == "awaiting_payment"
                and o.invoice_id is not None
                and o.invoice_id != linked
            },
        )
    elif staff:
        st.info(tr("orders.none_pending"))

    if staff:
        st.caption(tr("orders.staff_hint"))
    elif view.offers:
        offers = view.offers

        def offer_label(i: int) -> str:
            o = offers[i]
            text = tr(
                "orders.offer", plan=o.product, cycle=tr(f"cycle.{o.cycle}"), price=money(o.price)
            )
            if o.setup_fee > 0:
                text += " · " + tr("orders.offer_setup", fee=money(o.setup_fee))
            if o.prorata:
                text += " · " + tr("orders.offer_prorata")
            return text

        order_section(actor, offers, offer_label)


PENDING_ORDER = "upgrades_order_pending"


def order_section(actor: Actor, offers: list[orders.Offer], offer_label) -> None:
    """A client's new order in two steps: choose the plan and the domain, then read what it
    costs and what credit it will use, and confirm (issue 16 item 2: never spend credit
    without asking). The message after placing says what really happened."""
    pending = st.session_state.get(PENDING_ORDER)
    if pending is None:
        with st.form("upgrades_order_form"):
            pick = st.selectbox(
                tr("orders.choose_plan"),
                list(range(len(offers))),
                format_func=offer_label,
                key="upgrades_order_offer",
            )
            domain = st.text_input(
                tr("orders.domain"), key="upgrades_order_domain", help=tr("orders.domain_help")
            )
            if st.form_submit_button(tr("orders.review")):
                with errors_shown():
                    chosen_offer = offers[pick or 0]
                    name = orders.normalise_domain(domain)  # a bad domain is said now
                    st.session_state[PENDING_ORDER] = (
                        chosen_offer.product_id,
                        chosen_offer.cycle,
                        name,
                    )
                    st.rerun()
        return
    product_id, cycle, domain = pending
    q = None
    with errors_shown():
        q = orders.order_quote(actor, product_id=product_id, cycle=cycle)
    if q is None:
        st.button(tr("orders.change"), key="upgrades_order_change", on_click=drop_order)
        return
    st.markdown(f"**{tr('orders.confirm_title', plan=q.product, domain=domain)}**")
    rows = [(tr(f"orders.quote_line.{line.kind}"), money(line.amount)) for line in q.lines]
    rows += [
        (tr("upgrades.line_iva", rate=str(q.tax_rate.normalize())), money(q.tax)),
        (tr("upgrades.line_total"), money(q.total)),
        (tr("orders.quote_credit"), f"−{money(q.credit_used)}"),
        (tr("orders.quote_to_pay"), money(q.to_pay)),
    ]
    plain_table(
        [{tr("upgrades.col_concept"): c, tr("upgrades.col_amount"): a} for c, a in rows],
        right={tr("upgrades.col_amount")},
    )
    if q.paid_by_credit:
        st.info(tr("orders.confirm_by_credit", credit=money(q.credit_used)))
    elif q.credit_used > 0:
        st.info(tr("orders.confirm_part_credit", credit=money(q.credit_used), due=money(q.to_pay)))
    else:
        st.info(tr("orders.confirm_on_payment", due=money(q.to_pay)))
    c1, c2 = st.columns(2)
    c2.button(tr("orders.change"), key="upgrades_order_change", on_click=drop_order)
    if c1.button(tr("orders.submit"), key="upgrades_order_confirm", type="primary"):
        with errors_shown():
            placed = orders.place_order(actor, product_id=product_id, cycle=cycle, domain=domain)
            st.session_state.pop(PENDING_ORDER, None)
            if placed.status == "active":
                message = "orders.placed_active"
            elif placed.paid:
                message = "orders.placed_paid"
            else:
                message = "orders.placed_done"
            done(
                message,
                placed.invoice_id,
                placed.invoice_number,
                domain=placed.domain,
                total=money(placed.total),
                credit=money(placed.credit_used),
            )


def drop_order() -> None:
    st.session_state.pop(PENDING_ORDER, None)
