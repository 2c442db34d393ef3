"""Reports page: the owner's reports with exports; staff need the reports right, and see no
money without the billing right. Only the open tab's report is drawn (ui.kit.tabs)."""

from datetime import date

from core import billing
from core.accounts import team as users
from core.platform.clock import now
from tests.pages.apptest import app_as, open_tab, page_alone, texts, tr

MONEY_TABS = (tr("reports.tab_income"), tr("reports.tab_mrr"), tr("reports.tab_aging"))
TABS = "reports_tab"


def tab_labels(at) -> list[str]:
    return [t.label for t in at.tabs]


def test_the_owner_gets_every_report_with_csv_and_xlsx(page_personas):
    owner = page_personas.owner.actor
    paid = billing.create_invoice(
        owner,
        page_personas.client_a.actor.client_id,
        [billing.LineInput("Hosting", "20.00")],
        issued_on=date.today(),
    )
    billing.record_payment(owner, [paid], "23.00")
    at = app_as(page_personas.owner, "reports")
    assert not at.exception
    assert tab_labels(at) == [
        *MONEY_TABS,
        tr("reports.tab_services"),
        tr("reports.tab_churn"),
        tr("reports.tab_tickets"),
        tr("reports.tab_knowledge"),
    ]
    shown = texts(at)
    assert tr("reports.col.base") in shown and "$23,00" in shown  # income, IVA apart
    income = at.dataframe[0].value
    assert list(income.columns) == [
        tr("reports.col.month"),
        tr("reports.col.invoices"),
        tr("reports.col.base"),
        tr("reports.col.iva"),
        tr("reports.col.total"),
    ]
    # The other reports are hidden tabs: not drawn (nor read) until opened.
    assert {b.key for b in at.get("download_button")} == {
        "reports_income_csv",
        "reports_income_csv_es",
        "reports_income_xlsx",
    }
    assert "F-A-1" not in shown and len(at.dataframe) == 1
    keys: set[str] = set()
    for label in tab_labels(at):
        at = open_tab(at, TABS, label)
        assert not at.exception, label
        keys |= {b.key for b in at.get("download_button")}
        if label == tr("reports.tab_aging"):
            assert "F-A-1" in texts(at)  # the aging detail
            assert at.query_params["report"] == "aging"  # the URL names the open report
    for name in ("income", "mrr", "aging", "services", "churn", "reasons", "tickets", "volume"):
        assert {f"reports_{name}_{kind}" for kind in ("csv", "csv_es", "xlsx")} <= keys, name


def test_a_link_opens_one_report(page_personas):
    at = app_as(page_personas.owner, "reports", report="aging")
    assert not at.exception
    assert at.session_state[TABS] == tr("reports.tab_aging") and "F-A-1" in texts(at)


def test_the_date_range_filters_the_reports(page_personas):
    at = app_as(page_personas.owner, "reports")
    at.date_input(key="reports_from").set_value(date(2026, 1, 1))
    at.date_input(key="reports_to").set_value(date(2026, 3, 31))
    next(b for b in at.button if b.label == tr("action.filter")).click().run()
    assert not at.exception
    months = at.dataframe[0].value[tr("reports.col.month")].tolist()
    assert months == ["2026-01", "2026-02", "2026-03"]


def test_staff_with_reports_but_not_billing_see_no_money(page_personas):
    users.set_access(
        page_personas.owner.actor,
        page_personas.staff.actor.user_id,
        permissions=["tickets", "services", "reports"],
        active=True,
        at=now(),
    )
    at = app_as(page_personas.staff, "reports")
    assert not at.exception
    assert tab_labels(at) == [
        tr("reports.tab_services"),
        tr("reports.tab_churn"),
        tr("reports.tab_tickets"),
        tr("reports.tab_knowledge"),
    ]
    keys: set[str] = set()
    shown = ""
    for label in tab_labels(at):
        at = open_tab(at, TABS, label)
        assert not at.exception, label
        keys |= {b.key for b in at.get("download_button")}
        shown += texts(at)
    assert not any(k.startswith(("reports_income", "reports_mrr", "reports_aging")) for k in keys)
    assert tr("reports.tab_mrr") not in shown and "$" not in shown and "F-A-1" not in shown
    assert tr("reports.no_money") in shown
    at = app_as(page_personas.staff, "reports", report="aging")  # not theirs: the first tab
    assert not at.exception and at.session_state[TABS] == tr("reports.tab_services")
    assert "F-A-1" not in texts(at)


def test_staff_without_billing_get_no_billing_page_either(page_personas):
    at = page_alone(page_personas.staff, "billing")
    assert [e.value for e in at.error] == [tr("error.page_not_allowed")]
    assert "F-A-1" not in texts(at) and not at.get("download_button")


def test_staff_without_the_reports_right_get_no_page(page_personas):
    at = page_alone(page_personas.staff, "reports")
    assert [e.value for e in at.error] == [tr("error.page_not_allowed")]
    assert not at.get("download_button")
    at = page_alone(page_personas.client_a, "reports")
    assert [e.value for e in at.error] == [tr("error.page_not_allowed")]
