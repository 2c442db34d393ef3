"""Issuing a factura on full payment and a nota de crédito against one, as signed documents.

Both run inside the caller's transaction: the secuencial is taken, the XML built, checked
against the SRI's XSD, signed and stored in one go, so a failure at any step leaves no
number used and no row (``numbering``). A document leaves here in status SIGNED; the SRI
side (recepción, autorización) moves it on.

* :func:`issue_factura` — one per invoice (a second call returns the first document).
  Proformas (unpaid invoices) keep their internal number (billing-rules §5.3).
* :func:`issue_credit_note` — against a factura, for all its lines or a gross amount; the
  credit notes of a factura never add up to more than its total (research §6 rule 3), and
  carry the factura's own IVA rates.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.einvoice import schema
from core.einvoice.amounts import SourceLine, document_lines, split_gross
from core.einvoice.certificates import signing_material
from core.einvoice.codes import (
    BUYER_FINAL,
    CREDIT_NOTE,
    FACTURA,
    FINAL_CONSUMER_NAME,
    buyer_identification,
    payment_form,
)
from core.einvoice.config import EinvoiceSettings, issuer, read
from core.einvoice.documents import (
    Body,
    Buyer,
    Header,
    Modified,
    credit_note_xml,
    factura_xml,
    text,
)
from core.einvoice.documents import (
    Payment as DocPayment,
)
from core.einvoice.keys import access_key
from core.einvoice.numbering import next_sequential, next_sequentials
from core.einvoice.signing import SigningPair, sign
from core.einvoice.states import SIGNED
from core.models import Client, ElectronicDocument, Invoice, InvoiceItem, Payment
from core.platform.clock import to_local
from core.platform.config import get_settings
from core.platform.errors import Conflict, ValidationError
from core.rules.money import ZERO, q2

ADDITIONAL_LIMIT = 300


def factura_of(session: Session, invoice_id: int) -> ElectronicDocument | None:
    return session.scalars(
        select(ElectronicDocument).where(
            ElectronicDocument.invoice_id == invoice_id, ElectronicDocument.doc_type == FACTURA
        )
    ).first()


def credited_so_far(session: Session, factura: ElectronicDocument) -> Decimal:
    total = session.scalar(
        select(func.coalesce(func.sum(ElectronicDocument.total), ZERO)).where(
            ElectronicDocument.modified_document_id == factura.id
        )
    )
    return q2(total or ZERO)


def _buyer(client: Client, total: Decimal, conf: EinvoiceSettings) -> Buyer:
    try:
        id_type, identification = buyer_identification(
            client.tax_id_type, client.tax_id, client.country
        )
    except ValueError as exc:
        raise ValidationError(f"einvoice.error.{exc}", client=client.name) from None
    if id_type == BUYER_FINAL:
        if total > conf.final_consumer_limit:
            raise ValidationError(
                "einvoice.error.final_consumer_limit_exceeded", limit=conf.final_consumer_limit
            )
        return Buyer(id_type, identification, FINAL_CONSUMER_NAME)
    name = client.company or client.name
    return Buyer(id_type, identification, name, client.address or "")


def _extra(client: Client, invoice: Invoice) -> tuple[tuple[str, str], ...]:
    fields = [("Email", client.email), ("Teléfono", client.phone or ""),
              ("Dirección", ", ".join(p for p in (client.address, client.city) if p)),
              ("Documento interno", invoice.number or f"#{invoice.id}")]  # fmt: skip
    return tuple((name, value[:ADDITIONAL_LIMIT]) for name, value in fields if value)


def _source_lines(items: Sequence[InvoiceItem]) -> list[SourceLine]:
    return [
        SourceLine(
            code=f"{item.kind.upper()}-{item.service_id}" if item.service_id else item.kind.upper(),
            description=item.description,
            base=item.amount,
            rate=item.tax_rate,
            tax=item.tax_amount,
        )
        for item in items
    ]


def _payment_rows(session: Session, invoice_ids: list[int]) -> dict[int, list[tuple[str, Decimal]]]:
    """(method, amount) paid per invoice, read once for a batch."""
    rows: dict[int, list[tuple[str, Decimal]]] = {i: [] for i in invoice_ids}
    for invoice_id, method, amount in session.execute(
        select(Payment.invoice_id, Payment.method, func.sum(Payment.amount))
        .where(Payment.invoice_id.in_(invoice_ids))
        .group_by(Payment.invoice_id, Payment.method)
    ):
        if invoice_id is not None:  # the where clause already says so; mypy cannot know
            rows[invoice_id].append((method, amount or ZERO))
    return rows


def _payments(invoice: Invoice, rows: list[tuple[str, Decimal]]) -> tuple[DocPayment, ...]:
    """formaPago per payment method; the client's credit balance is a compensation. The
    parts always add up to the total: anything that does not (an overpayment that went to
    credit) is read as one payment by the method that carried most."""
    by_form: dict[str, Decimal] = {}
    for method, amount in rows:
        form = payment_form(method)
        by_form[form] = q2(by_form.get(form, ZERO) + amount)
    if invoice.credit_applied > 0:
        form = payment_form("credit")
        by_form[form] = q2(by_form.get(form, ZERO) + invoice.credit_applied)
    parts = {form: amount for form, amount in by_form.items() if amount > 0}
    if sum(parts.values(), ZERO) != invoice.total or not parts:
        main = max(parts, key=lambda f: parts[f]) if parts else payment_form("transfer")
        return (DocPayment(main, invoice.total),)
    return tuple(DocPayment(form, amount) for form, amount in sorted(parts.items()))


def _header(
    session: Session, doc_type: str, conf: EinvoiceSettings, ruc: str, issued_on: date,
    sequential: int | None = None,
) -> Header:  # fmt: skip
    """The document's number and access key; ``sequential`` when the caller reserved it."""
    if sequential is None:
        sequential = next_sequential(session, doc_type, conf.establishment, conf.emission_point)
    key = access_key(
        issued_on=issued_on,
        doc_type=doc_type,
        ruc=ruc,
        environment=conf.environment,
        establishment=conf.establishment,
        emission_point=conf.emission_point,
        sequential=sequential,
        numeric_code=secrets.randbelow(100_000_000),
    )
    return Header(doc_type, conf.environment, conf.establishment, conf.emission_point,
                  sequential, key, issued_on)  # fmt: skip


