"""What the owner configures without code: products and their prices, the business's details
and logo, the dated IVA table, and the mail templates' wording. Every setting here is read by
the code it changes (ARCHITECTURE §2 rule 9).

This module is the public face: callers import ``core.catalog`` only, and every public name
of its parts is re-exported here. It holds the IVA table itself; the rest is split by
business area to keep modules near the house size (about 400 lines):

* ``core.catalog.business_details`` — business details (name, RUC, address, transfer instructions)
  and the logo.
* ``core.catalog.products`` — products, their prices per cycle and setup fees.
* ``core.catalog.repricing`` — moving existing services to a new price from their next
  renewal (:func:`renewal_amount`, :func:`renewal_price` and the paid hook that
  ``core.billing.hooks`` lists).
* ``core.catalog.templates`` — the owner's wording of the mail templates.

**IVA table** (``billing.iva_rates``) — ``core.billing`` taxes every new invoice at the rate
this table gives for the issue date (:func:`tax_rates`); without a stored table the built-in
``money.IVA_RATES`` applies. The first row reaches back to any earlier date, so an invoice is
never left without a rate. Only rates the SRI has a ``codigoPorcentaje`` for are taken.
"""

from __future__ import annotations

from core.catalog.business_details import (  # noqa: F401 - re-exported
    ADDRESS_MAX,
    BUSINESS_ADDRESS,
    BUSINESS_LOGO,
    BUSINESS_NAME,
    BUSINESS_RUC,
    DEFAULT_BUSINESS_NAME,
    INSTRUCTIONS_MAX,
    INVOICE_MAILS,
    LOGO_MAX_BYTES,
    LOGO_MAX_MB,
    LOGO_MAX_SIDE,
    LOGO_TYPES,
    NAME_MAX,
    REQUIRED_DETAILS,
    Business,
    business,
    logo,
    missing_details,
    remove_logo,
    save_business,
    save_logo,
)
from core.catalog.products import (  # noqa: F401 - re-exported
    ADDON_ACTIONS,
    KINDS,
    PRODUCT_CYCLES,
    PriceView,
    ProductForm,
    ProductView,
    list_products,
    save_product,
)
from core.catalog.repricing import (  # noqa: F401 - re-exported
    REPRICING_KEY,
    Repricing,
    pending_repricing,
    renewal_amount,
    renewal_price,
)
from core.catalog.taxes import (  # noqa: F401 - re-exported
    MAX_RATE,
    TAX_RATES_KEY,
    TaxRateRow,
    iva_rate_on,
    save_tax_rates,
    tax_rate_rows,
    tax_rates,
)
from core.catalog.templates import (  # noqa: F401 - re-exported
    SAMPLE_VALUES,
    TEMPLATE_MAX,
    TemplateView,
    preview_template,
    save_template,
    template,
    template_names,
)
