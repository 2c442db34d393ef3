"""What a plan change costs and whether it may happen now (billing-rules §2.1–§2.3).

The pricing side of plan changes: the settings it reads, the :class:`Quote` value, the reasons
a service is blocked, the targets it may move to, the proration itself and the formula in
plain words. It reads the database but never writes, so a page can show every quote and the
confirm path (``plan_changes.confirming``) can freeze the very same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.billing.ledger import PRICES_INCLUDE_TAX
from core.catalog.taxes import iva_rate_on
from core.models import Invoice, InvoiceItem, PlanChange, Product, ProductPrice, Service
from core.plan_changes.common import OPEN
from core.platform import settings, settings_registry
from core.platform.errors import ValidationError
from core.platform.i18n import day as fmt_day
from core.platform.i18n import money as fmt_money
from core.platform.i18n import pick, t
from core.rules.cycles import CYCLE_MONTHS, RECURRING_CYCLES, advance, is_recurring
from core.rules.money import ZERO, invoice_totals, q2
from core.rules.proration import CHANGE_MODES, ChangeQuote, quote_change

# Settings read here, with their defaults (each one is used and tested).
CREDIT_ON_DOWNGRADE = "credit_on_downgrade"  # billing-rules §0.6; a product may override it
DOWNGRADE_POLICY = "plan_change.downgrade_policy"  # "now" | "at_renewal"
CYCLE_CHANGE_MODE = "cycle_change_mode"  # billing-rules §2.3: "switch_now" | "keep_due_date"
POLICIES = ("now", "at_renewal")
DEFAULT_POLICY: str = settings_registry.default(DOWNGRADE_POLICY)
DEFAULT_MODE: str = settings_registry.default(CYCLE_CHANGE_MODE)

QUOTE_DAYS = 7  # a quote is valid this many days (or until the day before the due date)


@dataclass(frozen=True)
class Quote:
    """The price of moving a service to ``to_product`` on ``to_cycle`` on ``change_date``.

    ``credit``/``charge`` are the informational lines (rounded for display); ``net`` is
    ``charge − credit`` rounded once; ``payable`` is what the invoice line charges (never
    negative); ``balance_credit`` what a downgrade adds to the client's credit; ``subtotal``,
    ``tax`` and ``total`` are the invoice's. ``exact`` is ``quote_change``'s own result (None
    for a downgrade waiting for renewal, which moves no money now).
    """

    service_id: int
    domain: str
    from_product_id: int
    from_product: str
    from_cycle: str
    from_amount: Decimal
    to_product_id: int
    to_product: str
    to_cycle: str
    to_amount: Decimal
    change_date: date
    valid_until: date
    mode: str
    downgrade: bool
    at_renewal: bool
    credit: Decimal
    charge: Decimal
    net: Decimal
    payable: Decimal
    balance_credit: Decimal
    tax_rate: Decimal
    subtotal: Decimal
    tax: Decimal
    total: Decimal
    remaining_days: int
    period_days: int
    next_due: date | None
    anchor_day: int
    exact: ChangeQuote | None

    @property
    def apply_on(self) -> date | None:
        """For a downgrade waiting for renewal: the day it takes effect."""
        return self.next_due if self.at_renewal else None

    @property
    def moves_due_date(self) -> bool:
        """The change starts a new period now: a cycle switch in "switch_now" mode, or the
        first paid cycle after a free plan (billing-rules §1.1, §2.3)."""
        if self.at_renewal:
            return False
        return self.from_cycle == "free" or (
            self.to_cycle != self.from_cycle and self.mode == "switch_now"
        )

    def frozen(self) -> dict[str, Any]:
        """What the PlanChange row keeps: amounts as strings, dates as ISO text."""
        return {
            "change_date": self.change_date.isoformat(),
            "valid_until": self.valid_until.isoformat(),
            "mode": self.mode,
            "downgrade": self.downgrade,
            "at_renewal": self.at_renewal,
            "apply_on": self.apply_on.isoformat() if self.apply_on else None,
            "from_product": self.from_product,
            "to_product": self.to_product,
            "from_amount": str(self.from_amount),
            "to_amount": str(self.to_amount),
            "credit": str(self.credit),
            "charge": str(self.charge),
            "net": str(self.net),
            "payable": str(self.payable),
            "balance_credit": str(self.balance_credit),
            "tax_rate": str(self.tax_rate),
            "subtotal": str(self.subtotal),
            "tax": str(self.tax),
            "total": str(self.total),
            "remaining_days": self.remaining_days,
            "period_days": self.period_days,
            "next_due": self.next_due.isoformat() if self.next_due else None,
            "anchor_day": self.anchor_day,
            "moves_due_date": self.moves_due_date,
        }


# ------------------------------------------------------------------------ pricing
def _mode(s: Session) -> str:
    mode = settings.get_text(CYCLE_CHANGE_MODE, session=s)
    return mode if mode in CHANGE_MODES else DEFAULT_MODE


def _policy(s: Session) -> str:
    policy = settings.get_text(DOWNGRADE_POLICY, session=s)
    return policy if policy in POLICIES else DEFAULT_POLICY


def credit_on_downgrade(product: Product, *, session: Session | None = None) -> bool:
    """The override of the product being left when set, else the ``credit_on_downgrade``
    setting (default off)."""
    if product.credit_on_downgrade is not None:
        return bool(product.credit_on_downgrade)
    return settings.get_bool(CREDIT_ON_DOWNGRADE, session=session)


def _monthly(price: Decimal, cycle: str) -> Fraction:
    return Fraction(price) / CYCLE_MONTHS[cycle] if cycle in CYCLE_MONTHS else Fraction(0)


def _unpaid_renewal(s: Session, service_id: int) -> str | None:
    """The number of an unpaid renewal invoice of the service, if there is one."""
    row = s.execute(
        select(Invoice.id, Invoice.number)
        .join(InvoiceItem, InvoiceItem.invoice_id == Invoice.id)
        .where(
            InvoiceItem.service_id == service_id,
            InvoiceItem.kind == "renewal",
            Invoice.status == "unpaid",
        )
        .order_by(Invoice.id)
    ).first()
    if row is None:
        return None
    return row[1] or f"#{row[0]}"


def _blocker(s: Session, svc: Service, day: date) -> tuple[str, dict[str, Any]] | None:
    """Why the service cannot change plan today, as an i18n key and parameters."""
    if svc.status != "active":
        return "error.upgrade_not_active", {}
    if not is_recurring(svc.billing_cycle) and svc.billing_cycle != "free":
        return "error.upgrade_not_recurring", {}
    number = _unpaid_renewal(s, svc.id)
    if number is not None:
        return "error.upgrade_renewal_unpaid", {"number": number}
    open_change = s.scalars(
        select(PlanChange.id).where(PlanChange.service_id == svc.id, PlanChange.status.in_(OPEN))
    ).first()
    if open_change is not None:
        return "error.upgrade_change_open", {}
    if svc.next_due_date is not None and day >= svc.next_due_date:
        return "error.upgrade_renew_first", {}
    return None


def change_blocker(s: Session, svc: Service, day: date) -> tuple[str, dict[str, Any]] | None:
    """Why the plan-change page would refuse this service on ``day`` (None: it can change);
    the cancellation's retention offer asks it so it never offers a change that page refuses."""
    return _blocker(s, svc, day)


