"""The owner's "Facturación electrónica" tab: the signing certificate and the issuer details
the SRI documents carry (issue 17), and the certificate's expiry notice the home page shows.

Each form calls one core action (``core.einvoice.certificates.upload``,
``core.einvoice.config.save``), which checks and audits it. The certificate's file and
password are never shown back: only its holder, RUC, issuer and expiry.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import streamlit as st

from core import catalog
from core.access import Actor
from core.einvoice import certificates, config
from core.platform.clock import now, today
from core.platform.config import get_settings
from ui.kit.context import day, errors_shown, tr
from ui.settings import saved


def certificate_notice(actor: Actor, on: date) -> None:
    """The owner's warning, from 30 days before the certificate expires (and after)."""
    left = certificates.expiry_warning(actor, on)
    if left is None:
        return
    info = certificates.current()
    assert info is not None  # a warning means a certificate is stored
    if left < 0:
        st.error(tr("einvoice.certificate_expired", date=day(info.not_after.date())))
    else:
        st.warning(
            tr("einvoice.certificate_expires_soon", days=left, date=day(info.not_after.date()))
        )


def _certificate(actor: Actor) -> None:
    st.subheader(tr("einvoice.certificate"))
    certificate_notice(actor, today(get_settings().tz))
    info = certificates.current()
    if info is None:
        st.info(tr("einvoice.no_certificate"))
    else:
        # Certificate fields are the authority's text: shown as plain text, never markdown.
        st.text(f"{tr('einvoice.holder')}: {info.holder}")
        st.text(f"{tr('einvoice.ruc')}: {info.ruc or tr('einvoice.ruc_unknown')}")
        st.text(f"{tr('einvoice.issuer')}: {info.issuer}")
        st.text(f"{tr('einvoice.expires')}: {day(info.not_after.date())}")
        business_ruc = catalog.business().ruc
        if info.ruc and business_ruc and info.ruc != business_ruc:
            st.warning(tr("einvoice.ruc_mismatch", cert_ruc=info.ruc, business_ruc=business_ruc))
    with st.form("einvoice_certificate", clear_on_submit=True):
        upload = st.file_uploader(
            tr("einvoice.upload_file"), type=["p12", "pfx"], key="einvoice_p12"
        )
        password = st.text_input(
            tr("einvoice.upload_password"),
            type="password",
            key="einvoice_p12_password",
            help=tr("einvoice.upload_help"),
        )
        if st.form_submit_button(tr("einvoice.upload_submit"), key="einvoice_p12_save"):
            with errors_shown():
                data = upload.getvalue() if upload is not None else b""
                certificates.upload(actor, data, password, at=now())
                saved()


def _details(actor: Actor) -> None:
    st.subheader(tr("einvoice.settings"))
    current = config.read()
    with st.form("einvoice_settings"):
        environment = st.selectbox(
            tr("einvoice.environment"),
            config.ENVIRONMENTS,
            index=config.ENVIRONMENTS.index(current.environment),
            format_func=lambda env: tr(f"einvoice.environment_{env}"),
            key="einvoice_environment",
        )
        c1, c2 = st.columns(2)
        establishment = c1.text_input(
            tr("einvoice.establishment"),
            current.establishment,
            max_chars=3,
            help=tr("einvoice.codes_help"),
            key="einvoice_establishment",
        )
        emission_point = c2.text_input(
            tr("einvoice.emission_point"),
            current.emission_point,
            max_chars=3,
            help=tr("einvoice.codes_help"),
            key="einvoice_emission_point",
        )
        accounting = st.checkbox(
            tr("einvoice.accounting_required"),
            current.accounting_required,
            key="einvoice_accounting",
        )
        special = st.text_input(
            tr("einvoice.special_taxpayer"),
            current.special_taxpayer,
            max_chars=13,
            help=tr("einvoice.special_taxpayer_help"),
            key="einvoice_special",
        )
        rimpe = st.checkbox(tr("einvoice.rimpe"), current.rimpe, key="einvoice_rimpe")
        digest = st.selectbox(
            tr("einvoice.digest"),
            config.DIGESTS,
            index=config.DIGESTS.index(current.digest),
            format_func=lambda name: tr(f"einvoice.digest_{name}"),
            key="einvoice_digest",
        )
        limit = st.number_input(
            tr("einvoice.final_consumer_limit"),
            min_value=0.0,
            value=float(current.final_consumer_limit),
            step=1.0,
            format="%.2f",
            key="einvoice_final_limit",
        )
        if st.form_submit_button(tr("action.save"), key="einvoice_settings_save"):
            with errors_shown():
                config.save(
                    actor,
                    config.EinvoiceSettings(
                        environment=int(environment),
                        establishment=establishment.strip(),
                        emission_point=emission_point.strip(),
                        accounting_required=accounting,
                        special_taxpayer=special.strip(),
                        rimpe=rimpe,
                        digest=digest,
                        # The widget gives a float; its two decimals as shown are the amount.
                        final_consumer_limit=Decimal(f"{limit:.2f}"),
                    ),
                )
                saved()


def einvoice_tab(actor: Actor) -> None:
    st.caption(tr("einvoice.intro"))
    _certificate(actor)
    _details(actor)
