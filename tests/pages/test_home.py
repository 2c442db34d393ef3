"""Home page, per role."""

from tests.pages.apptest import app_as, texts, tr


def test_client_sees_own_services_and_amount_owed(page_personas):
    at = app_as(page_personas.client_a, "home")
    assert not at.exception
    shown = texts(at)
    assert "cliente-a.ec" in shown
    assert "cliente-b.ec" not in shown  # never another client's service
    owed = next(m for m in at.metric if m.label == tr("home.amount_owed"))
    assert owed.value == "$11,50"


def test_client_b_reads_home_in_english(page_personas):
    at = app_as(page_personas.client_b, "home")
    shown = texts(at)
    assert tr("home.client_title", "en") in shown
    assert "cliente-b.ec" in shown and "cliente-a.ec" not in shown


def test_owner_sees_counts_with_billing_figures(page_personas):
    at = app_as(page_personas.owner, "home")
    labels = {m.label: m.value for m in at.metric}
    assert labels[tr("home.clients")] == "2"
    assert labels[tr("home.active_services")] == "2"
    assert labels[tr("home.receivables")] == "$23,00"


def test_staff_without_billing_right_sees_no_money(page_personas):
    at = app_as(page_personas.staff, "home")
    labels = {m.label for m in at.metric}
    assert tr("home.open_tickets") in labels
    assert tr("home.receivables") not in labels and tr("home.unpaid_invoices") not in labels


# ---------------------------------------------------------------- the owner's figures
def test_owner_home_shows_mrr_cash_aging_cash_in_churn_and_tickets(page_personas):
    from core.insights import kpis
    from core.platform import i18n
    from core.platform.clock import now, today
    from core.platform.config import get_settings

    at = app_as(page_personas.owner, "home")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    figures = kpis.home_figures(page_personas.owner.actor, today(get_settings().tz), now())
    assert metrics[tr("kpi.mrr")] == i18n.money(figures.mrr) == "$20,00"
    assert metrics[tr("kpi.cash_this_month")] == "$0,00"
    assert metrics[tr("kpi.cash_in_30")] == i18n.money(figures.cash_in.total)
    assert metrics[tr("kpi.sla_breaches")] == str(figures.tickets.breached)
    titles = {s.value for s in at.subheader}
    assert {tr("kpi.money_title"), tr("kpi.churn_title"), tr("kpi.tickets_title")} <= titles
    assert len(at.get("vega_lite_chart")) >= 5  # trend, aging, cash, cash-in, churn…


def test_staff_without_billing_see_no_owner_money(page_personas):
    at = app_as(page_personas.staff, "home")
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert tr("kpi.mrr") not in labels
    assert tr("kpi.cash_this_month") not in labels and tr("kpi.cash_in_30") not in labels
    assert tr("kpi.sla_breaches") in labels  # the tickets right
    assert tr("kpi.money_title") not in {s.value for s in at.subheader}
    assert "$" not in texts(at)


def test_the_business_logo_is_shown(page_personas):
    from core import catalog
    from tests.integration.test_catalog import PNG

    catalog.save_logo(page_personas.owner.actor, "logo.png", PNG)
    at = app_as(page_personas.client_a, "home")
    assert not at.exception and len(at.get("image")) == 1


def test_a_fall_in_money_reads_as_a_fall_in_spanish(page_personas):
    """Issue 16 item 17: "↑ $-38,81" in green. Babel's Spanish puts the sign after "$";
    Streamlit calls a text delta a fall only when it starts with "-"."""
    from datetime import timedelta

    from core import billing
    from core.platform.clock import today

    owner, a = page_personas.owner, page_personas.client_a
    on = today()
    same_day_last_month = (on.replace(day=1) - timedelta(days=1)).replace(day=min(on.day, 28))
    billing.record_payment(owner.actor, [a.invoice_id], "11.50", received_on=same_day_last_month)
    at = app_as(owner, "home")
    cash = next(m for m in at.metric if m.label == tr("kpi.cash_this_month"))
    assert cash.proto.delta == "-$11,50"  # Streamlit draws it red, the arrow down
    mrr = next(m for m in at.metric if m.label == tr("kpi.mrr"))
    assert not mrr.proto.delta.startswith("$-")


def test_the_owners_charts_speak_spanish(page_personas):
    """Issue 16 item 18: chart months read "Jan 2026" in the Spanish UI (Vega's own locale);
    the chart's config.locale gives Spanish month names and the decimal comma."""
    import json

    at = app_as(page_personas.owner, "home")
    specs = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert specs
    for spec in specs:
        locale = spec["config"]["locale"]
        assert locale["time"]["shortMonths"][0] == "ene" and locale["number"]["decimal"] == ","
    english = app_as(page_personas.client_b, "home")  # a client: no charts, and no error
    assert not english.exception