def _targets(s: Session, svc: Service) -> list[tuple[Product, ProductPrice]]:
    """The (product, recurring price) pairs the service may move to, in catalogue order."""
    ids = [int(i) for i in (svc.product.upgrade_targets or []) if str(i).isdigit()]
    if not ids:
        return []
    rows = s.execute(
        select(Product, ProductPrice)
        .join(ProductPrice, ProductPrice.product_id == Product.id)
        .where(
            Product.id.in_(ids),
            Product.active.is_(True),
            ProductPrice.cycle.in_(RECURRING_CYCLES),
        )
    ).all()
    pairs = [
        (product, price)
        for product, price in rows
        if not (product.id == svc.product_id and price.cycle == svc.billing_cycle)
    ]
    pairs.sort(
        key=lambda pair: (
            pair[0].sort_order,
            pair[0].name,
            pair[0].id,
            RECURRING_CYCLES.index(pair[1].cycle),
        )
    )
    return pairs


def _build(s: Session, svc: Service, target: Product, price: ProductPrice, day: date) -> Quote:
    """The quote of one target (no blocking checks here: see :func:`_blocker`)."""
    old_cycle, new_cycle = svc.billing_cycle, price.cycle
    old_price, new_price = q2(svc.recurring_amount), q2(price.price)
    mode = _mode(s)
    downgrade = old_cycle != "free" and _monthly(new_price, new_cycle) < _monthly(
        old_price, old_cycle
    )
    at_renewal = downgrade and _policy(s) == "at_renewal" and svc.next_due_date is not None
    valid_until = day + timedelta(days=QUOTE_DAYS)
    if svc.next_due_date is not None:
        valid_until = max(day, min(valid_until, svc.next_due_date - timedelta(days=1)))
    rate = iva_rate_on(day, session=s)  # the owner's dated IVA table, as the invoice
    gross = settings.get_bool(PRICES_INCLUDE_TAX, session=s)
    if at_renewal:
        exact = None
        credit = charge = net = ZERO
        remaining = period = 0
        next_due, anchor = svc.next_due_date, svc.anchor_day
        balance_credit = ZERO
    else:
        try:
            exact = quote_change(
                old_price=old_price,
                old_cycle=old_cycle,
                new_price=new_price,
                new_cycle=new_cycle,
                next_due=svc.next_due_date,
                anchor_day=svc.anchor_day,
                change_date=day,
                mode=mode,
            )
        except ValueError:
            raise ValidationError("error.upgrade_not_possible") from None
        credit, charge, net = q2(exact.credit), q2(exact.charge), exact.net
        remaining, period = exact.remaining_days, exact.period_days
        next_due, anchor = exact.next_due, exact.anchor_day
        # The plan being left decides: the credit is the unused value of its price.
        balance_credit = exact.balance_credit(credit_on_downgrade(svc.product, session=s))
    payable = max(net, ZERO)
    totals = invoice_totals([(payable, rate)], prices_include_tax=gross)
    return Quote(
        service_id=svc.id,
        domain=svc.domain,
        from_product_id=svc.product_id,
        # Names in the client's language: the quote's names go into the invoice line.
        from_product=pick(svc.product.name, svc.product.name_en, svc.client.language),
        from_cycle=old_cycle,
        from_amount=old_price,
        to_product_id=target.id,
        to_product=pick(target.name, target.name_en, svc.client.language),
        to_cycle=new_cycle,
        to_amount=new_price,
        change_date=day,
        valid_until=valid_until,
        mode=mode,
        downgrade=downgrade,
        at_renewal=at_renewal,
        credit=credit,
        charge=charge,
        net=net,
        payable=payable,
        balance_credit=balance_credit,
        tax_rate=rate,
        subtotal=totals.subtotal,
        tax=totals.tax,
        total=totals.total,
        remaining_days=remaining,
        period_days=period,
        next_due=next_due,
        anchor_day=anchor,
        exact=exact,
    )


