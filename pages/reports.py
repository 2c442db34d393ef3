"""Reports (owner, and staff with the reports right): income, MRR, aging, services, churn and
tickets, each for a date range, with a chart where it reads better, a table, and CSV/XLSX
exports (formula-safe, ``core.insights.reports``). Money reports need the billing right too; the
core
refuses them otherwise, so they are simply not offered here.

The role guard, then the page itself: ui/reports/page.py (ARCHITECTURE §1).
"""

from ui.kit.context import guard
from ui.reports import page

page.render(guard("reports"))
