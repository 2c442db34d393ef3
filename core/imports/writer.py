"""Writing what an adapter read into our tables, in bulk, through the mapping table.

Rows already in ``import_link`` are skipped (a second run imports nothing twice); rows whose
parent did not come over are reported, never half-written. Nothing here calls the panel or
sends mail: imported services are adopted as they are on the server. The mapping and the
bulk writes are ``core.imports.links``; a later run's updates and the money check are
``core.imports.reconcile``."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core.imports.links import table_of
from core.imports.reconcile import Reconciling
from core.imports.records import (
    ClientRec,
    DepartmentRec,
    InvoiceRec,
    PaymentRec,
    ProductRec,
    ServerRec,
    ServiceRec,
    StaffRec,
    TicketRec,
)
from core.imports.report import Report
from core.models import (
    Client,
    CreditEntry,
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
from core.rules.cycles import advance, is_recurring

ZERO = Decimal("0.00")
STAFF_AREAS = ["tickets", "clients", "services"]


def _q2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class Writer(Reconciling):
    def __init__(self, session: Session, system: str, report: Report, at: datetime) -> None:
        super().__init__(session, system, report, at)
        self.staff_by_name: dict[str, str] = {}  # admin full name → source staff id

    # ------------------------------------------------------------------ staff & desk
    def staff(self, recs: list[StaffRec]) -> None:
        taken = self._emails()
        pairs, rows, sids = [], [], []
        for rec in self._new("staff", recs, "users"):
            self.staff_by_name.setdefault(rec.name, rec.source_id)
            if rec.email in taken:  # an owner or staff account exists: keep it, link to it
                pairs.append((rec.source_id, taken[rec.email]))
                self.report.problem("users", f"staff:{rec.source_id}", "duplicate_email")
                continue
            if rec.password_hash is None:
                self.report.problem("users", f"staff:{rec.source_id}", "password_reset", skip=False)
            rows.append(
                {
                    "email": rec.email,
                    "name": self._text("users", rec.source_id, rec.name, 200) or rec.email,
                    "password_hash": rec.password_hash,
                    "role": "staff",
                    "permissions": STAFF_AREAS,
                    "active": rec.active,
                    "language": "es",
                }
            )
            sids.append(rec.source_id)
            taken[rec.email] = -1
        ids = self._insert(User, rows)
        self._link("staff", pairs + list(zip(sids, ids, strict=True)))
        self.report.created["users"] += len(ids)

    def _emails(self) -> dict[str, int]:
        return {e: i for i, e in self.s.execute(select(User.id, User.email))}

    def departments(self, recs: list[DepartmentRec]) -> None:
        existing = {n: i for i, n in self.s.execute(select(Department.id, Department.name))}
        pairs, rows, sids = [], [], []
        for rec in self._new("departments", recs):
            name = rec.name[:100]
            if name in existing:
                pairs.append((rec.source_id, existing[name]))
                continue
            rows.append({"name": name, "email": rec.email, "client_visible": rec.client_visible})
            sids.append(rec.source_id)
            existing[name] = -1
        ids = self._insert(Department, rows)
        self._link("departments", pairs + list(zip(sids, ids, strict=True)))
        self.report.created["departments"] += len(ids)

    # ------------------------------------------------------------------ catalogue
    def servers(self, recs: list[ServerRec]) -> None:
        existing = {n: i for i, n in self.s.execute(select(Server.id, Server.name))}
        pairs, rows, sids = [], [], []
        for rec in self._new("servers", recs):
            name = rec.name[:100]
            if name in existing:
                pairs.append((rec.source_id, existing[name]))
                continue
            # §7.19: the token stays behind; the owner enters it in Settings → Servers.
            self.report.problem("servers", rec.source_id, "token_not_imported", skip=False)
            rows.append(
                {
                    "name": name,
                    "hostname": rec.hostname[:253],
                    "port": rec.port,
                    "scheme": "https" if rec.secure else "http",
                    "username": rec.username[:64],
                    "active": False,  # no token yet: nothing may call it until one is entered
                }
            )
            sids.append(rec.source_id)
            existing[name] = -1
        ids = self._insert(Server, rows)
        self._link("servers", pairs + list(zip(sids, ids, strict=True)))
        self.report.created["servers"] += len(ids)

    def products(self, recs: list[ProductRec]) -> None:
        existing = {n: i for i, n in self.s.execute(select(Product.id, Product.name))}
        pairs, made = [], 0
        for rec in self._new("products", recs):
            name = self._text("products", rec.source_id, rec.name, 120) or f"#{rec.source_id}"
            if name in existing:  # the same plan already in our catalogue: use it
                pairs.append((rec.source_id, existing[name]))
                self.report.problem("products", rec.source_id, "exists_already")
                continue
            (pid,) = self._insert(
                Product,
                [
                    {
                        "name": name,
                        "description": rec.description,
                        "whm_package": rec.whm_package[:64],
                        "active": rec.active,
                    }
                ],
            )
            prices = [
                {"product_id": pid, "cycle": cycle, "price": price, "setup_fee": setup}
                for cycle, (price, setup) in rec.prices.items()
            ]
            if prices:
                self.s.execute(insert(table_of(ProductPrice)), prices)
            pairs.append((rec.source_id, pid))
            existing[name] = pid
            made += 1
        self._link("products", pairs)
        self.report.created["products"] += made

    # ------------------------------------------------------------------ clients
    def clients(self, recs: list[ClientRec]) -> None:
        fresh = self._new("clients", recs)
        rows = []
        for rec in fresh:
            sid = rec.source_id
            rows.append(
                {
                    "name": self._text("clients", sid, rec.name, 200) or rec.email,
                    "company": self._text("clients", sid, rec.company, 200),
                    "email": self._text("clients", sid, rec.email, 254) or "",
                    "phone": self._text("clients", sid, rec.phone, 40),
                    "address": self._text("clients", sid, rec.address, 300),
                    "city": self._text("clients", sid, rec.city, 100),
                    "province": self._text("clients", sid, rec.province, 100),
                    "country": rec.country[:2] or "EC",
                    "tax_id": self._text("clients", sid, rec.tax_id, 20),
                    "credit_balance": max(rec.credit, ZERO),
                    "notes": rec.notes,
                    "created_at": rec.created_at or self.at,
                }
            )
        ids = self._insert(Client, rows)
        self._link("clients", list(zip([r.source_id for r in fresh], ids, strict=True)))
        self.report.created["clients"] += len(ids)
        credit = []
        for rec, cid in zip(fresh, ids, strict=True):
            if rec.credit > 0:  # §7.11: the net balance is the opening credit, one entry
                credit.append(
                    {"client_id": cid, "amount": rec.credit, "kind": "manual", "reason": "import"}
                )
            elif rec.credit < 0:
                self.report.problem("clients", rec.source_id, "negative_credit", skip=False)
        if credit:
            self.s.execute(insert(table_of(CreditEntry)), credit)
        self._users(fresh, ids)

    def _users(self, recs: list[ClientRec], ids: list[int]) -> None:
        taken = self._emails() if recs else {}
        known = self.links("users")
        rows, sids = [], []
        for rec, cid in zip(recs, ids, strict=True):
            for user in rec.users:
                if user.source_id in known or user.source_id in sids:
                    # WHMCS 8: one login owns several accounts; ours has one (§7.12).
                    self.report.problem("users", user.source_id, "owns_several_accounts")
                    continue
                if not user.email or user.email in taken:
                    self.report.problem("users", user.source_id, "duplicate_email")
                    continue
                if user.password_hash is None:  # §7.18: a reset, sent when the owner says
                    self.report.problem("users", user.source_id, "password_reset", skip=False)
                rows.append(
                    {
                        "email": user.email,
                        "name": (user.name or rec.name)[:200],
                        "password_hash": user.password_hash,
                        "role": "client",
                        "client_id": cid,
                        "language": "es",
                        "verified_at": self.at,  # the old system had the address
                    }
                )
                sids.append(user.source_id)
                taken[user.email] = -1
        new = self._insert(User, rows)
        self._link("users", list(zip(sids, new, strict=True)))
        self.report.created["users"] += len(new)

    # ------------------------------------------------------------------ services
    def services(self, recs: list[ServiceRec]) -> None:
        clients, products = self.links("clients"), self.links("products")
        servers = self.links("servers")
        offered: dict[int, set[str]] = {}
        for pid, cycle in self.s.execute(select(ProductPrice.product_id, ProductPrice.cycle)):
            offered.setdefault(pid, set()).add(cycle)
        self._sync_services(recs)
        rows, sids = [], []
        for rec in self._new("services", recs):
            sid = rec.source_id
            if rec.client not in clients:
                self.report.problem("services", sid, "unknown_client")
                continue
            if rec.product not in products:
                self.report.problem("services", sid, "unknown_product")
                continue
            product = products[rec.product]
            if rec.cycle not in offered.get(product, set()):  # §7.4: keep it all the same
                self.report.problem("services", sid, "cycle_not_offered", skip=False)
            if rec.server and rec.server not in servers:
                self.report.problem("services", sid, "unknown_server", skip=False)
            if rec.next_due is None and is_recurring(rec.cycle) and rec.status == "active":
                self.report.problem("services", sid, "no_due_date", skip=False)
            start = rec.next_due or rec.registered or self.at.date()
            rows.append(
                {
                    "client_id": clients[rec.client],
                    "product_id": product,
                    "server_id": servers.get(rec.server) if rec.server else None,
                    "domain": self._text("services", sid, rec.domain, 253) or "",
                    "panel_username": self._text("services", sid, rec.username, 16),
                    "status": rec.status,
                    "billing_cycle": rec.cycle,
                    "recurring_amount": rec.amount,
                    "first_payment_amount": rec.first_amount,
                    "anchor_day": start.day,
                    "registration_date": rec.registered or start,
                    "next_due_date": rec.next_due,
                    "suspend_reason": self._text("services", sid, rec.suspend_reason, 200),
                    "terminated_on": rec.terminated_on,
                }
            )
            sids.append(sid)
        ids = self._insert(Service, rows)
        self._link("services", list(zip(sids, ids, strict=True)))
        self.report.created["services"] += len(ids)

    # ------------------------------------------------------------------ invoices
    def invoices(self, recs: list[InvoiceRec]) -> None:
        clients, services = self.links("clients"), self.links("services")
        self._sync_invoices(recs)
        fresh = [r for r in self._new("invoices", recs) if self._has_client(r, clients)]
        if not fresh:
            return
        wanted = {r.number for r in fresh if r.number}
        taken = set(self.s.scalars(select(Invoice.number).where(Invoice.number.in_(wanted))))
        svc_ids = {services[i.service] for r in fresh for i in r.items if i.service in services}
        schedule = {
            sid: (cycle, anchor)
            for sid, cycle, anchor in self.s.execute(
                select(Service.id, Service.billing_cycle, Service.anchor_day).where(
                    Service.id.in_(svc_ids)
                )
            )
        }
        billed = set(
            self.s.execute(
                select(InvoiceItem.service_id, InvoiceItem.period_start).where(
                    InvoiceItem.kind == "renewal", InvoiceItem.service_id.in_(svc_ids)
                )
            )
            .tuples()
            .all()
        )
        rows, lines = [], []
        for rec in fresh:
            number = rec.number
            if number is not None:
                number = number[:30]
                if number in taken:  # §7.6: duplicate custom numbers happen
                    self.report.problem("invoices", rec.source_id, "duplicate_number", skip=False)
                    number = f"{number[:20]}-{rec.source_id}"[:30]
                taken.add(number)
            its, subtotal, tax = self._lines(rec, services, schedule, billed)
            total = subtotal + tax
            if rec.total not in (total, total - rec.credit):
                self.report.problem("invoices", rec.source_id, "total_mismatch", skip=False)
            paid_in = rec.paid + rec.credit
            if rec.status == "paid" and paid_in != total:
                self.report.problem("invoices", rec.source_id, "paid_not_balanced", skip=False)
            balance = max(total - paid_in, ZERO) if rec.status == "unpaid" else ZERO
            if rec.status == "draft":
                balance = total
            rows.append(
                {
                    "number": number,
                    "client_id": clients[rec.client],
                    "issued_on": rec.issued,
                    "due_on": rec.due,
                    "status": rec.status,
                    "subtotal": subtotal,
                    "tax_total": tax,
                    "total": total,
                    "amount_paid": rec.paid,
                    "credit_applied": rec.credit,
                    "balance": balance,
                    "paid_at": rec.paid_at if rec.status == "paid" else None,
                    "notes": rec.notes,
                    "created_at": datetime.combine(rec.issued, datetime.min.time()),
                }
            )
            lines.append(its)
        ids = self._insert(Invoice, rows)
        items = [
            dict(line, invoice_id=iid) for iid, its in zip(ids, lines, strict=True) for line in its
        ]
        if items:
            self.s.execute(insert(table_of(InvoiceItem)), items)
        self._link("invoices", list(zip([r.source_id for r in fresh], ids, strict=True)))
        self.report.created["invoices"] += len(ids)

    def _has_client(self, rec: Any, clients: dict[str, int]) -> bool:
        if rec.client in clients:
            return True
        kind = "payments" if isinstance(rec, PaymentRec) else "invoices"
        self.report.problem(kind, rec.source_id, "unknown_client")
        return False

    def _lines(
        self,
        rec: InvoiceRec,
        services: dict[str, int],
        schedule: dict[int, tuple[str, int]],
        billed: set[tuple[int | None, date | None]],
    ) -> tuple[list[dict[str, Any]], Decimal, Decimal]:
        """Our lines of an invoice, with its tax spread over the taxed ones (the last taxed
        line takes the rounding) so the lines add up to the source's tax figure."""
        lines: list[dict[str, Any]] = []
        for item in rec.items:
            svc = services.get(item.service) if item.service else None
            kind, start, end = "manual", None, None
            if (
                svc is not None
                and item.period_start is not None
                and rec.status in ("unpaid", "paid", "draft")
                and (svc, item.period_start) not in billed
                and svc in schedule
                and is_recurring(schedule[svc][0])
            ):
                # The daily run sees this period as billed and never bills it again.
                kind, start = "renewal", item.period_start
                end = advance(start, schedule[svc][0], schedule[svc][1])
                billed.add((svc, start))
            taxed = item.taxed and rec.tax_rate > 0
            lines.append(
                {
                    "service_id": svc,
                    "kind": kind,
                    "period_start": start,
                    "period_end": end,
                    "description": item.description[:300],
                    "amount": item.amount,
                    "tax_rate": rec.tax_rate if taxed else Decimal("0"),
                    "tax_amount": _q2(item.amount * rec.tax_rate / 100) if taxed else ZERO,
                }
            )
        subtotal = sum((line["amount"] for line in lines), ZERO)
        computed = sum((line["tax_amount"] for line in lines), ZERO)
        taxed_lines = [line for line in lines if line["tax_amount"] or line["tax_rate"]]
        if taxed_lines and rec.tax != computed:
            taxed_lines[-1]["tax_amount"] += rec.tax - computed
            computed = rec.tax
        return lines, subtotal, computed

    def payments(self, recs: list[PaymentRec]) -> None:
        clients, invoices = self.links("clients"), self.links("invoices")
        fresh = [r for r in self._new("payments", recs) if self._has_client(r, clients)]
        rows = [
            {
                "client_id": clients[r.client],
                "invoice_id": invoices.get(r.invoice) if r.invoice else None,
                "amount": r.amount,
                "method": r.method,
                "reference": (r.reference or "")[:100] or None,
                "received_on": r.received,
            }
            for r in fresh
        ]
        ids = self._insert(Payment, rows)
        self._link("payments", list(zip([r.source_id for r in fresh], ids, strict=True)))
        self.report.created["payments"] += len(ids)

    # ------------------------------------------------------------------ support
    def tickets(self, recs: list[TicketRec]) -> None:
        clients, departments = self.links("clients"), self.links("departments")
        staff = self.links("staff")
        logins = self._client_logins()
        taken = set(
            self.s.scalars(
                select(Ticket.number).where(Ticket.number.in_([r.number[:20] for r in recs]))
            )
        )
        made = 0
        for rec in self._new("tickets", recs):
            sid = rec.source_id
            if rec.department not in departments:
                self.report.problem("tickets", sid, "unknown_department")
                continue
            if rec.client is None:  # §7.13: a guest; no login is made for the address
                client_id = self._guest(rec)
            elif rec.client in clients:
                client_id = clients[rec.client]
            else:
                self.report.problem("tickets", sid, "unknown_client")
                continue
            number = rec.number[:20]
            if number in taken:
                number = f"I{sid}"[:20]
            taken.add(number)
            messages = []
            first_response = None
            for msg in rec.messages:
                author = None
                body = msg.body
                if not msg.by_client:
                    staff_sid = msg.staff or self.staff_by_name.get(msg.staff_name or "")
                    author = staff.get(staff_sid) if staff_sid else None
                    if author is None:  # a renamed or deleted admin: keep the name in the text
                        self.report.problem("tickets", sid, "unknown_admin", skip=False)
                        body = f"[{msg.staff_name or '?'}]\n{body}"
                    first_response = first_response or msg.created_at
                else:
                    author = logins.get(client_id)
                messages.append(
                    {"author_id": author, "body": body, "created_at": msg.created_at or self.at}
                )
            created = rec.created_at or self.at
            last = rec.last_reply_at or created
            (tid,) = self._insert(
                Ticket,
                [
                    {
                        "number": number,
                        "client_id": client_id,
                        "department_id": departments[rec.department],
                        "subject": self._text("tickets", sid, rec.subject, 200),
                        "status": rec.status,
                        "priority": rec.priority,
                        "first_response_at": first_response,
                        "last_reply_at": last,
                        "closed_at": last if rec.status == "closed" else None,
                        "created_at": created,
                    }
                ],
            )
            if messages:
                self.s.execute(
                    insert(table_of(TicketMessage)), [dict(m, ticket_id=tid) for m in messages]
                )
            self._link("tickets", [(sid, tid)])
            made += 1
        self.report.created["tickets"] += made

    def _client_logins(self) -> dict[int, int]:
        rows = self.s.execute(
            select(User.client_id, func.min(User.id))
            .where(User.role == "client", User.client_id.is_not(None))
            .group_by(User.client_id)
        )
        return {cid: uid for cid, uid in rows if cid is not None}

    def _guest(self, rec: TicketRec) -> int:
        """A guest's tickets hang on one client record per address, with no login."""
        key = rec.guest_email or f"ticket:{rec.source_id}"
        found = self.links("guests").get(key)
        if found is None:
            (found,) = self._insert(
                Client,
                [
                    {
                        "name": (rec.guest_name or rec.guest_email or "—")[:200],
                        "email": rec.guest_email[:254],
                        "notes": "guest of the support desk (import)",
                    }
                ],
            )
            self._link("guests", [(key, found)])
        return found