Material = tuple[bytes, str, SigningPair]


def _material(session: Session) -> Material:
    material = signing_material(session)
    if material is None:
        raise Conflict("einvoice.error.no_certificate")
    return material


def _signed(
    session: Session, doc_type: str, xml: bytes, conf: EinvoiceSettings, at: datetime,
    material: Material | None = None,
) -> bytes:  # fmt: skip
    p12, password, pair = material or _material(session)
    schema.validate(doc_type, xml)  # before signing: a document the SRI would refuse stops here
    return sign(xml, p12, password, digest=conf.digest, pair=pair,
                signing_time=at.replace(tzinfo=UTC))  # fmt: skip


def _store(session: Session, head: Header, client_id: int, invoice_id: int, xml: bytes,
           total: Decimal, modified: ElectronicDocument | None = None,
           reason: str | None = None, flush: bool = True) -> ElectronicDocument:  # fmt: skip
    doc = ElectronicDocument(
        client_id=client_id,
        invoice_id=invoice_id,
        doc_type=head.doc_type,
        environment=head.environment,
        establishment=head.establishment,
        emission_point=head.emission_point,
        sequential=head.sequential,
        number=head.number,
        access_key=head.access_key,
        issued_on=head.issued_on,
        status=SIGNED,
        xml_signed=xml.decode("utf-8"),
        messages="[]",
        attempts=0,
        modified_document_id=modified.id if modified is not None else None,
        reason=reason,
        total=total,
    )
    session.add(doc)
    if flush:
        session.flush()
    return doc


