"""The owner's settings, what the business sells: its details and logo, the IVA rates, the
products and their prices, and the panel servers (issue 8). Each form calls one core action,
which validates and audits it."""

from decimal import Decimal

import pandas as pd
import streamlit as st

from core import catalog, panel
from core.access import Actor
from core.platform import i18n, settings
from core.rules.money import SRI_IVA_CODES
from ui.kit.context import errors_shown, lang, money, tr
from ui.kit.crud import crud
from ui.settings import saved


def business_tab(actor: Actor) -> None:
    with settings.snapshot_scope():  # the details and the logo in one read of the settings
        shop = catalog.business()
        current_logo = catalog.logo()
    with st.form("business_details"):
        b_name = st.text_input(tr("catalog.business_name"), shop.name, key="business_name")
        b_ruc = st.text_input(tr("catalog.business_ruc"), shop.ruc, key="business_ruc")
        b_address = st.text_input(
            tr("catalog.business_address"), shop.address, key="business_address"
        )
        b_transfer = st.text_area(
            tr("catalog.transfer_instructions"),
            shop.transfer_instructions,
            key="business_transfer",
            help=tr("catalog.transfer_help"),
        )
        if st.form_submit_button(tr("action.save"), key="save_business"):
            with errors_shown():
                catalog.save_business(
                    actor,
                    name=b_name,
                    ruc=b_ruc,
                    address=b_address,
                    transfer_instructions=b_transfer,
                )
                saved()
    st.subheader(tr("catalog.logo"))
    if current_logo is not None:
        st.image(current_logo.data, width=160)
    upload = st.file_uploader(
        tr("catalog.logo_upload", mb=catalog.LOGO_MAX_MB),
        type=["png", "jpg", "jpeg"],
        max_upload_size=catalog.LOGO_MAX_MB,  # the widget says the same limit as the label
        key="business_logo_file",
    )
    l1, l2 = st.columns(2)
    if l1.button(tr("catalog.logo_save"), key="business_logo_save", disabled=upload is None):
        with errors_shown():
            catalog.save_logo(actor, upload.name, upload.getvalue())
            saved()
    if l2.button(
        tr("catalog.logo_remove"), key="business_logo_remove", disabled=current_logo is None
    ):
        with errors_shown():
            catalog.remove_logo(actor)
            saved()


def taxes_tab(actor: Actor) -> None:
    st.caption(tr("catalog.taxes_help"))
    rate_rows = catalog.tax_rate_rows()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    tr("catalog.rate_from"): i18n.day(r.start, lang())
                    if r.start
                    else tr("catalog.rate_always"),
                    tr("catalog.rate_percent"): f"{r.rate.normalize()} %",
                    tr("catalog.rate_sri"): r.sri_code,
                }
                for r in rate_rows
            ]
        ),
        hide_index=True,
        width="stretch",
    )
    with st.form("tax_rate_add"):
        t1, t2 = st.columns(2)
        rate_from = t1.date_input(tr("catalog.rate_from"), key="tax_rate_from")
        rate_value = t2.selectbox(
            tr("catalog.rate_percent"),
            sorted(SRI_IVA_CODES),
            index=sorted(SRI_IVA_CODES).index(Decimal("15")),
            format_func=lambda r: f"{r} %",
            key="tax_rate_value",
        )
        if st.form_submit_button(tr("catalog.rate_add"), key="tax_rate_add_submit"):
            with errors_shown():
                kept = [(r.start, r.rate) for r in rate_rows if r.start != rate_from]
                catalog.save_tax_rates(actor, [*kept, (rate_from, rate_value)])
                saved()
    if len(rate_rows) > 1:
        r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
        dropped = r1.selectbox(
            tr("catalog.rate_remove_which"),
            [r.start for r in rate_rows if r.start],
            format_func=lambda d: i18n.day(d, lang()),
            key="tax_rate_remove_choice",
        )
        if r2.button(tr("catalog.rate_remove"), key="tax_rate_remove"):
            with errors_shown():
                catalog.save_tax_rates(
                    actor, [(r.start, r.rate) for r in rate_rows if r.start != dropped]
                )
                saved()


