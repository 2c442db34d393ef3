"""Settings → "Facturación electrónica" (owner only): the signing certificate, the issuer
details the SRI documents carry, and the certificate's expiry notice on the owner's home."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from core.einvoice import certificates, config
from core.platform import settings
from core.platform.clock import now
from sandbox.demo_certificate import make_p12
from tests.pages.apptest import app_as, open_tab, texts, tr, tr_part

PASSWORD = "clave-p12"
RUC = "1792900018001"


def _p12(days: int = 400) -> bytes:
    return make_p12(ruc=RUC, holder="EMPRESA DE PRUEBA S.A.", password=PASSWORD,
                    not_before=now() - timedelta(days=1), days=days)  # fmt: skip


def _tab(persona):
    at = app_as(persona, "settings")
    assert not at.exception
    return open_tab(at, "settings_tab", tr("einvoice.tab"))


def test_the_owner_uploads_the_certificate_and_sees_holder_ruc_and_expiry(page_personas):
    at = _tab(page_personas.owner)
    assert tr("einvoice.no_certificate") in texts(at)
    [uploader] = at.get("file_uploader")
    uploader.upload("firma.p12", _p12(), "application/x-pkcs12")
    at.text_input(key="einvoice_p12_password").input("equivocada")
    at.button(key="einvoice_p12_save").click().run()
    assert [e.value for e in at.error] == [tr("einvoice.error.certificate_unreadable")]
    assert not certificates.is_configured()
    [uploader] = at.get("file_uploader")
    uploader.upload("firma.p12", _p12(), "application/x-pkcs12")
    at.text_input(key="einvoice_p12_password").input(PASSWORD)
    at.button(key="einvoice_p12_save").click().run()
    assert not at.exception and not at.error
    shown = texts(at)
    assert "EMPRESA DE PRUEBA S.A." in shown and RUC in shown
    assert tr_part("einvoice.expires") in shown
    assert PASSWORD not in shown  # the password is never shown back
    assert certificates.current().ruc == RUC
    # A business RUC other than the certificate's is pointed out.
    settings.put(page_personas.owner.actor, "business.ruc", "1719141770001")
    at = _tab(page_personas.owner)
    assert tr("einvoice.ruc_mismatch", cert_ruc=RUC, business_ruc="1719141770001") in texts(at)


def test_the_issuer_details_are_saved_and_a_bad_code_is_refused(page_personas):
    at = _tab(page_personas.owner)
    at.selectbox(key="einvoice_environment").set_value(2)
    at.text_input(key="einvoice_establishment").input("002")
    at.text_input(key="einvoice_emission_point").input("010")
    at.checkbox(key="einvoice_accounting").check()
    at.text_input(key="einvoice_special").input("5368")
    at.checkbox(key="einvoice_rimpe").check()
    at.selectbox(key="einvoice_digest").set_value("sha256")
    at.number_input(key="einvoice_final_limit").set_value(80.0)
    at.button(key="einvoice_settings_save").click().run()
    assert not at.exception and not at.error
    assert config.read() == config.EinvoiceSettings(
        2, "002", "010", True, "5368", True, "sha256", Decimal("80.00")
    )
    at.text_input(key="einvoice_establishment").input("2")
    at.button(key="einvoice_settings_save").click().run()
    assert [e.value for e in at.error] == [tr("einvoice.error.establishment")]
    assert config.read().establishment == "002"


def test_the_owner_is_warned_on_home_and_settings_before_expiry(page_personas):
    certificates.upload(page_personas.owner.actor, _p12(days=20), PASSWORD, at=now())
    warning = tr_part("einvoice.certificate_expires_soon")
    home = app_as(page_personas.owner, "home")
    assert any(warning in w.value for w in home.warning)
    assert any(warning in w.value for w in _tab(page_personas.owner).warning)
    staff_home = app_as(page_personas.staff, "home")
    assert not any(warning in w.value for w in staff_home.warning)


def test_no_warning_with_a_certificate_far_from_expiry(page_personas):
    certificates.upload(page_personas.owner.actor, _p12(days=400), PASSWORD, at=now())
    home = app_as(page_personas.owner, "home")
    assert not any(tr_part("einvoice.certificate_expires_soon") in w.value for w in home.warning)
    assert datetime(2000, 1, 1) < certificates.current().not_after