def issue_factura(session: Session, invoice: Invoice, at: datetime) -> ElectronicDocument:
    """The factura of a paid invoice, signed, in the caller's transaction (once per
    invoice). ``at``: the paying moment (naive UTC); its Ecuador date is the fechaEmision."""
    return issue_facturas(session, [(invoice, at)])[0]


def issue_facturas(
    session: Session, paid: Sequence[tuple[Invoice, datetime]]
) -> list[ElectronicDocument]:
    """:func:`issue_factura` for many invoices at once, in order: each read (settings,
    clients, lines, payments, existing facturas, the series' counter) is made once for the
    batch rather than once a document, which is most of a document's cost. Everything that
    can refuse a document is checked before a secuencial is taken, and the numbers are
    reserved as one block, so a refusal leaves the series untouched."""
    ids = [invoice.id for invoice, _ in paid]
    done = {
        doc.invoice_id: doc
        for doc in session.scalars(
            select(ElectronicDocument).where(
                ElectronicDocument.invoice_id.in_(ids), ElectronicDocument.doc_type == FACTURA
            )
        )
    }
    todo: dict[int, tuple[Invoice, datetime]] = {}
    for invoice, at in paid:
        if invoice.id in done or invoice.id in todo:
            continue
        if invoice.status != "paid":
            raise Conflict("einvoice.error.invoice_not_paid", number=invoice.number or "")
        todo[invoice.id] = (invoice, at)
    if todo:
        done.update(_issue_new(session, list(todo.values())))
    return [done[invoice_id] for invoice_id in ids]


def _issue_new(
    session: Session, paid: list[tuple[Invoice, datetime]]
) -> dict[int, ElectronicDocument]:
    conf = read(session)
    business = issuer(session, conf)
    ids = [invoice.id for invoice, _ in paid]
    clients = {
        c.id: c
        for c in session.scalars(
            select(Client).where(Client.id.in_({invoice.client_id for invoice, _ in paid}))
        )
    }
    items: dict[int, list[InvoiceItem]] = {i: [] for i in ids}
    for item in session.scalars(
        select(InvoiceItem).where(InvoiceItem.invoice_id.in_(ids)).order_by(InvoiceItem.id)
    ):
        items[item.invoice_id].append(item)
    payments = _payment_rows(session, ids)
    tz = get_settings().tz
    bodies = []
    for invoice, at in paid:  # the checks that may refuse, before any number is taken
        client = clients[invoice.client_id]
        buyer = _buyer(client, invoice.total, conf)
        lines, taxes = document_lines(_source_lines(items[invoice.id]), invoice.tax_total)
        body = Body(buyer, lines, taxes, invoice.total, _extra(client, invoice))
        bodies.append((invoice, at, body, to_local(at, tz).date()))
    material = _material(session)
    first = next_sequentials(session, FACTURA, conf.establishment, conf.emission_point, len(bodies))
    issued: dict[int, ElectronicDocument] = {}
    for offset, (invoice, at, body, issued_on) in enumerate(bodies):
        head = _header(session, FACTURA, conf, business.ruc, issued_on, first + offset)
        xml = factura_xml(head, business, body, _payments(invoice, payments[invoice.id]))
        signed = _signed(session, FACTURA, xml, conf, at, material)
        issued[invoice.id] = _store(
            session, head, invoice.client_id, invoice.id, signed, invoice.total, flush=False
        )
    session.flush()
    return issued


def _factura_buyer(factura: ElectronicDocument) -> Buyer:
    """The buyer exactly as the factura named them (a client may have changed since)."""
    root = etree.fromstring(factura.xml_signed.encode("utf-8"))
    info = root.find("infoFactura")
    assert info is not None
    return Buyer(
        info.findtext("tipoIdentificacionComprador", ""),
        info.findtext("identificacionComprador", ""),
        info.findtext("razonSocialComprador", ""),
        info.findtext("direccionComprador", ""),
    )


