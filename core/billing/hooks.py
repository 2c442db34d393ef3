"""What reacts to a paid invoice: one list, read top to bottom (ARCHITECTURE §2, rule 11).

``ledger.mark_paid`` runs every hook here, in this order, inside the transaction that made
the invoice paid, whichever process records the payment (a page, the CLI, the daily run, a
test). A reaction that is not in this list does not happen; there is no registry to join.

Each hook does database work only and leaves its panel or mail work for after commit. The
order is not load-bearing: none reads what another writes (the renewal moves the service's
next due date; the repricing reads the renewal line's period, not the due date, and sets the
recurring amount; a new order's set-up and a plan change's application touch only their own
rows in the transaction). It is kept stable so a failure reads the same on every run.

This module imports other areas, which import ``core.billing``: so ``core.billing`` does not
import it at the top, and ``ledger.mark_paid`` imports it when it runs.
"""

from __future__ import annotations

from core.addons.renewing import settle as settle_addons
from core.automation.on_payment import renew_on_payment
from core.billing.ledger import PaidHook
from core.catalog.repricing import reprice_on_renewal
from core.einvoice.transmission import send_paid_factura
from core.einvoice.triggers import issue_factura_on_payment
from core.orders.fulfilment import provision_paid_order
from core.plan_changes.apply import apply_paid_plan_change

PAID_HOOKS: tuple[PaidHook, ...] = (
    renew_on_payment,  # a paid renewal moves the service on one cycle
    settle_addons,  # a paid add-on line moves the add-on on (and starts a new one)
    reprice_on_renewal,  # a renewal after a price change moves the service to the new price
    provision_paid_order,  # a paid new order becomes an account
    apply_paid_plan_change,  # a paid upgrade or downgrade is applied
    issue_factura_on_payment,  # a paid invoice becomes an SRI factura (issue 17)
    send_paid_factura,  # … which goes to the SRI right after the payment commits
)
