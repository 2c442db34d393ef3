"""A realistic demo book for a small Ecuadorian hosting business.

About 25 clients with services in every status and cycle, invoices paid, unpaid and overdue,
and tickets. Demo data lives in the database only (never in migrations), is generated
relative to today, and is loaded once: ``load`` refuses a database that already has users.
Passwords of the three demo users are random per install and kept in ``data/``.
"""

from __future__ import annotations

import io
import random
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pyotp
import qrcode
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import accounts, einvoice
from core.billing.ledger import TRANSFER_INSTRUCTIONS
from core.catalog import BUSINESS_ADDRESS, BUSINESS_NAME, BUSINESS_RUC
from core.einvoice import certificates
from core.models import (
    Client,
    Department,
    Invoice,
    InvoiceItem,
    Payment,
    Product,
    ProductPrice,
    Server,
    Service,
    Setting,
    SupportChannel,
    Ticket,
    TicketMessage,
    User,
)
from core.platform import vault
from core.platform.clock import now
from core.platform.sequences import next_number
from core.rules.cycles import CYCLE_MONTHS, advance
from sandbox.demo_articles import load_articles
from sandbox.demo_certificate import make_p12

IVA = Decimal("15")
CENT = Decimal("0.01")

PRODUCTS = [
    # name, package, disk MB, mailboxes, mailbox quota, monthly price
    ("Básico", "basico", 2048, 5, 512, Decimal("4.50")),
    ("Estándar", "estandar", 10240, 25, 1024, Decimal("9.90")),
    ("Premium", "premium", 51200, 100, 2048, Decimal("19.90")),
]
# Longer cycles get a discount, as hosting price lists usually do.
CYCLE_DISCOUNT = {
    "monthly": Decimal("1"),
    "quarterly": Decimal("0.97"),
    "semiannually": Decimal("0.95"),
    "annually": Decimal("0.90"),
    "biennially": Decimal("0.85"),
    "triennially": Decimal("0.80"),
}

FIRST = [
    "María",
    "José",
    "Luis",
    "Ana",
    "Carlos",
    "Gabriela",
    "Diego",
    "Verónica",
    "Andrés",
    "Paola",
    "Jorge",
    "Daniela",
    "Fernando",
    "Lucía",
    "Santiago",
    "Carolina",
    "Patricio",
    "Mónica",
    "Esteban",
    "Valeria",
    "Ricardo",
    "Sofía",
    "Xavier",
    "Fernanda",
    "Pablo",
]
LAST = [
    "Andrade",
    "Vera",
    "Zambrano",
    "Cevallos",
    "Paredes",
    "Salazar",
    "Mendoza",
    "Guerrero",
    "Castillo",
    "Villacís",
    "Morales",
    "Benítez",
    "Ortiz",
    "Jaramillo",
    "Espinoza",
]
BUSINESSES = [
    "Comercial Andina",
    "Ferretería El Volcán",
    "Café Galápagos",
    "Clínica San Rafael",
    "Estudio Jurídico Pérez",
    "Tours Cotopaxi",
    "Panadería La Espiga",
    "Agro Manabí",
    "Colegio Montalvo",
    "Importadora del Pacífico",
    "Hotel Mitad del Mundo",
    "Textiles Otavalo",
    "Dental Sonrisa",
    "Inmobiliaria Cuenca",
    "Taller Mecánico Loja",
]
CITIES = [
    ("Quito", "Pichincha", "17"),
    ("Guayaquil", "Guayas", "09"),
    ("Cuenca", "Azuay", "01"),
    ("Ambato", "Tungurahua", "18"),
    ("Manta", "Manabí", "13"),
    ("Loja", "Loja", "11"),
]
TICKETS = [
    ("No puedo recibir correos en mi cuenta", "Desde ayer no me llegan correos a ventas@."),
    ("Mi sitio web está lento", "La página tarda más de 10 segundos en cargar."),
    ("Consulta sobre mi factura", "¿Por qué mi factura incluye IVA del 15 %?"),
    ("Certificado SSL vencido", "El navegador dice que el sitio no es seguro."),
    ("Quiero cambiar a un plan superior", "Necesito más espacio en disco."),
    ("Error 500 en WordPress", "Después de actualizar un plugin aparece error 500."),
]


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    # Owner and staff must use two-step verification: the demo enrols them with this
    # authenticator secret, printed beside the password, so a new user is in within a minute.
    totp_secret: str | None = None