def _factura_groups(factura: ElectronicDocument) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(rate, base, tax) of each IVA group of the factura, largest first."""
    root = etree.fromstring(factura.xml_signed.encode("utf-8"))
    rates = {d.findtext("impuestos/impuesto/codigoPorcentaje"):
             Decimal(d.findtext("impuestos/impuesto/tarifa") or "0")
             for d in root.iterfind("detalles/detalle")}  # fmt: skip
    groups = [
        (rates.get(t.findtext("codigoPorcentaje"), ZERO),
         Decimal(t.findtext("baseImponible") or "0"), Decimal(t.findtext("valor") or "0"))
        for t in root.iterfind("infoFactura/totalConImpuestos/totalImpuesto")
    ]  # fmt: skip
    return sorted(groups, key=lambda g: g[1] + g[2], reverse=True)


def _amount_lines(factura: ElectronicDocument, gross: Decimal, reason: str) -> list[SourceLine]:
    """A credited gross amount split over the factura's IVA groups, largest first, never
    more per group than the group held."""
    lines: list[SourceLine] = []
    left = q2(gross)
    for rate, base, tax in _factura_groups(factura):
        if left <= 0:
            break
        part = min(left, base + tax)
        part_base, part_tax = split_gross(part, rate)
        lines.append(SourceLine("CREDITO", reason, part_base, rate, part_tax))
        left = q2(left - part)
    if left > 0:
        raise Conflict("einvoice.error.credit_exceeds", number=factura.number)
    return lines


def issue_credit_note(
    session: Session,
    factura_doc: ElectronicDocument,
    *,
    lines_or_amount: Sequence[SourceLine] | Decimal | None = None,
    reason: str,
    at: datetime,
) -> ElectronicDocument:
    """A nota de crédito against ``factura_doc``, signed, in the caller's transaction.

    ``lines_or_amount``: the lines credited (with the factura's rates), a gross amount
    (IVA included) split over the factura's IVA groups, or None for everything the factura
    still has uncredited (all its lines when nothing was credited yet). Refused: a document
    that is not a factura, a buyer who was "consumidor final" (a refund needs an identified
    buyer, research §2.9), an empty reason, and more than the factura has left."""
    if factura_doc.doc_type != FACTURA:
        raise Conflict("einvoice.error.not_a_factura")
    motive = text(reason or "")
    if not motive:
        raise ValidationError("einvoice.error.reason_required")
    buyer = _factura_buyer(factura_doc)
    if buyer.id_type == BUYER_FINAL:
        raise Conflict("einvoice.error.credit_note_final_consumer", number=factura_doc.number)
    left = q2(factura_doc.total - credited_so_far(session, factura_doc))
    invoice = session.get_one(Invoice, factura_doc.invoice_id)
    if lines_or_amount is None:
        if left == factura_doc.total:
            source = _source_lines(invoice.items)
            tax_total = invoice.tax_total
        else:
            source = _amount_lines(factura_doc, left, motive)
            tax_total = sum((line.tax for line in source), ZERO)
    elif isinstance(lines_or_amount, Decimal):
        source = _amount_lines(factura_doc, lines_or_amount, motive)
        tax_total = sum((line.tax for line in source), ZERO)
    else:
        source = list(lines_or_amount)
        tax_total = sum((q2(line.tax) for line in source), ZERO)
    lines, taxes = document_lines(source, tax_total)
    total = q2(sum((t.base + t.tax for t in taxes), ZERO))
    if total <= 0:
        raise ValidationError("einvoice.error.credit_empty")
    if total > left:
        raise Conflict("einvoice.error.credit_exceeds", number=factura_doc.number)
    conf = read(session)
    business = issuer(session, conf)
    issued_on = to_local(at, get_settings().tz).date()
    client = session.get_one(Client, factura_doc.client_id)
    body = Body(buyer, lines, taxes, total, _extra(client, invoice))
    head = _header(session, CREDIT_NOTE, conf, business.ruc, issued_on)
    modified = Modified(factura_doc.number, factura_doc.issued_on, motive)
    xml = credit_note_xml(head, business, body, modified)
    signed = _signed(session, CREDIT_NOTE, xml, conf, at)
    return _store(session, head, factura_doc.client_id, factura_doc.invoice_id, signed, total,
                  modified=factura_doc, reason=motive)  # fmt: skip
