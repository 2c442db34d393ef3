"""What the owner configures without code: products and their prices, the business's details
and logo, the dated IVA table, and the mail templates' wording. Every setting here is read by
the code it changes (ARCHITECTURE §2 rule 9):

* **IVA table** (``billing.iva_rates``) — ``core.billing`` taxes every new invoice at the rate
  this table gives for the issue date (:func:`tax_rates`); without a stored table the built-in
  ``money.IVA_RATES`` applies. The first row reaches back to any earlier date, so an invoice
  is never left without a rate. Only rates the SRI has a ``codigoPorcentaje`` for are taken.
* **Business details** (``business.name``, ``business.ruc``, ``business.address``,
  ``billing.transfer_instructions``) — read by the invoice PDF and the billing page; the logo
  (``business.logo_upload_id``, PNG or JPEG up to 512 KB, kept in the ``upload`` table so
  every replica serves it) is shown at the top of the home page.
* **Mail templates** (``mail.template.<lang>.<name>``) — ``core.mail.render`` prefers the
  owner's wording to the file under ``core/mail_templates``. An override may only use the
  variables of the template it replaces; it is checked by rendering it before it is stored.
* **Products** — prices per cycle and setup fees, WHM package, allowed plan-change targets
  (upgrade and downgrade alike), prorata options and credit on downgrade.

Repricing (a product's price changes): existing services keep their recurring amount. When
the owner asks to move them too, a rule is stored (``catalog.repricing``): services of that
product and cycle that pay one of the old prices get the new one **from their next renewal**:

1. :func:`renewal_amount` gives the amount to bill for a renewal period: the new price for a
   period starting on or after the change date, the recurring amount otherwise. The daily run
   calls it when it issues a renewal invoice, so the first renewal after the change is billed
   at the new price and the period in progress never is.
2. When a renewal invoice for such a period is paid (the ``on_invoice_paid`` hook), the
   service's ``recurring_amount`` becomes the new price, so MRR, quotes and later renewals
   follow. Before that, the current period's amount stays what the client paid for.

An invoice already issued is never re-priced. Services with a negotiated amount (not one of
the old list prices) are left alone.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, mail, settings, uploads
from core.access import Actor, require_owner
from core.billing_ledger import TRANSFER_INSTRUCTIONS, parse_amount, register_paid_hook
from core.clock import today as local_today
from core.config import get_settings
from core.cycles import CYCLE_MONTHS
from core.db import reading, transaction
from core.errors import NotFound, ValidationError
from core.i18n import LANGUAGES, normalise
from core.models import Invoice, InvoiceItem, Product, ProductPrice, Service, Upload
from core.money import IVA_RATES, SRI_IVA_CODES, RateTable, iva_rate
from core.profile import clean_tax_id

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------- keys
TAX_RATES_KEY = "billing.iva_rates"  # [["2024-04-01", "15"], ...]
BUSINESS_NAME = "business.name"
BUSINESS_RUC = "business.ruc"
BUSINESS_ADDRESS = "business.address"
BUSINESS_LOGO = "business.logo_upload_id"
REPRICING_KEY = "catalog.repricing"
DEFAULT_BUSINESS_NAME = "Anfitrión"

LOGO_TYPES = ("png", "jpg")
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 4000
NAME_MAX = 200
ADDRESS_MAX = 300
INSTRUCTIONS_MAX = 2000
TEMPLATE_MAX = 20_000
MAX_RATE = Decimal("100")
PRODUCT_CYCLES: tuple[str, ...] = (*CYCLE_MONTHS, "onetime")
_PACKAGE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.- ")


# ========================================================================= IVA table
def _parse_rates(raw: object) -> tuple[tuple[date, Decimal], ...] | None:
    """A stored table, or None when it is missing or malformed (the default applies)."""
    if not isinstance(raw, list) or not raw:
        return None
    rows: list[tuple[date, Decimal]] = []
    try:
        for start, rate in raw:
            rows.append((date.fromisoformat(str(start)), Decimal(str(rate))))
    except (TypeError, ValueError, InvalidOperation):
        return None
    rows.sort()
    if any(a[0] == b[0] for a, b in zip(rows, rows[1:], strict=False)):
        return None
    # The earliest rate reaches back to any earlier issue date.
    rows[0] = (date.min, rows[0][1])
    return tuple(rows)


def tax_rates(*, session: Session | None = None) -> RateTable:
    """The IVA table in force: the owner's (setting ``billing.iva_rates``) or the built-in."""
    return settings.memoised(  # parsed once per snapshot scope (the daily run)
        TAX_RATES_KEY,
        lambda: _parse_rates(settings.get(TAX_RATES_KEY, None, session=session)) or IVA_RATES,
    )


