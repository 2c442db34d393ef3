"""Acceptance 1 of issue 17: the access keys of research §1.5 and its negative vectors."""

from __future__ import annotations

from datetime import date

import pytest

from core.einvoice import access_key, is_valid_access_key

# (key, date, codDoc, RUC, ambiente, estab, ptoEmi, secuencial, código numérico) — §1.5 F and T.
VECTORS = [
    ("1702201205176001321000110010030001000011234567816", date(2012, 2, 17), "05",
     "1760013210001", 1, "001", "003", 100001, 12345678),
    ("1302201201176001321000120010030000050431234567814", date(2012, 2, 13), "01",
     "1760013210001", 2, "001", "003", 5043, 12345678),
    ("1609202601176001321000110010010009404212344783611", date(2026, 9, 16), "01",
     "1760013210001", 1, "001", "001", 940421, 23447836),
    ("2501202206179236683600110010010000000013121521412", date(2022, 1, 25), "06",
     "1792366836001", 1, "001", "001", 1, 31215214),
    ("1809202101172402417700110010040000000061234567810", date(2021, 9, 18), "01",
     "1724024177001", 1, "001", "004", 6, 12345678),
    ("0702202201171074442400110020020000000018765432111", date(2022, 2, 7), "01",
     "1710744424001", 1, "002", "002", 1, 87654321),
    ("1609202601176001321000110010010000001231234567813", date(2026, 9, 16), "01",
     "1760013210001", 1, "001", "001", 123, 12345678),
]  # fmt: skip

# The worked example and the two special cases of §1.3 (11 → 0, 10 → 1).
WORKED = [
    "0312202201019007200200120029020004874985766297216",
    "1811202301179001691900120721260002540020711013510",
    "2312202207080210902500120020010000000039846951111",
]

# §1.5 negative vectors: real keys edited inside a fixture, a 50-character one, synthetic ones.
NEGATIVE = [
    "2412202301179032283100120090210000671826226011111",
    "0112202301179214148600120310500006249534126153323",
    "2411202304179001691900120011010047297422411123419",
    "2411202307179028338000120010160023856290238562345",
    "0111202307179199236900120011000000016231234567345",
    "1811202301179001691900120721260002540020711013510A",
    "1234567890123456789012345678901234567890123456789",
    "0" * 48 + "1",
    "",
    "181120230117900169190012072126000254002071101351",  # 48 digits
    "18112023011790016919001207212600025400207110135１0",  # a non-ASCII digit
    None,
    1811202301179001691900120721260002540020711013510,
]


@pytest.mark.parametrize("vector", VECTORS, ids=[v[0] for v in VECTORS])
def test_research_vectors_are_built_and_valid(vector):
    key, issued_on, doc_type, ruc, env, estab, point, seq, code = vector
    assert is_valid_access_key(key)
    built = access_key(
        issued_on=issued_on,
        doc_type=doc_type,
        ruc=ruc,
        environment=env,
        establishment=estab,
        emission_point=point,
        sequential=seq,
        numeric_code=code,
    )
    assert built == key


@pytest.mark.parametrize("key", WORKED)
def test_worked_examples_and_special_check_digits_are_valid(key):
    assert is_valid_access_key(key)


@pytest.mark.parametrize("key", NEGATIVE, ids=[repr(k)[:20] for k in NEGATIVE])
def test_negative_vectors_are_rejected(key):
    assert not is_valid_access_key(key)


def test_any_other_check_digit_is_rejected():
    for key, *_ in VECTORS:
        for d in "0123456789":
            if d != key[48]:
                assert not is_valid_access_key(key[:48] + d)


@pytest.mark.parametrize(
    "field,value",
    [
        ("sequential", 1_000_000_000),
        ("sequential", -1),
        ("establishment", "01"),
        ("emission_point", "0001"),
        ("ruc", "179000000000"),
        ("numeric_code", 123456789),
        ("environment", 3 * 10),
        ("doc_type", "1"),
    ],
)
def test_a_field_of_the_wrong_width_is_refused(field, value):
    fields = dict(
        issued_on=date(2026, 9, 16),
        doc_type="01",
        ruc="1760013210001",
        environment=1,
        establishment="001",
        emission_point="001",
        sequential=123,
        numeric_code=12345678,
    )
    fields[field] = value
    with pytest.raises(ValueError):
        access_key(**fields)
