"""The paid hooks are registered by importing the modules billing_ledger names, not by a
call: a hook moved to a module nobody imports would quietly stop running."""


def test_every_reaction_to_a_paid_invoice_is_registered_once():
    """A payment renews the service, reprices it, provisions an order and applies a paid
    plan change, whichever process records it. The hooks are registered by importing the
    modules billing_ledger names; a hook moved to a module nobody imports would silently
    stop running, so each is checked here. (Their order follows import order, which is
    fine: none reads what another writes — a renewal's price, its next due date, a pending
    order's set-up after commit, a plan change's own lines.)"""
    from core.billing import ledger as billing_ledger

    billing_ledger._load_paid_hooks()
    assert sorted((h.__module__, h.__name__) for h in billing_ledger.on_invoice_paid) == [
        ("core.automation.on_payment", "on_invoice_paid"),
        ("core.catalog.repricing", "_apply_repricing_on_renewal"),
        ("core.orders.fulfilment", "_on_invoice_paid"),
        ("core.plan_changes.apply", "_on_invoice_paid"),
    ]
