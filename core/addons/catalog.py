"""Which add-on products a hosting service can take, and at what price."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.access import Actor, get_scoped, require_any
from core.models import Product, ProductPrice, Service, ServiceAddon
from core.platform.db import reading
from core.platform.i18n import pick

KIND = "addon"
# staff: a task in the desk's queue when it starts and ends; quota: its MB are added to the
# parent's cPanel disk quota while it runs (core.addons.quota).
ACTIONS = ("none", "staff", "quota")


@dataclass(frozen=True)
class AddonOffer:
    product_id: int
    name: str
    price: Decimal  # per period of the parent's cycle
    setup_fee: Decimal
    taken: bool  # the service already has this add-on (live or pending)


def fits(product: Product, hosting_product_id: int) -> bool:
    return product.kind == KIND and hosting_product_id in (product.addon_fits or [])


def price_for(s: Session, product_id: int, cycle: str) -> ProductPrice | None:
    return s.scalars(
        select(ProductPrice).where(
            ProductPrice.product_id == product_id, ProductPrice.cycle == cycle
        )
    ).first()


def offers(actor: Actor, service_id: int, lang: str = "es") -> list[AddonOffer]:
    """The active add-on products that fit the service and have a price at its cycle. An
    invited user reaches a service's add-ons with "services" or "cancellations" (ordering
    one needs more: core.addons.ordering); without either, "not found" like another's."""
    require_any(actor, "services", "cancellations")
    with reading() as s:
        svc = get_scoped(s, actor, Service, service_id)
        taken = set(
            s.scalars(
                select(ServiceAddon.product_id).where(
                    ServiceAddon.service_id == svc.id,
                    ServiceAddon.status.in_(("pending", "active", "suspended")),
                )
            )
        )
        out = []
        for product in s.scalars(
            select(Product)
            .where(Product.kind == KIND, Product.active.is_(True))
            .order_by(Product.sort_order, Product.id)
        ):
            price = price_for(s, product.id, svc.billing_cycle)
            if price is None or not fits(product, svc.product_id):
                continue
            out.append(
                AddonOffer(
                    product.id,
                    pick(product.name, product.name_en, lang),
                    price.price,
                    price.setup_fee,
                    product.id in taken,
                )
            )
        return out
