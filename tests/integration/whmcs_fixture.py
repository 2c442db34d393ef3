"""A small WHMCS 8.4.0 book holding every edge case of import-sources.md §7 that WHMCS can
show, each row commented with the case it stands for, and what the import must make of it.

Dates are relative to ``TODAY`` so the daily-run test (acceptance 4) bills a renewal due
"tomorrow + 14 days" exactly as in the source."""

from __future__ import annotations

from datetime import date, timedelta

from tests.mariadb import put

TODAY = date(2026, 12, 4)
NEXT_DAY = TODAY + timedelta(days=1)
RENEWAL_DUE = NEXT_DAY + timedelta(days=14)  # billed by the run of NEXT_DAY (14 days before)
# A real $2y$ hash of "secreto-123" (PHP password_hash), so a client signs in as before (§7.18).
CLIENT_HASH = "$2y$04$Z10n.Aywt66dPyaohvIP.OhJiEgKJCBUpf68Gnn4aFP.z6e.R545e"


def d(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


def build(conn) -> None:  # noqa: PLR0915 - one fixture, read top to bottom
    put(conn, "tblcurrencies", [
        {"id": 1, "code": "USD", "prefix": "$", "suffix": " USD", "format": 2, "rate": 1, "default": 1},
        {"id": 2, "code": "EUR", "prefix": "€", "suffix": " EUR", "format": 2, "rate": 0.9, "default": 0},
    ])
    # Staff; one admin later renamed, so a reply names "Old Name" that matches nobody (§7.13).
    put(conn, "tbladmins", [
        {"id": 1, "username": "ana", "firstname": "Ana", "lastname": "Soporte", "email": "ana@hosting.test",
         "password": CLIENT_HASH, "passwordhash": CLIENT_HASH, "disabled": 0},
        {"id": 2, "username": "luis", "firstname": "Luis", "lastname": "Viejo", "email": "luis@hosting.test",
         "password": "5f4dcc3b5aa765d61d8327deb882cf99", "passwordhash": "", "disabled": 1},
    ])
    # Departments: 'hidden' as 'on'/'' text (§7.23).
    put(conn, "tblticketdepartments", [
        {"id": 1, "name": "Soporte", "email": "soporte@hosting.test", "hidden": ""},
        {"id": 2, "name": "Ventas &amp; Facturación", "email": "ventas@hosting.test", "hidden": "on"},
    ])
    # Servers: a cPanel one ('secure' = 'on', §7.23; password encrypted, §7.19) and a Plesk one (§7.21).
    put(conn, "tblservers", [
        {"id": 1, "name": "uio1", "hostname": "uio1.hosting.test", "ipaddress": "10.0.0.1", "type": "cpanel",
         "username": "root", "password": "ENCRYPTED==", "accesshash": "SECRETHASH", "secure": "on",
         "port": None, "disabled": 0},
        {"id": 2, "name": "plesk1", "hostname": "plesk1.hosting.test", "type": "plesk", "secure": "",
         "disabled": 0},
    ])
    put(conn, "tblproducts", [
        {"id": 1, "gid": 1, "type": "hostingaccount", "name": "Plan Básico", "paytype": "recurring",
         "servertype": "cpanel", "configoption1": "basico", "hidden": 0, "retired": 0},
        {"id": 2, "gid": 1, "type": "hostingaccount", "name": "Plan Pro", "paytype": "recurring",
         "servertype": "cpanel", "configoption1": "pro", "hidden": 0, "retired": 0},
        {"id": 3, "gid": 1, "type": "other", "name": "Instalación", "paytype": "onetime",
         "servertype": "", "configoption1": "", "hidden": 0, "retired": 0},
        {"id": 4, "gid": 1, "type": "hostingaccount", "name": "Gratis", "paytype": "free",
         "servertype": "cpanel", "configoption1": "free", "hidden": 0, "retired": 0},
        # Priced only in EUR: no USD row (§7.3).
        {"id": 5, "gid": 1, "type": "hostingaccount", "name": "Euro Plan", "paytype": "recurring",
         "servertype": "cpanel", "configoption1": "euro", "hidden": 0, "retired": 1},
    ])
    off = -1.00
    put(conn, "tblpricing", [
        # -1.00 = cycle off, 0.00 = a real free price (§7.3).
        {"type": "product", "currency": 1, "relid": 1, "msetupfee": 0, "qsetupfee": 0, "ssetupfee": 0,
         "asetupfee": 0, "bsetupfee": 0, "tsetupfee": 0, "monthly": 5.00, "quarterly": 14.25,
         "semiannually": 27.00, "annually": 50.00, "biennially": off, "triennially": off},
        {"type": "product", "currency": 2, "relid": 1, "msetupfee": 0, "qsetupfee": 0, "ssetupfee": 0,
         "asetupfee": 0, "bsetupfee": 0, "tsetupfee": 0, "monthly": 4.50, "quarterly": off,
         "semiannually": off, "annually": off, "biennially": off, "triennially": off},
        {"type": "product", "currency": 1, "relid": 2, "msetupfee": 10, "qsetupfee": 0, "ssetupfee": 0,
         "asetupfee": 0, "bsetupfee": 0, "tsetupfee": 0, "monthly": 12.00, "quarterly": 0.00,
         "semiannually": off, "annually": 120.00, "biennially": off, "triennially": off},
        {"type": "product", "currency": 1, "relid": 3, "msetupfee": 0, "qsetupfee": 0, "ssetupfee": 0,
         "asetupfee": 0, "bsetupfee": 0, "tsetupfee": 0, "monthly": 30.00, "quarterly": off,
         "semiannually": off, "annually": off, "biennially": off, "triennially": off},
        {"type": "product", "currency": 1, "relid": 4, "msetupfee": 0, "qsetupfee": 0, "ssetupfee": 0,
         "asetupfee": 0, "bsetupfee": 0, "tsetupfee": 0, "monthly": off, "quarterly": off,
         "semiannually": off, "annually": off, "biennially": off, "triennially": off},
        {"type": "product", "currency": 2, "relid": 5, "msetupfee": 0, "qsetupfee": 0, "ssetupfee": 0,
         "asetupfee": 0, "bsetupfee": 0, "tsetupfee": 0, "monthly": 9.00, "quarterly": off,
         "semiannually": off, "annually": off, "biennially": off, "triennially": off},
    ])
    long_company = "Compañía " + "muy larga " * 30  # longer than our 200 characters (§7.17)
    put(conn, "tblclients", [
        # 1: HTML entities (§7.16), credit 12.50, a contact sharing the e-mail (§7.12).
        {"id": 1, "firstname": "Seán", "lastname": "O&#039;Brien", "companyname": "Smith &amp; Sons",
         "email": "sean@cliente.test", "address1": "Av. Amazonas", "address2": "N21", "city": "Quito",
         "state": "Pichincha", "country": "EC", "phonenumber": "+593.991234567", "tax_id": "1790012345001",
         "password": "", "currency": 1, "credit": 12.50, "datecreated": "2020-01-15", "status": "Active"},
        # 2: mojibake (§7.17), too-long company, same e-mail as client 1 (§7.12).
        {"id": 2, "firstname": "JosÃ©", "lastname": "PÃ©rez", "companyname": long_company,
         "email": "sean@cliente.test", "country": "EC", "currency": 1, "credit": 0,
         "datecreated": "0000-00-00", "status": "Active"},
        # 3: currency not USD (§7.24): not imported, nor its services and invoices.
        {"id": 3, "firstname": "Hans", "lastname": "Euro", "email": "hans@cliente.test", "country": "DE",
         "currency": 2, "credit": 0, "datecreated": "2021-03-01", "status": "Active"},
        # 4: an md5:salt password (§7.18) → set-password later; a Closed account.
        {"id": 4, "firstname": "María", "lastname": "Vieja", "email": "maria@cliente.test", "country": "EC",
         "currency": 1, "credit": 0, "datecreated": "2015-06-30", "status": "Closed"},
        # 5: owner of the WHMCS 8 user who also owns client 1's account? no: a plain client with
        # an impossible invoice date later (the money check then differs, on purpose).
        {"id": 5, "firstname": "Carla", "lastname": "Fechas", "email": "carla@cliente.test", "country": "EC",
         "currency": 1, "credit": 0, "datecreated": "2022-02-02", "status": "Active"},
    ])
    put(conn, "tblusers", [
        {"id": 10, "first_name": "Seán", "last_name": "O'Brien", "email": "sean@cliente.test",
         "password": CLIENT_HASH},
        {"id": 11, "first_name": "María", "last_name": "Vieja", "email": "maria@cliente.test",
         "password": "0b8d8f9c2a5e6f1d3b4a7c8e9f0a1b2c:abcde"},
        {"id": 12, "first_name": "Carla", "last_name": "Fechas", "email": "carla@cliente.test",
         "password": CLIENT_HASH},
    ])
    put(conn, "tblusers_clients", [
        {"auth_user_id": 10, "client_id": 1, "owner": 1},
        {"auth_user_id": 10, "client_id": 2, "owner": 1},  # one user owns two accounts (§7.12)
        {"auth_user_id": 11, "client_id": 4, "owner": 1},
        {"auth_user_id": 12, "client_id": 5, "owner": 1},
    ])
    put(conn, "tblcontacts", [
        {"userid": 1, "firstname": "Eva", "lastname": "Contable", "email": "sean@cliente.test"},
    ])
    put(conn, "tblhosting", [
        # 1: Monthly, due RENEWAL_DUE, custom price 4.00 ≠ catalogue 5.00 (§7.4); the daily run
        # of NEXT_DAY must bill it (acceptance 4). Its password is encrypted: never read (§7.19).
        {"id": 1, "userid": 1, "packageid": 1, "server": 1, "regdate": "2020-01-15", "domain": "sean.test",
         "firstpaymentamount": 4.00, "amount": 4.00, "billingcycle": "Monthly",
         "nextduedate": RENEWAL_DUE.isoformat(), "nextinvoicedate": RENEWAL_DUE.isoformat(),
         "termination_date": "0000-00-00", "domainstatus": "Active", "username": "seantest",
         "password": "ENCRYPTED=="},
        # 2: 'Semi-Annually' spelling (§7.5), due in 10 days, its renewal already invoiced in
        # WHMCS (invoice 102): the daily run must not bill it again (acceptance 4).
        {"id": 2, "userid": 1, "packageid": 1, "server": 1, "regdate": "2021-05-01", "domain": "SHOP.Sean.test",
         "amount": 27.00, "billingcycle": "Semi-Annually", "nextduedate": d(10), "nextinvoicedate": d(10),
         "termination_date": "0000-00-00", "domainstatus": "Active", "username": "shopsean"},
        # 3: Free Account, zero due date (§7.1, §7.2), server 0 and empty domain (§7.21).
        {"id": 3, "userid": 2, "packageid": 4, "server": 0, "regdate": "2022-01-01", "domain": "",
         "amount": 0, "billingcycle": "Free Account", "nextduedate": "0000-00-00",
         "nextinvoicedate": "0000-00-00", "termination_date": "0000-00-00", "domainstatus": "Active",
         "username": ""},
        # 4: 'one-time' spelling (§7.5), a non-cPanel server (§7.21).
        {"id": 4, "userid": 2, "packageid": 3, "server": 2, "regdate": "2022-01-01", "domain": "setup.test",
         "amount": 30.00, "billingcycle": "one-time", "nextduedate": None, "nextinvoicedate": "0000-00-00",
         "termination_date": "0000-00-00", "domainstatus": "Completed", "username": ""},
        # 5: Biennially, a cycle the product has off (§7.4), suspended, a username longer than 16.
        {"id": 5, "userid": 4, "packageid": 2, "server": 1, "regdate": "2019-03-03", "domain": "vieja.test",
         "amount": 200.00, "billingcycle": "Biennially", "nextduedate": d(-40), "nextinvoicedate": d(-40),
         "termination_date": "0000-00-00", "domainstatus": "Suspended", "username": "averyveryverylongname",
         "suspendreason": "Overdue on Payment"},
        # 6: zero next due date, falls back to nextinvoicedate (§7.2).
        {"id": 6, "userid": 5, "packageid": 2, "server": 1, "regdate": "2022-02-02", "domain": "carla.test",
         "amount": 12.00, "billingcycle": "MONTHLY", "nextduedate": "0000-00-00", "nextinvoicedate": d(20),
         "termination_date": "0000-00-00", "domainstatus": "Active", "username": "carla"},
        # 7: Terminated, unknown product 99.
        {"id": 7, "userid": 5, "packageid": 99, "server": 1, "regdate": "2022-02-02", "domain": "gone.test",
         "amount": 5.00, "billingcycle": "Monthly", "nextduedate": d(-300), "termination_date": d(-200),
         "domainstatus": "Terminated", "username": "gone"},
        # 8: client 3 is EUR, so this service cannot come over.
        {"id": 8, "userid": 3, "packageid": 1, "server": 1, "regdate": "2021-03-01", "domain": "hans.test",
         "amount": 4.50, "billingcycle": "Monthly", "nextduedate": d(5), "domainstatus": "Active",
         "username": "hans"},
        # 9: Active, Quarterly, both due dates zero: reported (§7.2).
        {"id": 9, "userid": 5, "packageid": 1, "server": 1, "regdate": "2022-02-02", "domain": "nodue.test",
         "amount": 14.25, "billingcycle": "Quarterly", "nextduedate": "0000-00-00",
         "nextinvoicedate": "0000-00-00", "domainstatus": "Active", "username": "nodue"},
    ])
    put(conn, "tblinvoices", [
        # 101: Paid, 15% tax on a taxed line, 2.00 credit applied + 2.60 paid (§7.7).
        {"id": 101, "userid": 1, "invoicenum": "2024-0001", "date": d(-170), "duedate": d(-170),
         "datepaid": d(-171) + " 10:00:00", "subtotal": 4.00, "credit": 2.00, "tax": 0.60, "tax2": 0,
         "total": 4.60, "taxrate": 15.000, "taxrate2": 0, "status": "Paid", "notes": ""},
        # 102: Unpaid renewal of service 2 for d(10); proforma: empty invoicenum (§7.6).
        {"id": 102, "userid": 1, "invoicenum": "", "date": d(-4), "duedate": d(10),
         "datepaid": "0000-00-00 00:00:00", "subtotal": 27.00, "credit": 0, "tax": 0, "tax2": 0,
         "total": 27.00, "taxrate": 0, "taxrate2": 0, "status": "Unpaid", "notes": ""},
        # 103: Paid with a duplicate custom number (§7.6) and payments short by 1.00 (§7.7).
        {"id": 103, "userid": 4, "invoicenum": "2024-0001", "date": d(-40), "duedate": d(-40),
         "datepaid": d(-39) + " 09:00:00", "subtotal": 200.00, "credit": 0, "tax": 0, "tax2": 0,
         "total": 200.00, "taxrate": 0, "taxrate2": 0, "status": "Paid", "notes": ""},
        # 104: Payment Pending → unpaid with 5.00 paid, 7.00 open.
        {"id": 104, "userid": 5, "invoicenum": "", "date": d(-10), "duedate": d(-3),
         "datepaid": "0000-00-00 00:00:00", "subtotal": 12.00, "credit": 0, "tax": 0, "tax2": 0,
         "total": 12.00, "taxrate": 0, "taxrate2": 0, "status": "Payment Pending", "notes": ""},
        # 105: an impossible date (year 1850, §7.1): skipped and reported; its 9.99 open makes
        # client 5's money check differ, on purpose.
        {"id": 105, "userid": 5, "invoicenum": "", "date": "1850-01-01", "duedate": "1850-01-01",
         "datepaid": "0000-00-00 00:00:00", "subtotal": 9.99, "credit": 0, "tax": 0, "tax2": 0,
         "total": 9.99, "taxrate": 0, "taxrate2": 0, "status": "Unpaid", "notes": ""},
        # 106: Cancelled; 107: Draft; 108: Refunded (paid 4.00 then refunded, §7.8).
        {"id": 106, "userid": 1, "invoicenum": "", "date": d(-60), "duedate": d(-50),
         "datepaid": "0000-00-00 00:00:00", "subtotal": 4.00, "credit": 0, "tax": 0, "tax2": 0,
         "total": 4.00, "taxrate": 0, "taxrate2": 0, "status": "Cancelled", "notes": ""},
        {"id": 107, "userid": 1, "invoicenum": "", "date": d(-1), "duedate": d(6),
         "datepaid": "0000-00-00 00:00:00", "subtotal": 10.00, "credit": 0, "tax": 0, "tax2": 0,
         "total": 10.00, "taxrate": 0, "taxrate2": 0, "status": "Draft", "notes": ""},
        {"id": 108, "userid": 1, "invoicenum": "2024-0002", "date": d(-90), "duedate": d(-90),
         "datepaid": d(-90) + " 08:00:00", "subtotal": 4.00, "credit": 0, "tax": 0, "tax2": 0,
         "total": 4.00, "taxrate": 0, "taxrate2": 0, "status": "Refunded", "notes": ""},
        # 109: client 3 is EUR.
        {"id": 109, "userid": 3, "invoicenum": "", "date": d(-5), "duedate": d(5),
         "datepaid": "0000-00-00 00:00:00", "subtotal": 4.50, "credit": 0, "tax": 0, "tax2": 0,
         "total": 4.50, "taxrate": 0, "taxrate2": 0, "status": "Unpaid", "notes": ""},
    ])
    put(conn, "tblinvoiceitems", [
        {"invoiceid": 101, "userid": 1, "type": "Hosting", "relid": 1, "description": "sean.test &amp; más",
         "amount": 4.00, "taxed": 1, "duedate": d(-170)},
        {"invoiceid": 102, "userid": 1, "type": "Hosting", "relid": 2, "description": "shop.sean.test",
         "amount": 27.00, "taxed": 0, "duedate": d(10)},
        {"invoiceid": 103, "userid": 4, "type": "Hosting", "relid": 5, "description": "vieja.test",
         "amount": 200.00, "taxed": 0, "duedate": d(-40)},
        {"invoiceid": 104, "userid": 5, "type": "Hosting", "relid": 6, "description": "carla.test",
         "amount": 12.00, "taxed": 0, "duedate": d(-3)},
        {"invoiceid": 105, "userid": 5, "type": "", "relid": 0, "description": "old", "amount": 9.99,
         "taxed": 0, "duedate": "1850-01-01"},
        {"invoiceid": 106, "userid": 1, "type": "Hosting", "relid": 1, "description": "cancelled",
         "amount": 4.00, "taxed": 0, "duedate": d(-50)},
        {"invoiceid": 107, "userid": 1, "type": "", "relid": 0, "description": "draft line",
         "amount": 10.00, "taxed": 0, "duedate": d(6)},
        {"invoiceid": 108, "userid": 1, "type": "Hosting", "relid": 1, "description": "refunded",
         "amount": 4.00, "taxed": 0, "duedate": d(-90)},
        {"invoiceid": 109, "userid": 3, "type": "Hosting", "relid": 8, "description": "hans", "amount": 4.50,
         "taxed": 0, "duedate": d(5)},
    ])
    put(conn, "tblaccounts", [
        {"id": 1, "userid": 1, "currency": 0, "gateway": "banktransfer", "date": d(-171) + " 10:00:00",
         "amountin": 2.60, "fees": 0, "amountout": 0, "transid": "TRX-1", "invoiceid": 101, "refundid": 0},
        {"id": 2, "userid": 4, "currency": 1, "gateway": "paypal", "date": d(-39) + " 09:00:00",
         "amountin": 199.00, "fees": 6.10, "amountout": 0, "transid": "PP-2", "invoiceid": 103, "refundid": 0},
        {"id": 3, "userid": 5, "currency": 1, "gateway": "banktransfer", "date": d(-2) + " 12:00:00",
         "amountin": 5.00, "fees": 0, "amountout": 0, "transid": "TRX-3", "invoiceid": 104, "refundid": 0},
        # Paid, then refunded (§7.8).
        {"id": 4, "userid": 1, "currency": 1, "gateway": "paypal", "date": d(-90) + " 08:00:00",
         "amountin": 4.00, "fees": 0.40, "amountout": 0, "transid": "PP-4", "invoiceid": 108, "refundid": 0},
        {"id": 5, "userid": 1, "currency": 1, "gateway": "paypal", "date": d(-80) + " 08:00:00",
         "amountin": 0, "fees": 0, "amountout": 4.00, "transid": "PP-4R", "invoiceid": 108, "refundid": 4},
        # Add funds: no invoice (§7.8).
        {"id": 6, "userid": 1, "currency": 0, "gateway": "banktransfer", "date": d(-30) + " 08:00:00",
         "amountin": 12.50, "fees": 0, "amountout": 0, "transid": "TRX-6", "invoiceid": 0, "refundid": 0},
    ])
    put(conn, "tbltickets", [
        # 1: a client's ticket; first message in tbltickets.message (§7.14), entities (§7.16).
        {"id": 1, "tid": "ABC-123456", "did": 1, "userid": 1, "name": "", "email": "", "date": d(-3) + " 10:00:00",
         "title": "No carga &quot;mi web&quot;", "message": "Hola, la web da error 500 &lt;ayuda&gt;",
         "status": "Answered", "urgency": "High", "admin": "", "lastreply": d(-2) + " 11:00:00",
         "editor": "markdown"},
        # 2: a guest (userid 0, §7.13) with a custom status (§7.15).
        {"id": 2, "tid": "XYZ-654321", "did": 2, "userid": 0, "name": "Visitante", "email": "guest@otro.test",
         "date": d(-1) + " 09:00:00", "title": "Precios", "message": "¿Cuánto cuesta?", "status": "Escalated",
         "urgency": "Low", "admin": "", "lastreply": d(-1) + " 09:00:00", "editor": "plain"},
    ])
    put(conn, "tblticketreplies", [
        {"tid": 1, "userid": 0, "name": "", "email": "", "date": d(-2) + " 11:00:00",
         "message": "Ya lo revisamos.", "admin": "Ana Soporte", "editor": "plain"},
        {"tid": 1, "userid": 0, "name": "", "email": "", "date": d(-2) + " 12:00:00",
         "message": "Nota del admin antiguo", "admin": "Old Name", "editor": "plain"},
        {"tid": 1, "userid": 1, "name": "", "email": "", "date": d(-2) + " 13:00:00",
         "message": "Gracias", "admin": "", "editor": "plain"},
    ])


# What the import must make of the book above.
EXPECTED_CREATED = {
    "clients": 4,  # 1, 2, 4, 5 (3 is EUR)
    "products": 5,
    "services": 7,  # 1-6 and 9 (7: unknown product; 8: client 3)
    "invoices": 7,  # 101-104, 106-108 (105: impossible date; 109: client 3)
    "payments": 6,
    "tickets": 2,
    "users": 5,  # staff Ana and Luis; logins 10 (client 1), 11 (client 4), 12 (client 5)
}