def iva_rate_on(on: date, *, session: Session | None = None) -> Decimal:
    """The IVA percentage for a document issued on ``on``, from the table in force."""
    return iva_rate(on, tax_rates(session=session))


@dataclass(frozen=True)
class TaxRateRow:
    start: date | None  # None: "since always" (the first row)
    rate: Decimal
    sri_code: str


def tax_rate_rows(*, session: Session | None = None) -> list[TaxRateRow]:
    return [
        TaxRateRow(None if start == date.min else start, rate, SRI_IVA_CODES.get(rate, "?"))
        for start, rate in tax_rates(session=session)
    ]


def save_tax_rates(
    actor: Actor,
    rows: Sequence[tuple[date | str | None, Decimal | str | int]],
    *,
    session: Session | None = None,
) -> list[TaxRateRow]:
    """Store the dated IVA table (owner). Each row is (first day in force, percent); a row
    without a date is the rate since always (only one may lack it). Rates must have an SRI
    code (0, 5, 12, 13, 14, 15 %)."""
    require_owner(actor)
    parsed: list[tuple[date, Decimal]] = []
    for start, rate in rows:
        if start in (None, ""):
            day = date.min
        elif isinstance(start, date):
            day = start
        else:
            try:
                day = date.fromisoformat(str(start).strip())
            except ValueError:
                raise ValidationError("catalog.error_rate_date") from None
        try:
            value = Decimal(str(rate).strip().replace(",", "."))
        except InvalidOperation:
            raise ValidationError("catalog.error_rate_value") from None
        if not value.is_finite() or value < 0 or value > MAX_RATE:
            raise ValidationError("catalog.error_rate_value")
        if value.normalize() not in {k.normalize() for k in SRI_IVA_CODES}:
            raise ValidationError("catalog.error_rate_sri", rate=str(value.normalize()))
        parsed.append((day, value))
    if not parsed:
        raise ValidationError("catalog.error_rates_empty")
    parsed.sort()
    if any(a[0] == b[0] for a, b in zip(parsed, parsed[1:], strict=False)):
        raise ValidationError("catalog.error_rate_duplicate")
    stored = [[start.isoformat(), str(rate.normalize())] for start, rate in parsed]
    with transaction(session) as s:
        settings.put(actor, TAX_RATES_KEY, stored, session=s)
        return tax_rate_rows(session=s)


# ====================================================================== business
@dataclass(frozen=True)
class Business:
    name: str
    ruc: str
    address: str
    transfer_instructions: str
    has_logo: bool


def business(*, session: Session | None = None) -> Business:
    """The business's details as invoices and the client area show them (anyone may read)."""
    with reading(session) as s:
        return Business(
            name=settings.get_text(BUSINESS_NAME, DEFAULT_BUSINESS_NAME, session=s)
            or DEFAULT_BUSINESS_NAME,
            ruc=settings.get_text(BUSINESS_RUC, "", session=s),
            address=settings.get_text(BUSINESS_ADDRESS, "", session=s),
            transfer_instructions=settings.get_text(TRANSFER_INSTRUCTIONS, "", session=s),
            has_logo=settings.get(BUSINESS_LOGO, None, session=s) is not None,
        )


def _clean_line(value: str | None, limit: int) -> str:
    text = " ".join((value or "").replace("\r", " ").replace("\n", " ").split())
    return "".join(ch for ch in text if ch.isprintable())[:limit]


def _clean_block(value: str | None, limit: int) -> str:
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    text = "".join(ch for ch in text if ch == "\n" or ch.isprintable())
    if len(text) > limit:
        raise ValidationError("catalog.error_text_too_long", n=limit)
    return text


