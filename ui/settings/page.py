"""Settings (owner): users and roles, security, the audit log and the outgoing mail; the
business's details, IVA rates, electronic invoicing (the SRI certificate and issuer details),
products, panel servers, the support desk's departments, canned replies, SLA targets and
channels, the mail templates, and the import from another billing system
(automation settings live on the billing page and are linked from here).

The tabs' bodies live in ui/settings/team.py, catalog.py, einvoice.py, desk.py and
automation.py; this module shows the notice a save left and opens one tab.

Used by pages/settings.py, which guards the role and calls ``render``.
"""

from __future__ import annotations

import streamlit as st

from core.access import Actor
from ui.kit import flash
from ui.kit.context import tr
from ui.kit.tabs import lazy_tabs, open_tab
from ui.settings import FLASH
from ui.settings.automation import automation_tab, templates_tab
from ui.settings.catalog import business_tab, products_tab, servers_tab, taxes_tab
from ui.settings.desk import canned_tab, channels_tab, departments_tab, sla_tab
from ui.settings.einvoice import einvoice_tab
from ui.settings.imports import imports_tab
from ui.settings.team import audit_tab, mail_tab, security_tab, users_tab

# ============================================================================ the tabs
# Only the open tab runs (ui.kit.tabs): a hidden one reads nothing and draws no widget. The URL
# names the open tab (?tab=audit), so a link or a reload opens it again.
TABS = {
    "users": ("settings.users", users_tab),
    "security": ("settings.security", security_tab),
    "audit": ("settings.audit", audit_tab),
    "mail": ("settings.outbox", mail_tab),
    "business": ("catalog.tab_business", business_tab),
    "taxes": ("catalog.tab_taxes", taxes_tab),
    "einvoice": ("einvoice.tab", einvoice_tab),
    "products": ("catalog.tab_products", products_tab),
    "servers": ("catalog.tab_servers", servers_tab),
    "departments": ("catalog.tab_departments", departments_tab),
    "canned": ("catalog.tab_canned", canned_tab),
    "sla": ("catalog.tab_sla", sla_tab),
    "channels": ("catalog.tab_channels", channels_tab),
    "automation": ("catalog.tab_automation", automation_tab),
    "templates": ("catalog.tab_templates", templates_tab),
    "import": ("imports.tab", imports_tab),
}


def render(actor: Actor) -> None:
    st.title(tr("settings.title"))
    flash.show(FLASH)

    tabs = lazy_tabs(
        "settings_tab", {name: tr(label) for name, (label, _) in TABS.items()}, url_param="tab"
    )
    shown = open_tab(tabs)
    with tabs[shown]:
        TABS[shown][1](actor)
