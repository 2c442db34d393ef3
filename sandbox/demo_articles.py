"""The demo's help centre: the brief's own article ("Qué es y para qué sirve el área de
clientes", /work/shared/seed/area-de-clientes.txt, with its image captions left out) and a
few more a client asks about first: mailboxes, the cPanel password, payments.

Written through ``core.knowledge.articles`` as the owner, so the demo's articles are indexed
and checked exactly like the ones staff write.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from core.access import SYSTEM
from core.knowledge import articles

CATEGORIES = {
    "start": ("Primeros pasos", "Getting started"),
    "mail": ("Correo electrónico", "E-mail"),
    "hosting": ("Hosting y cPanel", "Hosting and cPanel"),
    "billing": ("Pagos y facturación", "Payments and billing"),
}

CLIENT_AREA_ES = """\
El área de cliente es la plataforma donde se centraliza la gestión de administración de los \
servicios contratados por el cliente. El acceso a este portal garantiza un control total sobre \
sus activos digitales, por lo que es de suma importancia conocerla y manejarla apropiadamente \
para que su experiencia sea óptima. Recomendamos no delegar la administración de este portal a \
personal rotativo de su empresa como administradores de turno, contadores o diseñadores. El \
acceso al área de cliente únicamente debería estar bajo la supervisión del propietario del \
servicio o de personal de su entera confianza.

Las principales funciones que cumple el área de clientes son:

- Listado de servicios activos, cancelados o expirados
- Consulta de fechas de corte y valores pendientes de pago
- Administración de servicios (contraseñas, paquetes, actualizaciones, addons, etc.)
- Atención oportuna para servicios generales y soporte técnico

### 1. Recuperación de credenciales de acceso
En caso de haber extraviado las credenciales de acceso o de requerir actualizarlas, se puede \
hacer directamente desde el apartado de recuperación de credenciales. El sistema enviará \
instrucciones al correo utilizado al momento de registrar la compra del servicio. Recomendamos \
utilizar siempre una dirección electrónica que no pertenezca al dominio que haya contratado y \
que sea de cómodo acceso para usted.

### 2. Proceso para la verificación de correo electrónico
Este paso es fundamental para garantizar una vía de contacto confiable y oportuna; esto evitará \
que pierda notificaciones importantes sobre los servicios contratados. Una vez que haya \
accedido a su área del cliente, lo primero será completar el proceso de verificación de correo.

### 3. Abrir tickets de asistencia y soporte técnico
Para crear un ticket de asistencia debe ingresar a su área del cliente y seleccionar la opción \
"abrir ticket"; una vez que lo haya hecho deberá seleccionar el departamento al que quiera \
enviarlo y también el servicio afectado.

### 4. Recuperación de credenciales de acceso a cPanel
La recuperación de credenciales de acceso al panel de control cPanel únicamente puede hacerse \
a través del área de cliente. Para esto ingrese a la pantalla principal de su área de clientes \
y seleccione: Servicios > Mis Servicios > Servicio a consultar.

### 5. Edición de datos de contacto y facturación
Una de las principales tareas que debe realizar cada cliente es actualizar sus datos de \
contacto y facturación; de esta manera podremos mantener un contacto permanente y efectivo.

### 6. Consulta de valores y fechas de expiración de servicios
El sistema permite obtener información detallada sobre el estado actual de sus servicios, \
incluyendo fechas de expiración, valores adeudados, servicios contratados y cualquier otro \
detalle que usted requiera conocer.

### 7. Solicitud de cambio de paquete (Upgrade)
El cliente puede migrar a un paquete superior, o bajar a uno inferior, en cualquier momento. El \
sistema calculará automáticamente el valor prorrateado en el caso de un aumento del paquete. \
Una vez concluido el proceso se enviará el presupuesto correspondiente a su área de cliente \
para que pueda realizar el pago.

### 8. Creación directa de cuentas de correo
La creación de cuentas de correo puede realizarse directamente desde cPanel o, de forma rápida, \
desde el área de cliente.

### 9. Acceso al centro de soporte automático 24/7
El sistema permite acceder directamente a los diferentes canales de soporte ofrecidos por el \
proveedor. Estos canales podrán ser modificados sin previo aviso y estarán disponibles desde su \
área de cliente como acceso directo.

### 10. Solicitudes de baja de servicios
El sistema ofrece la posibilidad de cancelar el servicio de inmediato o al final del periodo \
de facturación. Tome en cuenta que una vez cancelado el servicio el sistema dejará de emitir \
recordatorios y terminará la cuenta según la opción que haya elegido.
"""

CLIENT_AREA_EN = """\
The client area is where everything about the services you bought is managed. It gives you \
full control of your digital assets, so it is worth knowing it well. We advise against handing \
its administration to rotating staff such as shift administrators, accountants or designers: \
access should stay with the owner of the service or people they fully trust.

What the client area does:

- Lists your active, cancelled and expired services
- Shows due dates and amounts pending payment
- Manages services (passwords, packages, upgrades, add-ons, etc.)
- Gives timely attention for general services and technical support

### 1. Recovering your sign-in details
If you lost your sign-in details or need to change them, use the password recovery option. The \
system sends instructions to the e-mail address used when the service was bought. Use an \
address outside the domain you host with us, one you can always reach.

### 2. Verifying your e-mail address
This gives us a reliable way to reach you, so you never miss an important notice about your \
services. After signing in, the first step is to verify your e-mail address.

### 3. Opening support tickets
Sign in, choose "open ticket", then pick the department and the service concerned.

### 4. Recovering your cPanel password
cPanel sign-in details can only be recovered through the client area: open Services > My \
services > the service in question.