def cedula(rng: random.Random, province: str) -> str:
    """A cédula with a valid modulus-10 check digit (stdnum.ec.ci accepts it)."""
    body = province + str(rng.randint(0, 5)) + "".join(str(rng.randint(0, 9)) for _ in range(6))
    total = 0
    for i, ch in enumerate(body):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


def _password() -> str:
    return "Demo-" + secrets.token_urlsafe(12)


def is_empty(session: Session) -> bool:
    return session.execute(select(func.count()).select_from(User)).scalar_one() == 0


def load(
    session: Session,
    today: date,
    *,
    sandbox_token: str | None = None,
    seed: int = 2026,
    help_centre: bool = True,
    einvoicing: bool = True,
) -> list[DemoLogin]:
    """Fill an empty database with the demo book and return the three demo sign-ins.
    ``help_centre=False`` leaves out the help articles and ``einvoicing=False`` the SRI set-up
    and documents (for a schema from before their tables)."""
    if not is_empty(session):
        raise RuntimeError("the database already has users; the demo loads only into an empty one")
    rng = random.Random(seed)
    at = now()
    logins = [
        DemoLogin("owner", "propietario@demo.anfitrion.ec", _password(), pyotp.random_base32()),
        DemoLogin("staff", "soporte@demo.anfitrion.ec", _password(), pyotp.random_base32()),
        DemoLogin("client", "cliente@demo.anfitrion.ec", _password()),
    ]
    owner = accounts.create_user(
        session,
        role="owner",
        email=logins[0].email,
        name="Propietaria Demo",
        password=logins[0].password,
        at=at,
    )
    staff = accounts.create_user(
        session,
        role="staff",
        email=logins[1].email,
        name="Soporte Demo",
        password=logins[1].password,
        at=at,
        permissions=["tickets", "clients", "services"],
    )
    for user, login in ((owner, logins[0]), (staff, logins[1])):
        user.verified_at = at
        user.totp_secret = vault.encrypt(login.totp_secret or "")
        user.totp_enabled_at = at
    _business(session)

    server = Server(
        name="Sandbox local",
        hostname="127.0.0.1",
        port=2087,
        scheme="http",
        username="root",
        verify_tls=False,
        token_encrypted=vault.encrypt(sandbox_token) if sandbox_token else None,
        token_env=None if sandbox_token else "SANDBOX_WHM_TOKEN",
    )
    session.add(server)
    products = _products(session)
    _addon_products(session, products)
    departments = _departments(session, staff.id)
    _channels(session)

    clients = _clients(session, rng, logins[2], at)
    taken: set[str] = set()  # panel usernames handed out so far
    for idx, client in enumerate(clients):
        for service in _services(session, rng, client, products, server, today, idx, taken):
            _invoices(session, rng, client, service, today)
    _tickets(session, rng, clients, departments, staff, at)
    if help_centre:
        load_articles(session, at)
    session.flush()
    if einvoicing:
        _einvoicing(session, at)
    return logins


# Add-ons (issue 19): name, English name, monthly price, setup fee, the plans they fit (by
# index in PRODUCTS), and whether staff act when one starts or ends (a ticket in the queue).
ADDON_PRODUCTS = [
    ("Certificado SSL", "SSL certificate", Decimal("3.00"), Decimal("5.00"), (0, 1, 2), "staff"),
    ("IP dedicada", "Dedicated IP", Decimal("4.00"), Decimal("10.00"), (1, 2), "staff"),
    (
        "Copias de seguridad diarias",
        "Daily backups",
        Decimal("2.00"),
        Decimal("0"),
        (0, 1, 2),
        "none",
    ),
    ("Disco extra 10 GB", "Extra disk 10 GB", Decimal("2.50"), Decimal("0"), (0, 1), "quota"),
]
ADDON_QUOTA_MB = {"Disco extra 10 GB": 10240}  # action "quota": the MB it adds on the panel


