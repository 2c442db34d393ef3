"""Add-ons (issue 19): extras ordered on a hosting service that bill and renew with it.

* ``catalog`` — which add-on products fit a service, at the service's cycle price.
* ``ordering`` — the client orders one: a first invoice prorated to the parent's next due
  date (billing-rules §2.4, measured on the parent's current period), plus the setup fee.
* ``renewing`` — the parent's renewal invoice carries the add-ons' lines; paying it moves
  them on with the parent (a billing paid hook).
* ``lifecycle`` — cancel at period end, follow the parent's suspension, reactivation and
  termination, and end what no longer fits after a plan change.
* ``quota`` — an add-on that acts on the panel ("extra disk"): its MB are added to the parent's
  cPanel disk quota (WHM editquota) after the commit that starts or ends it, or after a plan
  change; what the panel did not take is set again by the daily run.
"""

from core.addons.catalog import AddonOffer, offers
from core.addons.lifecycle import (
    AddonView,
    cancel_at_period_end,
    ending_with,
    follow_parent,
    misfits,
    of_service,
)
from core.addons.ordering import order

__all__ = [
    "AddonOffer",
    "AddonView",
    "offers",
    "order",
    "cancel_at_period_end",
    "ending_with",
    "follow_parent",
    "misfits",
    "of_service",
]
