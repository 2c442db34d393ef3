"""XSD validation of every document before it is signed (the SRI's own schema files).

The files in ``xsd/`` are the byte-exact SRI/W3C copies (hashes in ``xsd/SHA256SUMS``, from
research §2.11). They import ``xmldsig-core-schema.xsd`` by a relative path, so a signed
document validates too. Nothing is fetched from the network while loading.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
SCHEMAS = {"01": "factura_V1.1.0.xsd", "04": "NotaCredito_V1.1.0.xsd"}


class SchemaError(ValueError):
    """The document breaks the SRI schema; ``errors`` are libxml2's messages, one a line."""

    def __init__(self, doc_type: str, errors: list[str]) -> None:
        super().__init__(f"{SCHEMAS[doc_type]}: " + "; ".join(errors[:5]))
        self.errors = errors


def _parser() -> etree.XMLParser:
    return etree.XMLParser(no_network=True, load_dtd=False, resolve_entities=False)


@cache
def schema(doc_type: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / SCHEMAS[doc_type]), _parser()))


def errors(doc_type: str, xml: bytes) -> list[str]:
    """What the schema finds wrong with ``xml`` (empty when it validates)."""
    check = schema(doc_type)
    if check.validate(etree.fromstring(xml, _parser())):
        return []
    return [f"line {e.line}: {e.message}" for e in check.error_log]


def validate(doc_type: str, xml: bytes) -> None:
    """Raise :class:`SchemaError` unless ``xml`` validates against its document's XSD."""
    found = errors(doc_type, xml)
    if found:
        raise SchemaError(doc_type, found)
