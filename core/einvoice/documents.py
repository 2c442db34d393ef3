"""The XML of a factura (01, v1.1.0) and a nota de crédito (04, v1.1.0), built from plain data.

Pure: the caller (``core.einvoice.issue``) reads the invoice, the client and the settings
and hands over dataclasses; this module only writes elements in the order the XSD's
sequences demand (research §2.2–§2.10). Amounts are Decimals written with two decimals
(quantity and unit price with six, as v1.1.0 allows), dates as dd/mm/yyyy, text stripped of
line feeds and cut to the schema's length, so a client's name can never break the schema.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from core.einvoice.codes import CREDIT_NOTE, FACTURA, IVA

VERSION = "1.1.0"
RIMPE_LEGEND = "CONTRIBUYENTE RÉGIMEN RIMPE"
CURRENCY = "DOLAR"
MAX_EXTRA_FIELDS = 15
CENT = Decimal("0.01")
MICRO = Decimal("0.000001")


@dataclass(frozen=True)
class Issuer:
    ruc: str
    legal_name: str
    head_office: str  # dirMatriz
    trade_name: str = ""
    establishment_address: str = ""
    accounting_required: bool = False  # obligado a llevar contabilidad
    special_taxpayer: str = ""  # contribuyente especial: the resolution number, or ""
    rimpe: bool = False


@dataclass(frozen=True)
class Header:
    doc_type: str
    environment: int
    establishment: str
    emission_point: str
    sequential: int
    access_key: str
    issued_on: date

    @property
    def number(self) -> str:
        return f"{self.establishment}-{self.emission_point}-{self.sequential:09d}"


@dataclass(frozen=True)
class Buyer:
    id_type: str
    identification: str
    name: str
    address: str = ""


@dataclass(frozen=True)
class Line:
    code: str
    description: str
    base: Decimal  # precioTotalSinImpuesto (quantity 1, no discount)
    rate: Decimal  # IVA percentage
    rate_code: str  # codigoPorcentaje
    tax: Decimal


@dataclass(frozen=True)
class TaxTotal:
    rate: Decimal
    rate_code: str
    base: Decimal
    tax: Decimal


@dataclass(frozen=True)
class Payment:
    form: str  # formaPago
    amount: Decimal


@dataclass(frozen=True)
class Body:
    buyer: Buyer
    lines: tuple[Line, ...]
    taxes: tuple[TaxTotal, ...]
    total: Decimal
    extra: tuple[tuple[str, str], ...] = field(default_factory=tuple)  # infoAdicional


@dataclass(frozen=True)
class Modified:
    """The factura a credit note modifies, and why."""

    number: str
    issued_on: date
    reason: str


def money(value: Decimal) -> str:
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")


def six(value: Decimal) -> str:
    return format(value.quantize(MICRO, rounding=ROUND_HALF_UP), "f")


def day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def text(value: str, limit: int = 300) -> str:
    """One line (the XSD's ``[^\\n]*``), no control characters, at most ``limit`` long."""
    clean = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(clean.split())[:limit]


def _add(parent: etree._Element, tag: str, value: str) -> etree._Element:
    node = etree.SubElement(parent, tag)
    node.text = value
    return node


def _info_tributaria(root: etree._Element, head: Header, issuer: Issuer) -> None:
    info = etree.SubElement(root, "infoTributaria")
    _add(info, "ambiente", str(head.environment))
    _add(info, "tipoEmision", "1")
    _add(info, "razonSocial", text(issuer.legal_name))
    if text(issuer.trade_name):
        _add(info, "nombreComercial", text(issuer.trade_name))
    _add(info, "ruc", issuer.ruc)
    _add(info, "claveAcceso", head.access_key)
    _add(info, "codDoc", head.doc_type)
    _add(info, "estab", head.establishment)
    _add(info, "ptoEmi", head.emission_point)
    _add(info, "secuencial", f"{head.sequential:09d}")
    _add(info, "dirMatriz", text(issuer.head_office))
    if issuer.rimpe:
        _add(info, "contribuyenteRimpe", RIMPE_LEGEND)


def _issuer_fields(info: etree._Element, issuer: Issuer, *, special_first: bool) -> None:
    """contribuyenteEspecial and obligadoContabilidad, in the order the caller's XSD wants."""
    if special_first and issuer.special_taxpayer:
        _add(info, "contribuyenteEspecial", issuer.special_taxpayer)
    _add(info, "obligadoContabilidad", "SI" if issuer.accounting_required else "NO")


def _buyer(info: etree._Element, buyer: Buyer) -> None:
    _add(info, "tipoIdentificacionComprador", buyer.id_type)
    _add(info, "razonSocialComprador", text(buyer.name) or "CLIENTE")
    _add(info, "identificacionComprador", buyer.identification)


def _total_taxes(info: etree._Element, taxes: tuple[TaxTotal, ...]) -> None:
    group = etree.SubElement(info, "totalConImpuestos")
    for tax in taxes:
        node = etree.SubElement(group, "totalImpuesto")
        _add(node, "codigo", IVA)
        _add(node, "codigoPorcentaje", tax.rate_code)
        _add(node, "baseImponible", money(tax.base))
        _add(node, "valor", money(tax.tax))


def _line_tax(detail: etree._Element, line: Line) -> None:
    taxes = etree.SubElement(detail, "impuestos")
    node = etree.SubElement(taxes, "impuesto")
    _add(node, "codigo", IVA)
    _add(node, "codigoPorcentaje", line.rate_code)
    _add(node, "tarifa", money(line.rate))
    _add(node, "baseImponible", money(line.base))
    _add(node, "valor", money(line.tax))


def _extra(root: etree._Element, extra: tuple[tuple[str, str], ...]) -> None:
    fields = [(text(name), text(value)) for name, value in extra]
    fields = [(name, value) for name, value in fields if name and value][:MAX_EXTRA_FIELDS]
    if not fields:
        return
    info = etree.SubElement(root, "infoAdicional")
    for name, value in fields:
        _add(info, "campoAdicional", value).set("nombre", name)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def factura_xml(head: Header, issuer: Issuer, body: Body, payments: tuple[Payment, ...]) -> bytes:
    """The unsigned factura."""
    if head.doc_type != FACTURA:
        raise ValueError("a factura's header must have codDoc 01")
    root = etree.Element("factura", id="comprobante", version=VERSION)
    _info_tributaria(root, head, issuer)
    info = etree.SubElement(root, "infoFactura")
    _add(info, "fechaEmision", day(head.issued_on))
    if text(issuer.establishment_address):
        _add(info, "dirEstablecimiento", text(issuer.establishment_address))
    _issuer_fields(info, issuer, special_first=True)
    _buyer(info, body.buyer)
    if text(body.buyer.address):
        _add(info, "direccionComprador", text(body.buyer.address))
    _add(info, "totalSinImpuestos", money(sum((t.base for t in body.taxes), Decimal(0))))
    _add(info, "totalDescuento", "0.00")
    _total_taxes(info, body.taxes)
    _add(info, "propina", "0.00")
    _add(info, "importeTotal", money(body.total))
    _add(info, "moneda", CURRENCY)
    pagos = etree.SubElement(info, "pagos")
    for payment in payments:
        pago = etree.SubElement(pagos, "pago")
        _add(pago, "formaPago", payment.form)
        _add(pago, "total", money(payment.amount))
    _details(root, body, "codigoPrincipal")
    _extra(root, body.extra)
    return _serialise(root)


def _details(root: etree._Element, body: Body, code_tag: str) -> None:
    """One ``detalle`` per line, the same in both documents but for the code's element."""
    details = etree.SubElement(root, "detalles")
    for line in body.lines:
        detail = etree.SubElement(details, "detalle")
        _add(detail, code_tag, text(line.code, 25))
        _add(detail, "descripcion", text(line.description) or line.code)
        _add(detail, "cantidad", six(Decimal(1)))
        _add(detail, "precioUnitario", six(line.base))
        _add(detail, "descuento", "0.00")
        _add(detail, "precioTotalSinImpuesto", money(line.base))
        _line_tax(detail, line)


def credit_note_xml(head: Header, issuer: Issuer, body: Body, modified: Modified) -> bytes:
    """The unsigned nota de crédito of ``modified`` (always a factura, codDocModificado 01)."""
    if head.doc_type != CREDIT_NOTE:
        raise ValueError("a credit note's header must have codDoc 04")
    root = etree.Element("notaCredito", id="comprobante", version=VERSION)
    _info_tributaria(root, head, issuer)
    info = etree.SubElement(root, "infoNotaCredito")
    _add(info, "fechaEmision", day(head.issued_on))
    if text(issuer.establishment_address):
        _add(info, "dirEstablecimiento", text(issuer.establishment_address))
    _buyer(info, body.buyer)  # the credit note puts the buyer before the issuer's fields
    if issuer.special_taxpayer:
        _add(info, "contribuyenteEspecial", issuer.special_taxpayer)
    _issuer_fields(info, issuer, special_first=False)
    _add(info, "codDocModificado", FACTURA)
    _add(info, "numDocModificado", modified.number)
    _add(info, "fechaEmisionDocSustento", day(modified.issued_on))
    _add(info, "totalSinImpuestos", money(sum((t.base for t in body.taxes), Decimal(0))))
    _add(info, "valorModificacion", money(body.total))
    _add(info, "moneda", CURRENCY)
    _total_taxes(info, body.taxes)
    _add(info, "motivo", text(modified.reason) or "Devolución")
    _details(root, body, "codigoInterno")  # the credit note names the code so
    _extra(root, body.extra)
    return _serialise(root)
