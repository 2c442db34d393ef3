"""Every i18n key the code uses exists in Spanish and in English (rule 5), including keys
the code builds: ``tr(f"cycle.{cycle}")`` is checked for every cycle there is.

The code is read with ``ast``: a call to ``tr``/``t``/``i18n.t``/``tr_count``/``plural``, to
a domain error (``ValidationError("error.x")``...) or to the pages' ``done``/``saved``
helpers whose first argument is a string is a key; one whose first argument is an f-string
is a template, and every template must be listed in ``DOMAINS`` with the values its
placeholder takes (read from the constants core already has), or in ``OPEN`` with why its
values cannot be listed. A new f-string key fails this test until it is declared here.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Iterable
from pathlib import Path

from core.access import AREAS, CLIENT_PERMISSIONS, PAGES_BY_ROLE, ROLES
from core.addons.catalog import ACTIONS as ADDON_ACTIONS
from core.automation.policy import FIELD_NAMES as AUTOMATION_FIELDS
from core.billing.ledger import METHODS, PAYABLE
from core.billing.ledger import STATUSES as INVOICE_STATUSES
from core.billing.pdf import TAX_ID_TYPES
from core.catalog.products import KINDS as PRODUCT_KINDS
from core.insights.revenue import AGING_BUCKETS
from core.knowledge.articles import STATUSES as ARTICLE_STATUSES
from core.plan_changes.common import STATUSES as CHANGE_STATUSES
from core.platform import i18n
from core.rules.cycles import NON_RECURRING_CYCLES, RECURRING_CYCLES
from core.services import STATUSES as SERVICE_STATUSES
from core.services.cancellations import TYPES as CANCEL_TYPES
from core.support.channels import KINDS as CHANNEL_KINDS
from core.support.common import ATTACHMENT_ERRORS
from core.support.common import STATUSES as TICKET_STATUSES
from core.support.sla import PRIORITIES
from core.support.stats import GROUPS as TICKET_GROUPS

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "core" / "platform" / "locales"
KEY_FUNCS = {
    "tr",
    "t",
    "tr_count",
    "plural",
    "ValidationError",
    "Conflict",
    "NotFound",
    "Forbidden",
    "DomainError",
    "done",
    "saved",
}
ADDON_STATUSES = ("pending", "active", "suspended", "cancelled", "terminated")
RECEIPT_STATUSES = ("pending", "approved", "rejected")
ORDER_STAGES = ("awaiting_payment", "awaiting_setup")
# The ``errors=`` prefixes handed to core.platform.uploads.check by its callers.
UPLOAD_ERRORS = (ATTACHMENT_ERRORS, "catalog.error_logo", "error.kb_image")

# template ("prefix.{}" with one "{}" a placeholder) -> every value the placeholder takes
DOMAINS: dict[str, Iterable[str]] = {
    "client_users.perm.{}": CLIENT_PERMISSIONS,
    "area.{}": AREAS,
    "role.{}": ROLES,
    "page.{}": {p for pages in PAGES_BY_ROLE.values() for p in pages},
    "cycle.{}": (*RECURRING_CYCLES, *NON_RECURRING_CYCLES),
    "status.{}": SERVICE_STATUSES,
    "billing.status.{}": INVOICE_STATUSES,
    "billing.method.{}": METHODS,
    "billing.receipt_status.{}": RECEIPT_STATUSES,
    "billing.tax_id.{}": (*TAX_ID_TYPES, "other"),
    "tickets.status.{}": TICKET_STATUSES,
    "tickets.priority.{}": PRIORITIES,
    "upgrades.status.{}": CHANGE_STATUSES,
    "orders.stage.{}": ORDER_STAGES,
    "addons.status.{}": ADDON_STATUSES,
    "addons.kind.{}": PRODUCT_KINDS,
    "addons.action.{}": ADDON_ACTIONS,
    "cancel.kind.{}": CANCEL_TYPES,
    "cancel.type.{}": CANCEL_TYPES,
    "cancel.pending.{}": CANCEL_TYPES,
    "kb.status.{}": ARTICLE_STATUSES,
    "kpi.bucket_{}": AGING_BUCKETS,
    "support.kind.{}": CHANNEL_KINDS,
    "support.action.{}": CHANNEL_KINDS,
    "reports.group_{}": TICKET_GROUPS,
    "error.automation_invalid_{}": AUTOMATION_FIELDS,
    "error.billing_invoice_{}": [s for s in INVOICE_STATUSES if s not in PAYABLE],
    "error.{}_invalid": ("cedula", "ruc"),  # the numbers stdnum checks (profile.clean_tax_id)
    "{}_type": UPLOAD_ERRORS,
    "{}_empty": UPLOAD_ERRORS,
    "{}_too_large": UPLOAD_ERRORS,
    # paging.pager's areas; the clients' search pages without a caption
    "{}.page": ("services", "billing", "tickets", "clients"),
    "{}.page_of": ("services", "billing", "tickets"),
    "{}.page_of_more": ("services", "billing", "tickets"),
}

# Templates whose values are not one constant of core (a page's own list, a report's
# columns, a state machine's names...): their keys are read where the values are made, and
# the pages' tests draw each. Listed so that a new template is a decision, not an accident.
OPEN = {
    "einvoice.error.{}",  # a certificate's or signer's own refusal key
    "page_desk.{}",
    "taxid.{}",
    "billing.voided.{}",
    "billing.{}_title",
    "billing.{}_submit",
    "mail.status_{}",
    "automation.kind.{}",
    "automation.group.{}",
    "automation.detail.{}",
    "automation.tab_{}",
    "automation.step.{}",
    "automation.status.{}",
    "automation.setting.{}",
    "automation.run_status.{}",
    "automation.fee_type.{}",
    "automation.count.{}",
    "tickets.filter_{}",
    "support.weekday.{}",
    "support.day.{}",
    "sri.status.{}",
    "sri.doc_type.{}",
    "sri.ride.{}",
    "sri.conn.{}",
    "setup.item.{}",
    "services.diff.{}",
    "reports.tab_{}",
    "reports.col.{}",
    "orders.quote_line.{}",
    "orders.line_{}",
    "imports.system.{}",
    "imports.reason.{}",
    "imports.progress.{}",
    "imports.panel.{}",
    "imports.kind.{}",
    "exports.file.{}",
    "einvoice.environment_{}",
    "einvoice.digest_{}",
    "clients.tab_{}",
    "catalog.{}_new",
    "catalog.{}_choice",
    "catalog.template_{}",
    "catalog.credential_{}",
    "addons.why_{}",
    "addons.task_{}_subject",
    "addons.task_{}_body",
    "addons.note_{}",
}


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _template(node: ast.JoinedStr) -> str:
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant):
            parts.append(str(value.value))
        else:
            parts.append("{}")
    return "".join(parts)


def _uses() -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Literal keys and f-string templates, each with where it is used."""
    literal: dict[str, list[str]] = {}
    built: dict[str, list[str]] = {}
    files = [ROOT / "dashboard.py"]
    for folder in ("core", "ui", "pages"):
        files += sorted((ROOT / folder).rglob("*.py"))
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or _name(node.func) not in KEY_FUNCS:
                continue
            if not node.args:
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                if "." in first.value and " " not in first.value:
                    literal.setdefault(first.value, []).append(where)
            elif isinstance(first, ast.JoinedStr):
                built.setdefault(_template(first), []).append(where)
    return literal, built