### 5. Updating contact and billing details
Keep your contact and billing details up to date so we can always reach you.

### 6. Amounts due and expiry dates
See the current state of each service: expiry dates, amounts owed, what you bought.

### 7. Changing package (upgrade)
Move to a bigger or a smaller package at any time. For an upgrade the system prorates the \
price and sends the quote to your client area for payment.

### 8. Creating e-mail accounts
Create mailboxes straight from cPanel or, more quickly, from the client area.

### 9. 24/7 support centre
Reach each of the provider's support channels directly from your client area.

### 10. Cancelling a service
Cancel at once or at the end of the billing period. Once cancelled, reminders stop and the \
account is terminated as you chose.
"""

ARTICLES = [
    (
        "start",
        "Qué es y para qué sirve el área de clientes",
        "What the client area is and what it is for",
        CLIENT_AREA_ES,
        CLIENT_AREA_EN,
    ),
    (
        "mail",
        "Cómo crear y configurar una cuenta de correo (buzón)",
        "How to create and set up a mailbox (e-mail account)",
        """\
Puede crear sus cuentas de correo desde **Cuentas de correo** en su área de cliente, sin \
entrar a cPanel:

1. Abra **Cuentas de correo** y elija el servicio (dominio).
2. Escriba el nombre del buzón (por ejemplo `ventas`), una contraseña segura y la cuota.
3. Pulse **Crear**. El buzón queda listo en unos segundos.

Para leer su correo en el teléfono o en Outlook use estos datos:

- Servidor entrante (IMAP): `mail.su-dominio.ec`, puerto 993, SSL
- Servidor saliente (SMTP): `mail.su-dominio.ec`, puerto 465, SSL
- Usuario: la dirección completa (`ventas@su-dominio.ec`)

Si no recibe correos, revise que el buzón no esté lleno (cuota) y que el dominio apunte a \
nuestros servidores.
""",
        """\
Create mailboxes from **E-mail accounts** in your client area, without opening cPanel:

1. Open **E-mail accounts** and pick the service (domain).
2. Type the mailbox name (for example `sales`), a strong password and the quota.
3. Press **Create**. The mailbox is ready in a few seconds.

To read your e-mail on a phone or in Outlook use:

- Incoming server (IMAP): `mail.your-domain.ec`, port 993, SSL
- Outgoing server (SMTP): `mail.your-domain.ec`, port 465, SSL
- User name: the full address (`sales@your-domain.ec`)

If mail does not arrive, check that the mailbox is not full (quota) and that the domain points \
to our servers.
""",
    ),
    (
        "hosting",
        "Cómo cambiar o recuperar la contraseña de cPanel",
        "How to change or recover your cPanel password",
        """\
La contraseña de cPanel se cambia desde el área de cliente:

1. Abra **Mis servicios** y elija el hosting.
2. En **Credenciales**, pulse **Cambiar contraseña** y escriba la nueva dos veces.
3. Use la nueva contraseña al entrar a cPanel.

Por seguridad nunca enviamos su contraseña por correo ni la pedimos por teléfono.
""",
        """\
Change the cPanel password from the client area:

1. Open **My services** and pick the hosting.
2. Under **Credentials**, press **Change password** and type the new one twice.
3. Sign in to cPanel with the new password.

For your safety we never send your password by e-mail nor ask for it by phone.
""",
    ),
    (
        "billing",
        "Formas de pago y cómo reportar una transferencia",
        "Payment methods and how to report a bank transfer",
        """\
Puede pagar sus facturas con tarjeta o por transferencia bancaria.

- **Tarjeta**: abra la factura en **Facturación** y pulse **Pagar**.
- **Transferencia**: transfiera el total a la cuenta indicada en la factura y luego suba el \
comprobante (PDF, JPG o PNG) desde la misma factura. Lo revisamos en horario de oficina y la \
factura queda pagada al aprobarlo.

Si su servicio fue suspendido por falta de pago, se reactiva solo cuando la factura queda pagada.
""",
        """\
Pay your invoices by card or by bank transfer.

- **Card**: open the invoice under **Billing** and press **Pay**.
- **Transfer**: transfer the total to the account shown on the invoice, then upload the \
receipt (PDF, JPG or PNG) from the same invoice. We check it in office hours and the invoice \
is paid once approved.

A service suspended for non-payment comes back by itself once the invoice is paid.
""",
    ),
]


def load_articles(session: Session, at: datetime) -> dict[str, int]:
    """Write the demo's categories and published articles; returns article ids by category."""
    category_ids = {
        slug: articles.save_category(SYSTEM, es, en, at=at, session=session)
        for slug, (es, en) in CATEGORIES.items()
    }
    ids: dict[str, int] = {}
    for slug, title_es, title_en, body_es, body_en in ARTICLES:
        ids[slug] = articles.save_article(
            SYSTEM,
            category_id=category_ids[slug],
            title_es=title_es,
            title_en=title_en,
            body_es=body_es,
            body_en=body_en,
            at=at,
            session=session,
        )
        articles.set_status(SYSTEM, ids[slug], "published", at=at, session=session)
    # Every other article is related to the client-area overview, and it to them.
    others = [i for slug, i in ids.items() if slug != "start"]
    for slug, title_es, title_en, body_es, body_en in ARTICLES:
        related = others if slug == "start" else [ids["start"]]
        articles.save_article(
            SYSTEM,
            article_id=ids[slug],
            category_id=category_ids[slug],
            title_es=title_es,
            title_en=title_en,
            body_es=body_es,
            body_en=body_en,
            related_ids=related,
            at=at,
            session=session,
        )
    return ids
