"""Products: what the business sells, their prices per cycle and setup fees, the WHM
package, the allowed plan-change targets (upgrade and downgrade alike), prorata options and
credit on downgrade. Split from ``core.catalog`` (which re-exports every public name here) to
keep modules near the house size; behaviour is unchanged.

Changing a price never touches existing services by itself; with ``reprice_existing`` the
change is handed to ``core.catalog.repricing``, which moves them from their next renewal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.billing.ledger import parse_amount
from core.catalog.business_details import clean_block, clean_line
from core.catalog.repricing import add_repricing
from core.models import Product, ProductPrice, Service, ServiceAddon
from core.platform import audit
from core.platform.clock import today as local_today
from core.platform.config import get_settings
from core.platform.db import reading, transaction
from core.platform.errors import NotFound, ValidationError
from core.rules.cycles import CYCLE_MONTHS

PRODUCT_CYCLES: tuple[str, ...] = (*CYCLE_MONTHS, "onetime")
_PACKAGE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.- ")


@dataclass(frozen=True)
class PriceView:
    cycle: str
    price: Decimal
    setup_fee: Decimal


@dataclass(frozen=True)
class ProductView:
    id: int
    name: str
    name_en: str  # "" when the plan has no English name (the Spanish one is shown)
    description: str
    whm_package: str
    disk_mb: int
    max_mailboxes: int
    mailbox_quota_mb: int
    prices: tuple[PriceView, ...]
    upgrade_targets: tuple[int, ...]
    prorata_enabled: bool
    prorata_day: int | None
    prorata_next_month_after_day: int | None
    credit_on_downgrade: bool | None
    sort_order: int
    active: bool
    services: int
    kind: str = "hosting"  # hosting | addon (issue 19)
    addon_fits: tuple[int, ...] = ()  # the hosting products an add-on can be ordered on
    addon_action: str = "none"  # none | staff: a task in the desk's queue | quota: the panel
    addon_quota_mb: int | None = None  # quota: the disk MB it adds to the parent's account

    def price(self, cycle: str) -> PriceView | None:
        return next((p for p in self.prices if p.cycle == cycle), None)


@dataclass
class ProductForm:
    """A product as the settings form submits it. ``prices`` maps a cycle to (price, setup
    fee) as text or Decimal; a cycle left out (or with an empty price) is not offered."""

    name: str
    whm_package: str
    prices: Mapping[str, tuple[Any, Any]]
    description: str = ""
    name_en: str = ""  # the plan's name for English readers; empty: the Spanish name
    disk_mb: int = 1024
    max_mailboxes: int = 10
    mailbox_quota_mb: int = 1024
    upgrade_targets: Sequence[int] = field(default_factory=list)
    prorata_enabled: bool = False
    prorata_day: int | None = None
    prorata_next_month_after_day: int | None = None
    credit_on_downgrade: bool | None = None
    sort_order: int = 0
    active: bool = True
    kind: str = "hosting"
    addon_fits: Sequence[int] = field(default_factory=list)
    addon_action: str = "none"
    addon_quota_mb: Any = None  # the form's number (or text); only read for action "quota"


KINDS = ("hosting", "addon")
ADDON_ACTIONS = ("none", "staff", "quota")  # as core.addons.catalog.ACTIONS
QUOTA_MB_MAX = 10_000_000


def _product_view(product: Product, count: int) -> ProductView:
    order = {c: i for i, c in enumerate(PRODUCT_CYCLES)}
    prices = sorted(product.prices, key=lambda p: order.get(p.cycle, 99))
    return ProductView(
        id=product.id,
        name=product.name,
        name_en=product.name_en or "",
        description=product.description or "",
        whm_package=product.whm_package,
        disk_mb=product.disk_mb,
        max_mailboxes=product.max_mailboxes,
        mailbox_quota_mb=product.mailbox_quota_mb,
        prices=tuple(PriceView(p.cycle, p.price, p.setup_fee) for p in prices),
        upgrade_targets=tuple(product.upgrade_targets or ()),
        prorata_enabled=product.prorata_enabled,
        prorata_day=product.prorata_day,
        prorata_next_month_after_day=product.prorata_next_month_after_day,
        credit_on_downgrade=product.credit_on_downgrade,
        sort_order=product.sort_order,
        active=product.active,
        services=count,
        kind=product.kind,
        addon_fits=tuple(product.addon_fits or ()),
        addon_action=product.addon_action or "none",
        addon_quota_mb=product.addon_quota_mb,
    )


def list_products(actor: Actor, *, session: Session | None = None) -> list[ProductView]:
    """Every product with its prices and how many services use it (owner)."""
    require_owner(actor)
    with reading(session) as s:
        counts = dict(
            s.execute(select(Service.product_id, func.count()).group_by(Service.product_id)).all()
        )
        products = s.scalars(select(Product).order_by(Product.sort_order, Product.name)).all()
        return [_product_view(p, int(counts.get(p.id, 0))) for p in products]


def _int_in(value: Any, low: int, high: int, key: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError(key) from None
    if not low <= number <= high:
        raise ValidationError(key)
    return number


def _clean_prices(prices: Mapping[str, tuple[Any, Any]]) -> dict[str, tuple[Decimal, Decimal]]:
    clean: dict[str, tuple[Decimal, Decimal]] = {}
    for cycle, (price, setup) in prices.items():
        if cycle not in PRODUCT_CYCLES:
            raise ValidationError("catalog.error_cycle")
        if price is None or str(price).strip() == "":
            continue
        try:
            amount = parse_amount(price, allow_zero=True)
            fee = parse_amount(setup if str(setup or "").strip() else "0", allow_zero=True)
        except ValidationError:
            raise ValidationError("catalog.error_price", cycle=cycle) from None
        clean[cycle] = (amount, fee)
    if not clean:
        raise ValidationError("catalog.error_no_prices")
    return clean


def _clean_form(form: ProductForm) -> ProductForm:
    name = clean_line(form.name, 120)
    if not name:
        raise ValidationError("catalog.error_product_name")
    if form.kind not in KINDS:
        raise ValidationError("addons.error_kind")
    if form.kind == "addon" and form.addon_action not in ADDON_ACTIONS:
        raise ValidationError("addons.error_action")
    quota_mb = None
    if form.kind == "addon" and form.addon_action == "quota":
        raw = form.addon_quota_mb
        if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
            raise ValidationError("addons.error_quota_mb")
        text = str(raw).strip() if raw is not None else ""
        if text.endswith(".0"):  # a whole number from a number widget
            text = text[:-2]
        quota_mb = _int_in(text, 1, QUOTA_MB_MAX, "addons.error_quota_mb")
    package = (form.whm_package or "").strip()
    # An add-on is no cPanel package: it lives on its parent's account.
    needs_package = form.kind == "hosting" or package
    if needs_package and (not package or len(package) > 64 or not set(package) <= _PACKAGE_CHARS):
        raise ValidationError("catalog.error_package")
    prorata_day = next_after = None
    if form.prorata_enabled:
        prorata_day = _int_in(form.prorata_day, 1, 31, "catalog.error_prorata_day")
        if form.prorata_next_month_after_day not in (None, "", 0):
            next_after = _int_in(
                form.prorata_next_month_after_day, 1, 31, "catalog.error_prorata_day"
            )
    return ProductForm(
        name=name,
        whm_package=package,
        prices=_clean_prices(form.prices),
        description=clean_block(form.description, 2000),
        name_en=clean_line(form.name_en, 120),
        disk_mb=_int_in(form.disk_mb, 1, 10_000_000, "catalog.error_limits"),
        max_mailboxes=_int_in(form.max_mailboxes, 0, 100_000, "catalog.error_limits"),
        mailbox_quota_mb=_int_in(form.mailbox_quota_mb, 1, 10_000_000, "catalog.error_limits"),
        upgrade_targets=sorted({int(t) for t in form.upgrade_targets}),
        prorata_enabled=bool(form.prorata_enabled),
        prorata_day=prorata_day,
        prorata_next_month_after_day=next_after,
        credit_on_downgrade=form.credit_on_downgrade,
        sort_order=_int_in(form.sort_order, -10_000, 10_000, "catalog.error_limits"),
        active=bool(form.active),
        kind=form.kind,
        addon_fits=sorted({int(t) for t in form.addon_fits}) if form.kind == "addon" else [],
        addon_action=form.addon_action if form.kind == "addon" else "none",
        addon_quota_mb=quota_mb,
    )


def save_product(
    actor: Actor,
    form: ProductForm,
    *,
    product_id: int | None = None,
    reprice_existing: bool = False,
    today: date | None = None,
    session: Session | None = None,
) -> int:
    """Create (``product_id`` None) or change a product (owner); returns its id.

    Existing services keep their recurring amounts. With ``reprice_existing``, services of
    this product paying a changed cycle's old price move to the new one from their next
    renewal (``core.catalog.repricing``)."""
    require_owner(actor)
    clean = _clean_form(form)
    day = today or local_today(get_settings().tz)
    with transaction(session) as s:
        clash = s.scalars(
            select(Product.id).where(func.lower(Product.name) == clean.name.lower())
        ).first()
        if clash is not None and clash != product_id:
            raise ValidationError("catalog.error_product_taken")
        if product_id is None:
            product = Product(name=clean.name, whm_package=clean.whm_package)
            s.add(product)
            s.flush()
        else:
            found = s.get(Product, _key(product_id))
            if found is None:
                raise NotFound()
            product = found
        targets = list(clean.upgrade_targets)
        if product.id in targets:
            raise ValidationError("catalog.error_targets")
        if targets:
            known = set(s.scalars(select(Product.id).where(Product.id.in_(targets))).all())
            if known != set(targets):
                raise ValidationError("catalog.error_targets")
        product.name, product.whm_package = clean.name, clean.whm_package
        product.name_en = clean.name_en or None
        product.description = clean.description or None
        product.disk_mb, product.max_mailboxes = clean.disk_mb, clean.max_mailboxes
        product.mailbox_quota_mb = clean.mailbox_quota_mb
        product.upgrade_targets = targets
        product.prorata_enabled = clean.prorata_enabled
        product.prorata_day = clean.prorata_day
        product.prorata_next_month_after_day = clean.prorata_next_month_after_day
        product.credit_on_downgrade = clean.credit_on_downgrade
        product.sort_order, product.active = clean.sort_order, clean.active
        fits = list(clean.addon_fits)
        if fits:  # only hosting products take add-ons
            known = set(
                s.scalars(
                    select(Product.id).where(Product.id.in_(fits), Product.kind == "hosting")
                ).all()
            )
            if known != set(fits):
                raise ValidationError("addons.error_fits")
        if clean.kind != product.kind and product_id is not None:
            used = s.scalars(select(Service.id).where(Service.product_id == product.id)).first()
            taken = s.scalars(
                select(ServiceAddon.id).where(ServiceAddon.product_id == product.id)
            ).first()
            if (
                used is not None or taken is not None
            ):  # a plan with services cannot turn into an add-on
                raise ValidationError("addons.error_kind_in_use")
        product.kind = clean.kind
        product.addon_fits = fits if clean.kind == "addon" else None
        disk_before = (product.addon_action, product.addon_quota_mb)
        product.addon_action = clean.addon_action if clean.kind == "addon" else None
        product.addon_quota_mb = clean.addon_quota_mb
        if product_id is not None and disk_before != (product.addon_action, clean.addon_quota_mb):
            # Running add-ons of it change their parents' disk quota on the panel.
            from core.addons.quota import product_changed  # add-ons import the catalogue

            product_changed(s, product.id)
        changed = _save_prices(s, product.id, clean.prices)
        if reprice_existing and changed:
            add_repricing(s, actor, product.id, changed, day)
        s.flush()
        audit.record(
            s,
            actor,
            "product.created" if product_id is None else "product.updated",
            target_type="product",
            target_id=product.id,
            name=clean.name,
            package=clean.whm_package,
            prices=",".join(f"{c}:{p}/{f}" for c, (p, f) in sorted(clean.prices.items())),
            changed=",".join(f"{c}:{old}->{new}" for c, (old, new) in sorted(changed.items())),
            reprice_existing=bool(reprice_existing and changed),
        )
        return product.id


def _key(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


def _save_prices(
    s: Session, product_id: int, prices: Mapping[str, tuple[Decimal, Decimal]]
) -> dict[str, tuple[Decimal, Decimal]]:
    """Write the price rows; returns {cycle: (old price, new price)} for changed prices."""
    rows = {
        p.cycle: p
        for p in s.scalars(select(ProductPrice).where(ProductPrice.product_id == product_id))
    }
    changed: dict[str, tuple[Decimal, Decimal]] = {}
    for cycle, (price, fee) in prices.items():
        row = rows.pop(cycle, None)
        if row is None:
            s.add(ProductPrice(product_id=product_id, cycle=cycle, price=price, setup_fee=fee))
            continue
        if row.price != price:
            changed[cycle] = (row.price, price)
        row.price, row.setup_fee = price, fee
    for row in rows.values():  # a cycle no longer offered; its services keep their amounts
        s.delete(row)
    return changed