def _catalog(lang: str) -> set[str]:
    return set(i18n.catalog(lang))


def test_every_literal_key_exists_in_spanish_and_english():
    literal, _ = _uses()
    assert len(literal) > 500  # the reader finds the code's keys
    for lang in ("es", "en"):
        known = _catalog(lang)
        missing = sorted(f"{k} ({v[0]})" for k, v in literal.items() if k not in known)
        assert missing == [], f"missing in {lang}"


def test_every_built_key_is_declared():
    _, built = _uses()
    assert "client_users.perm.{}" in built
    undeclared = sorted(
        f"{t} ({w[0]})" for t, w in built.items() if t not in DOMAINS | dict.fromkeys(OPEN)
    )
    assert undeclared == []
    stale = sorted((set(DOMAINS) | OPEN) - set(built))
    assert stale == [], "declared here but no longer built by the code"


def test_every_built_key_exists_for_every_value_in_both_languages():
    for lang in ("es", "en"):
        known = _catalog(lang)
        missing = [
            template.replace("{}", str(value))
            for template, values in DOMAINS.items()
            for value in values
            if template.replace("{}", str(value)) not in known
        ]
        assert sorted(missing) == [], f"missing in {lang}"


def test_each_catalog_file_has_the_same_keys_in_both_languages():
    files = sorted(p.name for p in (LOCALES / "es").glob("*.json"))
    assert files == sorted(p.name for p in (LOCALES / "en").glob("*.json"))
    for name in files:
        es = json.loads((LOCALES / "es" / name).read_text(encoding="utf-8"))
        en = json.loads((LOCALES / "en" / name).read_text(encoding="utf-8"))
        assert sorted(set(es) ^ set(en)) == [], name
