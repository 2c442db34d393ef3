"""Home page, per role."""

from tests.pages.apptest import app_as, texts


def test_client_sees_own_services_and_amount_owed(page_personas):
    at = app_as(page_personas.client_a, "home")
    assert not at.exception
    shown = texts(at)
    assert "cliente-a.ec" in shown
    assert "cliente-b.ec" not in shown  # never another client's service
    owed = next(m for m in at.metric if m.label == "Valor pendiente de pago")
    assert owed.value == "$11,50"


def test_client_b_reads_home_in_english(page_personas):
    at = app_as(page_personas.client_b, "home")
    shown = texts(at)
    assert "Client area" in shown
    assert "cliente-b.ec" in shown and "cliente-a.ec" not in shown


def test_owner_sees_counts_with_billing_figures(page_personas):
    at = app_as(page_personas.owner, "home")
    labels = {m.label: m.value for m in at.metric}
    assert labels["Clientes"] == "2"
    assert labels["Servicios activos"] == "2"
    assert labels["Por cobrar"] == "$23,00"


def test_staff_without_billing_right_sees_no_money(page_personas):
    at = app_as(page_personas.staff, "home")
    labels = {m.label for m in at.metric}
    assert "Tickets abiertos" in labels
    assert "Por cobrar" not in labels and "Facturas impagas" not in labels
