"""The RIDE: the printed form of an electronic document (research §5), drawn with fpdf2.

It is drawn from the signed XML itself (what the SRI authorised), not from our tables, so
the paper says exactly what the legal document says: the emitter (razón social, nombre
comercial, RUC, matriz and establishment addresses, contribuyente especial, obligado a llevar
contabilidad, RIMPE), the document box (type, number, authorisation number and moment,
ambiente, emisión, and the access key as a Code 128 barcode with its 49 digits beneath), the
buyer, for a nota de crédito the factura it modifies and why, the lines, the totals per IVA
rate, the forms of payment and the additional information. Until it is authorised it carries
"PENDIENTE DE AUTORIZACIÓN" (§5, last point).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from fpdf import FPDF
from lxml import etree

from core.einvoice.code128 import widths
from core.platform import i18n

ECUADOR = timezone(timedelta(hours=-5))
PAYMENT_FORMS = {  # research §2.6
    "01": "SIN UTILIZACION DEL SISTEMA FINANCIERO",
    "15": "COMPENSACIÓN DE DEUDAS",
    "16": "TARJETA DE DÉBITO",
    "17": "DINERO ELECTRÓNICO",
    "18": "TARJETA PREPAGO",
    "19": "TARJETA DE CRÉDITO",
    "20": "OTROS CON UTILIZACION DEL SISTEMA FINANCIERO",
    "21": "ENDOSO DE TÍTULOS",
}
IVA_LABELS = {"6": "no_object", "7": "exempt"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


def latin1(text: object) -> str:
    """What the core fonts draw: Latin-1 kept (all Spanish letters), the rest as '?'."""
    return str(text if text is not None else "").encode("latin-1", "replace").decode("latin-1")


def _dec(value: str) -> Decimal:
    try:
        return Decimal(value or "0")
    except InvalidOperation:
        return Decimal(0)


@dataclass(frozen=True)
class Authorised:
    number: str
    at: datetime  # naive UTC, shown in Ecuador's time


def _t(key: str, lang: str) -> str:
    return i18n.t(f"sri.ride.{key}", lang)


def _txt(node: Any, path: str) -> str:
    return (node.findtext(path) or "").strip() if node is not None else ""


def ride_pdf(xml: bytes, authorised: Authorised | None, lang: str = "es") -> bytes:
    """The RIDE of one signed comprobante (factura or nota de crédito) as PDF bytes."""
    root = etree.fromstring(xml, _PARSER)
    tributaria = root.find("infoTributaria")
    is_factura = root.tag == "factura"
    info = root.find("infoFactura" if is_factura else "infoNotaCredito")
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("Helvetica", size=9)
    left, width = pdf.l_margin, pdf.w - pdf.l_margin - pdf.r_margin
    half = width / 2 - 2

    # Emitter (left) and document box (right), side by side.
    top = pdf.get_y()
    pdf.set_font("Helvetica", "B", 12)
    pdf.multi_cell(half, 6, latin1(_txt(tributaria, "razonSocial")), new_x="LMARGIN")
    pdf.set_font("Helvetica", size=9)
    emitter = [
        _txt(tributaria, "nombreComercial"),
        f"{_t('matrix', lang)}: {_txt(tributaria, 'dirMatriz')}",
        f"{_t('branch', lang)}: {_txt(info, 'dirEstablecimiento')}"
        if _txt(info, "dirEstablecimiento")
        else "",
        f"{_t('special_taxpayer', lang)}: {_txt(info, 'contribuyenteEspecial')}"
        if _txt(info, "contribuyenteEspecial")
        else "",
        f"{_t('keeps_accounts', lang)}: {_txt(info, 'obligadoContabilidad') or 'NO'}",
        _txt(tributaria, "contribuyenteRimpe"),
        f"{_t('withholding_agent', lang)}: {_txt(tributaria, 'agenteRetencion')}"
        if _txt(tributaria, "agenteRetencion")
        else "",
    ]
    for line in filter(None, emitter):
        pdf.multi_cell(half, 5, latin1(line), new_x="LMARGIN")
    left_bottom = pdf.get_y()

    box_x = left + half + 4
    pdf.set_xy(box_x, top)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(half, 5, latin1(f"R.U.C.: {_txt(tributaria, 'ruc')}"), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 12)
    title = _t("factura" if is_factura else "credit_note", lang)
    pdf.cell(half, 7, latin1(title), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    number = "-".join(_txt(tributaria, k) for k in ("estab", "ptoEmi", "secuencial"))
    pdf.cell(half, 5, latin1(f"No. {number}"), new_x="LEFT", new_y="NEXT")
    pdf.cell(half, 5, latin1(_t("authorisation_number", lang)), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", size=7.5)
    shown = authorised.number if authorised else _t("pending", lang)
    pdf.cell(half, 5, latin1(shown), new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    if authorised is not None:
        local = authorised.at.replace(tzinfo=UTC).astimezone(ECUADOR)
        pdf.cell(
            half,
            5,
            latin1(f"{_t('authorised_at', lang)}: {local:%d/%m/%Y %H:%M:%S}"),
            new_x="LEFT",
            new_y="NEXT",
        )
    environment = _t("production" if _txt(tributaria, "ambiente") == "2" else "test", lang)
    pdf.cell(
        half, 5, latin1(f"{_t('environment', lang)}: {environment}"), new_x="LEFT", new_y="NEXT"
    )
    pdf.cell(half, 5, latin1(f"{_t('emission', lang)}: NORMAL"), new_x="LEFT", new_y="NEXT")
    pdf.cell(half, 5, latin1(_t("access_key", lang)), new_x="LEFT", new_y="NEXT")
    key = _txt(tributaria, "claveAcceso")
    _barcode(pdf, key, box_x, pdf.get_y() + 1, half, 14)
    pdf.set_xy(box_x, pdf.get_y() + 16)
    pdf.set_font("Courier", size=7.5)
    pdf.cell(half, 4, key, new_x="LEFT", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)
    pdf.set_xy(left, max(left_bottom, pdf.get_y()) + 4)

    # Buyer.
    buyer = [
        f"{_t('buyer', lang)}: {_txt(info, 'razonSocialComprador')}",
        f"{_t('identification', lang)}: {_txt(info, 'identificacionComprador')}",
        f"{_t('issued_on', lang)}: {_txt(info, 'fechaEmision')}",
        f"{_t('address', lang)}: {_txt(info, 'direccionComprador')}"
        if _txt(info, "direccionComprador")
        else "",
    ]
    if not is_factura:
        buyer += [
            f"{_t('modified', lang)}: {_t('factura', lang)} {_txt(info, 'numDocModificado')}",
            f"{_t('support_date', lang)}: {_txt(info, 'fechaEmisionDocSustento')}",
            f"{_t('reason', lang)}: {_txt(info, 'motivo')}",
        ]
    pdf.set_draw_color(120)
    for line in filter(None, buyer):
        pdf.multi_cell(width, 5, latin1(line), new_x="LMARGIN")
    pdf.ln(3)

    # Lines.
    cols = [
        (_t("code", lang), 24),
        (_t("quantity", lang), 18),
        (_t("description", lang), 76),
        (_t("unit_price", lang), 24),
        (_t("discount", lang), 20),
        (_t("line_total", lang), 24),
    ]
    _line_heads(pdf, cols)
    for detail in root.iterfind("detalles/detalle"):
        code = _txt(detail, "codigoPrincipal") or _txt(detail, "codigoInterno")
        values = [
            code,
            _txt(detail, "cantidad"),
            _txt(detail, "descripcion"),
            _txt(detail, "precioUnitario"),
            _txt(detail, "descuento"),
            _txt(detail, "precioTotalSinImpuesto"),
        ]
        _line_row(pdf, cols, values, left)
    pdf.ln(3)

    # Totals (rate labels from the XML's own tarifa) on the right; payments and extra info left.
    y = pdf.get_y()
    totals: list[tuple[str, str]] = []
    taxes = list(info.iterfind("totalConImpuestos/totalImpuesto")) if info is not None else []
    rate_of = {
        _txt(i, "codigoPorcentaje"): _txt(i, "tarifa")
        for i in root.iterfind("detalles/detalle/impuestos/impuesto")
    }
    for tax in taxes:
        code = _txt(tax, "codigoPorcentaje")
        rate = _txt(tax, "tarifa") or rate_of.get(code, "")
        label = (
            _t(IVA_LABELS[code], lang) if code in IVA_LABELS else f"{_dec(rate).normalize():f} %"
        )
        totals.append((f"{_t('subtotal', lang)} {label}", _txt(tax, "baseImponible")))
    totals.append((_t("subtotal_before_tax", lang), _txt(info, "totalSinImpuestos")))
    if is_factura:
        totals.append((_t("total_discount", lang), _txt(info, "totalDescuento") or "0.00"))
    for tax in taxes:
        code = _txt(tax, "codigoPorcentaje")
        if code in IVA_LABELS or _dec(_txt(tax, "valor")) == 0:
            continue
        rate = _txt(tax, "tarifa") or rate_of.get(code, "")
        totals.append((f"IVA {_dec(rate).normalize():f} %", _txt(tax, "valor")))
    if is_factura:
        totals.append((_t("tip", lang), _txt(info, "propina") or "0.00"))
    totals.append(
        (_t("total", lang), _txt(info, "importeTotal" if is_factura else "valorModificacion"))
    )
    pdf.set_xy(left + width - 80, y)
    for label, value in totals:
        pdf.set_x(left + width - 80)
        pdf.cell(55, 5, latin1(label), border=1)
        pdf.cell(25, 5, latin1(value), border=1, align="R", new_x="LMARGIN", new_y="NEXT")
    right_bottom = pdf.get_y()

    pdf.set_xy(left, y)
    pays = list(info.iterfind("pagos/pago")) if info is not None else []
    if pays:
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(85, 5, latin1(_t("payment_form", lang)), border=1, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=7.5)
        for pay in pays:
            code = _txt(pay, "formaPago")
            pdf.set_font("Helvetica", size=6.5)  # the SRI's longest wording fits the cell
            pdf.cell(65, 5, latin1(PAYMENT_FORMS.get(code, code))[:48], border=1)
            pdf.set_font("Helvetica", size=7.5)
            pdf.cell(
                20,
                5,
                latin1(_txt(pay, "total")),
                border=1,
                align="R",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    extra = list(root.iterfind("infoAdicional/campoAdicional"))
    if extra:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 8)
        pdf.cell(85, 5, latin1(_t("additional", lang)), border=1, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=7.5)
        for field in extra:
            pdf.multi_cell(
                85,
                5,
                latin1(f"{field.get('nombre', '')}: {(field.text or '').strip()}"),
                border=1,
                new_x="LMARGIN",
            )
    pdf.set_y(max(pdf.get_y(), right_bottom) + 4)
    if authorised is None:
        pdf.set_font("Helvetica", "B", 16)
        pdf.set_text_color(200, 30, 30)
        pdf.cell(width, 10, latin1(_t("pending_watermark", lang)), align="C")
        pdf.set_text_color(0)
    return bytes(pdf.output())


ROW_LINE = 4.0  # mm per line of a wrapped description


def _line_heads(pdf: FPDF, cols: list[tuple[str, int]]) -> None:
    pdf.set_font("Helvetica", "B", 8)
    for label, w in cols:
        pdf.cell(w, 6, latin1(label), border=1, align="C")
    pdf.ln()
    pdf.set_font("Helvetica", size=8)


def _line_row(pdf: FPDF, cols: list[tuple[str, int]], values: list[str], left: float) -> None:
    """One detalle: the description (third column) wraps onto as many lines as it needs (an
    add-on's line names the add-on, the domain and the period, and the SRI allows 300
    characters), and the row is as tall as it; the other cells are short. A row that would
    not fit the page starts the next one, under the column heads again."""
    text = latin1(values[2])
    width = cols[2][1]
    lines = pdf.multi_cell(width, ROW_LINE, text, dry_run=True, output="LINES")
    assert isinstance(lines, list)  # output="LINES": the wrapped lines only
    height = max(6.0, len(lines) * ROW_LINE + 2)
    if pdf.will_page_break(height):
        pdf.add_page()
        _line_heads(pdf, cols)
    x, y = left, pdf.get_y()
    for i, ((_, w), value) in enumerate(zip(cols, values, strict=True)):
        pdf.set_xy(x, y)
        if i == 2:
            pdf.rect(x, y, w, height)
            pdf.set_xy(x, y + 1)
            pdf.multi_cell(w, ROW_LINE, text, align="L")
        else:
            align = "L" if i == 0 else "R"
            pdf.cell(w, height, _fit(pdf, latin1(value), w - 2), border=1, align=align)
        x += w
    pdf.set_xy(left, y + height)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """``text`` cut to what fits ``width`` mm in the current font (a code or an amount; the
    SRI keeps codes to 25 characters)."""
    while text and pdf.get_string_width(text) > width:
        text = text[:-1]
    return text


def _barcode(pdf: FPDF, digits: str, x: float, y: float, w: float, h: float) -> None:
    """The key as Code 128 bars, scaled to ``w`` with a quiet zone of 10 modules each side."""
    bars = widths(digits)
    module = w / (sum(bars) + 20)
    pdf.set_fill_color(0)
    cursor = x + 10 * module
    for i, width in enumerate(bars):
        if i % 2 == 0:
            pdf.rect(cursor, y, width * module, h, style="F")
        cursor += width * module
