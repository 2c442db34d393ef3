"""A realistic book at scale, generated with bulk inserts and a fixed seed.

Scale L is 10,000 clients, 40,000 services, 480,000 invoices (one line each) and 100,000
tickets with 400,000 messages, spread over four years so aging, churn and income reports
have history. Every client has a sign-in, as at a real host: ``cliente{i}@bench.ec``, and
the one measured, a client with a typical history, is ``client@bench.ec``; the owner and a
staff member sign in too. All share the password in ``PASSWORD``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, bindparam, insert, select

from core import accounts
from core.models import (
    Client,
    Counter,
    Department,
    Invoice,
    InvoiceItem,
    Payment,
    Product,
    ProductPrice,
    Server,
    Service,
    Ticket,
    TicketMessage,
    User,
)
from core.platform import vault
from core.platform.db import refresh_statistics, unit_of_work
from core.rules.cycles import CYCLE_MONTHS, advance

PASSWORD = "Bench-clave-2026"
OWNER, STAFF, CLIENT = "owner@bench.ec", "staff@bench.ec", "client@bench.ec"
SCALES = {
    # XS: the book of tests/integration/test_bench_sessions.py, built in about a second.
    "XS": {"clients": 12, "services": 24, "invoices": 144, "tickets": 24, "messages": 2},
    "S": {"clients": 250, "services": 1_000, "invoices": 12_000, "tickets": 2_500, "messages": 4},
    "M": {
        "clients": 2_500,
        "services": 10_000,
        "invoices": 120_000,
        "tickets": 25_000,
        "messages": 4,
    },
    "L": {
        "clients": 10_000,
        "services": 40_000,
        "invoices": 480_000,
        "tickets": 100_000,
        "messages": 4,
    },
    # XL: ten times L, on PostgreSQL only, loaded with COPY by bench.book_xl.
    "XL": {
        "clients": 100_000,
        "services": 400_000,
        "invoices": 4_800_000,
        "tickets": 1_000_000,
        "messages": 4,
    },
}
CHUNK = 5_000
IVA = Decimal("15")


@dataclass(frozen=True)
class BenchUsers:
    owner: str
    staff: str
    client: str
    client_id: int


def _cedula(i: int) -> str:
    """Client ``i``'s cédula: Pichincha (17), unique per client, with a valid modulus-10
    check digit, so its SRI documents pass python-stdnum's check as a real book's would."""
    body = f"17{i:07d}"
    total = 0
    for pos, ch in enumerate(body):
        n = int(ch) * (2 if pos % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


def _chunks(rows: list[dict], size: int = CHUNK):
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def _bulk(engine: Engine, table, rows: list[dict]) -> None:
    with engine.begin() as conn:
        for part in _chunks(rows):
            conn.execute(insert(table), part)


def generate(engine: Engine, scale: str, today: date, seed: int = 7) -> BenchUsers:
    """Fill an empty, migrated database with the book for ``scale``."""
    size = SCALES[scale]
    rng = random.Random(seed)
    at = datetime.combine(today, datetime.min.time())
    server_id, dept_id, product_ids, staff_id = desk(engine, at)

    clients = [client_row(i, rng, at) for i in range(size["clients"])]
    _bulk(engine, Client.__table__, clients)
    with engine.connect() as conn:
        client_ids = list(conn.execute(select(Client.id).order_by(Client.id)).scalars())

    services = [
        service_row(i, rng, today, at, client_ids[i % len(client_ids)], product_ids, server_id)
        for i in range(size["services"])
    ]
    _bulk(engine, Service.__table__, services)
    with engine.connect() as conn:
        rows = list(
            conn.execute(
                select(
                    Service.id,
                    Service.client_id,
                    Service.recurring_amount,
                    Service.status,
                    Service.registration_date,
                ).order_by(Service.id)
            )
        )
    svc = [(sid, cid, amount) for sid, cid, amount, *_ in rows]
    suspended = {sid for sid, _cid, _amount, status, _ in rows if status == "suspended"}
    ordered = {sid: day for sid, _cid, _amount, status, day in rows if status == "pending"}

    _invoices(engine, rng, svc, size["invoices"], today, at, suspended, ordered)
    _renewed_when_paid(engine)
    _tickets(engine, rng, svc, size, dept_id, staff_id, today, at)

    sample = client_ids[len(client_ids) // 2]
    password_hash = measured_client(engine, sample, at)
    users = [
        client_user_row(i, client_id, password_hash, at)
        for i, client_id in enumerate(client_ids)
        if client_id != sample
    ]
    _bulk(engine, User.__table__, users)
    refresh_statistics(engine)  # as an import of a whole book leaves it
    vacuumed(engine)
    return BenchUsers(OWNER, STAFF, CLIENT, sample)


def vacuumed(engine: Engine) -> None:
    """On PostgreSQL, ``VACUUM ANALYZE`` the book: statistics for the planner, and the
    visibility map that lets an index-only scan skip the table, as autovacuum leaves a
    database that has run a while. Done here, not left to autovacuum, because a book is
    measured minutes after it is written (and this machine's server runs with autovacuum
    off): the L and XL books are measured in the same state."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