def products_tab(actor: Actor) -> None:
    products = catalog.list_products(actor)

    def form(editing, choice: int) -> None:
        p1, p2 = st.columns(2)
        p_name = p1.text_input(tr("catalog.product"), editing.name if editing else "")
        p_package = p2.text_input(tr("catalog.package"), editing.whm_package if editing else "")
        p_name_en = p1.text_input(
            tr("polish.name_en"),
            editing.name_en if editing else "",
            help=tr("polish.name_en_help"),
            key=f"product_{choice}_name_en",
        )
        p_description = st.text_area(
            tr("catalog.description"), editing.description if editing else ""
        )
        q1, q2, q3 = st.columns(3)
        p_disk = q1.number_input(
            tr("catalog.disk_mb"), min_value=1, value=editing.disk_mb if editing else 1024
        )
        p_boxes = q2.number_input(
            tr("catalog.max_mailboxes"), min_value=0, value=editing.max_mailboxes if editing else 10
        )
        p_quota = q3.number_input(
            tr("catalog.mailbox_quota_mb"),
            min_value=1,
            value=editing.mailbox_quota_mb if editing else 1024,
        )
        st.markdown(f"**{tr('catalog.prices')}**")
        st.caption(tr("catalog.prices_help"))
        entered: dict[str, tuple[str, str]] = {}
        for cycle in catalog.PRODUCT_CYCLES:
            known = editing.price(cycle) if editing else None
            c1, c2 = st.columns(2)
            entered[cycle] = (
                c1.text_input(
                    tr("catalog.price_for", cycle=tr(f"cycle.{cycle}")),
                    str(known.price) if known else "",
                    key=f"product_{choice}_price_{cycle}",
                ),
                c2.text_input(
                    tr("catalog.setup_for", cycle=tr(f"cycle.{cycle}")),
                    str(known.setup_fee) if known else "",
                    key=f"product_{choice}_setup_{cycle}",
                ),
            )
        # Issue 19: an add-on is ordered on a service of the plans it fits.
        kinds = list(catalog.KINDS)
        a1, a2 = st.columns(2)
        p_kind = a1.selectbox(
            tr("addons.kind"),
            kinds,
            index=kinds.index(editing.kind) if editing else 0,
            format_func=lambda k: tr(f"addons.kind.{k}"),
            key=f"product_{choice}_kind",
        )
        actions = list(catalog.ADDON_ACTIONS)
        p_action = a2.selectbox(
            tr("addons.action"),
            actions,
            index=actions.index(editing.addon_action) if editing else 0,
            format_func=lambda k: tr(f"addons.action.{k}"),
            key=f"product_{choice}_action",
        )
        p_quota_mb = st.text_input(
            tr("addons.quota_mb"),
            str(editing.addon_quota_mb) if editing and editing.addon_quota_mb else "",
            help=tr("addons.quota_mb_help"),
            key=f"product_{choice}_quota_mb",
        )
        plans = {p.id: p.name for p in products if p.kind == "hosting" and p.id != choice}
        p_fits = st.multiselect(
            tr("addons.fits"),
            list(plans),
            default=[t for t in (editing.addon_fits if editing else ()) if t in plans],
            format_func=plans.get,
            help=tr("addons.fits_help"),
            key=f"product_{choice}_fits",
        )
        others = {p.id: p.name for p in products if p.id != choice}
        p_targets = st.multiselect(
            tr("catalog.targets"),
            list(others),
            default=[t for t in (editing.upgrade_targets if editing else ()) if t in others],
            format_func=others.get,
            help=tr("catalog.targets_help"),
        )
        w1, w2, w3 = st.columns(3)
        p_prorata = w1.checkbox(
            tr("catalog.prorata"), value=editing.prorata_enabled if editing else False
        )
        p_prorata_day = w2.number_input(
            tr("catalog.prorata_day"),
            min_value=1,
            max_value=31,
            value=(editing.prorata_day or 1) if editing else 1,
        )
        p_next_month = w3.number_input(
            tr("catalog.prorata_next_month"),
            min_value=0,
            max_value=31,
            value=(editing.prorata_next_month_after_day or 0) if editing else 0,
            help=tr("catalog.prorata_next_month_help"),
        )
        credit_modes = [None, True, False]
        p_credit = st.selectbox(
            tr("catalog.credit_on_downgrade"),
            credit_modes,
            index=credit_modes.index(editing.credit_on_downgrade) if editing else 0,
            format_func=lambda v: tr(
                "catalog.credit_default" if v is None else "catalog.yes" if v else "catalog.no"
            ),
        )
        v1, v2 = st.columns(2)
        p_order = v1.number_input(
            tr("catalog.sort_order"), value=editing.sort_order if editing else 0, step=1
        )
        p_active = v2.checkbox(tr("col.active"), value=editing.active if editing else True)
        p_reprice = st.checkbox(
            tr("catalog.reprice_existing"),
            value=False,
            help=tr("catalog.reprice_help"),
            disabled=editing is None,
            key=f"product_{choice}_reprice",
        )
        if st.form_submit_button(tr("action.save"), key=f"product_{choice}_save"):
            with errors_shown():
                catalog.save_product(
                    actor,
                    catalog.ProductForm(
                        name=p_name,
                        name_en=p_name_en,
                        whm_package=p_package,
                        prices=entered,
                        description=p_description,
                        disk_mb=int(p_disk),
                        max_mailboxes=int(p_boxes),
                        mailbox_quota_mb=int(p_quota),
                        upgrade_targets=p_targets,
                        prorata_enabled=p_prorata,
                        prorata_day=int(p_prorata_day),
                        prorata_next_month_after_day=int(p_next_month) or None,
                        credit_on_downgrade=p_credit,
                        sort_order=int(p_order),
                        active=p_active,
                        kind=p_kind,
                        addon_fits=p_fits,
                        addon_action=p_action,
                        addon_quota_mb=p_quota_mb,
                    ),
                    product_id=editing.id if editing else None,
                    reprice_existing=p_reprice,
                )
                saved()

    by_id = crud(
        "product",
        products,
        columns=lambda p: {
            tr("catalog.product"): p.name,
            tr("addons.kind"): tr(f"addons.kind.{p.kind}"),
            tr("catalog.package"): p.whm_package,
            tr("catalog.prices"): " · ".join(
                f"{tr(f'cycle.{x.cycle}')} {money(x.price)}" for x in p.prices
            ),
            tr("col.active"): p.active,
            tr("catalog.services"): p.services,
        },
        label=lambda p: p.name,
        form=form,
    )
    pending = catalog.pending_repricing()
    if pending:
        st.caption(tr("catalog.pending_repricing"))
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        tr("catalog.product"): by_id[r.product_id].name
                        if r.product_id in by_id
                        else r.product_id,
                        tr("col.cycle"): tr(f"cycle.{r.cycle}"),
                        tr("catalog.old_prices"): ", ".join(money(a) for a in r.old_amounts),
                        tr("catalog.new_price"): money(r.amount),
                        tr("catalog.since"): i18n.day(r.since, lang()),
                    }
                    for r in pending
                ]
            ),
            hide_index=True,
            width="stretch",
        )


