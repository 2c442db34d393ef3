"""The XL/L growth figures the bench reports for issue 20 (bench.growth)."""

from bench.growth import growth, missed, ratio, target


def _result(pages: dict, first=10.0, rerun=1.0, csv=2.0, xlsx=20.0) -> dict:
    return {
        "scale": "?",
        "pages": {
            page: {role: {"median_ms": ms, "sql_ms": ms / 2} for role, ms in roles.items()}
            for page, roles in pages.items()
        },
        "automation": {"first_s": first, "rerun_s": rerun},
        "export": {"csv_s": csv, "xlsx_s": xlsx, "rows": 480_000},
        "peak_rss_mb": 300.0,
    }


def test_each_page_and_role_grows_by_its_own_median():
    base = _result({"home": {"owner": 50.0, "staff": 40.0}, "billing": {"client": 10.0}})
    large = _result({"home": {"owner": 75.0, "staff": 100.0}, "billing": {"client": 12.0}})

    ratios = growth(base, large)

    assert ratios["pages.home.owner"] == 1.5
    assert ratios["pages.home.staff"] == 2.5
    assert ratios["pages.billing.client"] == 1.2


def test_daily_run_and_exports_grow_by_their_seconds():
    base = _result({}, first=10.0, rerun=0.5, csv=2.0, xlsx=20.0)
    large = _result({}, first=95.0, rerun=0.6, csv=30.0, xlsx=200.0)

    ratios = growth(base, large)

    assert ratios == {
        "automation.first_s": 9.5,
        "automation.rerun_s": 1.2,
        "export.csv_s": 15.0,
        "export.xlsx_s": 10.0,
    }


def test_a_figure_measured_on_one_side_only_is_left_out():
    base = _result({"home": {"owner": 50.0}, "reports": {"owner": 30.0}})
    large = _result({"home": {"owner": 60.0, "staff": 10.0}})

    ratios = growth(base, large)

    assert "pages.home.owner" in ratios
    assert "pages.home.staff" not in ratios  # no L figure
    assert "pages.reports.owner" not in ratios  # no XL figure


def test_a_failed_part_has_no_ratio_and_counts_as_missed():
    base = _result({})
    large = _result({})
    large["automation"] = {"first_s": None, "rerun_s": None, "error": "boom"}

    ratios = growth(base, large)

    assert ratios["automation.first_s"] is None
    assert "automation.first_s" in missed(ratios)
    assert ratio(5.0, 0.0) is None


def test_targets_are_issue_20s_and_misses_are_those_over_them():
    assert target("pages.home.owner") == 1.5
    assert target("automation.first_s") == 12
    assert target("export.xlsx_s") == 12
    ratios = {"pages.home.owner": 1.5, "pages.tickets.staff": 1.51, "export.csv_s": 12.5}

    assert missed(ratios) == {"pages.tickets.staff": 1.51, "export.csv_s": 12.5}


def test_xl_is_refused_without_a_postgresql_database(tmp_path, capsys):
    import pytest

    from bench.__main__ import main

    for url in ([], ["--database-url", f"sqlite:///{tmp_path / 'xl.db'}"]):
        with pytest.raises(SystemExit) as exit_:
            main(["--scale", "XL", *url, "--out", str(tmp_path / "xl.json")])
        assert exit_.value.code == 2
        assert "PostgreSQL" in capsys.readouterr().err
    assert not (tmp_path / "xl.db").exists()
