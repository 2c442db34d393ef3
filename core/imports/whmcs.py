"""WHMCS (8.x schema, 7.x where it differs) read into our records (import-sources.md §2, §6).

Every value goes through ``core.imports.values``; a row that cannot be read is reported and
skipped, never guessed. Secrets (service and server passwords, cards) are not read at all."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
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
    text,
    whmcs_cycle,
)

SYSTEM = "whmcs"
NOT_IMPORTED = [
    "tblhosting.password",
    "tblservers.password/accesshash",
    "tblclients.card/bank data",
    "tblticketdepartments POP passwords",
    "tblpaymentgateways settings",
]

SERVICE_STATUS = {
    "active": "active",
    "suspended": "suspended",
    "pending": "pending",
    "terminated": "terminated",
    "cancelled": "cancelled",
    "fraud": "fraud",
    "completed": "cancelled",
}
INVOICE_STATUS = {
    "paid": "paid",
    "unpaid": "unpaid",
    "paymentpending": "unpaid",
    "collections": "unpaid",
    "overdue": "unpaid",
    "draft": "draft",
    "cancelled": "cancelled",
    "refunded": "refunded",
}
OPEN_INVOICE = ("Unpaid", "Payment Pending", "Collections", "Overdue")
TICKET_STATUS = {
    "open": "open",
    "answered": "answered",
    "customerreply": "customer_reply",
    "inprogress": "in_progress",
    "onhold": "on_hold",
    "closed": "closed",
}
PRIORITY = {"low": "low", "medium": "medium", "high": "high"}
# What is read of each table; a column a version lacks reads as NULL (Source.fields).
ADMIN = "id, email, firstname, lastname, passwordhash, password, disabled"
SERVER = "id, name, hostname, ipaddress, type, username, secure, port, disabled"
PRODUCT = "id, name, description, paytype, servertype, configoption1, hidden, retired"
CLIENT = (
    "id, firstname, lastname, companyname, email, address1, address2, city, state, country, "
    "phonenumber, tax_id, password, currency, credit, datecreated, notes"
)
HOSTING = (
    "id, userid, packageid, server, regdate, domain, firstpaymentamount, amount, billingcycle, "
    "nextduedate, nextinvoicedate, termination_date, domainstatus, username, suspendreason"
)
ADDON = (
    "id, userid, addonid, name, firstpaymentamount, recurring, billingcycle, status, regdate, "
    "nextduedate, nextinvoicedate, termination_date"
)
INVOICE = (
    "id, userid, invoicenum, date, duedate, datepaid, subtotal, credit, tax, tax2, total, "
    "taxrate, status, notes"
)
ACCOUNT = "id, userid, gateway, date, amountin, amountout, transid, invoiceid, refundid"
TICKET = (
    "id, tid, did, userid, name, email, date, title, message, status, urgency, admin, lastreply"
)
PRICE_COLUMNS = {
    "monthly": "msetupfee",
    "quarterly": "qsetupfee",
    "semiannually": "ssetupfee",
    "annually": "asetupfee",
    "biennially": "bsetupfee",
    "triennially": "tsetupfee",
}


def _key(value: object) -> str:
    return "".join(ch for ch in str(value or "").lower() if ch.isalnum())


class WhmcsReader:
    system = SYSTEM
    not_imported = NOT_IMPORTED

    def __init__(self, source: Source, report: Report) -> None:
        self.src = source
        self.report = report
        self.usd = {
            r.id for r in source.all("SELECT id, code FROM tblcurrencies") if r.code == "USD"
        }
        self.has_users = "tblusers_clients" in source.tables()

    # ------------------------------------------------------------------ staff & desk
    def staff(self) -> Iterator[list[StaffRec]]:
        rows = self.src.all(self.src.select("tbladmins", ADMIN))
        yield [
            StaffRec(
                source_id=str(r.id),
                email=email(r.email),
                name=f"{text(r.firstname)} {text(r.lastname)}".strip(),
                password_hash=bcrypt_hash(r.passwordhash) or bcrypt_hash(r.password),
                active=not flag(r.disabled),
            )
            for r in rows
        ]

    def staff_names(self) -> dict[str, str]:
        """Admin full name → source id: ticket replies name their author (§7.13)."""
        rows = self.src.all("SELECT id, firstname, lastname FROM tbladmins")
        return {f"{text(r.firstname)} {text(r.lastname)}".strip(): str(r.id) for r in rows}

    def departments(self) -> Iterator[list[DepartmentRec]]:
        rows = self.src.all(self.src.select("tblticketdepartments", "id, name, email, hidden"))
        yield [
            DepartmentRec(str(r.id), text(r.name), email(r.email) or None, not flag(r.hidden))
            for r in rows
        ]

    # ------------------------------------------------------------------ catalogue
    def servers(self) -> Iterator[list[ServerRec]]:
        rows = self.src.all(self.src.select("tblservers", SERVER))
        found = []
        for r in rows:
            if _key(r.type) != "cpanel":  # §7.21: only cPanel servers are ours to link
                self.report.problem("servers", r.id, "not_cpanel_server")
                continue
            found.append(
                ServerRec(
                    source_id=str(r.id),
                    name=text(r.name) or text(r.hostname),
                    hostname=text(r.hostname) or text(r.ipaddress),
                    port=int(r.port or 2087),
                    secure=flag(r.secure) or not r.secure,
                    username=text(r.username) or "root",
                    active=not flag(r.disabled),
                )
            )
        yield found

    def products(self) -> Iterator[list[ProductRec]]:
        prices: dict[int, list] = {}
        for p in self.src.all("SELECT * FROM tblpricing WHERE type = 'product'"):
            if p.currency in self.usd:
                prices.setdefault(p.relid, []).append(p)
        rows = self.src.all(self.src.select("tblproducts", PRODUCT))
        found = []
        for r in rows:
            rec = ProductRec(
                source_id=str(r.id),
                name=text(r.name),
                description=text(r.description) or None,
                whm_package=text(r.configoption1) if _key(r.servertype) == "cpanel" else "",
                active=not flag(r.retired),
            )
            rows_usd = prices.get(r.id, [])
            if not rows_usd:
                self.report.problem("products", r.id, "no_usd_price", skip=False)
            for p in rows_usd[:1]:
                paytype = _key(r.paytype)
                if paytype == "free":
                    rec.prices["free"] = (Decimal("0.00"), Decimal("0.00"))
                elif paytype == "onetime":  # the single price sits in `monthly`
                    rec.prices["onetime"] = (money(p.monthly), money(p.msetupfee))
                else:
                    for cycle, setup in PRICE_COLUMNS.items():
                        price = money(getattr(p, cycle))
                        if price != Decimal("-1.00"):  # -1.00 = cycle off; 0.00 = free (§7.3)
                            rec.prices[cycle] = (price, max(money(getattr(p, setup)), Decimal(0)))
            found.append(rec)
        yield found
        yield self._addon_products()

    def _addon_products(self) -> list[ProductRec]:
        """Addons are sold on their own cycle and status (§7.22): each catalogue addon is a
        product, and each custom-named one (addonid = 0) a product of its name, unpriced."""
        prices: dict[int, Any] = {}
        for p in self.src.all("SELECT * FROM tblpricing WHERE type = 'addon'"):
            if p.currency in self.usd:
                prices.setdefault(p.relid, p)
        found = []
        names = "id, name, description, billingcycle, retired"
        for r in self.src.all(self.src.select("tbladdons", names)):
            rec = ProductRec(
                source_id=f"addon:{r.id}",
                name=text(r.name),
                description=text(r.description) or None,
                whm_package="",
                active=not flag(r.retired),
            )
            p = prices.get(r.id)
            try:
                cycle = whmcs_cycle(r.billingcycle)
            except BadValue:
                cycle = "monthly"
            if p is None:
                self.report.problem("products", rec.source_id, "no_usd_price", skip=False)
            elif cycle == "free":
                rec.prices["free"] = (Decimal("0.00"), Decimal("0.00"))
            elif cycle == "onetime":
                rec.prices["onetime"] = (money(p.monthly), money(p.msetupfee))
            else:
                for column, setup in PRICE_COLUMNS.items():
                    price = money(getattr(p, column))
                    if price != Decimal("-1.00"):
                        rec.prices[column] = (price, max(money(getattr(p, setup)), Decimal(0)))
            found.append(rec)
        for r in self.src.all(
            "SELECT DISTINCT name FROM tblhostingaddons WHERE addonid = 0 AND name <> ''"
        ):
            found.append(
                ProductRec(f"addon-name:{text(r.name).lower()}", text(r.name), None, "", True)
            )
        return found

    # ------------------------------------------------------------------ clients
    def clients(self) -> Iterator[list[ClientRec]]:
        for page in self.src.pages(self.src.select("tblclients", CLIENT, "WHERE")):
            ids = [r.id for r in page]
            users: dict[int, list[UserRec]] = {}
            if self.has_users:  # WHMCS 8: logins are users, linked to accounts (§7.12)
                for u in self.src.many(
                    "SELECT uc.client_id, uc.owner, u.id, u.email, u.first_name, u.last_name, "
                    "u.password FROM tblusers_clients uc JOIN tblusers u ON u.id = uc.auth_user_id "
                    "WHERE uc.client_id IN :ids ORDER BY uc.owner DESC, u.id",
                    ids,
                ):
                    users.setdefault(u.client_id, []).append(
                        UserRec(
                            str(u.id),
                            email(u.email),
                            f"{text(u.first_name)} {text(u.last_name)}".strip(),
                            bcrypt_hash(u.password),
                        )
                    )
            contacts: dict[int, list[str]] = {}
            for c in self.src.many(
                "SELECT userid, firstname, lastname, email FROM tblcontacts WHERE userid IN :ids",
                ids,
            ):
                who = f"{text(c.firstname)} {text(c.lastname)}".strip()
                contacts.setdefault(c.userid, []).append(f"{who} <{email(c.email)}>")
            found = []
            for r in page:
                if r.currency not in self.usd:
                    self.report.problem("clients", r.id, "currency_not_usd")
                    continue
                try:
                    created = moment(r.datecreated)
                    credit = money(r.credit)
                except BadValue as exc:
                    self.report.problem("clients", r.id, exc.code)
                    continue
                name = f"{text(r.firstname)} {text(r.lastname)}".strip()
                notes = text(r.notes)
                if contacts.get(r.id):
                    notes = "\n".join([notes, "Contacts: " + "; ".join(contacts[r.id])]).strip()
                login = users.get(r.id) or []
                if not self.has_users:  # WHMCS 7: the client account is the login
                    login = [UserRec(str(r.id), email(r.email), name, bcrypt_hash(r.password))]
                found.append(
                    ClientRec(
                        source_id=str(r.id),
                        name=name or text(r.companyname),
                        company=text(r.companyname) or None,
                        email=email(r.email),
                        phone=text(r.phonenumber) or None,
                        address=" ".join(x for x in (text(r.address1), text(r.address2)) if x)
                        or None,
                        city=text(r.city) or None,
                        province=text(r.state) or None,
                        country=(text(r.country) or "EC")[:2].upper(),
                        tax_id=text(getattr(r, "tax_id", "")) or None,
                        notes=notes or None,
                        credit=credit,
                        created_at=created,
                        users=login,
                    )
                )
            yield found

    # ------------------------------------------------------------------ services
    def services(self) -> Iterator[list[ServiceRec]]:
        for page in self.src.pages(self.src.select("tblhosting", HOSTING, "WHERE")):
            found = []
            for r in page:
                try:
                    cycle = whmcs_cycle(r.billingcycle)
                    due = day(r.nextduedate) or day(r.nextinvoicedate)  # §7.2 fallback
                    rec = ServiceRec(
                        source_id=str(r.id),
                        client=str(r.userid),
                        product=str(r.packageid),
                        server=str(r.server) if r.server else None,
                        domain=text(r.domain).lower(),
                        username=text(r.username) or None,
                        status=SERVICE_STATUS.get(_key(r.domainstatus), "pending"),
                        cycle=cycle,
                        next_due=due if cycle not in ("free", "onetime") else None,
                        amount=money(r.amount),
                        first_amount=money(r.firstpaymentamount),
                        registered=day(r.regdate),
                        suspend_reason=text(r.suspendreason) or None,
                        terminated_on=day(r.termination_date),
                    )
                except BadValue as exc:
                    self.report.problem("services", r.id, exc.code)
                    continue
                found.append(rec)
            yield found
        for page in self.src.pages(
            f"SELECT {self.src.fields('tblhostingaddons', ADDON, alias='a')}, h.domain, "  # noqa: S608
            "h.userid AS parent_userid "
            "FROM tblhostingaddons a LEFT JOIN tblhosting h ON h.id = a.hostingid WHERE",
            key="a.id",
        ):
            addons = [self._addon(r) for r in page]
            yield [a for a in addons if a is not None]

    def _addon(self, r: Any) -> ServiceRec | None:
        """An addon instance: a service of its own on its parent's domain (§7.22)."""
        sid = f"addon:{r.id}"
        try:
            cycle = whmcs_cycle(r.billingcycle)
            due = day(r.nextduedate) or day(r.nextinvoicedate)
            return ServiceRec(
                source_id=sid,
                client=str(r.userid or r.parent_userid),  # 7.0 addons name no client
                product=f"addon:{r.addonid}" if r.addonid else f"addon-name:{text(r.name).lower()}",
                server=None,
                domain=text(r.domain).lower(),
                username=None,
                status=SERVICE_STATUS.get(_key(r.status), "pending"),
                cycle=cycle,
                next_due=due if cycle not in ("free", "onetime") else None,
                amount=money(r.recurring),
                first_amount=money(r.firstpaymentamount),
                registered=day(r.regdate),
                suspend_reason=None,
                terminated_on=day(r.termination_date),
            )
        except BadValue as exc:
            self.report.problem("services", sid, exc.code)
            return None

    # ------------------------------------------------------------------ money
    def invoices(self) -> Iterator[list[InvoiceRec]]:
        for page in self.src.pages(self.src.select("tblinvoices", INVOICE, "WHERE")):
            ids = [r.id for r in page]
            items: dict[int, list] = {}
            for it in self.src.many(
                "SELECT invoiceid, type, relid, description, amount, taxed, duedate "
                "FROM tblinvoiceitems WHERE invoiceid IN :ids ORDER BY id",
                ids,
            ):
                items.setdefault(it.invoiceid, []).append(it)
            paid = {
                p.invoiceid: money(p.net)
                for p in self.src.many(
                    "SELECT invoiceid, SUM(amountin) - SUM(amountout) AS net FROM tblaccounts "
                    "WHERE invoiceid IN :ids GROUP BY invoiceid",
                    ids,
                )
            }
            found = []
            for r in page:
                try:
                    issued = day(r.date)
                    rec = InvoiceRec(
                        source_id=str(r.id),
                        client=str(r.userid),
                        number=text(r.invoicenum) or None,  # proforma: empty (§7.6)
                        issued=issued or day(r.duedate),  # type: ignore[arg-type]
                        due=day(r.duedate) or issued,  # type: ignore[arg-type]
                        paid_at=moment(r.datepaid),
                        status=INVOICE_STATUS.get(_key(r.status), "unpaid"),
                        tax_rate=Decimal(str(r.taxrate or 0)),
                        tax=money(r.tax) + money(r.tax2),
                        total=money(r.total),
                        credit=money(r.credit),
                        paid=paid.get(r.id, Decimal("0.00")),
                        notes=text(r.notes) or None,
                        items=[
                            ItemRec(
                                description=text(it.description) or "—",
                                amount=money(it.amount),
                                taxed=flag(it.taxed),
                                service=_billed_service(it.type, it.relid),
                                period_start=day(it.duedate),
                            )
                            for it in items.get(r.id, [])
                        ],
                    )
                    if rec.issued is None:
                        raise BadValue("impossible_date")
                except BadValue as exc:
                    self.report.problem("invoices", r.id, exc.code)
                    continue
                if rec.number is None and rec.status != "draft":
                    rec.number = str(r.id)  # the default WHMCS number is the id
                found.append(rec)
            yield found

    def payments(self) -> Iterator[list[PaymentRec]]:
        for page in self.src.pages(self.src.select("tblaccounts", ACCOUNT, "WHERE")):
            found = []
            for r in page:
                try:
                    amount = money(r.amountin) - money(r.amountout)  # §7.8: refunds are out
                    received = day(r.date)
                except BadValue as exc:
                    self.report.problem("payments", r.id, exc.code)
                    continue
                if received is None:
                    self.report.problem("payments", r.id, "impossible_date")
                    continue
                if r.refundid:
                    self.report.problem("payments", r.id, "refund", skip=False)
                found.append(
                    PaymentRec(
                        source_id=str(r.id),
                        client=str(r.userid),
                        invoice=str(r.invoiceid) if r.invoiceid else None,
                        amount=amount,
                        method=_method(r.gateway),
                        reference=text(r.transid) or None,
                        received=received,
                    )
                )
            yield found

    def balances(self) -> dict[str, Balance]:
        """The source's own view per client: open invoices less what was paid, and credit."""
        out = {
            str(r.id): Balance(Decimal("0.00"), money(r.credit))
            for r in self.src.all("SELECT id, credit FROM tblclients")
        }
        for r in self.src.many(
            "SELECT i.userid, SUM(i.subtotal + i.tax + i.tax2 - i.credit "
            "  - COALESCE((SELECT SUM(a.amountin - a.amountout) FROM tblaccounts a "
            "              WHERE a.invoiceid = i.id), 0)) AS open "
            "FROM tblinvoices i WHERE i.status IN :ids GROUP BY i.userid",
            OPEN_INVOICE,
        ):
            if str(r.userid) in out:
                out[str(r.userid)].open = money(r.open)
        return out

    # ------------------------------------------------------------------ support
    def tickets(self) -> Iterator[list[TicketRec]]:
        for page in self.src.pages(self.src.select("tbltickets", TICKET, "WHERE")):
            replies: dict[int, list] = {}
            for rp in self.src.many(
                "SELECT tid, date, message, admin FROM tblticketreplies WHERE tid IN :ids "
                "ORDER BY id",
                [r.id for r in page],
            ):
                replies.setdefault(rp.tid, []).append(rp)  # tid is tbltickets.id (§7.14)
            found = []
            for r in page:
                status = TICKET_STATUS.get(_key(r.status))
                if status is None:  # custom statuses are editable in WHMCS (§7.15)
                    self.report.problem("tickets", r.id, "unknown_ticket_status", skip=False)
                    status = "open"
                try:
                    first = MessageRec(
                        text(r.message), moment(r.date), None, text(r.admin) or None, not r.admin
                    )
                    msgs = [first] + [
                        MessageRec(
                            text(m.message),
                            moment(m.date),
                            None,
                            text(m.admin) or None,
                            not m.admin,
                        )
                        for m in replies.get(r.id, [])
                    ]
                    rec = TicketRec(
                        source_id=str(r.id),
                        client=str(r.userid) if r.userid else None,
                        guest_name=text(r.name),
                        guest_email=email(r.email),
                        department=str(r.did) if r.did else None,
                        number=text(r.tid) or str(r.id),
                        subject=text(r.title) or "—",
                        status=status,
                        priority=PRIORITY.get(_key(r.urgency), "medium"),
                        created_at=moment(r.date),
                        last_reply_at=moment(r.lastreply),
                        messages=msgs,
                    )
                except BadValue as exc:
                    self.report.problem("tickets", r.id, exc.code)
                    continue
                found.append(rec)
            yield found


def _billed_service(kind: object, relid: object) -> str | None:
    """The source service an invoice line bills: a hosting account or an addon."""
    if not relid:
        return None
    key = _key(kind)
    if key == "hosting":
        return str(relid)
    if key == "addon":
        return f"addon:{relid}"
    return None


def _method(gateway: object) -> str:
    """Our payment methods from a gateway module name."""
    key = _key(gateway)
    if key in {"banktransfer", "transfer", "bank"}:
        return "transfer"
    if key in {"credit", "accountcredit"}:
        return "credit"
    if key in {"cash", "mailin"}:
        return "cash"
    if key in {"paypal", "stripe", "authorizenet", "payphone", "card", "2checkout", "kushki"}:
        return "card"
    return "other"