def servers_tab(actor: Actor) -> None:
    servers = panel.list_servers(actor)

    def form(server, server_choice: int) -> None:
        s1, s2 = st.columns(2)
        s_name = s1.text_input(tr("catalog.server_name"), server.name if server else "")
        s_host = s2.text_input(tr("catalog.server_hostname"), server.hostname if server else "")
        s_port = s1.number_input(
            tr("catalog.server_port"),
            min_value=1,
            max_value=65535,
            value=server.port if server else 2087,
        )
        s_user = s2.text_input(tr("catalog.server_user"), server.username if server else "root")
        schemes = ["https", "http"]
        s_scheme = s1.selectbox(
            tr("catalog.server_scheme"),
            schemes,
            index=schemes.index(server.scheme) if server else 0,
        )
        s_verify = s2.checkbox(
            tr("catalog.server_verify_tls"), value=server.verify_tls if server else True
        )
        s_token = s1.text_input(
            tr("catalog.server_token"),
            "",
            type="password",
            help=tr("catalog.server_token_help"),
            key=f"server_{server_choice}_token",
        )
        s_env = s2.text_input(
            tr("catalog.server_token_env"),
            (server.token_env or "") if server else "",
            help=tr("catalog.server_token_env_help"),
        )
        s_max = s1.number_input(
            tr("catalog.server_max_accounts"),
            min_value=1,
            value=server.max_accounts if server else 500,
        )
        s_active = s2.checkbox(tr("col.active"), value=server.active if server else True)
        if st.form_submit_button(tr("action.save"), key=f"server_{server_choice}_save"):
            with errors_shown():
                panel.save_server(
                    actor,
                    name=s_name,
                    hostname=s_host,
                    port=int(s_port),
                    username=s_user,
                    token=s_token or None,
                    token_env=None if s_token else (s_env or None),
                    verify_tls=s_verify,
                    scheme=s_scheme,
                    max_accounts=int(s_max),
                    active=s_active,
                    server_id=server.id if server else None,
                )
                saved()

    def before_form(server) -> None:
        if st.button(tr("catalog.test_connection"), key="server_test"):
            with errors_shown():
                report = panel.test_connection(actor, server.id)
                st.success(tr("catalog.connection_ok", n=len(report.plans)))
                if report.missing_packages:
                    st.warning(tr("catalog.missing_packages"))
                    st.text(", ".join(report.missing_packages))

    crud(
        "server",
        servers,
        columns=lambda v: {
            tr("catalog.server_name"): v.name,
            tr("catalog.server_host"): f"{v.scheme}://{v.hostname}:{v.port}",
            tr("catalog.server_user"): v.username,
            tr("catalog.server_credential"): tr(f"catalog.credential_{v.token_source}"),
            tr("catalog.server_verify_tls"): v.verify_tls,
            tr("col.active"): v.active,
            tr("catalog.services"): v.services,
        },
        label=lambda v: v.name,
        form=form,
        before_form=before_form,
    )
