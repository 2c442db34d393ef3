"""What reacts to a paid invoice is one list, ``core.billing.hooks.PAID_HOOKS`` (ARCHITECTURE
§2, rule 11): a reaction left out of it would quietly stop running, so the list is checked."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_reaction_to_a_paid_invoice_is_listed_once_in_order():
    """A payment renews the service and its add-ons, reprices it, provisions an order, applies
    a paid plan change, issues the SRI factura and sends it after commit, whichever process
    records it. The order is the list's: it is not load-bearing (none reads what another writes — a
    renewal's next due date, a renewal line's new price, a pending order's set-up after
    commit, a plan change's own rows, the invoice's lines for the factura), but it is fixed
    so every run reads the same."""
    from core.billing import hooks

    assert [(h.__module__, h.__name__) for h in hooks.PAID_HOOKS] == [
        ("core.automation.on_payment", "renew_on_payment"),
        ("core.addons.renewing", "settle"),
        ("core.catalog.repricing", "reprice_on_renewal"),
        ("core.orders.fulfilment", "provision_paid_order"),
        ("core.plan_changes.apply", "apply_paid_plan_change"),
        ("core.einvoice.triggers", "issue_factura_on_payment"),
        ("core.einvoice.transmission", "send_paid_factura"),
    ]


def test_mark_paid_runs_the_list_and_nothing_registers_hooks():
    """``mark_paid`` reads ``hooks.PAID_HOOKS`` when it runs (so a test may patch the list),
    and no module keeps a registry or a list of module names to import."""
    ledger = (ROOT / "core/billing/ledger.py").read_text(encoding="utf-8")
    [mark_paid] = [
        n
        for n in ast.walk(ast.parse(ledger))
        if isinstance(n, ast.FunctionDef) and n.name == "mark_paid"
    ]
    loops = [n for n in ast.walk(mark_paid) if isinstance(n, ast.For)]
    assert [ast.unparse(n.iter) for n in loops] == ["hooks.PAID_HOOKS"]
    assert "importlib" not in ledger
    for path in sorted((ROOT / "core").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for word in ("register_paid_hook", "PAID_HOOK_MODULES"):
            assert word not in text, f"{path.relative_to(ROOT)} uses {word}"
