"""Each low-code setting, changed, and its effect observed where the business feels it: the
IVA table on a new invoice, the business name on the PDF, the logo, a product's price on
existing services (only from their next renewal, and only when asked), a mail template on
the mail that goes out."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core import billing, catalog
from core.accounts.recovery import request_reset
from core.billing.pdf import invoice_pdf
from core.billing.views import client_billing_view
from core.models import AuditEntry, InvoiceItem, MailOutbox, Product, ProductPrice, Service
from core.platform import mail, settings
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.platform.errors import Forbidden, NotFound, ValidationError
from tests.integration.billing_helpers import PNG as FAKE_PNG
from tests.integration.billing_helpers import invoice, pdf_text

GIF = b"GIF89a" + b"\x00" * 32


def picture(kind: str, size: tuple[int, int] = (40, 20)) -> bytes:
    """A real, decodable image (PNG or JPEG) of ``size`` pixels."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, kind)
    return buffer.getvalue()


PNG, JPEG = picture("PNG"), picture("JPEG")


def service(service_id: int) -> Service:
    with read_session() as s:
        row = s.get(Service, service_id)
        s.expunge(row)
        return row


def product_form(name: str = "Básico", monthly: str = "12.00", **extra) -> catalog.ProductForm:
    return catalog.ProductForm(
        name=name, whm_package="basico", prices={"monthly": (monthly, "0")}, **extra
    )


# ------------------------------------------------------------------------- IVA
def test_a_new_rate_applies_to_invoices_issued_from_its_date(personas):
    owner, a = personas.owner.actor, personas.client_a.actor
    rows = catalog.save_tax_rates(
        owner, [(None, "12"), (date(2024, 4, 1), "15"), (date(2027, 1, 1), "13")]
    )
    assert [(r.start, r.rate, r.sri_code) for r in rows][-1] == (
        date(2027, 1, 1),
        Decimal("13"),
        "10",
    )
    before = billing.create_invoice(
        owner, a.client_id, [billing.LineInput("Hosting", "10.00")], issued_on=date(2026, 12, 31)
    )
    after = billing.create_invoice(
        owner, a.client_id, [billing.LineInput("Hosting", "10.00")], issued_on=date(2027, 1, 1)
    )
    assert invoice(before).tax_total == Decimal("1.50")
    assert invoice(after).tax_total == Decimal("1.30") and invoice(after).total == Decimal("11.30")
    with read_session() as s:
        rate = s.scalars(select(InvoiceItem.tax_rate).where(InvoiceItem.invoice_id == after)).one()
    assert rate == Decimal("13")
    assert catalog.iva_rate_on(date(2020, 1, 1)) == Decimal("12")


def test_the_first_rate_reaches_back_and_bad_tables_are_refused(personas):
    owner = personas.owner.actor
    catalog.save_tax_rates(owner, [(date(2025, 1, 1), "15")])
    assert catalog.iva_rate_on(date(2000, 1, 1)) == Decimal("15")
    for rows in (
        [],
        [(None, "16")],  # the SRI has no code for 16 %
        [(None, "-1")],
        [(None, "abc")],
        [(date(2025, 1, 1), "15"), ("2025-01-01", "12")],
        [("not a date", "15")],
    ):
        with pytest.raises(ValidationError):
            catalog.save_tax_rates(owner, rows)
    with pytest.raises(Forbidden):
        catalog.save_tax_rates(personas.staff.actor, [(None, "15")])
    with read_session() as s:
        changed = s.scalars(select(AuditEntry).where(AuditEntry.action == "setting.changed")).all()
    assert [e.details["setting"] for e in changed] == ["billing.iva_rates"]


# --------------------------------------------------------------------- business
def test_business_details_reach_the_pdf_and_the_billing_page(personas):
    owner, a = personas.owner.actor, personas.client_a
    catalog.save_business(
        owner,
        name="Hosting Chimborazo S.A.",
        ruc="1719141770001",
        address="Av. 10 de Agosto, Quito",
        transfer_instructions="Banco Pichincha\nCta. corriente 2100",
    )
    text = pdf_text(invoice_pdf(a.actor, a.invoice_id))
    assert "Hosting Chimborazo S.A." in text and "1719141770001" in text
    assert "Av. 10 de Agosto, Quito" in text
    view = client_billing_view(a.actor)
    assert view.transfer_instructions == "Banco Pichincha\nCta. corriente 2100"
    assert catalog.business().name == "Hosting Chimborazo S.A."


def test_business_details_are_validated(personas):
    owner = personas.owner.actor
    with pytest.raises(ValidationError):
        catalog.save_business(
            owner, name="X", ruc="1790012345000", address="", transfer_instructions=""
        )
    with pytest.raises(ValidationError):
        catalog.save_business(owner, name="  ", ruc="", address="", transfer_instructions="")
    with pytest.raises(Forbidden):
        catalog.save_business(
            personas.staff.actor, name="X", ruc="", address="", transfer_instructions=""
        )
    assert catalog.business().name == "Anfitrión"  # nothing was stored


