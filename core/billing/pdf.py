"""The printable invoice (PDF, fpdf2), scoped by the actor like the invoice itself.

It shows the business's logo when the owner uploaded one (``catalog.logo``), its details
(settings ``business.name``, ``business.ruc``, ``business.address``), the client's name and
tax id (RUC, cédula, pasaporte or consumidor final), the lines, IVA at the rate stored on
the lines (the issue date's rate), and the totals. An unpaid invoice is a proforma
(billing-rules §5.3): the SRI factura is issued on payment, and the document says so.

The text is drawn in DejaVu Sans, a Unicode TrueType font embedded in the file (shipped by
matplotlib, which the requirements install; see ``fonts.py``): Spanish letters, "→" in a plan
change's line, "€", "—" all print. A character the font has no glyph for (an emoji in a
description) is replaced by "?" rather than silently dropped.
"""

from __future__ import annotations

import io
import logging
from datetime import date

from fpdf import FPDF
from sqlalchemy.orm import Session

from core import catalog
from core.access import Actor
from core.billing.fonts import FAMILY, drawable, use_unicode_font
from core.billing.invoice_view import InvoiceDetail, invoice_detail
from core.platform import clock, i18n, settings, settings_registry
from core.platform.config import get_settings
from core.platform.db import reading

BUSINESS_NAME = "business.name"
BUSINESS_RUC = "business.ruc"
BUSINESS_ADDRESS = "business.address"
DEFAULT_BUSINESS_NAME: str = settings_registry.default(BUSINESS_NAME)

TAX_ID_TYPES = ("ruc", "cedula", "pasaporte", "consumidor_final")
LOGO_HEIGHT_MM = 16

log = logging.getLogger(__name__)


def tax_id_label(kind: str, lang: str) -> str:
    key = kind if kind in TAX_ID_TYPES else "other"
    return i18n.t(f"billing.tax_id.{key}", lang)


def invoice_pdf(
    actor: Actor,
    invoice_id: int,
    *,
    lang: str | None = None,
    session: Session | None = None,
    today: date | None = None,
) -> bytes:
    """The invoice as PDF bytes, in ``lang`` (default: the actor's language); ``today``: the
    business date it is drawn on (default today)."""
    today = today or clock.today(get_settings().tz)
    language = i18n.normalise(lang or actor.language)
    with reading(session) as s:
        detail = invoice_detail(actor, invoice_id, session=s, today=today)
        business = (
            settings.get_text(BUSINESS_NAME, session=s) or DEFAULT_BUSINESS_NAME,
            settings.get_text(BUSINESS_RUC, session=s),
            settings.get_text(BUSINESS_ADDRESS, session=s),
        )
        stored = catalog.logo(session=s)
    return render(detail, business, language, logo=stored.data if stored else None)


def _draw_logo(pdf: FPDF, logo: bytes) -> bool:
    """The business logo at the top left, 16 mm high; False when it cannot be drawn.

    The logo was checked when the owner saved it (a PNG or JPEG that decodes); should it
    still fail here, the invoice goes out without it rather than not at all."""
    try:
        pdf.image(io.BytesIO(logo), x=pdf.l_margin, y=pdf.t_margin, h=LOGO_HEIGHT_MM)
    except Exception:  # noqa: BLE001 - any decoding error: no logo, the invoice still prints
        log.warning("invoice PDF: the business logo could not be drawn", exc_info=True)
        return False
    pdf.set_y(pdf.t_margin + LOGO_HEIGHT_MM + 3)
    return True