def _addon_products(session: Session, plans: list[Product]) -> None:
    for i, (name, name_en, monthly, setup, fits, action) in enumerate(ADDON_PRODUCTS):
        product = Product(
            name=name,
            name_en=name_en,
            whm_package="",
            kind="addon",
            addon_fits=[plans[j].id for j in fits],
            addon_action=action,
            addon_quota_mb=ADDON_QUOTA_MB.get(name),
            sort_order=10 + i,
        )
        session.add(product)
        session.flush()
        for cycle, months in CYCLE_MONTHS.items():
            price = (monthly * months * CYCLE_DISCOUNT[cycle]).quantize(CENT)
            session.add(
                ProductPrice(product_id=product.id, cycle=cycle, price=price, setup_fee=setup)
            )


# The demo business, as its invoices, PDFs and "how to pay" show it. The RUC is a valid one
# for a private company (third digit 9, modulus 11; python-stdnum's ec.ruc accepts it) that
# belongs to no one we know of; the bank account is made up.
DEMO_BUSINESS = {
    "name": "Nube Andina Hosting S.A.",
    "ruc": "1791458710001",
    "address": "Av. Amazonas N34-120 y Av. República, Edificio Torres del Norte, of. 402, Quito",
    "transfer_instructions": (
        "Transferencia o depósito a:\n"
        "Banco Pichincha · Cuenta corriente n.º 2100123456\n"
        "A nombre de: Nube Andina Hosting S.A. · RUC 1791458710001\n"
        "Escriba el número de factura en la referencia y suba el comprobante en la factura."
    ),
}


def _business(session: Session) -> None:
    """Written as rows, like the rest of the book (a demo leaves no audit trail of its own);
    tests/integration/test_business_setup.py checks the RUC with python-stdnum."""
    session.add_all(
        [
            Setting(key=BUSINESS_NAME, value=DEMO_BUSINESS["name"]),
            Setting(key=BUSINESS_RUC, value=DEMO_BUSINESS["ruc"]),
            Setting(key=BUSINESS_ADDRESS, value=DEMO_BUSINESS["address"]),
            Setting(key=TRANSFER_INSTRUCTIONS, value=DEMO_BUSINESS["transfer_instructions"]),
        ]
    )


def _einvoicing(session: Session, at: datetime) -> None:
    """Electronic invoicing ready with no setup: a
    self-signed test certificate for that RUC (SRI ambiente pruebas, the default), and the
    factura of every paid demo invoice, issued at its paying moment."""
    password = secrets.token_urlsafe(18)  # kept only encrypted, as an uploaded one would be
    p12 = make_p12(
        ruc=DEMO_BUSINESS["ruc"],
        holder=DEMO_BUSINESS["name"].upper(),
        password=password,
        not_before=at - timedelta(days=1),
        days=730,
    )
    sealed_p12, sealed_password = certificates.sealed(p12, password)
    # Written as demo data, like the rest of the book: nobody acted, so nothing is audited.
    for key, value in (
        (certificates.CERTIFICATE, sealed_p12),
        (certificates.PASSWORD, sealed_password),
    ):
        session.merge(Setting(key=key, value=value))
    session.flush()
    paid = session.scalars(
        select(Invoice).where(Invoice.status == "paid").order_by(Invoice.paid_at, Invoice.id)
    ).all()
    for invoice in paid:
        assert invoice.paid_at is not None
        einvoice.issue_factura(session, invoice, invoice.paid_at)