# Row builders, shared with bench.book_xl (the XL book, loaded with COPY): one shape of book
# at every scale, so a figure's growth from L to XL is the book's size, not its make-up.


def desk(engine: Engine, at: datetime) -> tuple[int, int, list[int], int]:
    """The owner, a staff member (both with a second factor), the server, the department and
    the three products with a price per cycle: (server id, department id, product ids, staff
    member's id)."""
    with unit_of_work(engine) as s:
        owner = accounts.create_user(
            s, role="owner", email=OWNER, name="Owner", password=PASSWORD, at=at
        )
        staff = accounts.create_user(
            s,
            role="staff",
            email=STAFF,
            name="Staff",
            password=PASSWORD,
            at=at,
            permissions=["tickets", "clients", "services", "billing", "reports"],
        )
        for user in (owner, staff):
            user.verified_at = at
            # Desk users must have a second factor to reach their pages.
            user.totp_secret = vault.encrypt("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
            user.totp_enabled_at = at
        server = Server(name="bench", hostname="127.0.0.1", port=2087, scheme="http")
        dept = Department(name="Soporte", staff_ids=[staff.id])
        s.add_all([server, dept])
        products = []
        for i, (name, monthly) in enumerate(
            (("Básico", "4.50"), ("Estándar", "9.90"), ("Premium", "19.90"))
        ):
            product = Product(name=name, whm_package=name.lower()[:7], sort_order=i)
            s.add(product)
            s.flush()
            for cycle, months in CYCLE_MONTHS.items():
                s.add(
                    ProductPrice(
                        product_id=product.id,
                        cycle=cycle,
                        price=(Decimal(monthly) * months).quantize(Decimal("0.01")),
                    )
                )
            products.append(product)
        s.flush()
        return server.id, dept.id, [p.id for p in products], staff.id


def client_row(i: int, rng: random.Random, at: datetime) -> dict:
    return {
        "name": f"Cliente {i:05d}",
        "email": f"cliente{i}@bench.ec",
        "country": "EC",
        "tax_id_type": "cedula",
        "tax_id": _cedula(i),
        "language": "es",
        "credit_balance": Decimal("0.00"),
        "created_at": at - timedelta(days=rng.randint(0, 1400)),
    }


_CYCLES = list(CYCLE_MONTHS)
_CYCLE_WEIGHTS = [60, 10, 8, 18, 2, 2]
_SERVICE_STATUSES = ["active", "suspended", "cancelled", "terminated", "pending"]
_SERVICE_WEIGHTS = [80, 4, 6, 8, 2]


def service_row(
    i: int,
    rng: random.Random,
    today: date,
    at: datetime,
    client_id: int,
    product_ids: list[int],
    server_id: int,
) -> dict:
    """Service ``i``: mostly monthly, mostly active, its next due date on this cycle."""
    cycle = rng.choices(_CYCLES, _CYCLE_WEIGHTS)[0]
    anchor = rng.randint(1, 31)
    registered = today - timedelta(days=rng.randint(30, 1400))
    status = rng.choices(_SERVICE_STATUSES, _SERVICE_WEIGHTS)[0]
    if status == "pending":  # a new order, days old, short of the unpaid-order cancel (7)
        registered = today - timedelta(days=rng.randint(0, 5))
    next_due = advance(today, cycle, anchor, 0)
    if next_due < today - timedelta(days=20):
        next_due = advance(next_due, cycle, anchor)
    price = Decimal("4.50") * CYCLE_MONTHS[cycle]
    return {
        "client_id": client_id,
        "product_id": product_ids[i % 3],
        "server_id": server_id,
        "domain": f"sitio{i}.ec",
        "panel_username": f"u{i:07d}"[:8],
        "status": status,
        "billing_cycle": cycle,
        "recurring_amount": price,
        "first_payment_amount": price,
        "anchor_day": anchor,
        "registration_date": registered,
        "next_due_date": next_due if status in ("active", "suspended") else None,
        "suspend_reason": "Overdue on Payment" if status == "suspended" else None,
        "terminated_on": today - timedelta(days=rng.randint(1, 700))
        if status == "terminated"
        else None,
        "created_at": at,
    }


def invoice_row(
    number: int,
    client_id: int,
    amount: Decimal,
    k: int,
    per: int,
    suspended: bool,
    rng: random.Random,
    today: date,
    at: datetime,
    ordered_on: date | None = None,
) -> dict:
    """The ``k``-th of a service's ``per`` monthly invoices, the last one the newest. A
    service suspended for non-payment owes its last invoice, overdue past the suspension days
    (5) and short of the termination days (30), as it would in a real book (billing-rules
    §3.5); 6-9 days, so its period never meets the month before's. A pending service (an
    order, ``ordered_on`` its registration date) owes its last: the order's invoice, due the
    day it was ordered, its line's period starting then, as the order form writes it (its
    earlier invoices stay, so every service has ``per`` and the book its size)."""
    due = today - timedelta(days=30 * (per - k - 1) - rng.randint(0, 20))
    tax = (amount * IVA / 100).quantize(Decimal("0.01"))
    total = amount + tax
    roll = rng.random()
    status = "paid" if (k < per - 1 or roll < 0.85) else ("cancelled" if roll < 0.88 else "unpaid")
    if suspended and k == per - 1:
        due, status = today - timedelta(days=rng.randint(6, 9)), "unpaid"
    if ordered_on is not None and k == per - 1:
        due, status = ordered_on, "unpaid"
    return {
        "number": f"F{number:07d}",
        "client_id": client_id,
        "issued_on": due - timedelta(days=14),
        "due_on": due,
        "status": status,
        "subtotal": amount,
        "tax_total": tax,
        "total": total,
        "amount_paid": total if status == "paid" else Decimal("0.00"),
        "credit_applied": Decimal("0.00"),
        "balance": total if status == "unpaid" else Decimal("0.00"),
        "late_fee_applied": False,
        "paid_at": datetime.combine(due, datetime.min.time()) if status == "paid" else None,
        "created_at": at,
    }


def item_row(invoice_id: int, service_id: int, invoice: dict) -> dict:
    """The invoice's one line: its service's renewal for the month from its due date."""
    due = invoice["due_on"]
    return {
        "invoice_id": invoice_id,
        "service_id": service_id,
        "kind": "renewal",
        "period_start": due,
        "period_end": due + timedelta(days=29),
        "description": f"Hosting ({due.isoformat()})",
        "amount": invoice["subtotal"],
        "tax_rate": IVA,
        "tax_amount": invoice["tax_total"],
    }


def payment_row(invoice_id: int, invoice: dict, at: datetime) -> dict:
    """A paid invoice's transfer, received on its due date."""
    return {
        "client_id": invoice["client_id"],
        "invoice_id": invoice_id,
        "amount": invoice["total"],
        "method": "transfer",
        "reference": f"T{invoice_id}",
        "received_on": invoice["due_on"],
        "created_at": at,
    }


def renewed_due(
    due: date | None, cycle: str, anchor: int, paid_periods: set[date] | dict
) -> date | None:
    """A paid renewal has already moved its service's next due date one cycle on (the paid
    hook does it at payment time): past every paid period, as the live app would have."""
    new = due
    while new is not None and new in paid_periods:
        new = advance(new, cycle, anchor)
    return new


_TICKET_STATUSES = ["open", "answered", "customer_reply", "in_progress", "on_hold", "closed"]
_TICKET_WEIGHTS = [5, 5, 3, 3, 2, 82]


def ticket_row(
    i: int,
    rng: random.Random,
    svc: list[tuple[int, int, Decimal]],
    dept_id: int,
    staff_id: int,
    at: datetime,
) -> dict:
    """Ticket ``i``, on a service drawn from ``svc`` ((id, client id, amount)); most closed."""
    sid, cid, _ = svc[rng.randrange(len(svc))]
    created = at - timedelta(hours=rng.randint(1, 24 * 700))
    status = rng.choices(_TICKET_STATUSES, _TICKET_WEIGHTS)[0]
    return {
        "number": f"T{i + 1:06d}",
        "client_id": cid,
        "department_id": dept_id,
        "service_id": sid,
        "subject": f"Consulta {i}",
        "status": status,
        "priority": rng.choice(["low", "medium", "high", "urgent"]),
        "assignee_id": staff_id if rng.random() < 0.6 else None,
        "sla_due_at": created + timedelta(hours=8),
        "last_reply_at": created,
        "closed_at": created + timedelta(hours=30) if status == "closed" else None,
        "created_at": created,
    }


def message_row(ticket_id: int, m: int, staff_id: int, created: datetime) -> dict:
    """A ticket's ``m``-th message: the client and the staff member in turn, the fourth an
    internal note."""
    return {
        "ticket_id": ticket_id,
        "author_id": staff_id if m % 2 else None,
        "body": "Mensaje de prueba " * 5,
        "internal": m == 3,
        "attachment_ids": [],
        "created_at": created + timedelta(hours=m),
    }


def measured_client(engine: Engine, client_id: int, at: datetime) -> str:
    """The measured client's sign-in, ``CLIENT``, hashed as the app hashes; its hash."""
    with unit_of_work(engine) as s:
        client = s.get(Client, client_id)
        user = accounts.create_user(
            s,
            role="client",
            email=CLIENT,
            name=client.name,
            password=PASSWORD,
            client=client,
            at=at,
        )
        user.verified_at = at
        return str(user.password_hash)


def client_user_row(i: int, client_id: int, password_hash: str, at: datetime) -> dict:
    """Client ``i``'s sign-in, ``cliente{i}@bench.ec``. One bcrypt hash for all: hashing
    every client's password would take longer than the book."""
    return {
        "email": f"cliente{i}@bench.ec",
        "name": f"Cliente {i:05d}",
        "password_hash": password_hash,
        "role": "client",
        "client_id": client_id,
        "language": "es",
        "permissions": [],
        "active": True,
        "verified_at": at,
        "sessions_valid_after": at,
        "created_at": at,
    }


def load_sign_ins(engine: Engine, count: int) -> list[str]:
    """``count`` client sign-ins for the load test: the measured client first, then others
    spread over the book, so ten sessions are ten clients with their own histories."""
    with engine.connect() as conn:
        emails = list(
            conn.execute(
                select(User.email).where(User.role == "client").order_by(User.client_id)
            ).scalars()
        )
    others = [e for e in emails if e != "client@bench.ec"]
    step = max(1, len(others) // count)
    return (["client@bench.ec"] + others[::step])[:count]


def _invoices(
    engine, rng, svc, count, today, at, suspended: set[int], ordered: dict[int, date]
) -> None:
    """Monthly history per service (``invoice_row``), most paid, some unpaid, a few
    cancelled, each with its line and, when paid, its payment; a pending service's last is
    its order's invoice (``ordered``: pending service → registration date)."""
    per = max(count // len(svc), 1)
    invoices, items, payments = [], [], []
    number = 0
    for sid, cid, amount in svc:
        for k in range(per):
            number += 1
            invoices.append(
                invoice_row(
                    number,
                    cid,
                    amount,
                    k,
                    per,
                    sid in suspended,
                    rng,
                    today,
                    at,
                    ordered.get(sid),
                )
            )
    _bulk(engine, Invoice.__table__, invoices)
    # Numbers were handed out here in bulk: the sequence continues after them.
    with engine.begin() as conn:
        conn.execute(insert(Counter.__table__), [{"name": "invoice", "value": number}])
    with engine.connect() as conn:
        ids = list(conn.execute(select(Invoice.id).order_by(Invoice.id)).scalars())
    for n, (iid, invoice) in enumerate(zip(ids, invoices, strict=True)):
        items.append(item_row(iid, svc[n // per][0], invoice))
        if invoice["status"] == "paid":
            payments.append(payment_row(iid, invoice, at))
    _bulk(engine, InvoiceItem.__table__, items)
    _bulk(engine, Payment.__table__, payments)


def _renewed_when_paid(engine) -> None:
    """A paid renewal has already moved its service's next due date one cycle on (the paid
    hook does it at payment time): where the generated history paid the period now due,
    move the due date past every paid period, as the live app would have."""
    paid = (
        select(InvoiceItem.service_id, InvoiceItem.period_start)
        .join(Invoice, Invoice.id == InvoiceItem.invoice_id)
        .where(Invoice.status == "paid", InvoiceItem.kind == "renewal")
    )
    with engine.begin() as conn:
        periods: dict[int, set[date]] = {}
        for sid, start in conn.execute(paid):
            periods.setdefault(sid, set()).add(start)
        moves = []
        for sid, due, cycle, anchor in conn.execute(
            select(
                Service.id, Service.next_due_date, Service.billing_cycle, Service.anchor_day
            ).where(Service.next_due_date.is_not(None))
        ):
            new = renewed_due(due, cycle, anchor, periods.get(sid, set()))
            if new != due:
                moves.append({"sid": sid, "due": new})
        if moves:
            conn.execute(
                Service.__table__.update()
                .where(Service.__table__.c.id == bindparam("sid"))
                .values(next_due_date=bindparam("due")),
                moves,
            )


def _tickets(engine, rng, svc, size, dept_id, staff_id, today, at) -> None:
    tickets = [ticket_row(i, rng, svc, dept_id, staff_id, at) for i in range(size["tickets"])]
    _bulk(engine, Ticket.__table__, tickets)
    with engine.begin() as conn:
        conn.execute(insert(Counter.__table__), [{"name": "ticket", "value": len(tickets)}])
    with engine.connect() as conn:
        ticket_rows = list(conn.execute(select(Ticket.id, Ticket.created_at).order_by(Ticket.id)))
    messages = []
    for tid, created in ticket_rows:
        messages.extend(message_row(tid, m, staff_id, created) for m in range(size["messages"]))
        if len(messages) >= 50_000:
            _bulk(engine, TicketMessage.__table__, messages)
            messages = []
    _bulk(engine, TicketMessage.__table__, messages)


def counts(engine: Engine) -> dict[str, int]:
    from sqlalchemy import func

    out = {}
    with engine.connect() as conn:
        for model in (Client, Service, Invoice, Ticket, TicketMessage, User):
            out[model.__tablename__] = conn.execute(
                select(func.count()).select_from(model)
            ).scalar_one()
    return out


if __name__ == "__main__":
    import sys

    from core.platform.db import get_engine

    generate(get_engine(), sys.argv[1], date.fromisoformat(sys.argv[2]))
