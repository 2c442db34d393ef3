"""The importer's value readers (import-sources.md §7): money exact from DECIMAL, DOUBLE and
VARCHAR, zero and impossible dates, cycle spellings, entities, mojibake, password hashes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from core.imports.report import KINDS, Report
from core.imports.source import source_url
from core.imports.values import (
    BadValue,
    bcrypt_hash,
    day,
    fit,
    flag,
    moment,
    money,
    period_cycle,
    text,
    whmcs_cycle,
)
from core.platform.errors import ValidationError


def test_money_is_exact_whatever_the_column():
    assert money(0.1) == Decimal("0.10")  # a DOUBLE's 0.1 stays 0.10 (§7.9)
    assert money(16.2) == Decimal("16.20")
    assert money("3.10") == Decimal("3.10")  # FOSSBilling's VARCHAR amount
    assert money(Decimal("-1.00")) == Decimal("-1.00")
    assert money(None) == money("") == Decimal("0.00")
    for bad in ("12,50 USD", "abc", "NaN", "Infinity"):
        with pytest.raises(BadValue) as err:
            money(bad)
        assert err.value.code == "not_a_number"


def test_dates():
    assert day("0000-00-00") is None and day(None) is None  # §7.1
    assert moment("0000-00-00 00:00:00") is None
    assert day("2026-01-31") == date(2026, 1, 31)
    assert moment("2026-01-31 10:11:12") == datetime(2026, 1, 31, 10, 11, 12)
    for bad in ("1850-01-01", "2150-01-01", "2026-02-30"):
        with pytest.raises(BadValue):
            day(bad)


def test_cycles():
    assert whmcs_cycle("Semi-Annually") == whmcs_cycle("semiannually") == "semiannually"
    assert whmcs_cycle("One Time") == whmcs_cycle("One-Time") == "onetime"
    assert whmcs_cycle("Free Account") == "free"
    assert whmcs_cycle("MONTHLY") == "monthly"
    with pytest.raises(BadValue):
        whmcs_cycle("Fortnightly")
    assert period_cycle("12M") == period_cycle("1Y") == "annually"
    assert period_cycle("3Y") == "triennially"
    for code, reason in (("45D", "cycle_not_supported"), ("1W", "cycle_not_supported")):
        with pytest.raises(BadValue) as err:
            period_cycle(code)
        assert err.value.code == reason
    with pytest.raises(BadValue):
        period_cycle("monthly")


def test_text_entities_and_mojibake():
    assert text("O&#039;Brien") == "O'Brien"  # §7.16
    assert text("Smith &amp; Sons") == "Smith & Sons"
    assert text("JosÃ©") == "José"  # §7.17
    assert text("Ãx") == "Ãx"  # a real Ã stays
    assert text(b"caf\xe9") == "café"  # latin1 bytes
    assert fit("abcdef", 4) == ("abcd", True) and fit("ab", 4) == ("ab", False)
    assert flag("on") and not flag("") and flag(1) and not flag(0)  # §7.23


def test_only_bcrypt_hashes_come_over():
    good = "$2y$10$" + "a" * 53
    assert bcrypt_hash(good) == good  # §7.18
    assert bcrypt_hash("$2b$12$" + "b" * 53) is not None
    assert bcrypt_hash("5f4dcc3b5aa765d61d8327deb882cf99:abcde") is None
    assert bcrypt_hash("") is None and bcrypt_hash(None) is None


def test_source_urls():
    assert source_url("mysql://root@127.0.0.1/whmcs").startswith("mysql+pymysql://")
    assert source_url("mariadb://u:p@h:3307/db").startswith("mysql+pymysql://u:p@h:3307/db")
    for bad in ("sqlite:///x.db", "postgresql://x/y", "not a url"):
        with pytest.raises(ValidationError):
            source_url(bad)


def test_the_report_names_every_kind():
    report = Report("whmcs", dry_run=True)
    report.problem("clients", 3, "currency_not_usd")
    report.problem("services", 5, "cycle_not_offered", skip=False)
    out = report.as_json()
    assert set(out) == {"dry_run", "created", "skipped", "problems", "balance_mismatches"}
    assert set(KINDS) <= set(out["created"]) and out["skipped"]["clients"] == 1
    assert out["skipped"]["services"] == 0
    assert out["problems"][0] == {"kind": "clients", "source_id": "3", "reason": "currency_not_usd"}