def test_the_logo_is_a_small_png_or_jpeg(personas):
    owner = personas.owner.actor
    assert catalog.logo() is None
    catalog.save_logo(owner, "logo.png", PNG)
    found = catalog.logo()
    assert found is not None and found.data == PNG and found.content_type == "image/png"
    assert catalog.business().has_logo
    catalog.save_logo(owner, "logo.jpg", JPEG)
    assert catalog.logo().content_type == "image/jpeg"
    for name, data in (
        ("logo.gif", GIF),
        ("logo.png", b""),
        ("logo.png", PNG + b"0" * catalog.LOGO_MAX_BYTES),  # too large
        ("logo.png", FAKE_PNG),  # the right magic bytes, but no picture
        ("logo.png", picture("PNG", (5000, 10))),  # too wide
    ):
        with pytest.raises(ValidationError):
            catalog.save_logo(owner, name, data)
    catalog.remove_logo(owner)
    assert catalog.logo() is None


def test_the_invoice_pdf_carries_the_logo_once_uploaded(personas):
    owner, a = personas.owner.actor, personas.client_a
    assert b"/Subtype /Image" not in invoice_pdf(a.actor, a.invoice_id)
    catalog.save_logo(owner, "logo.png", PNG)
    assert b"/Subtype /Image" in invoice_pdf(a.actor, a.invoice_id)
    catalog.save_logo(owner, "logo.jpg", JPEG)
    assert b"/DCTDecode" in invoice_pdf(a.actor, a.invoice_id)  # the JPEG, as it was uploaded


# ---------------------------------------------------------------------- products
def test_a_price_change_leaves_existing_services_alone_by_default(personas):
    owner, a = personas.owner.actor, personas.client_a
    product_id = service(a.service_id).product_id
    catalog.save_product(owner, product_form(monthly="12.00"), product_id=product_id)
    with read_session() as s:
        price = s.scalars(select(ProductPrice.price).where(ProductPrice.product_id == product_id))
        assert list(price) == [Decimal("12.00")]  # new orders pay the new price
    _pay_next_renewal(owner, a)
    assert service(a.service_id).recurring_amount == Decimal("10.00")
    assert catalog.pending_repricing() == []


def _pay_next_renewal(owner, persona) -> int:
    row = service(persona.service_id)
    with read_session() as s:
        period = s.scalars(
            select(InvoiceItem.period_start).where(InvoiceItem.service_id == row.id)
        ).all()
    start = row.next_due_date if row.next_due_date not in period else date(2027, 1, 5)
    with unit_of_work() as s:
        amount = catalog.renewal_amount(s, s.get(Service, row.id), start)
    inv = billing.create_invoice(
        owner,
        row.client_id,
        [
            billing.LineInput(
                "Renovación", amount, kind="renewal", service_id=row.id, period_start=start
            )
        ],
        issued_on=date(2026, 11, 26),
        due_on=start,
    )
    billing.record_payment(owner, [inv], str(invoice(inv).total))
    return inv


def test_repricing_applies_from_the_next_renewal_only(personas):
    owner, a, b = personas.owner.actor, personas.client_a, personas.client_b
    product_id = service(a.service_id).product_id
    with unit_of_work() as s:  # client B negotiated a lower price; it is left alone
        s.get(Service, b.service_id).recurring_amount = Decimal("8.00")
    catalog.save_product(
        owner,
        product_form(monthly="12.00"),
        product_id=product_id,
        reprice_existing=True,
        today=date(2026, 11, 26),
    )
    # Nothing changes now: the current period was paid at the old price.
    assert service(a.service_id).recurring_amount == Decimal("10.00")
    [rule] = catalog.pending_repricing()
    assert (rule.amount, rule.old_amounts, rule.since) == (
        Decimal("12.00"),
        (Decimal("10.00"),),
        date(2026, 11, 26),
    )
    with unit_of_work() as s:
        svc = s.get(Service, a.service_id)
        assert catalog.renewal_amount(s, svc, date(2026, 11, 5)) == Decimal("10.00")
        assert catalog.renewal_amount(s, svc, svc.next_due_date) == Decimal("12.00")
        assert catalog.renewal_amount(s, s.get(Service, b.service_id), date(2026, 12, 5)) == (
            Decimal("8.00")
        )
    # Its next renewal is billed at the new price; once paid, the service pays it from then on.
    inv = _pay_next_renewal(owner, a)
    assert invoice(inv).subtotal == Decimal("12.00")
    assert service(a.service_id).recurring_amount == Decimal("12.00")
    assert service(b.service_id).recurring_amount == Decimal("8.00")
    with read_session() as s:
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "service.repriced")).one()
    assert entry.target_id == a.service_id and entry.details["new"] == "12.00"


