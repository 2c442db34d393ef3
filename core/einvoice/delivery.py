"""What the client gets of an authorised document: the mail with the RIDE and the authorised
XML, and the same two files from the billing page. Scoped by the acting user: a client
reaches only their own documents, and only once the SRI authorised them (research §5: a RIDE
is not presented as authorised before); the back office may also fetch pending ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core.access import Actor, get_scoped, scoped
from core.automation.items import link
from core.einvoice import states
from core.einvoice.ride import Authorised, ride_pdf
from core.models import Client, ElectronicDocument
from core.platform import i18n, mail
from core.platform.clock import now
from core.platform.db import reading, unit_of_work
from core.platform.errors import Conflict

KIND = {"01": "factura", "04": "nota-credito"}


@dataclass(frozen=True)
class File:
    filename: str
    content_type: str
    data: bytes


def _stem(doc: ElectronicDocument) -> str:
    return f"{KIND.get(doc.doc_type, doc.doc_type)}-{doc.number}"


def ride_of_name(doc: ElectronicDocument) -> str:
    return f"{_stem(doc)}.pdf"


def xml_of_name(doc: ElectronicDocument) -> str:
    return f"{_stem(doc)}.xml"


def ride_of(doc: ElectronicDocument, lang: str = "es") -> File:
    authorised = (
        Authorised(doc.authorisation_number or doc.access_key, doc.authorised_at)
        if doc.status == states.AUTHORISED and doc.authorised_at is not None
        else None
    )
    pdf = ride_pdf(doc.xml_signed.encode(), authorised, lang)
    return File(ride_of_name(doc), "application/pdf", pdf)


def xml_of(doc: ElectronicDocument) -> File:
    """The authorised XML (the SRI's ``<autorizacion>``) when there is one, else as signed."""
    text = doc.xml_authorised or doc.xml_signed
    return File(xml_of_name(doc), "application/xml", text.encode())


def mail_authorised(session: Session, doc: ElectronicDocument, at: datetime) -> None:
    """Queue the client's mail with the RIDE and the authorised XML (in the caller's
    transaction: the document becomes authorised and the mail is queued, or neither)."""
    client = session.get_one(Client, doc.client_id)
    lang = i18n.normalise(client.language)
    files = (ride_of(doc, lang), xml_of(doc))
    mail.queue_with_files(
        session,
        tuple(mail.Attachment(f.filename, f.content_type, f.data) for f in files),
        to_addr=client.email,
        template="einvoice_authorised",
        language=lang,
        name=client.name,
        kind=i18n.t(f"sri.doc_type.{doc.doc_type}", lang),
        number=doc.number,
        access_key=doc.access_key,
        total=i18n.money(doc.total, lang),
        link=link(doc.invoice_id),
    )


def _readable(actor: Actor, doc: ElectronicDocument) -> None:
    if actor.is_client and doc.status != states.AUTHORISED:
        raise Conflict("sri.error_not_authorised_yet")


def ride_for(actor: Actor, document_id: int, *, lang: str | None = None) -> File:
    with reading() as s:
        doc = get_scoped(s, actor, ElectronicDocument, document_id, "billing")
        _readable(actor, doc)
        return ride_of(doc, i18n.normalise(lang or actor.language))


def xml_for(actor: Actor, document_id: int) -> File:
    with reading() as s:
        doc = get_scoped(s, actor, ElectronicDocument, document_id, "billing")
        _readable(actor, doc)
        return xml_of(doc)


def of_invoice(
    actor: Actor, invoice_id: int, *, session: Session | None = None
) -> list[ElectronicDocument]:
    """The documents issued for one invoice (factura, then its credit notes), as the actor
    may see them."""
    with reading(session) as s:
        stmt = (
            scoped(actor, ElectronicDocument, "billing")
            .where(ElectronicDocument.invoice_id == invoice_id)
            .order_by(ElectronicDocument.id)
        )
        return list(s.scalars(stmt))


def mail_again(actor: Actor, document_id: int, *, at: datetime | None = None) -> str:
    """The owner sends the client the RIDE and XML of an authorised document again."""
    at = at or now()
    with unit_of_work() as s:
        doc = get_scoped(s, actor, ElectronicDocument, document_id, "billing")
        if doc.status != states.AUTHORISED:
            raise Conflict("sri.error_not_authorised_yet")
        mail_authorised(s, doc, at)
        return s.get_one(Client, doc.client_id).email
