"""The pure parts of an order (core.orders.pricing): domain names and the first invoice
(billing-rules §2.4)."""

from datetime import date
from decimal import Decimal

import pytest

from core.orders.pricing import FirstLine, first_invoice, normalise_domain
from core.platform.errors import ValidationError


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Ejemplo.EC", "ejemplo.ec"),
        ("  www.ejemplo.com.ec. ", "ejemplo.com.ec"),
        ("café-quiteño.ec", "xn--caf-quiteo-d7a6h.ec"),
        ("xn--caf-quiteo-d7a6h.ec", "xn--caf-quiteo-d7a6h.ec"),
        ("sub.dominio-largo.org", "sub.dominio-largo.org"),
    ],
)
def test_domains_are_stored_as_the_panel_wants_them(typed, stored):
    assert normalise_domain(typed) == stored


@pytest.mark.parametrize(
    "typed",
    [
        "",
        None,
        "ejemplo",
        "http://ejemplo.ec",
        "ejemplo.ec/tienda",
        "ana@ejemplo.ec",
        "eje mplo.ec",
        "-ejemplo.ec",
        "ejemplo-.ec",
        "ejemplo..ec",
        "exa_mple.ec",
        "192.168.1.10",
        "a" * 64 + ".ec",
        ("a" * 60 + ".") * 5 + "ec",
        "ejemplo.e",
    ],
)
def test_invalid_domains_are_refused(typed):
    with pytest.raises(ValidationError) as exc:
        normalise_domain(typed)
    assert exc.value.key == "error.order_domain_invalid"


PRORATA = {"prorata_day": 1, "charge_next_month_day": 20}


def test_vector_27_prorata_before_the_cutoff():
    first = first_invoice(
        price=Decimal("30.00"), cycle="monthly", order_date=date(2024, 3, 10), **PRORATA
    )
    assert first.lines == (
        FirstLine("prorata", date(2024, 3, 10), date(2024, 3, 31), Decimal("21.29")),
    )
    assert first.next_due == date(2024, 4, 1) and first.anchor_day == 1
    assert first.amount == Decimal("21.29")


def test_vector_28_prorata_after_the_cutoff_adds_the_next_month():
    first = first_invoice(
        price=Decimal("30.00"), cycle="monthly", order_date=date(2024, 3, 25), **PRORATA
    )
    assert first.lines == (
        FirstLine("prorata", date(2024, 3, 25), date(2024, 3, 31), Decimal("6.77")),
        FirstLine("renewal", date(2024, 4, 1), date(2024, 4, 30), Decimal("30.00")),
    )
    assert first.amount == Decimal("36.77") and first.next_due == date(2024, 5, 1)


def test_vector_29_prorata_on_the_day_is_one_full_cycle():
    first = first_invoice(
        price=Decimal("30.00"), cycle="monthly", order_date=date(2024, 3, 1), **PRORATA
    )
    assert first.lines == (
        FirstLine("renewal", date(2024, 3, 1), date(2024, 3, 31), Decimal("30.00")),
    )
    assert first.next_due == date(2024, 4, 1)


def test_without_prorata_one_cycle_anchored_on_the_order_day_plus_setup():
    first = first_invoice(
        price=Decimal("120.00"),
        cycle="annually",
        order_date=date(2024, 1, 31),
        setup_fee=Decimal("5.00"),
    )
    assert first.lines == (
        FirstLine("renewal", date(2024, 1, 31), date(2025, 1, 30), Decimal("120.00")),
        FirstLine("setup", date(2024, 1, 31), None, Decimal("5.00")),
    )
    assert first.next_due == date(2025, 1, 31) and first.anchor_day == 31
    monthly = first_invoice(price=Decimal("10.00"), cycle="monthly", order_date=date(2024, 1, 31))
    assert monthly.next_due == date(2024, 2, 29) and monthly.anchor_day == 31