def _pick(
    s: Session, svc: Service, to_product_id: int, to_cycle: str
) -> tuple[Product, ProductPrice]:
    try:
        wanted = int(to_product_id)
    except (TypeError, ValueError):
        raise ValidationError("error.upgrade_target_invalid") from None
    for product, price in _targets(s, svc):
        if product.id == wanted and price.cycle == to_cycle:
            return product, price
    raise ValidationError("error.upgrade_target_invalid")


# ------------------------------------------------------------------------ explain
def explain(q: Quote, lang: str | None) -> list[str]:
    """The quote's formula in plain words, one sentence per line, in ``lang``."""

    def m(value: Decimal) -> str:
        return fmt_money(value, lang)

    cycle = t(f"cycle.{q.to_cycle}", lang)
    if q.at_renewal:
        return [
            t(
                "upgrades.formula_at_renewal",
                lang,
                date=fmt_day(q.apply_on, lang),
                plan=q.to_product,
                amount=m(q.to_amount),
                cycle=cycle,
            )
        ]
    lines: list[str] = []
    if q.from_cycle == "free":
        lines.append(t("upgrades.formula_free", lang))
        lines.append(t("upgrades.formula_charge_full", lang, cycle=cycle, charge=m(q.charge)))
    else:
        lines.append(
            t(
                "upgrades.formula_credit",
                lang,
                old=m(q.from_amount),
                remaining=q.remaining_days,
                period=q.period_days,
                credit=m(q.credit),
            )
        )
        if q.to_cycle == q.from_cycle:
            lines.append(
                t(
                    "upgrades.formula_charge_same",
                    lang,
                    new=m(q.to_amount),
                    remaining=q.remaining_days,
                    period=q.period_days,
                    charge=m(q.charge),
                )
            )
        elif q.mode == "switch_now":
            lines.append(t("upgrades.formula_charge_full", lang, cycle=cycle, charge=m(q.charge)))
        else:
            start = q.change_date
            new_period = (advance(start, q.to_cycle, start.day) - start).days
            lines.append(
                t(
                    "upgrades.formula_charge_keep",
                    lang,
                    new=m(q.to_amount),
                    cycle=cycle,
                    remaining=q.remaining_days,
                    new_period=new_period,
                    charge=m(q.charge),
                )
            )
    lines.append(
        t("upgrades.formula_net", lang, charge=m(q.charge), credit=m(q.credit), net=m(q.net))
    )
    if q.net > 0:
        lines.append(
            t("upgrades.formula_pay", lang, payable=m(q.subtotal), tax=m(q.tax), total=m(q.total))
        )
    elif q.net < 0 and q.balance_credit > 0:
        lines.append(t("upgrades.formula_credit_balance", lang, amount=m(q.balance_credit)))
    elif q.net < 0:
        lines.append(t("upgrades.formula_no_refund", lang, amount=m(-q.net)))
    else:
        lines.append(t("upgrades.formula_nothing", lang))
    if q.moves_due_date and q.next_due is not None:
        lines.append(t("upgrades.formula_next_due", lang, date=fmt_day(q.next_due, lang)))
    return lines