def _products(session: Session) -> list[Product]:
    products = []
    for i, (name, pkg, disk, boxes, quota, monthly) in enumerate(PRODUCTS):
        product = Product(
            name=name,
            whm_package=pkg,
            disk_mb=disk,
            max_mailboxes=boxes,
            mailbox_quota_mb=quota,
            sort_order=i,
            description=f"Hosting {name}: {disk // 1024} GB, {boxes} correos",
        )
        session.add(product)
        session.flush()
        for cycle, months in CYCLE_MONTHS.items():
            price = (monthly * months * CYCLE_DISCOUNT[cycle]).quantize(CENT)
            session.add(
                ProductPrice(
                    product_id=product.id, cycle=cycle, price=price, setup_fee=Decimal("0.00")
                )
            )
        products.append(product)
    for i, product in enumerate(products):
        product.upgrade_targets = [p.id for j, p in enumerate(products) if j != i]
    return products


def _departments(session: Session, staff_id: int) -> list[Department]:
    departments = [
        Department(
            name="Soporte técnico",
            email="soporte@demo.anfitrion.ec",
            staff_ids=[staff_id],
            sort_order=0,
        ),
        Department(
            name="Facturación",
            email="facturacion@demo.anfitrion.ec",
            staff_ids=[staff_id],
            sort_order=1,
        ),
        Department(name="Ventas", email="ventas@demo.anfitrion.ec", staff_ids=[], sort_order=2),
        Department(
            name="Abuso",
            email="abuso@demo.anfitrion.ec",
            client_visible=False,
            staff_ids=[staff_id],
            sort_order=3,
        ),
    ]
    session.add_all(departments)
    session.flush()
    return departments


def _channels(session: Session) -> None:
    session.add_all(
        [
            SupportChannel(
                kind="whatsapp",
                label="WhatsApp",
                target="+593991234567",
                hours="24/7",
                sort_order=0,
            ),
            SupportChannel(
                kind="phone",
                label="Teléfono",
                target="+59321234567",
                hours="Lun–Vie 08:00–18:00",
                sort_order=1,
            ),
            SupportChannel(
                kind="email",
                label="Correo de soporte",
                target="soporte@demo.anfitrion.ec",
                hours="24/7",
                sort_order=2,
            ),
            SupportChannel(
                kind="chat",
                label="Chat en vivo",
                target="https://demo.anfitrion.ec/chat",
                hours="24/7",
                sort_order=3,
            ),
            SupportChannel(
                kind="status",
                label="Estado de los servidores",
                target="https://estado.demo.anfitrion.ec",
                hours="24/7",
                sort_order=4,
            ),
        ]
    )


def _clients(session: Session, rng: random.Random, login: DemoLogin, at: datetime) -> list[Client]:
    clients = []
    for i in range(25):
        first, last = FIRST[i % len(FIRST)], LAST[(i * 7) % len(LAST)]
        city, province, code = CITIES[i % len(CITIES)]
        business = BUSINESSES[i] if i < len(BUSINESSES) else None
        ci = cedula(rng, code)
        client = Client(
            name=f"{first} {last}",
            company=business,
            email=f"{_ascii(first)}.{_ascii(last)}{i}@correo.example",
            phone=f"+5939{rng.randint(80000000, 99999999)}",
            address=f"Av. Principal {100 + i}",
            city=city,
            province=province,
            country="EC",
            tax_id_type="ruc" if business else "cedula",
            tax_id=ci + "001" if business else ci,
            language="en" if i == 7 else "es",
        )
        session.add(client)
        clients.append(client)
    session.flush()
    # The first client is the demo client's own company.
    user = accounts.create_user(
        session,
        role="client",
        email=login.email,
        name=clients[0].name,
        password=login.password,
        client=clients[0],
        at=at,
    )
    user.verified_at = at
    clients[0].email = login.email
    return clients


def _ascii(text: str) -> str:
    """Letters and digits only, accents dropped: what a domain or panel username allows."""
    plain = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain if ch.isalnum())


