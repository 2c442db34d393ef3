"""Bringing a book over from WHMCS, FOSSBilling or a WHM server (issue 18).

``run`` imports (or, with ``dry_run``, only reports) and returns a ``Report``;
``panel_check`` lists differences between imported services and the accounts on their
WHM servers. Sources are read-only; nothing is sent to clients and nothing is provisioned.
"""

from core.imports.panel_check import Difference, panel_check
from core.imports.passwords import send_password_links, waiting
from core.imports.report import KINDS, Problem, Report
from core.imports.run import STEPS, run

__all__ = [
    "KINDS",
    "STEPS",
    "Difference",
    "Problem",
    "Report",
    "panel_check",
    "run",
    "send_password_links",
    "waiting",
]
