"""FOSSBilling (0.7, 0.8 and main) read into our records (import-sources.md §1, §6).

Versions differ in shape, not name (§7.25): the prices are wide columns or
``product_payment_period`` rows, guest tickets a separate table or merged. What is there is
asked with SHOW TABLES / SHOW COLUMNS, never assumed from a version number. Money arrives as
DECIMAL, DOUBLE or VARCHAR and is read exact (§7.9); invoices have no totals and are
recomputed (§7.10); the client balance is a ledger whose net sum is the opening credit (§7.11)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from core.imports.records import (
    Balance,
    ClientRec,
    DepartmentRec,
    InvoiceRec,
    ItemRec,
    MessageRec,
    PaymentRec,
    ProductRec,
    ServerRec,
    ServiceRec,
    StaffRec,
    TicketRec,
    UserRec,
)
from core.imports.report import Report
from core.imports.source import Source
from core.imports.values import (
    BadValue,
    bcrypt_hash,
    day,
    email,
    flag,
    moment,
    money,
    period_cycle,
    text,
)

SYSTEM = "fossbilling"
NOT_IMPORTED = [
    "service_hosting.pass (a '********' placeholder)",
    "service_hosting_server.password/accesshash",
    "pay_gateway.config",
]
ZERO = Decimal("0.00")
ORDER_STATUS = {
    "pending_setup": "pending",
    "failed_setup": "pending",
    "active": "active",
    "failed_renew": "active",
    "suspended": "suspended",
    "canceled": "cancelled",
    "cancelled": "cancelled",
}
INVOICE_STATUS = {
    "paid": "paid",
    "unpaid": "unpaid",
    "refunded": "refunded",
    "canceled": "cancelled",
}
TICKET_STATUS = {"open": "open", "on_hold": "on_hold", "closed": "closed"}
# Wide price columns (0.7/0.8): prefix → period code (Product/Service.php, 0.8.5).
PREFIXES = {"w": "1W", "m": "1M", "q": "3M", "b": "6M", "a": "1Y", "bia": "2Y", "tria": "3Y"}
PAID_TRANSACTION = ("processed", "approved")


def _dec(value: object) -> Decimal:
    try:
        return Decimal(str(value or "0").strip() or "0")
    except ArithmeticError as exc:
        raise BadValue("not_a_number") from exc


def _q2(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class FossReader:
    system = SYSTEM
    not_imported = NOT_IMPORTED

    def __init__(self, source: Source, report: Report) -> None:
        self.src = source
        self.report = report
        tables = source.tables()
        self.period_rows = "product_payment_period" in tables  # main: prices as rows
        self.guest_table = "support_p_ticket" in tables  # 0.7: guests apart
        default = [
            r.code for r in source.all("SELECT code, is_default FROM currency") if r.is_default
        ]
        self.default_currency = default[0] if default else "USD"

    # ------------------------------------------------------------------ staff & desk
    def staff(self) -> Iterator[list[StaffRec]]:
        rows = self.src.all("SELECT id, email, name, pass AS password, status FROM admin")
        yield [
            StaffRec(
                str(r.id),
                email(r.email),
                text(r.name),
                bcrypt_hash(r.password),
                r.status == "active",
            )
            for r in rows
        ]

    def departments(self) -> Iterator[list[DepartmentRec]]:
        rows = self.src.all("SELECT id, name, email FROM support_helpdesk")
        yield [DepartmentRec(str(r.id), text(r.name), email(r.email) or None, True) for r in rows]

    # ------------------------------------------------------------------ catalogue
    def servers(self) -> Iterator[list[ServerRec]]:
        found = []
        for r in self.src.all(
            "SELECT id, name, hostname, ip, manager, username, port, secure, active "
            "FROM service_hosting_server"
        ):
            if str(r.manager or "").lower() not in {"whm", "cpanel"}:
                self.report.problem("servers", r.id, "not_cpanel_server")
                continue
            port = str(r.port or "").strip()
            found.append(
                ServerRec(
                    source_id=str(r.id),
                    name=text(r.name) or text(r.hostname),
                    hostname=text(r.hostname) or text(r.ip),
                    port=int(port) if port.isdigit() else 2087,
                    secure=flag(r.secure),
                    username=text(r.username) or "root",
                    active=flag(r.active),
                )
            )
        yield found

    def _plans(self) -> dict[int, str]:
        return {r.id: text(r.name) for r in self.src.all("SELECT id, name FROM service_hosting_hp")}

    def _price_rows(self) -> dict[int, list[tuple[str, Any, Any, Any]]]:
        """product_payment id → [(period code, price, setup, enabled)], whatever the shape."""
        out: dict[int, list[tuple[str, Any, Any, Any]]] = {}
        if self.period_rows:
            for r in self.src.all(
                "SELECT product_payment_id, code, price, setup_price, enabled "
                "FROM product_payment_period"
            ):
                out.setdefault(r.product_payment_id, []).append(
                    (r.code, r.price, r.setup_price, r.enabled)
                )
            return out
        for r in self.src.all("SELECT * FROM product_payment"):
            rows = out.setdefault(r.id, [])
            for prefix, code in PREFIXES.items():
                rows.append(
                    (
                        code,
                        getattr(r, f"{prefix}_price"),
                        getattr(r, f"{prefix}_setup_price"),
                        getattr(r, f"{prefix}_enabled"),
                    )
                )
        return out

    def products(self) -> Iterator[list[ProductRec]]:
        payments = {
            r.id: r
            for r in self.src.all(
                "SELECT id, type, once_price, once_setup_price FROM product_payment"
            )
        }
        prices = self._price_rows()
        plans = self._plans()
        found = []
        for r in self.src.all(
            "SELECT id, title, description, type, product_payment_id, status, config FROM product"
        ):
            package = ""
            if r.type == "hosting":
                try:
                    plan_id = json.loads(r.config or "{}").get("hosting_plan_id")
                except (ValueError, AttributeError):
                    plan_id = None
                package = plans.get(int(plan_id), "") if str(plan_id or "").isdigit() else ""
            rec = ProductRec(
                source_id=str(r.id),
                name=text(r.title),
                description=text(r.description) or None,
                whm_package=package,
                active=r.status == "enabled",
            )
            pay = payments.get(r.product_payment_id)
            kind = (pay.type if pay else "free") or "free"
            try:
                if kind == "free":
                    rec.prices["free"] = (ZERO, ZERO)
                elif kind == "once" and pay is not None:
                    rec.prices["onetime"] = (money(pay.once_price), money(pay.once_setup_price))
                else:
                    for code, price, setup, enabled in prices.get(r.product_payment_id, []):
                        if not flag(enabled):
                            continue
                        amount = money(price)
                        if amount <= 0:  # enabled with 0.00 is the default, not a choice (§1.2)
                            self.report.problem("products", r.id, "zero_price_enabled", skip=False)
                            continue
                        try:
                            rec.prices[period_cycle(code)] = (amount, money(setup))
                        except BadValue as exc:
                            self.report.problem("products", r.id, exc.code, skip=False)
            except BadValue as exc:
                self.report.problem("products", r.id, exc.code)
                continue
            found.append(rec)
        yield found

    # ------------------------------------------------------------------ clients
    def clients(self) -> Iterator[list[ClientRec]]:
        for page in self.src.pages(
            "SELECT id, email, pass AS password, first_name, last_name, company, company_vat, "
            "phone_cc, phone, address_1, address_2, city, state, country, currency, notes, "
            "created_at "
            "FROM client WHERE"
        ):
            credit = {
                r.client_id: money(r.total)
                for r in self.src.many(
                    "SELECT client_id, SUM(amount) AS total FROM client_balance "
                    "WHERE client_id IN :ids GROUP BY client_id",
                    [r.id for r in page],
                )
            }
            found = []
            for r in page:
                if (text(r.currency) or self.default_currency).upper() != "USD":
                    self.report.problem("clients", r.id, "currency_not_usd")
                    continue
                try:
                    created = moment(r.created_at)
                except BadValue as exc:
                    self.report.problem("clients", r.id, exc.code)
                    continue
                name = f"{text(r.first_name)} {text(r.last_name)}".strip()
                phone = text(r.phone)
                if phone and text(r.phone_cc):
                    phone = f"+{text(r.phone_cc).lstrip('+')} {phone}"
                found.append(
                    ClientRec(
                        source_id=str(r.id),
                        name=name or text(r.company),
                        company=text(r.company) or None,
                        email=email(r.email),
                        phone=phone or None,
                        address=" ".join(x for x in (text(r.address_1), text(r.address_2)) if x)
                        or None,
                        city=text(r.city) or None,
                        province=text(r.state) or None,
                        country=(text(r.country) or "EC")[:2].upper(),
                        tax_id=text(r.company_vat) or None,
                        notes=text(r.notes) or None,
                        credit=credit.get(r.id, ZERO),
                        created_at=created,
                        users=[UserRec(str(r.id), email(r.email), name, bcrypt_hash(r.password))],
                    )
                )
            yield found

    # ------------------------------------------------------------------ services
    def services(self) -> Iterator[list[ServiceRec]]:
        kinds = {
            r.id: r.type
            for r in self.src.all(
                "SELECT p.id, pp.type FROM product p "
                "LEFT JOIN product_payment pp ON pp.id = p.product_payment_id"
            )
        }
        for page in self.src.pages(
            "SELECT o.id, o.client_id, o.product_id, o.service_type, o.service_id, o.title, "
            "o.period, o.price, o.status, o.reason, o.expires_at, o.activated_at, "
            "o.canceled_at, o.created_at, o.config FROM client_order o WHERE",
            key="o.id",
        ):
            hosting = {
                h.id: h
                for h in self.src.many(
                    "SELECT id, service_hosting_server_id, sld, tld, username FROM service_hosting "
                    "WHERE id IN :ids",
                    [r.service_id for r in page if r.service_type == "hosting" and r.service_id],
                )
            }
            found = []
            for r in page:
                try:
                    if r.period:
                        cycle = period_cycle(r.period)  # §7.26: '45D', '1W' are not ours
                    else:
                        cycle = "onetime" if kinds.get(r.product_id) == "once" else "free"
                    h = hosting.get(r.service_id) if r.service_type == "hosting" else None
                    domain = f"{text(h.sld)}{text(h.tld)}" if h else ""  # tld has its dot
                    if not domain:
                        try:
                            domain = str(
                                json.loads(r.config or "{}")
                                .get("domain", {})
                                .get("owndomain_sld", "")
                            )
                        except (ValueError, AttributeError):
                            domain = ""
                    status = ORDER_STATUS.get(str(r.status or ""), "pending")
                    found.append(
                        ServiceRec(
                            source_id=str(r.id),
                            client=str(r.client_id),
                            product=str(r.product_id),
                            server=str(h.service_hosting_server_id)
                            if h and h.service_hosting_server_id
                            else None,
                            domain=domain.lower(),
                            username=(text(h.username) or None) if h else None,
                            status=status,
                            cycle=cycle,
                            next_due=day(r.expires_at)
                            if cycle not in ("free", "onetime")
                            else None,
                            amount=money(r.price),
                            first_amount=ZERO,
                            registered=day(r.activated_at) or day(r.created_at),
                            suspend_reason=text(r.reason) or None
                            if status == "suspended"
                            else None,
                            terminated_on=day(r.canceled_at),
                        )
                    )
                except BadValue as exc:
                    self.report.problem("services", r.id, exc.code)
            yield found

    # ------------------------------------------------------------------ money
    def _paid(self, ids: list[Any]) -> dict[int, Decimal]:
        """Processed gateway payments per invoice; amounts are VARCHAR in releases (§7.9)."""
        out: dict[int, Decimal] = {}
        for t in self.src.many(
            "SELECT invoice_id, amount FROM transaction WHERE invoice_id IN :ids AND status IN :st",
            ids,
            st=list(PAID_TRANSACTION),
        ):
            try:
                out[t.invoice_id] = out.get(t.invoice_id, ZERO) + money(t.amount)
            except BadValue:
                continue  # reported with the payments
        return out

    def invoices(self) -> Iterator[list[InvoiceRec]]:
        for page in self.src.pages(
            "SELECT id, client_id, serie, nr, currency, status, approved, taxrate, notes, "
            "due_at, paid_at, created_at FROM invoice WHERE"
        ):
            ids = [r.id for r in page]
            items: dict[int, list] = {}
            for it in self.src.many(
                "SELECT invoice_id, type, rel_id, task, title, quantity, price, taxed "
                "FROM invoice_item WHERE invoice_id IN :ids ORDER BY id",
                ids,
            ):
                items.setdefault(it.invoice_id, []).append(it)
            orders = {
                str(o.id): day(o.expires_at)
                for o in self.src.many(
                    "SELECT id, expires_at FROM client_order WHERE id IN :ids",
                    [
                        int(it.rel_id)
                        for its in items.values()
                        for it in its
                        if it.type == "order" and str(it.rel_id or "").isdigit()
                    ],
                )
            }
            paid = self._paid(ids)
            found = []
            for r in page:
                try:
                    rec = self._invoice(r, items.get(r.id, []), orders, paid.get(r.id, ZERO))
                except BadValue as exc:
                    self.report.problem("invoices", r.id, exc.code)
                    continue
                if rec is not None:
                    found.append(rec)
            yield found

    def _invoice(
        self, r: Any, items: list[Any], orders: dict[str, Any], paid: Decimal
    ) -> InvoiceRec | None:
        if (text(r.currency) or self.default_currency).upper() != "USD":
            self.report.problem("invoices", r.id, "currency_not_usd")
            return None
        status = INVOICE_STATUS.get(str(r.status or ""), "unpaid")
        if status == "unpaid" and not flag(r.approved):
            status = "draft"  # not issued yet [inf §1.2]
        rate = _dec(r.taxrate)
        lines, taxable = [], ZERO
        for it in items:
            qty = int(it.quantity or 1)
            amount = _q2(money(it.price) * qty)
            renew = it.type == "order" and it.task == "renew" and status in ("unpaid", "draft")
            service = str(it.rel_id) if it.type == "order" and it.rel_id else None
            title = text(it.title) or "—"
            lines.append(
                ItemRec(
                    description=title if qty == 1 else f"{title} × {qty}",
                    amount=amount,
                    taxed=flag(it.taxed),
                    service=service,
                    period_start=orders.get(service or "") if renew else None,
                )
            )
            if flag(it.taxed):
                taxable += amount
        tax = _q2(taxable * rate / 100)  # §7.10: on the taxable subtotal, rounded once
        total = sum((line.amount for line in lines), ZERO) + tax
        credit = max(total - paid, ZERO) if status == "paid" else ZERO  # paid from the balance
        issued = day(r.created_at)
        if issued is None:
            raise BadValue("impossible_date")
        number = None
        if r.nr not in (None, ""):
            nr = str(r.nr)
            number = f"{text(r.serie)}{nr.zfill(5) if nr.isdigit() else nr}"
        elif status != "draft":
            number = f"{text(r.serie)}{str(r.id).zfill(5)}"
        return InvoiceRec(
            source_id=str(r.id),
            client=str(r.client_id),
            number=number,
            issued=issued,
            due=day(r.due_at) or issued,
            paid_at=moment(r.paid_at),
            status=status,
            tax_rate=rate,
            tax=tax,
            total=total,
            credit=credit,
            paid=paid if status != "paid" else min(paid, total),
            notes=text(r.notes) or None,
            items=lines,
        )

    def payments(self) -> Iterator[list[PaymentRec]]:
        gateways = {
            r.id: text(r.gateway) for r in self.src.all("SELECT id, gateway FROM pay_gateway")
        }
        for page in self.src.pages(
            "SELECT t.id, t.invoice_id, t.gateway_id, t.txn_id, t.amount, t.status, "
            "t.created_at, i.client_id FROM transaction t "
            "LEFT JOIN invoice i ON i.id = t.invoice_id WHERE",
            key="t.id",
        ):
            found = []
            for r in page:
                if r.status not in PAID_TRANSACTION:
                    self.report.problem("payments", r.id, "not_processed")
                    continue
                try:
                    amount = money(r.amount)
                    received = day(r.created_at)
                except BadValue as exc:
                    self.report.problem("payments", r.id, exc.code)
                    continue
                if received is None or r.client_id is None:
                    self.report.problem(
                        "payments", r.id, "unknown_client" if received else "impossible_date"
                    )
                    continue
                gateway = gateways.get(r.gateway_id, "").lower()
                method = {"custom": "transfer", "banktransfer": "transfer"}.get(
                    gateway, "card" if gateway in {"paypalemail", "stripe", "paypal"} else "other"
                )
                found.append(
                    PaymentRec(
                        source_id=str(r.id),
                        client=str(r.client_id),
                        invoice=str(r.invoice_id) if r.invoice_id else None,
                        amount=amount,
                        method=method,
                        reference=text(r.txn_id) or None,
                        received=received,
                    )
                )
            yield found

    def balances(self) -> dict[str, Balance]:
        """Open = unpaid, issued invoices recomputed less processed payments; credit = the
        balance ledger's sum (there is no balance column, §1.2)."""
        out: dict[str, Balance] = {}
        for r in self.src.all(
            "SELECT c.id, COALESCE((SELECT SUM(b.amount) FROM client_balance b "
            "WHERE b.client_id = c.id), 0) AS credit FROM client c"
        ):
            out[str(r.id)] = Balance(ZERO, money(r.credit))
        rows = self.src.all(
            "SELECT i.id, i.client_id, i.taxrate, "
            "SUM(CAST(ii.price AS DECIMAL(18,2)) * ii.quantity) AS sub, "
            "SUM(IF(ii.taxed, CAST(ii.price AS DECIMAL(18,2)) * ii.quantity, 0)) AS taxable "
            "FROM invoice i JOIN invoice_item ii ON ii.invoice_id = i.id "
            "WHERE i.status = 'unpaid' AND i.approved = 1 GROUP BY i.id, i.client_id, i.taxrate"
        )
        paid = self._paid([r.id for r in rows])
        for r in rows:
            open_ = money(r.sub) + _q2(money(r.taxable) * _dec(r.taxrate) / 100)
            if str(r.client_id) in out:
                out[str(r.client_id)].open += open_ - paid.get(r.id, ZERO)
        return out

    # ------------------------------------------------------------------ support
    def tickets(self) -> Iterator[list[TicketRec]]:
        cols = self.src.columns("support_ticket")
        guest_cols = (
            "author_name, author_email"
            if "author_email" in cols
            else "'' AS author_name, '' AS author_email"
        )
        for page in self.src.pages(
            f"SELECT id, support_helpdesk_id, client_id, subject, status, priority, created_at, "  # noqa: S608 - column names from SHOW COLUMNS
            f"updated_at, {guest_cols} FROM support_ticket WHERE"
        ):
            msgs: dict[int, list[MessageRec]] = {}
            for m in self.src.many(
                "SELECT support_ticket_id, client_id, admin_id, content, created_at "
                "FROM support_ticket_message WHERE support_ticket_id IN :ids ORDER BY id",
                [r.id for r in page],
            ):
                msgs.setdefault(m.support_ticket_id, []).append(
                    self._message(m.admin_id, m.content, m.created_at)
                )
            yield [
                t for r in page if (t := self._ticket(r, str(r.id), msgs.get(r.id, []))) is not None
            ]
        if self.guest_table:  # 0.7: guest tickets in their own tables (§7.25)
            for page in self.src.pages(
                "SELECT id, subject, status, author_name, author_email, created_at, updated_at, "
                "NULL AS client_id, NULL AS support_helpdesk_id, 100 AS priority "
                "FROM support_p_ticket WHERE"
            ):
                msgs = {}
                for m in self.src.many(
                    "SELECT support_p_ticket_id, admin_id, content, created_at FROM "
                    "support_p_ticket_message WHERE support_p_ticket_id IN :ids ORDER BY id",
                    [r.id for r in page],
                ):
                    msgs.setdefault(m.support_p_ticket_id, []).append(
                        self._message(m.admin_id, m.content, m.created_at)
                    )
                yield [
                    t
                    for r in page
                    if (t := self._ticket(r, f"p{r.id}", msgs.get(r.id, []))) is not None
                ]

    @staticmethod
    def _message(admin_id: Any, content: Any, created: Any) -> MessageRec:
        return MessageRec(
            body=text(content),
            created_at=moment(created),
            staff=str(admin_id) if admin_id else None,
            staff_name=None,
            by_client=not admin_id,
        )

    def _ticket(self, r: Any, sid: str, messages: list[MessageRec]) -> TicketRec | None:
        status = TICKET_STATUS.get(str(r.status or ""))
        if status is None:
            self.report.problem("tickets", sid, "unknown_ticket_status", skip=False)
            status = "open"
        try:
            created, updated = moment(r.created_at), moment(r.updated_at)
        except BadValue as exc:
            self.report.problem("tickets", sid, exc.code)
            return None
        department = str(r.support_helpdesk_id) if r.support_helpdesk_id else None
        if department is None:  # 0.7 guest tickets have no desk: the first one takes them
            first = self.src.all("SELECT MIN(id) AS id FROM support_helpdesk")
            department = str(first[0].id) if first and first[0].id else None
        priority = int(r.priority or 100)
        return TicketRec(
            source_id=sid,
            client=str(r.client_id) if r.client_id else None,
            guest_name=text(r.author_name),
            guest_email=email(r.author_email),
            department=department,
            number=f"FB-{sid}",
            subject=text(r.subject) or "—",
            status=status,
            priority="medium" if priority == 100 else ("high" if priority < 100 else "low"),
            created_at=created,
            last_reply_at=updated or created,
            messages=messages,
        )
