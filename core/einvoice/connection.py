"""The owner's connection to the SRI's web services: on or off, the endpoints per ambiente and
how long one call may take. Checked before anything is stored; all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from core.access import Actor, require_owner
from core.einvoice import transmission as tx
from core.platform import settings
from core.platform.db import reading, transaction
from core.platform.errors import ValidationError

MAX_TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Connection:
    transmit: bool
    reception_test: str
    authorisation_test: str
    reception_production: str
    authorisation_production: str
    timeout_seconds: int


def read(session: Session | None = None) -> Connection:
    with reading(session) as s:
        return Connection(
            settings.get_bool(tx.TRANSMIT, session=s),
            settings.get_text(tx.RECEPTION_URL_TEST, session=s),
            settings.get_text(tx.AUTHORISATION_URL_TEST, session=s),
            settings.get_text(tx.RECEPTION_URL_PRODUCTION, session=s),
            settings.get_text(tx.AUTHORISATION_URL_PRODUCTION, session=s),
            settings.get_int(tx.TIMEOUT_SECONDS, session=s),
        )


def _url(value: str) -> str:
    value = (value or "").strip()
    if not value.startswith(("https://", "http://")) or len(value) > 300 or " " in value:
        raise ValidationError("sri.error_url", url=value[:80])
    return value


def save(actor: Actor, form: Connection, *, session: Session | None = None) -> None:
    require_owner(actor)
    reception_test = _url(form.reception_test)
    authorisation_test = _url(form.authorisation_test)
    reception_production = _url(form.reception_production)
    authorisation_production = _url(form.authorisation_production)
    if not 1 <= int(form.timeout_seconds) <= MAX_TIMEOUT_SECONDS:
        raise ValidationError("sri.error_timeout", most=MAX_TIMEOUT_SECONDS)
    with transaction(session) as s:
        settings.put(actor, tx.TRANSMIT, bool(form.transmit), session=s)
        settings.put(actor, tx.RECEPTION_URL_TEST, reception_test, session=s)
        settings.put(actor, tx.AUTHORISATION_URL_TEST, authorisation_test, session=s)
        settings.put(actor, tx.RECEPTION_URL_PRODUCTION, reception_production, session=s)
        settings.put(actor, tx.AUTHORISATION_URL_PRODUCTION, authorisation_production, session=s)
        settings.put(actor, tx.TIMEOUT_SECONDS, int(form.timeout_seconds), session=s)