def test_products_are_validated_and_the_owners(personas):
    owner = personas.owner.actor
    new_id = catalog.save_product(
        owner,
        catalog.ProductForm(
            name="Premium",
            whm_package="premium",
            prices={
                "monthly": ("19.90", "5.00"),
                "annually": ("199.00", ""),
                "quarterly": ("", ""),
            },
            prorata_enabled=True,
            prorata_day=1,
            prorata_next_month_after_day=20,
            credit_on_downgrade=False,
        ),
    )
    view = next(p for p in catalog.list_products(owner) if p.id == new_id)
    assert [(p.cycle, p.price, p.setup_fee) for p in view.prices] == [
        ("monthly", Decimal("19.90"), Decimal("5.00")),
        ("annually", Decimal("199.00"), Decimal("0")),
    ]
    assert (view.prorata_enabled, view.prorata_day, view.prorata_next_month_after_day) == (
        True,
        1,
        20,
    )
    with read_session() as s:
        basico = s.scalars(select(Product.id).where(Product.name == "Básico")).one()
    catalog.save_product(owner, product_form(upgrade_targets=[new_id]), product_id=basico)
    assert next(p for p in catalog.list_products(owner) if p.id == basico).upgrade_targets == (
        new_id,
    )
    bad = [
        product_form(name=""),
        catalog.ProductForm(name="X", whm_package="bad;pkg", prices={"monthly": ("1", "0")}),
        catalog.ProductForm(name="X", whm_package="x", prices={}),
        catalog.ProductForm(name="X", whm_package="x", prices={"monthly": ("-1", "0")}),
        catalog.ProductForm(name="X", whm_package="x", prices={"weekly": ("1", "0")}),
        catalog.ProductForm(name="premium", whm_package="x", prices={"monthly": ("1", "0")}),
        product_form(name="Y", upgrade_targets=[999999]),
        product_form(name="Z", prorata_enabled=True, prorata_day=40),
    ]
    for form in bad:
        with pytest.raises(ValidationError):
            catalog.save_product(owner, form)
    with pytest.raises(NotFound):
        catalog.save_product(owner, product_form(name="W"), product_id=424242)
    with pytest.raises(Forbidden):
        catalog.save_product(personas.staff.actor, product_form(name="V"))
    with pytest.raises(Forbidden):
        catalog.list_products(personas.client_a.actor)


# ------------------------------------------------------------------ mail templates
def test_an_overridden_template_is_the_mail_that_goes_out(personas):
    owner = personas.owner.actor
    catalog.save_template(
        owner,
        "password_reset",
        "es",
        "Cambie su clave en Hosting Chimborazo\nHola {{ name }}:\n\nAbra {{ link }} "
        "antes de {{ minutes }} minutos.\n",
    )
    request_reset("a@test.ec", now())
    request_reset("b@test.ec", now())  # client B reads English: the file template stays
    with read_session() as s:
        sent = {m.to_addr: m for m in s.scalars(select(MailOutbox))}
    assert sent["a@test.ec"].subject == "Cambie su clave en Hosting Chimborazo"
    assert "Hola Cliente A:" in sent["a@test.ec"].body_text
    assert "?reset=" in sent["a@test.ec"].body_text and "60 minutos" in sent["a@test.ec"].body_text
    assert (
        sent["b@test.ec"].subject
        == mail.render("password_reset", "en", name="x", link="y", minutes=60).subject
    )
    view = catalog.template(owner, "password_reset", "es")
    assert view.override.startswith("Cambie su clave") and "link" in view.variables
    catalog.save_template(owner, "password_reset", "es", "")  # back to the file
    assert catalog.template(owner, "password_reset", "es").override == ""


def test_a_template_override_is_checked_before_it_is_stored(personas):
    owner = personas.owner.actor
    preview = catalog.preview_template(owner, "welcome", "es", "Hola {{ name }}\nEntre: {{ link }}")
    assert preview.subject == "Hola María Andrade" and "?reset=EJEMPLO" in preview.body
    for text in (
        "Asunto\n{{ password }}",  # not a variable of this template
        "Asunto\n{{ name ",  # syntax
        "Solo asunto",  # no body
        "Asunto\n{{ name.__class__.__mro__ }}",  # the sandbox refuses it
    ):
        with pytest.raises(ValidationError):
            catalog.save_template(owner, "welcome", "es", text)
    with pytest.raises(NotFound):
        catalog.save_template(owner, "../core/secret", "es", "A\nB")
    with pytest.raises(Forbidden):
        catalog.save_template(personas.staff.actor, "welcome", "es", "A\nB")
    assert settings.stored("mail.template.es.welcome") is None  # nothing was stored


def test_a_broken_stored_override_never_stops_a_mail(personas):
    owner = personas.owner.actor
    settings.put(owner, "mail.template.es.password_reset", "Asunto\n{{ nope }}")
    request_reset("a@test.ec", now())
    with read_session() as s:
        message = s.scalars(select(MailOutbox)).one()
    assert "?reset=" in message.body_text  # the file template was used