def _username(domain: str, taken: set[str]) -> str:
    base = "".join(ch for ch in domain.split(".")[0] if ch.isalnum())[:7] or "cuenta"
    if not base[0].isalpha():
        base = "a" + base[:6]
    name, n = base, 1
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def _services(session, rng, client, products, server, today, idx, taken) -> list[Service]:
    count = 3 if idx == 0 else rng.choice([1, 1, 2, 2, 3])
    # Client A shows a bit of everything; others follow a realistic mix.
    statuses = (
        ["active", "active", "suspended"]
        if idx == 0
        else [
            rng.choice(["active"] * 7 + ["suspended", "cancelled", "terminated", "pending"])
            for _ in range(count)
        ]
    )
    cycles = list(CYCLE_MONTHS)
    services = []
    for n, status in enumerate(statuses):
        product = products[(idx + n) % len(products)]
        cycle = cycles[(idx + n) % len(cycles)] if idx else ("monthly", "annually", "monthly")[n]
        anchor = rng.randint(1, 28) if (idx + n) % 5 else 31  # some anchored on the 31st
        # Most of the book is paid up: the next due date lies ahead. A few active services
        # run a little late, and suspended ones are overdue by more than the grace period.
        next_due = advance(today, cycle, anchor, 0)
        if next_due < today:
            next_due = advance(next_due, cycle, anchor)
        registered = advance(next_due, cycle, anchor, -rng.randint(1, 3))
        if status == "suspended" or (status == "active" and rng.random() < 0.1):
            late = rng.randint(16, 30) if status == "suspended" else rng.randint(2, 9)
            next_due = today - timedelta(days=late)
            anchor = next_due.day
            registered = advance(next_due, cycle, anchor, -rng.randint(1, 2))
        slug = _ascii(client.company or client.name)[:18] or "cliente"
        domain = (f"{slug}.com.ec", f"{slug}.ec", f"tienda{slug}.ec")[n]
        price = next(p.price for p in product.prices if p.cycle == cycle)
        service = Service(
            client_id=client.id,
            product_id=product.id,
            server_id=server.id,
            domain=domain,
            panel_username=_username(domain, taken) if status != "pending" else None,
            status=status,
            billing_cycle=cycle,
            recurring_amount=price,
            first_payment_amount=price,
            anchor_day=anchor,
            registration_date=registered,
            next_due_date=next_due if status in ("active", "suspended", "pending") else None,
            suspend_reason="Overdue on Payment" if status == "suspended" else None,
            terminated_on=today - timedelta(days=20) if status == "terminated" else None,
        )
        session.add(service)
        services.append(service)
    session.flush()
    return services


def _invoice(session, client, service, issued, due, status, amount, today) -> Invoice:
    tax = (amount * IVA / 100).quantize(CENT)
    total = amount + tax
    invoice = Invoice(
        number=next_number(session, "invoice"),
        client_id=client.id,
        issued_on=issued,
        due_on=due,
        status=status,
        subtotal=amount,
        tax_total=tax,
        total=total,
        amount_paid=total if status == "paid" else Decimal("0.00"),
        balance=Decimal("0.00") if status in ("paid", "cancelled") else total,
        paid_at=datetime.combine(due, datetime.min.time()) if status == "paid" else None,
    )
    session.add(invoice)
    session.flush()
    session.add(
        InvoiceItem(
            invoice_id=invoice.id,
            service_id=service.id,
            kind="renewal",
            period_start=due,
            period_end=advance(due, service.billing_cycle, service.anchor_day) - timedelta(days=1),
            description=f"Hosting {service.domain} ({due.isoformat()})",
            amount=amount,
            tax_rate=IVA,
            tax_amount=tax,
        )
    )
    if status == "paid":
        session.add(
            Payment(
                client_id=client.id,
                invoice_id=invoice.id,
                amount=total,
                method="transfer",
                reference=f"TRX{invoice.id:06d}",
                received_on=min(due, today),
            )
        )
    return invoice


