"""Issue 16 item 20: the business's details before the first invoice goes out.

The demo book comes with a business (name, a valid RUC, address, bank account), so its
invoices and "how to pay" show them; a real install holds every invoice mail to a client in
the outbox until the owner has set the name, RUC, address and payment instructions (the rule
is written beside ``core.catalog.business_details.INVOICE_MAILS``).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from stdnum.ec import ruc

from core import catalog
from core.access import Actor
from core.accounts import recovery
from core.automation.invoicing import renewal_notice
from core.billing.invoice_view import invoice_detail
from core.billing.pdf import invoice_pdf
from core.models import Client, Invoice, MailOutbox, User
from core.platform import mail
from core.platform.clock import now
from core.platform.db import read_session, unit_of_work
from core.rules.money import D
from sandbox import demo
from tests.integration.billing_helpers import pdf_text

TODAY = date(2026, 11, 26)
DETAILS = {
    "name": "Hostería Digital Cía. Ltda.",
    "ruc": "1791458710001",
    "address": "Calle Larga 7-45, Cuenca",
    "transfer_instructions": "Banco del Austro · Ahorros 123456",
}


def queue_renewal_mail(to: str) -> None:
    with unit_of_work() as s:
        mail.queue(
            s,
            **renewal_notice(
                to, "es", "Cliente A", "cliente-a.ec", 1, "F-A-1", D("11.50"), D("11.50"),
                TODAY, paid=False,
            ),
        )  # fmt: skip


def outbox() -> dict[str, str]:
    with read_session() as s:
        return dict(s.execute(select(MailOutbox.template, MailOutbox.status)).all())


def test_no_invoice_is_mailed_before_the_business_is_set_up(personas, smtp):
    owner = personas.owner.actor
    assert catalog.missing_details() == list(catalog.REQUIRED_DETAILS)
    queue_renewal_mail("a@test.ec")
    recovery.request_reset("b@test.ec", now())  # any other mail goes as usual
    assert mail.deliver_due() == {"sent": 1, "failed": 0}
    assert outbox() == {"renewal_invoice": "queued", "password_reset": "sent"}

    # Half done is not done: a name and a RUC without the address or how to pay.
    catalog.save_business(owner, name=DETAILS["name"], ruc=DETAILS["ruc"], address="",
                          transfer_instructions="")  # fmt: skip
    assert catalog.missing_details() == [catalog.BUSINESS_ADDRESS, "billing.transfer_instructions"]
    assert mail.deliver_due() == {"sent": 0, "failed": 0}

    catalog.save_business(owner, **DETAILS)
    assert catalog.missing_details() == []
    assert mail.deliver_due() == {"sent": 1, "failed": 0}  # held, never lost
    assert outbox()["renewal_invoice"] == "sent"
    assert [m["To"] for m in smtp.messages] == ["b@test.ec", "a@test.ec"]


def test_the_demo_business_has_its_details_on_invoices_and_how_to_pay(database):
    with unit_of_work() as s:
        demo.load(s, TODAY)
    shop = catalog.business()
    assert shop.name == demo.DEMO_BUSINESS["name"] != catalog.DEFAULT_BUSINESS_NAME
    assert ruc.is_valid(shop.ruc) and shop.address
    assert "Banco Pichincha" in shop.transfer_instructions
    assert catalog.missing_details() == []
    with read_session() as s:
        user = s.scalars(select(User).where(User.role == "client")).first()
        client = s.get(Client, user.client_id)
        unpaid = s.scalars(
            select(Invoice).where(Invoice.client_id == client.id, Invoice.status == "unpaid")
        ).first()
    reader = Actor(user_id=user.id, role="client", client_id=client.id, email=user.email)
    detail = invoice_detail(reader, unpaid.id, today=TODAY)
    assert "Banco Pichincha" in detail.transfer_instructions  # "how to pay"
    text = pdf_text(invoice_pdf(reader, unpaid.id, today=TODAY))
    assert shop.name in text and shop.ruc in text
