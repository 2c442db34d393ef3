"""SRI code tables the documents use (research §1.2, §2.4, §2.6, §2.9).

Pure: no database. The IVA ``codigoPorcentaje`` comes from ``core.rules.money.sri_iva_code``
(the rate stored on each invoice line, never today's rate).
"""

from __future__ import annotations

from stdnum.ec import ci, ruc
from stdnum.exceptions import ValidationError as StdnumError

FACTURA = "01"
CREDIT_NOTE = "04"
DOC_TYPES = (FACTURA, CREDIT_NOTE)
IVA = "2"  # impuesto ``codigo`` of IVA

# Buyer identification (tipoIdentificacionComprador).
BUYER_RUC, BUYER_CEDULA, BUYER_PASSPORT, BUYER_FINAL, BUYER_FOREIGN = "04", "05", "06", "07", "08"
FINAL_CONSUMER_ID = "9999999999999"
FINAL_CONSUMER_NAME = "CONSUMIDOR FINAL"

# formaPago by our payment method: cash is outside the financial system, a card is a credit
# card, a transfer (and anything else paid through a bank) is "otros con utilización del
# sistema financiero"; paying with the client's credit balance compensates a debt.
PAYMENT_FORMS = {"cash": "01", "card": "19", "transfer": "20", "other": "20", "credit": "15"}
DEFAULT_PAYMENT_FORM = "20"


def payment_form(method: str) -> str:
    return PAYMENT_FORMS.get(method, DEFAULT_PAYMENT_FORM)


def buyer_identification(tax_id_type: str, tax_id: str | None, country: str) -> tuple[str, str]:
    """(tipoIdentificacionComprador, identificacionComprador) of a client.

    A RUC or cédula must pass python-stdnum's check (a wrong one is refused, as the SRI
    would); a passport is free-form, and an identity from abroad without one is code 08.
    "Consumidor final" is 07 with thirteen nines. Raises ValueError naming the problem.
    """
    number = (tax_id or "").strip().upper()
    if tax_id_type == "consumidor_final" or number in (FINAL_CONSUMER_ID, "9999999999"):
        return BUYER_FINAL, FINAL_CONSUMER_ID
    if not number:
        raise ValueError("buyer_id_missing")
    if tax_id_type == "ruc":
        try:
            return BUYER_RUC, ruc.validate(number)
        except StdnumError:
            raise ValueError("buyer_ruc_invalid") from None
    if tax_id_type == "cedula":
        try:
            return BUYER_CEDULA, ci.validate(number)
        except StdnumError:
            raise ValueError("buyer_cedula_invalid") from None
    if tax_id_type == "pasaporte":
        return BUYER_PASSPORT, number[:20]
    if (country or "EC").upper() != "EC":
        return BUYER_FOREIGN, number[:20]
    raise ValueError("buyer_id_missing")