def _invoices(session, rng, client, service, today) -> None:
    if service.status == "pending":
        return
    cycle, anchor = service.billing_cycle, service.anchor_day
    due = service.next_due_date or advance(service.registration_date, cycle, anchor)
    # Past periods are paid; the current one is unpaid (overdue when suspended).
    previous = advance(due, cycle, anchor, -1)
    if previous >= service.registration_date:
        _invoice(
            session,
            client,
            service,
            previous - timedelta(days=14),
            previous,
            "paid",
            service.recurring_amount,
            today,
        )
    if service.status in ("active", "suspended") and due - today <= timedelta(days=14):
        _invoice(
            session,
            client,
            service,
            due - timedelta(days=14),
            due,
            "unpaid",
            service.recurring_amount,
            today,
        )
    if service.status == "cancelled":
        _invoice(
            session,
            client,
            service,
            due - timedelta(days=14),
            due,
            "cancelled",
            service.recurring_amount,
            today,
        )


def _tickets(session, rng, clients, departments, staff, at) -> None:
    statuses = ["open", "answered", "customer_reply", "in_progress", "on_hold", "closed"]
    priorities = ["low", "medium", "high", "urgent"]
    for i in range(15):
        client = clients[0] if i < 3 else clients[rng.randrange(1, len(clients))]
        subject, body = TICKETS[i % len(TICKETS)]
        service = session.scalars(select(Service).where(Service.client_id == client.id)).first()
        created = at - timedelta(hours=rng.randint(2, 240))
        status = statuses[i % len(statuses)]
        ticket = Ticket(
            number=next_number(session, "ticket"),
            client_id=client.id,
            department_id=departments[i % 3].id,
            service_id=service.id if service else None,
            subject=subject,
            status=status,
            priority=priorities[i % 4],
            assignee_id=staff.id if i % 3 else None,
            created_at=created,
            last_reply_at=created,
            sla_due_at=created + timedelta(hours=24),
            closed_at=created + timedelta(hours=30) if status == "closed" else None,
        )
        session.add(ticket)
        session.flush()
        session.add(
            TicketMessage(ticket_id=ticket.id, author_id=None, body=body, created_at=created)
        )
        if status in ("answered", "customer_reply", "closed"):
            session.add(
                TicketMessage(
                    ticket_id=ticket.id,
                    author_id=staff.id,
                    body="Gracias por escribirnos. Estamos revisando su caso.",
                    created_at=created + timedelta(hours=2),
                )
            )
            ticket.first_response_at = created + timedelta(hours=2)


def otpauth_uri(login: DemoLogin) -> str:
    """What an authenticator app reads from the QR code (or is typed as the secret)."""
    return pyotp.TOTP(login.totp_secret or "").provisioning_uri(
        name=login.email, issuer_name="Anfitrión demo"
    )


def logins_text(logins: list[DemoLogin]) -> str:
    """The demo sign-ins as ``make run`` prints them: a table, then a QR code per
    authenticator secret (drawn with text blocks, so any terminal shows it)."""
    lines = [
        "Owner and staff also give a 6-digit code from an authenticator app (Google",
        "Authenticator, Aegis, FreeOTP, 1Password...): scan the QR code below with it, or add",
        "the secret by hand. Clients sign in with the password alone.",
        "",
        f"{'role':7} {'e-mail':34} {'password':22} authenticator secret",
    ]
    for d in logins:
        lines.append(f"{d.role:7} {d.email:34} {d.password:22} {d.totp_secret or '-'}".rstrip())
    for d in logins:
        if not d.totp_secret:
            continue
        qr = qrcode.QRCode(border=2)
        qr.add_data(otpauth_uri(d))
        drawing = io.StringIO()
        qr.print_ascii(out=drawing, invert=True)
        lines += ["", f"{d.role} ({d.email}): {otpauth_uri(d)}", drawing.getvalue().rstrip("\n")]
    return "\n".join(lines) + "\n"


def write_logins(path: Path, logins: list[DemoLogin]) -> None:
    """Keep the demo sign-ins in data/ (git-ignored), readable by the owner only."""
    import os

    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(logins_text(logins))
