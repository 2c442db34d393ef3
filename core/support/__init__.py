"""The support desk: tickets (``tickets`` is the front door; ``common``, ``flow``, ``notices``,
``views``, ``context``, ``files``, ``desk_admin`` and ``stats`` are its parts), SLA clocks and
office hours (``sla``) and the 24/7 support channels (``channels``)."""