def render(
    detail: InvoiceDetail,
    business: tuple[str, str, str],
    lang: str,
    *,
    logo: bytes | None = None,
) -> bytes:
    def tr(key: str, **params: object) -> str:
        return drawable(i18n.t(key, lang, **params))

    def money(value: object) -> str:
        return drawable(i18n.money(value, lang))  # type: ignore[arg-type]

    def day(value: object) -> str:
        return drawable(i18n.day(value, lang))  # type: ignore[arg-type]

    name, ruc, address = business
    number = detail.number or tr("billing.draft_number")
    pdf = FPDF(format="A4")
    pdf.set_title(drawable(tr("billing.pdf.title", number=number)))
    pdf.set_author(drawable(name))
    pdf.set_auto_page_break(auto=True, margin=15)
    use_unicode_font(pdf)
    pdf.add_page()
    width = pdf.epw
    if logo:
        _draw_logo(pdf, logo)

    # The business, and the document's number and dates.
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(width * 0.6, 8, drawable(name))
    pdf.cell(width * 0.4, 8, tr("billing.pdf.title", number=number), align="R")
    pdf.ln(8)
    pdf.set_font(FAMILY, "", 10)
    left = [tr("billing.pdf.ruc", ruc=drawable(ruc))] if ruc else []
    if address:
        left.append(drawable(address))
    right = [
        tr("billing.pdf.issued", date=day(detail.issued_on)),
        tr("billing.pdf.due", date=day(detail.due_on)),
        tr("billing.pdf.status", status=tr(f"billing.status.{detail.status}")),
    ]
    for i in range(max(len(left), len(right))):
        pdf.cell(width * 0.6, 5, left[i] if i < len(left) else "")
        pdf.cell(width * 0.4, 5, right[i] if i < len(right) else "", align="R")
        pdf.ln(5)
    pdf.ln(4)

    # The client.
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(width, 6, tr("billing.pdf.bill_to"))
    pdf.ln(6)
    pdf.set_font(FAMILY, "", 10)
    pdf.cell(width, 5, drawable(detail.client_name))
    pdf.ln(5)
    id_label = tax_id_label(detail.client_tax_id_type, lang)
    id_text = f"{drawable(id_label)}: {drawable(detail.client_tax_id or '-')}"
    pdf.cell(width, 5, id_text)
    pdf.ln(5)
    for extra in (detail.client_address, detail.client_email):
        if extra:
            pdf.cell(width, 5, drawable(extra))
            pdf.ln(5)
    pdf.ln(4)

    # The lines.
    pdf.set_font(FAMILY, "", 9)
    with pdf.table(
        col_widths=(88, 42, 20, 30),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT"),
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        head = table.row()
        for key in ("billing.col.description", "billing.col.period", "billing.col.iva"):
            head.cell(tr(key))
        head.cell(tr("billing.col.amount"))
        for line in detail.lines:
            row = table.row()
            row.cell(drawable(line.description))
            period = ""
            if line.period_start and line.period_end:
                period = f"{day(line.period_start)} - {day(line.period_end)}"
            elif line.period_start:
                period = day(line.period_start)
            row.cell(period)
            row.cell(f"{_rate(line.tax_rate)} %")
            row.cell(money(line.amount))
    pdf.ln(4)

    # The totals, IVA per rate (billing-rules §5.4).
    pdf.set_font(FAMILY, "", 10)
    totals: list[tuple[str, str, bool]] = [(tr("billing.subtotal"), money(detail.subtotal), False)]
    for group in detail.taxes:
        totals.append((tr("billing.pdf.iva", rate=_rate(group.rate)), money(group.tax), False))
    totals.append((tr("billing.total"), money(detail.total), True))
    if detail.amount_paid > 0:
        totals.append((tr("billing.amount_paid"), money(detail.amount_paid), False))
    if detail.credit_applied > 0:
        totals.append((tr("billing.credit_applied"), money(detail.credit_applied), False))
    if detail.status in ("unpaid", "draft"):
        totals.append((tr("billing.balance"), money(detail.balance), True))
    for label, value, bold in totals:
        pdf.set_font(FAMILY, "B" if bold else "", 10)
        pdf.cell(width * 0.75, 6, label, align="R")
        pdf.cell(width * 0.25, 6, value, align="R")
        pdf.ln(6)
    pdf.ln(6)
    pdf.set_font(FAMILY, "I", 8)
    note = "billing.pdf.proforma_note" if detail.status != "paid" else "billing.pdf.paid_note"
    pdf.multi_cell(width, 4, tr(note))
    return bytes(pdf.output())


def _rate(rate: object) -> str:
    """15.000 → "15", 12.5 → "12.5" (the stored Numeric(6, 3) without trailing zeros)."""
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
