"""Files kept in the ``upload`` table (every replica can serve them), checked before storing.

A file is accepted when its content (magic bytes, or clean UTF-8 for text) and its extension
agree on one of the allowed types, and it is not larger than the limit. The same rule as
``core.billing.receipts`` (PDF/JPEG/PNG for transfer receipts), for more types; the error keys are
the
caller's (``<prefix>_empty``, ``<prefix>_too_large``, ``<prefix>_type``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import PurePath

from sqlalchemy.orm import Session

from core.models import Upload
from core.platform.errors import ValidationError

MB = 1024 * 1024
NAME_MAX = 200


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda data: data.startswith(prefixes)


def _webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@dataclass(frozen=True)
class FileType:
    content_type: str
    extensions: tuple[str, ...]
    matches: Callable[[bytes], bool]


# type name (what the settings list) → how to recognise it
FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("application/pdf", (".pdf",), _starts(b"%PDF-")),
    "jpg": FileType("image/jpeg", (".jpg", ".jpeg"), _starts(b"\xff\xd8\xff")),
    "png": FileType("image/png", (".png",), _starts(b"\x89PNG\r\n\x1a\n")),
    "gif": FileType("image/gif", (".gif",), _starts(b"GIF87a", b"GIF89a")),
    "webp": FileType("image/webp", (".webp",), _webp),
    "txt": FileType("text/plain", (".txt", ".log"), _text),
    "zip": FileType("application/zip", (".zip",), _starts(b"PK\x03\x04")),
}


@dataclass(frozen=True)
class StoredFile:
    filename: str
    content_type: str
    data: bytes


def extensions(types: Iterable[str]) -> list[str]:
    """File-name extensions (without the dot) of the named types, for a file picker."""
    return [ext[1:] for name in types if name in FILE_TYPES for ext in FILE_TYPES[name].extensions]


def sniff(data: bytes, filename: str, allowed: Iterable[str], *, errors: str) -> str:
    """The content type when ``data`` is one of the ``allowed`` types and its name's extension
    says the same; else ``ValidationError(<errors>_type)``."""
    ext = PurePath(filename or "").suffix.lower()
    for name in allowed:
        kind = FILE_TYPES.get(name)
        if kind is not None and ext in kind.extensions and kind.matches(data):
            return kind.content_type
    raise ValidationError(f"{errors}_type", types=", ".join(allowed))


def check(
    data: bytes, filename: str, allowed: Iterable[str], max_bytes: int, *, errors: str, n: int = 1
) -> str:
    """Refuse an empty, too large or disallowed file (``n``: its position, for the message);
    returns the content type."""
    if not data:
        raise ValidationError(f"{errors}_empty", n=n)
    if len(data) > max_bytes:
        raise ValidationError(f"{errors}_too_large", n=n, mb=max(1, max_bytes // MB))
    allowed = list(allowed)
    try:
        return sniff(data, filename, allowed, errors=errors)
    except ValidationError:
        raise ValidationError(f"{errors}_type", n=n, types=", ".join(allowed)) from None


def safe_name(filename: str, fallback: str = "archivo") -> str:
    """The last path part, without control characters, cut to the column's length."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > NAME_MAX:
        suffix = PurePath(name).suffix[:20]
        name = name[: NAME_MAX - len(suffix)] + suffix
    return name or fallback


def store(
    session: Session,
    *,
    client_id: int | None,
    filename: str,
    data: bytes,
    content_type: str,
    uploaded_by: int | None,
) -> Upload:
    """One checked file into the ``upload`` table (inside the caller's transaction)."""
    row = Upload(
        client_id=client_id,
        filename=safe_name(filename),
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_by=uploaded_by,
    )
    session.add(row)
    session.flush()
    return row
