"""What the owner and the desk read about the business: the home overview (``overview``), the
KPIs (``kpis`` with ``revenue``, ``churn`` and ``common``) and report frames with formula-safe
exports (``reports``)."""
