"""A small FOSSBilling 0.8.5 book holding the §7 edge cases FOSSBilling can show, each row
commented with its case, and what the import must make of it."""

from __future__ import annotations

from datetime import date, timedelta

from tests.mariadb import put

TODAY = date(2026, 12, 4)
# A real $2y$ hash of "secreto-123" (FOSSBilling 0.8 uses cost 12; 04 keeps the test fast).
HASH = "$2y$04$Z10n.Aywt66dPyaohvIP.OhJiEgKJCBUpf68Gnn4aFP.z6e.R545e"


def d(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat() + " 00:00:00"


def build(conn) -> None:
    put(
        conn,
        "currency",
        [
            {"id": 1, "code": "USD", "is_default": 1, "conversion_rate": 1},
            {"id": 2, "code": "EUR", "is_default": 0, "conversion_rate": 0.9},
        ],
    )
    put(
        conn,
        "admin",
        [
            {
                "id": 1,
                "email": "root@hosting.test",
                "name": "Root Admin",
                "pass": HASH,
                "status": "active",
            },
        ],
    )
    put(conn, "support_helpdesk", [{"id": 1, "name": "General", "email": "help@hosting.test"}])
    put(
        conn,
        "service_hosting_server",
        [
            {
                "id": 1,
                "name": "gye1",
                "hostname": "gye1.hosting.test",
                "ip": "10.0.0.2",
                "manager": "whm",
                "username": "root",
                "password": "plain?",
                "accesshash": "TOKEN",
                "port": "2087",
                "secure": 1,
                "active": 1,
            },
        ],
    )
    put(conn, "service_hosting_hp", [{"id": 1, "name": "starter"}])
    put(
        conn,
        "product_payment",
        [
            # Recurrent: monthly 3.50 and yearly 35.00 offered; quarterly enabled at 0.00 (the
            # default, reported, §1.2); weekly enabled (not one of our cycles, §7.26).
            {
                "id": 1,
                "type": "recurrent",
                "m_price": 3.50,
                "m_setup_price": 0,
                "m_enabled": 1,
                "q_price": 0,
                "q_setup_price": 0,
                "q_enabled": 1,
                "b_price": 0,
                "b_enabled": 0,
                "a_price": 35.00,
                "a_setup_price": 5.00,
                "a_enabled": 1,
                "bia_enabled": 0,
                "tria_enabled": 0,
                "w_price": 1.00,
                "w_enabled": 1,
            },
            {
                "id": 2,
                "type": "once",
                "once_price": 20.00,
                "once_setup_price": 0,
                "m_enabled": 0,
                "q_enabled": 0,
                "b_enabled": 0,
                "a_enabled": 0,
                "bia_enabled": 0,
                "tria_enabled": 0,
                "w_enabled": 0,
            },
            {
                "id": 3,
                "type": "free",
                "m_enabled": 0,
                "q_enabled": 0,
                "b_enabled": 0,
                "a_enabled": 0,
                "bia_enabled": 0,
                "tria_enabled": 0,
                "w_enabled": 0,
            },
        ],
    )
    put(
        conn,
        "product",
        [
            {
                "id": 1,
                "title": "Hosting Starter",
                "type": "hosting",
                "product_payment_id": 1,
                "status": "enabled",
                "config": '{"hosting_plan_id": 1}',
            },
            {
                "id": 2,
                "title": "Migración",
                "type": "custom",
                "product_payment_id": 2,
                "status": "enabled",
                "config": "",
            },
            {
                "id": 3,
                "title": "Prueba gratis",
                "type": "hosting",
                "product_payment_id": 3,
                "status": "disabled",
                "config": '{"hosting_plan_id": 1}',
            },
        ],
    )
    put(
        conn,
        "client",
        [
            # 1: bcrypt $2y$ (§7.18), HTML entity in the company (§7.16), phone cc apart.
            {
                "id": 1,
                "email": "lucia@cliente.test",
                "pass": HASH,
                "first_name": "Lucía",
                "last_name": "Mora",
                "company": "Mora &amp; Hijos",
                "company_vat": "0991234567001",
                "phone_cc": "593",
                "phone": "42123456",
                "country": "EC",
                "currency": "USD",
                "created_at": "2023-01-10 10:00:00",
                "status": "active",
            },
            # 2: a password that is not bcrypt (§7.18) and no currency (= the default, USD).
            {
                "id": 2,
                "email": "pedro@cliente.test",
                "pass": "sha1:abc",
                "first_name": "Pedro",
                "last_name": "Paz",
                "country": "EC",
                "currency": None,
                "created_at": "2023-05-05 10:00:00",
                "status": "active",
            },
            # 3: EUR (§7.24 by code).
            {
                "id": 3,
                "email": "eu@cliente.test",
                "pass": HASH,
                "first_name": "Eva",
                "last_name": "Euro",
                "country": "ES",
                "currency": "EUR",
                "created_at": "2023-05-05 10:00:00",
                "status": "active",
            },
        ],
    )
    # §7.11: a payment passes through the balance (+20 transaction, -20 invoice), then a gift of
    # 7.25: the opening credit is the net 7.25.
    put(
        conn,
        "client_balance",
        [
            {
                "client_id": 1,
                "type": "transaction",
                "rel_id": "1",
                "amount": 20.00,
                "description": "pay",
            },
            {
                "client_id": 1,
                "type": "invoice",
                "rel_id": "1",
                "amount": -20.00,
                "description": "charge",
            },
            {"client_id": 1, "type": "gift", "rel_id": "", "amount": 7.25, "description": "gift"},
        ],
    )
    put(
        conn,
        "service_hosting",
        [
            # '.com' keeps its dot (§1.2); the password is the '********' placeholder (§7.20).
            {
                "id": 1,
                "client_id": 1,
                "service_hosting_server_id": 1,
                "service_hosting_hp_id": 1,
                "sld": "lucia",
                "tld": ".com",
                "username": "lucia",
                "pass": "********",
            },
            {
                "id": 2,
                "client_id": 2,
                "service_hosting_server_id": 1,
                "service_hosting_hp_id": 1,
                "sld": "pedro",
                "tld": ".ec",
                "username": "pedro",
                "pass": "********",
            },
        ],
    )
    put(
        conn,
        "client_order",
        [
            # 1: active monthly at a double price 3.10 ≠ catalogue 3.50, due in 20 days.
            {
                "id": 1,
                "client_id": 1,
                "product_id": 1,
                "service_type": "hosting",
                "service_id": 1,
                "title": "Hosting Starter for lucia.com",
                "period": "1M",
                "price": 3.10,
                "status": "active",
                "expires_at": d(20),
                "activated_at": "2023-01-10 10:00:00",
                "created_at": "2023-01-10 10:00:00",
            },
            # 2: suspended yearly.
            {
                "id": 2,
                "client_id": 2,
                "product_id": 1,
                "service_type": "hosting",
                "service_id": 2,
                "title": "Hosting Starter for pedro.ec",
                "period": "1Y",
                "price": 35.00,
                "status": "suspended",
                "reason": "Falta de pago",
                "expires_at": d(-10),
                "activated_at": "2023-05-05 10:00:00",
                "created_at": "2023-05-05 10:00:00",
            },
            # 3: a '45D' period (main allows it, §7.26): not one of our cycles, reported, skipped.
            {
                "id": 3,
                "client_id": 1,
                "product_id": 1,
                "service_type": "hosting",
                "service_id": None,
                "title": "Odd",
                "period": "45D",
                "price": 9.00,
                "status": "active",
                "expires_at": d(5),
                "created_at": "2024-01-01 10:00:00",
            },
            # 4: one-time custom, canceled (American spelling).
            {
                "id": 4,
                "client_id": 2,
                "product_id": 2,
                "service_type": "custom",
                "service_id": None,
                "title": "Migración",
                "period": None,
                "price": 20.00,
                "status": "canceled",
                "expires_at": None,
                "created_at": "2024-01-01 10:00:00",
                "canceled_at": "2024-02-01 10:00:00",
            },
            # 5: pending_setup → pending.
            {
                "id": 5,
                "client_id": 1,
                "product_id": 3,
                "service_type": "hosting",
                "service_id": None,
                "title": "Trial",
                "period": None,
                "price": 0,
                "status": "pending_setup",
                "expires_at": None,
                "created_at": "2024-03-01 10:00:00",
            },
        ],
    )
    put(
        conn,
        "invoice",
        [
            # 1: paid, 12% tax on the taxed line only (§7.10): 20.00 + 10.00, tax 2.40 → 32.40;
            # paid 20.00 by gateway (varchar amount), the rest from the balance.
            {
                "id": 1,
                "client_id": 1,
                "serie": "FOSS",
                "nr": "1",
                "currency": "USD",
                "status": "paid",
                "approved": 1,
                "taxrate": "12",
                "due_at": d(-30),
                "paid_at": d(-29),
                "created_at": d(-31),
            },
            # 2: unpaid, renewal of order 1, 3.10.
            {
                "id": 2,
                "client_id": 1,
                "serie": "PRO",
                "nr": "",
                "currency": "USD",
                "status": "unpaid",
                "approved": 1,
                "taxrate": "0",
                "due_at": d(20),
                "paid_at": None,
                "created_at": d(-1),
            },
            # 3: not approved → draft.
            {
                "id": 3,
                "client_id": 2,
                "serie": "PRO",
                "nr": "",
                "currency": "USD",
                "status": "unpaid",
                "approved": 0,
                "taxrate": "",
                "due_at": d(5),
                "paid_at": None,
                "created_at": d(-2),
            },
            # 4: canceled; 5: refunded.
            {
                "id": 4,
                "client_id": 2,
                "serie": "FOSS",
                "nr": "2",
                "currency": "USD",
                "status": "canceled",
                "approved": 1,
                "taxrate": "0",
                "due_at": d(-60),
                "paid_at": None,
                "created_at": d(-61),
            },
            {
                "id": 5,
                "client_id": 2,
                "serie": "FOSS",
                "nr": "3",
                "currency": "USD",
                "status": "refunded",
                "approved": 1,
                "taxrate": "0",
                "due_at": d(-90),
                "paid_at": d(-90),
                "created_at": d(-91),
            },
            # 6: EUR (§7.24 by code).
            {
                "id": 6,
                "client_id": 3,
                "serie": "FOSS",
                "nr": "4",
                "currency": "EUR",
                "status": "unpaid",
                "approved": 1,
                "taxrate": "0",
                "due_at": d(5),
                "paid_at": None,
                "created_at": d(-1),
            },
        ],
    )
    put(
        conn,
        "invoice_item",
        [
            {
                "invoice_id": 1,
                "type": "order",
                "rel_id": "1",
                "task": "renew",
                "title": "Hosting &amp; más",
                "quantity": 1,
                "price": 20.00,
                "taxed": 1,
            },
            {
                "invoice_id": 1,
                "type": "custom",
                "rel_id": "",
                "task": "void",
                "title": "Soporte",
                "quantity": 2,
                "price": 5.00,
                "taxed": 0,
            },
            {
                "invoice_id": 2,
                "type": "order",
                "rel_id": "1",
                "task": "renew",
                "title": "Hosting Starter",
                "quantity": 1,
                "price": 3.10,
                "taxed": 0,
            },
            {
                "invoice_id": 3,
                "type": "custom",
                "rel_id": "",
                "task": "void",
                "title": "Borrador",
                "quantity": 1,
                "price": 0.10,
                "taxed": 0,
            },
            {
                "invoice_id": 4,
                "type": "custom",
                "rel_id": "",
                "task": "void",
                "title": "Anulada",
                "quantity": 1,
                "price": 20.00,
                "taxed": 0,
            },
            {
                "invoice_id": 5,
                "type": "custom",
                "rel_id": "",
                "task": "void",
                "title": "Devuelta",
                "quantity": 1,
                "price": 20.00,
                "taxed": 0,
            },
            {
                "invoice_id": 6,
                "type": "custom",
                "rel_id": "",
                "task": "void",
                "title": "EU",
                "quantity": 1,
                "price": 9.00,
                "taxed": 0,
            },
        ],
    )
    put(
        conn, "pay_gateway", [{"id": 1, "name": "Transferencia", "gateway": "Custom", "enabled": 1}]
    )
    put(
        conn,
        "transaction",
        [
            # Money as VARCHAR (§7.9): '20.00' exact; a non-numeric one is refused; a received
            # (not processed) one is not a payment.
            {
                "id": 1,
                "invoice_id": 1,
                "gateway_id": 1,
                "txn_id": "T-1",
                "amount": "20.00",
                "status": "processed",
                "created_at": d(-29),
            },
            {
                "id": 2,
                "invoice_id": 5,
                "gateway_id": 1,
                "txn_id": "T-2",
                "amount": "abc",
                "status": "processed",
                "created_at": d(-90),
            },
            {
                "id": 3,
                "invoice_id": 2,
                "gateway_id": 1,
                "txn_id": "T-3",
                "amount": "3.10",
                "status": "received",
                "created_at": d(-1),
            },
        ],
    )
    put(
        conn,
        "support_ticket",
        [
            {
                "id": 1,
                "support_helpdesk_id": 1,
                "client_id": 1,
                "priority": 100,
                "subject": "Correo &lt;caído&gt;",
                "status": "on_hold",
                "created_at": d(-3),
                "updated_at": d(-2),
            },
            # A guest ticket merged into support_ticket (0.8, §7.13).
            {
                "id": 2,
                "support_helpdesk_id": 1,
                "client_id": None,
                "author_name": "Invitado",
                "author_email": "guest@fb.test",
                "priority": 100,
                "subject": "Hola",
                "status": "open",
                "created_at": d(-1),
                "updated_at": d(-1),
            },
        ],
    )
    put(
        conn,
        "support_ticket_message",
        [
            {
                "support_ticket_id": 1,
                "client_id": 1,
                "admin_id": None,
                "content": "No llega el **correo**",
                "created_at": d(-3),
            },
            {
                "support_ticket_id": 1,
                "client_id": None,
                "admin_id": 1,
                "content": "Revisando",
                "created_at": d(-2),
            },
            {
                "support_ticket_id": 2,
                "client_id": None,
                "admin_id": None,
                "content": "¿Precio?",
                "created_at": d(-1),
            },
        ],
    )


EXPECTED_CREATED = {
    "clients": 2,
    "products": 3,
    "services": 4,  # orders 1, 2, 4, 5 (3: '45D')
    "invoices": 5,  # 1-5 (6: EUR)
    "payments": 1,  # transaction 1 (2: not a number; 3: not processed)
    "tickets": 2,
    "users": 3,  # the admin and both clients' logins
}
