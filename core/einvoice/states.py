"""Where an electronic document stands with the SRI (the ``status`` column).

A document is SIGNED when issued; the SRI client moves it to RECEIVED or RETURNED at
recepción, then to IN_PROCESS, AUTHORISED or NOT_AUTHORISED at autorización.
"""

from __future__ import annotations

SIGNED = "signed"
RECEIVED = "received"
RETURNED = "returned"
IN_PROCESS = "in_process"
AUTHORISED = "authorised"
NOT_AUTHORISED = "not_authorised"

ALL = (SIGNED, RECEIVED, RETURNED, IN_PROCESS, AUTHORISED, NOT_AUTHORISED)
