"""Pure arithmetic, no I/O: money and IVA (``money``), billing cycles and due dates
(``cycles``), prorated quotes (``proration``) and SLA clocks in office hours (``sla``).
Everything here is a function of its arguments, so the billing-rules vectors test it
directly."""