def save_business(
    actor: Actor,
    *,
    name: str,
    ruc: str,
    address: str,
    transfer_instructions: str,
    session: Session | None = None,
) -> Business:
    """Store the business's details (owner). The RUC is checked like a client's (13 digits,
    valid check digit); an empty RUC is allowed until the business has one."""
    require_owner(actor)
    clean_name = _clean_line(name, NAME_MAX)
    if not clean_name:
        raise ValidationError("catalog.error_business_name")
    number = (ruc or "").strip()
    clean_ruc = clean_tax_id("ruc", number) if number else ""
    clean_address = _clean_line(address, ADDRESS_MAX)
    instructions = _clean_block(transfer_instructions, INSTRUCTIONS_MAX)
    with transaction(session) as s:
        settings.put(actor, BUSINESS_NAME, clean_name, session=s)
        settings.put(actor, BUSINESS_RUC, clean_ruc or "", session=s)
        settings.put(actor, BUSINESS_ADDRESS, clean_address, session=s)
        settings.put(actor, TRANSFER_INSTRUCTIONS, instructions, session=s)
        return business(session=s)


def save_logo(actor: Actor, filename: str, data: bytes, *, session: Session | None = None) -> int:
    """Store the business logo (owner): PNG or JPEG, at most 512 KB; returns the upload id."""
    require_owner(actor)
    kind = uploads.check(data, filename, LOGO_TYPES, LOGO_MAX_BYTES, errors="catalog.error_logo")
    _check_image(data)
    with transaction(session) as s:
        row = uploads.store(
            s,
            client_id=None,
            filename=filename,
            data=data,
            content_type=kind,
            uploaded_by=actor.user_id or None,
        )
        settings.put(actor, BUSINESS_LOGO, row.id, session=s)
        return row.id


def _check_image(data: bytes) -> None:
    """The bytes must decode as a picture of sensible size (magic bytes are not enough: a
    page showing an undecodable "PNG" would fail for every reader)."""
    from PIL import Image, UnidentifiedImageError  # Pillow: a dependency of fpdf2

    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            width, height = picture.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise ValidationError("catalog.error_logo_type", n=1, types="png, jpg") from None
    if not (1 <= width <= LOGO_MAX_SIDE and 1 <= height <= LOGO_MAX_SIDE):
        raise ValidationError("catalog.error_logo_size", side=LOGO_MAX_SIDE)


def remove_logo(actor: Actor, *, session: Session | None = None) -> None:
    require_owner(actor)
    settings.put(actor, BUSINESS_LOGO, None, session=session)


def logo(*, session: Session | None = None) -> uploads.StoredFile | None:
    """The business logo, or None (public: it is shown to everyone)."""
    with reading(session) as s:
        upload_id = settings.get_int(BUSINESS_LOGO, 0, session=s)
        if not upload_id:
            return None
        row = s.get(Upload, upload_id)
        if row is None or row.client_id is not None:
            return None
        return uploads.StoredFile(row.filename, row.content_type, row.data)


# ====================================================================== products
@dataclass(frozen=True)
class PriceView:
    cycle: str
    price: Decimal
    setup_fee: Decimal


@dataclass(frozen=True)
class ProductView:
    id: int
    name: str
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


