"""ARCHITECTURE §2 rule 5: "now"/"today" is read once per action, at its entry point, and
passed down as ``at``/``today`` so tests can pin it. Nothing below an entry point reads it.

This walks every module of ``core`` with ``ast`` and finds each call of ``now()``/``today()``
from ``core.platform.clock`` (under any alias: ``from core.platform.clock import now as x``,
``from core.platform import clock`` then ``clock.today(...)``, ``import core.platform.clock``).
A call inside a function that is not listed in ``ENTRY_POINTS`` below fails the test, and so
does a listed function that no longer reads the clock (the list stays exact). A column default
such as ``default=now`` in ``core/models`` names the function without calling it: it is the
database row's own stamp, read when the row is written, and is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "core"
CLOCK_MODULE = "core.platform.clock"
CLOCK_FILE = "platform/clock.py"  # the only place the real clock is read (datetime.now)
READS = ("now", "today")
DATETIME_NAMES = (
    "datetime",
    "date",
    "datetime.datetime",
    "datetime.date",
    "dt.datetime",
    "dt.date",
)

# (file under core/, function) → why it is an entry point: the action a user, the CLI or
# cron starts. Each reads the clock once, as ``at = at or now()`` (or ``today or today()``)
# so a test can pin it, and passes the value down.
ENTRY_POINTS: dict[tuple[str, str], str] = {
    # The daily run (cron: ``python -m core.cli automation run``). ``at`` is the run's moment,
    # passed to every step; the lease, the run's ledger row and the mail outbox are read on
    # real time here as the run goes (a lease measures how long it has been held).
    ("automation/__init__.py", "run"): "the daily run's runner",
    ("automation/oversight.py", "approve_termination"): "ui/billing/automation.py",
    ("billing/__init__.py", "create_invoice"): "ui/billing/desk.py (new invoice)",
    ("imports/run.py", "run"): "CLI import / ui/settings/imports.py (the import's moment)",
    ("imports/passwords.py", "send_password_links"): "ui/settings/imports.py (send links)",
    ("billing/__init__.py", "issue_invoice"): "ui/billing/invoice.py (issue a draft)",
    ("billing/__init__.py", "refund_invoice"): "ui/billing/invoice.py (refund to credit)",
    ("einvoice/signing.py", "sign"): "signing a document directly (issuance passes its at)",
    ("billing/credit.py", "apply_credit"): "ui/billing/invoice.py (apply credit)",
    ("billing/invoice_view.py", "invoice_detail"): "pages/billing.py (one invoice)",
    ("billing/pdf.py", "invoice_pdf"): "ui/billing/invoice.py (PDF download)",
    ("billing/payments.py", "record_payment"): "ui/billing/invoice.py (record a payment)",
    ("billing/payments.py", "record_payment_by_numbers"): "ui/billing/desk.py (payment desk)",
    ("billing/receipts.py", "approve_receipt"): "ui/billing/desk.py (receipt review)",
    ("billing/receipts.py", "reject_receipt"): "ui/billing/desk.py (receipt review)",
    ("billing/voided.py", "reopen_invoice"): "ui/billing/invoice.py (reopen a voided invoice)",
    # Public read of the invoice list (core.billing's API; no page calls it yet, tests do).
    ("billing/views.py", "list_invoices"): "public billing read, its own action",
    ("billing/views.py", "client_billing_view"): "pages/billing.py (client view)",
    ("billing/views.py", "staff_billing_view"): "pages/billing.py (staff view)",
    ("catalog/products.py", "save_product"): "ui/settings/catalog.py",
    # A disk-quota add-on's panel call, made after the commit that started or ended it (its
    # own action, as the mail sender's is); the daily run's retry passes the run's moment.
    ("addons/quota.py", "apply"): "after-commit panel call, daily run's addon_quota step",
    ("cli.py", "cmd_create_user"): "CLI: create-user",
    ("cli.py", "cmd_demo"): "CLI: demo",
    ("cli.py", "cmd_automation_run"): "CLI: automation run (the business date of the run)",
    ("cli.py", "cmd_einvoice_send"): "CLI: einvoice send (the moment of the sending)",
    ("einvoice/transmission.py", "resend"): "ui/billing/einvoices.py (send again)",
    ("einvoice/transmission.py", "send_due"): "ui/billing/einvoices.py (send pending now)",
    ("einvoice/owed.py", "issue_owed"): "ui/billing/einvoices.py (issue the pending facturas)",
    ("einvoice/delivery.py", "mail_again"): "ui/billing/einvoices.py (mail the client again)",
    ("orders/__init__.py", "place_order"): "pages/services.py, pages/upgrades.py",
    ("orders/quote.py", "order_quote"): "pages/upgrades.py (the order's confirmation)",
    # Called by the daily run's runner, which passes its moment; the default is for a
    # direct call (the area's own retry).
    ("orders/fulfilment.py", "provision_pending"): "called by the daily run's runner",
    ("plan_changes/apply.py", "apply_pending"): "called by the daily run's runner",
    ("plan_changes/apply.py", "retry"): "pages/upgrades.py (owner applies now)",
    # Public quote of one plan change (core.plan_changes' API; the page uses upgrades_view).
    ("plan_changes/__init__.py", "quote"): "public plan-change read, its own action",
    ("plan_changes/__init__.py", "upgrades_view"): "pages/upgrades.py",
    ("plan_changes/__init__.py", "confirm"): "pages/upgrades.py",
    # The outbox sender: the CLI (mail send), the daily run (which passes its real time) and
    # the background thread started after a commit (mail.kick), each a sending of its own.
    ("platform/mail.py", "deliver_due"): "CLI, daily run, after-commit sender",
    ("platform/mail.py", "recover_stuck"): "CLI, daily run",
    ("services/cancellations.py", "request"): "pages/services.py (cancel a service)",
    # Staff carry out a request now (core.services' API; the daily run uses finish).
    ("services/cancellations.py", "process"): "public services action, its own action",
    ("services/credentials.py", "reset_panel_password"): "pages/services.py",
    # Staff's panel actions on a service (ui/services/staff_tools.py). The daily run, a
    # payment and a plan change call them with their own moment; the default is the page's.
    ("services/provisioning.py", "provision"): "ui/services/staff_tools.py (set up)",
    ("services/provisioning.py", "suspend"): "ui/services/staff_tools.py (suspend)",
    ("services/provisioning.py", "unsuspend"): "ui/services/staff_tools.py (reactivate)",
    ("services/provisioning.py", "terminate"): "ui/services/staff_tools.py (terminate)",
    ("services/provisioning.py", "change_plan"): "ui/services/staff_tools.py (change plan)",
    # A client's or staff's mailbox actions (pages/email_accounts.py).
    ("services/mailboxes.py", "create_mailbox"): "ui/services/mailboxes.py (create)",
    ("services/mailboxes.py", "change_password"): "ui/services/mailboxes.py (password)",
    ("services/mailboxes.py", "change_quota"): "ui/services/mailboxes.py (quota)",
    ("services/mailboxes.py", "delete_mailbox"): "ui/services/mailboxes.py (delete)",
}


def _clock_names(tree: ast.Module) -> tuple[dict[str, str], set[str]]:
    """Local names bound to clock.now/today, and names bound to the clock module."""
    funcs: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == CLOCK_MODULE:
            for alias in node.names:
                if alias.name in READS:
                    funcs[alias.asname or alias.name] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module == "core.platform":
            for alias in node.names:
                if alias.name == "clock":
                    modules.add(alias.asname or "clock")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == CLOCK_MODULE:
                    modules.add(alias.asname or CLOCK_MODULE)
    return funcs, modules


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _reads(tree: ast.Module) -> list[tuple[str, int]]:
    """(enclosing function's qualified name, line) of every clock read in one module."""
    funcs, modules = _clock_names(tree)
    found: list[tuple[str, int]] = []

    def is_read(call: ast.Call) -> bool:
        target = call.func
        if isinstance(target, ast.Name):
            return target.id in funcs
        if isinstance(target, ast.Attribute) and target.attr in READS:
            return _dotted(target.value) in modules
        return False

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            if isinstance(child, ast.Call) and is_read(child):
                found.append((".".join(scope) or "<module>", child.lineno))
            visit(child, scope)

    visit(tree, [])
    return found


def _all_reads() -> dict[tuple[str, str], list[int]]:
    reads: dict[tuple[str, str], list[int]] = {}
    for path in sorted(CORE.rglob("*.py")):
        name = path.relative_to(CORE).as_posix()
        if name == CLOCK_FILE:
            continue
        for function, line in _reads(ast.parse(path.read_text(encoding="utf-8"))):
            reads.setdefault((name, function), []).append(line)
    return reads


def test_the_clock_is_read_only_in_entry_points():
    reads = _all_reads()
    deep = [
        f"core/{name}:{line} in {function}()"
        for (name, function), lines in sorted(reads.items())
        if (name, function) not in ENTRY_POINTS
        for line in lines
    ]
    assert not deep, (
        "the clock is read below an entry point (ARCHITECTURE §2 rule 5); take `at: datetime`"
        " or `today: date` from the caller instead:\n" + "\n".join(deep)
    )


def test_every_listed_entry_point_still_reads_the_clock():
    reads = _all_reads()
    stale = [
        f"core/{name}: {function}"
        for name, function in ENTRY_POINTS
        if (name, function) not in reads
    ]
    assert not stale, "listed as reading the clock but no longer does; drop it:\n" + "\n".join(
        stale
    )


def test_only_the_clock_module_reads_the_real_clock():
    """datetime.now(), date.today() and utcnow() appear only in core/platform/clock.py."""
    direct: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        name = path.relative_to(CORE).as_posix()
        if name == CLOCK_FILE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("now", "today", "utcnow")
                and _dotted(node.func.value) in DATETIME_NAMES
            ):
                direct.append(f"core/{name}:{node.lineno}")
    assert not direct, "read the clock through core.platform.clock:\n" + "\n".join(direct)


def test_the_walker_sees_every_alias():
    """The check itself: each way of importing the clock is found, a default is not."""
    source = """
from core.platform.clock import now as stamp, today
from core.platform import clock
import core.platform.clock as c
from sqlalchemy.orm import mapped_column

def deep():
    return stamp(), today("UTC"), clock.now(), c.today(), core_default()

def core_default():
    return mapped_column(default=stamp)
"""
    assert [f for f, _ in _reads(ast.parse(source))] == ["deep"] * 4
