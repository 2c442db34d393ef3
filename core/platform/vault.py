"""Secrets at rest (panel API tokens, TOTP seeds), encrypted with a key from SECRET_KEY.

The database alone never reveals them: a leaked backup without the install's SECRET_KEY
(kept in the environment or data/secret.key, never in the repo) is useless for these fields.
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from core.platform.config import get_settings

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

# cryptography is imported when a secret is read or written: the processes that import the
# panel without calling it (the daily run with nothing to suspend) do not pay for it.


def _fernet(secret_key: str | None = None) -> Fernet:
    from cryptography.fernet import Fernet

    raw = hashlib.sha256((secret_key or get_settings().secret_key).encode("utf-8")).digest()
    return Fernet(base64.urlsafe_b64encode(raw))


def encrypt(value: str, secret_key: str | None = None) -> str:
    return _fernet(secret_key).encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(value: str, secret_key: str | None = None) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(secret_key).decrypt(value.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ValueError(
            "cannot decrypt: SECRET_KEY differs from the one that encrypted it"
        ) from None