def _product_view(product: Product, count: int) -> ProductView:
    order = {c: i for i, c in enumerate(PRODUCT_CYCLES)}
    prices = sorted(product.prices, key=lambda p: order.get(p.cycle, 99))
    return ProductView(
        id=product.id,
        name=product.name,
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
    name = _clean_line(form.name, 120)
    if not name:
        raise ValidationError("catalog.error_product_name")
    package = (form.whm_package or "").strip()
    if not package or len(package) > 64 or not set(package) <= _PACKAGE_CHARS:
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
        description=_clean_block(form.description, 2000),
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
    renewal (module notes)."""
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
        product.description = clean.description or None
        product.disk_mb, product.max_mailboxes = clean.disk_mb, clean.max_mailboxes
        product.mailbox_quota_mb = clean.mailbox_quota_mb
        product.upgrade_targets = targets
        product.prorata_enabled = clean.prorata_enabled
        product.prorata_day = clean.prorata_day
        product.prorata_next_month_after_day = clean.prorata_next_month_after_day
        product.credit_on_downgrade = clean.credit_on_downgrade
        product.sort_order, product.active = clean.sort_order, clean.active
        changed = _save_prices(s, product.id, clean.prices)  # type: ignore[arg-type]
        if reprice_existing and changed:
            _add_repricing(s, actor, product.id, changed, day)
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


# ------------------------------------------------------------------- repricing
@dataclass(frozen=True)
class Repricing:
    product_id: int
    cycle: str
    amount: Decimal
    old_amounts: tuple[Decimal, ...]
    since: date


def _rules(session: Session) -> list[Repricing]:
    raw = settings.get(REPRICING_KEY, None, session=session)
    rules: list[Repricing] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            rules.append(
                Repricing(
                    product_id=int(item["product_id"]),
                    cycle=str(item["cycle"]),
                    amount=Decimal(str(item["amount"])),
                    old_amounts=tuple(Decimal(str(a)) for a in item["old"]),
                    since=date.fromisoformat(str(item["since"])),
                )
            )
        except (KeyError, TypeError, ValueError, InvalidOperation):
            continue
    return rules


def _store_rules(s: Session, actor: Actor, rules: list[Repricing]) -> None:
    settings.put(
        actor,
        REPRICING_KEY,
        [
            {
                "product_id": r.product_id,
                "cycle": r.cycle,
                "amount": str(r.amount),
                "old": [str(a) for a in r.old_amounts],
                "since": r.since.isoformat(),
            }
            for r in rules
        ],
        session=s,
    )


def _add_repricing(
    s: Session,
    actor: Actor,
    product_id: int,
    changed: Mapping[str, tuple[Decimal, Decimal]],
    day: date,
) -> None:
    rules = _rules(s)
    for cycle, (old, new) in changed.items():
        current = next((r for r in rules if (r.product_id, r.cycle) == (product_id, cycle)), None)
        olds = {old}
        since = day
        if current is not None:
            # A second change before every service renewed: the old prices still waiting move
            # straight to the newest one.
            olds |= set(current.old_amounts) | {current.amount}
            since = min(current.since, day)
            rules.remove(current)
        olds.discard(new)
        if olds:
            rules.append(Repricing(product_id, cycle, new, tuple(sorted(olds)), since))
    _store_rules(s, actor, rules)


def pending_repricing(*, session: Session | None = None) -> list[Repricing]:
    with reading(session) as s:
        return _rules(s)


def _rule_for(rules: list[Repricing], service: Service) -> Repricing | None:
    for rule in rules:
        if (
            rule.product_id == service.product_id
            and rule.cycle == service.billing_cycle
            and service.recurring_amount in rule.old_amounts
        ):
            return rule
    return None


def renewal_amount(session: Session, service: Service, period_start: date) -> Decimal:
    """The amount to bill for the renewal period starting ``period_start``: the repriced
    amount when a rule covers the service and the period starts on or after the change,
    else the service's recurring amount. For the daily run's renewal invoices."""
    return renewal_price(
        session, service.product_id, service.billing_cycle, service.recurring_amount, period_start
    )


def renewal_price(
    session: Session, product_id: int, cycle: str, recurring: Decimal, period_start: date
) -> Decimal:
    """:func:`renewal_amount` from the service's columns (the daily run's grouped path)."""
    rules = settings.memoised(REPRICING_KEY, lambda: tuple(_rules(session)))
    for rule in rules:
        if rule.product_id == product_id and rule.cycle == cycle and recurring in rule.old_amounts:
            return rule.amount if period_start >= rule.since else recurring
    return recurring


@register_paid_hook
def _apply_repricing_on_renewal(session: Session, invoice: Invoice, actor: Actor) -> None:
    """A paid renewal for a period on or after a price change moves the service to the new
    price (module notes). Cheap when there is no rule: one setting read."""
    rules = _rules(session)
    if not rules:
        return
    items = session.scalars(
        select(InvoiceItem).where(
            InvoiceItem.invoice_id == invoice.id,
            InvoiceItem.kind == "renewal",
            InvoiceItem.service_id.is_not(None),
        )
    ).all()
    for item in items:
        service = session.get(Service, item.service_id)
        if service is None:
            continue
        rule = _rule_for(rules, service)
        if rule is None or item.period_start is None or item.period_start < rule.since:
            continue
        before = service.recurring_amount
        service.recurring_amount = rule.amount
        audit.record(
            session,
            actor,
            "service.repriced",
            target_type="service",
            target_id=service.id,
            client_id=service.client_id,
            old=before,
            new=rule.amount,
            invoice=invoice.number,
        )


# ================================================================= mail templates
_sandbox = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False)
SAMPLE_VALUES: dict[str, str] = {
    "name": "María Andrade",
    "client_name": "Comercial Andina",
    "new_email": "nuevo@correo.example",
    "minutes": "60",
    "number": "F-000123",
    "subject": "Mi sitio web está lento",
    "department": "Soporte técnico",
    "service": "comercialandina.com.ec",
    "priority": "Alta",
    "body": "Gracias por escribirnos.",
    "domain": "comercialandina.com.ec",
    "amount": "$11,50",
    "total": "$11,50",
    "balance": "$11,50",
    "fee": "$1,15",
    "credited": "$2,00",
    "when": "26 nov 2026",
    "due": "5 dic 2026",
    "next_due": "5 dic 2026",
    "effective": "31 dic 2026",
    "days": "3",
    "cycle": "Mensual",
    "plan": "Estándar",
    "from_plan": "Básico",
    "to_plan": "Premium",
    "username": "comercia",
}


@dataclass(frozen=True)
class TemplateView:
    name: str
    language: str
    default: str  # the file's text
    override: str  # the owner's text, "" when none
    variables: tuple[str, ...]

    @property
    def current(self) -> str:
        return self.override or self.default


def template_names() -> list[str]:
    """The mail templates that exist as files, in either language."""
    names = {p.stem for lang in LANGUAGES for p in (mail.TEMPLATES / lang).glob("*.txt")}
    return sorted(names)


def _default_text(name: str, lang: str) -> str:
    if name not in template_names():
        raise NotFound()
    path = mail.TEMPLATES / lang / f"{PurePath(name).name}.txt"
    if not path.exists():
        raise NotFound()
    return path.read_text(encoding="utf-8")


def _variables(text: str) -> set[str]:
    return set(meta.find_undeclared_variables(_sandbox.parse(text)))


def _sample(name: str, variables: set[str]) -> dict[str, str]:
    base = get_settings().public_url
    values = {v: SAMPLE_VALUES.get(v, f"[{v}]") for v in variables}
    if "link" in variables:
        values["link"] = f"{base}/?reset=EJEMPLO"
    if "ticket_id" in variables:
        values["ticket_id"] = "42"
    values.pop("public_url", None)
    return values


def template(
    actor: Actor, name: str, language: str, *, session: Session | None = None
) -> TemplateView:
    """A template's file text and the owner's override of it (owner)."""
    require_owner(actor)
    lang = normalise(language)
    default = _default_text(name, lang)
    override = settings.get_text(
        mail.OVERRIDE_KEY.format(lang=lang, name=name), "", session=session
    )
    return TemplateView(name, lang, default, override, tuple(sorted(_variables(default))))


def _check_template(name: str, lang: str, text: str) -> mail.Rendered:
    """Render ``text`` with sample values, refusing unknown variables and bad syntax."""
    default = _default_text(name, lang)
    subject, _, body = text.partition("\n")
    if not subject.strip() or not body.strip():
        raise ValidationError("catalog.error_template_shape")
    try:
        used = _variables(text)
    except TemplateError:
        raise ValidationError("catalog.error_template_syntax") from None
    allowed = _variables(default) | {"public_url"}
    unknown = sorted(used - allowed)
    if unknown:
        raise ValidationError("catalog.error_template_variable", names=", ".join(unknown))
    try:
        rendered = _sandbox.from_string(text).render(
            public_url=get_settings().public_url, **_sample(name, allowed)
        )
    except TemplateError:
        raise ValidationError("catalog.error_template_syntax") from None
    first, _, rest = rendered.partition("\n")
    return mail.Rendered(first.strip(), rest.strip() + "\n")


def preview_template(
    actor: Actor,
    name: str,
    language: str,
    text: str | None = None,
    *,
    session: Session | None = None,
) -> mail.Rendered:
    """The mail as a client would read it, with sample values: ``text`` when given (the
    unsaved draft), else what is in force."""
    require_owner(actor)
    lang = normalise(language)
    if text is None:
        text = template(actor, name, lang, session=session).current
    return _check_template(name, lang, text.replace("\r\n", "\n"))


def save_template(
    actor: Actor, name: str, language: str, text: str, *, session: Session | None = None
) -> None:
    """Store the owner's wording of a template for one language; empty text (or the file's
    own text) goes back to the default."""
    require_owner(actor)
    if language not in LANGUAGES:
        raise ValidationError("error.language_invalid")
    clean = (text or "").replace("\r\n", "\n").strip()
    if len(clean) > TEMPLATE_MAX:
        raise ValidationError("catalog.error_text_too_long", n=TEMPLATE_MAX)
    default = _default_text(name, language)
    key = mail.OVERRIDE_KEY.format(lang=language, name=name)
    if not clean or clean == default.strip():
        settings.put(actor, key, None, session=session)
        return
    _check_template(name, language, clean)
    settings.put(actor, key, clean, session=session)
