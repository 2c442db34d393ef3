"""Domain errors. Each carries an i18n key and parameters, never a translated string, so the
page shows it in the reader's language and core stays free of presentation."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal the user should read: bad input, a rule, a missing right."""

    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key)


class NotFound(DomainError):
    """Missing, or not the actor's to see: the two are indistinguishable on purpose."""

    key = "error.not_found"


class Forbidden(DomainError):
    key = "error.forbidden"


class ValidationError(DomainError):
    key = "error.invalid"


class Conflict(DomainError):
    key = "error.conflict"
