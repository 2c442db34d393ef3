"""The SRI's two offline web services, spoken with plain requests + lxml (research §4.3–4.8).

No WSDL is fetched: the envelopes are the exact shapes of §4.3 (operation element namespaced,
child unqualified, ``SOAPAction: ""``, the signed XML base64-encoded once), and answers are
read namespace-agnostically with every value stripped, as the live service pads some. The same
code path talks to the sandbox and to the SRI. Each call returns what was sent and what came
back, byte for byte, so the caller can keep it (``sri_exchange``).

Anything that is not a SOAP answer of the expected shape (a timeout, a refused connection, a
``soap:Fault``, a WAF page) raises :class:`SriUnavailable`: the document keeps its state and
is sent again later with the same key and the same bytes.
"""

from __future__ import annotations

import base64
import os
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from lxml import etree

if TYPE_CHECKING:
    import requests

RECEIVED, RETURNED = "RECIBIDA", "DEVUELTA"
AUTHORISED, NOT_AUTHORISED, PENDING, NOT_FOUND = "AUTORIZADO", "NO AUTORIZADO", "PENDING", "NONE"
REJECTED = ("NO AUTORIZADO", "RECHAZADO")  # the live word and the Ficha's (§4.4)
ECUADOR = timezone(timedelta(hours=-5))
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_HEADERS = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}


@dataclass(frozen=True)
class Exchange:
    """One request and its raw answer (``response`` None when nothing came back)."""

    service: str  # "recepcion" | "autorizacion"
    request: bytes
    response: bytes | None
    http_status: int | None
    outcome: str
    duration_ms: int


@dataclass(frozen=True)
class Reception:
    state: str  # RECIBIDA | DEVUELTA
    messages: list[dict[str, str]]
    exchange: Exchange


@dataclass(frozen=True)
class Authorisation:
    state: str  # AUTORIZADO | NO AUTORIZADO | PENDING (in process) | NONE (nothing yet)
    exchange: Exchange
    messages: list[dict[str, str]] = field(default_factory=list)
    number: str | None = None
    authorised_at: datetime | None = None  # naive UTC, as the database keeps times
    environment: str = ""
    xml: str | None = None  # the <autorizacion> element, comprobante in CDATA (what clients get)


class SriUnavailable(Exception):  # noqa: N818 - reads as what happened
    """No usable answer: ``kind`` is timeout, connection, fault or unexpected."""

    def __init__(self, kind: str, exchange: Exchange) -> None:
        super().__init__(kind)
        self.kind, self.exchange = kind, exchange


def _text(node: Any, name: str) -> str:
    found = node.xpath(f"./*[local-name()='{name}']")
    return "".join(found[0].itertext()).strip() if found else ""


def _messages(node: Any) -> list[dict[str, str]]:
    return [
        {
            "identificador": _text(m, "identificador"),
            "mensaje": _text(m, "mensaje"),
            "informacionAdicional": _text(m, "informacionAdicional"),
            "tipo": _text(m, "tipo"),
        }
        for m in node.xpath(".//*[local-name()='mensajes']/*[local-name()='mensaje']")
    ]


def envelope(namespace: str, operation: str, inner: str) -> bytes:
    return (
        '<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
        f'xmlns:ec="{namespace}"><soapenv:Header/><soapenv:Body>'
        f"<ec:{operation}>{inner}</ec:{operation}></soapenv:Body></soapenv:Envelope>"
    ).encode()


def parse_moment(value: str) -> datetime | None:
    """``fechaAutorizacion`` as naive UTC: xs:dateTime (with -05:00) or the pre-2015 form."""
    value = value.strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            moment = datetime.strptime(value, "%d/%m/%Y %H:%M:%S").replace(tzinfo=ECUADOR)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ECUADOR)
    return moment.astimezone(UTC).replace(tzinfo=None)


def authorisation_xml(node: Any) -> str:
    """The ``<autorizacion>`` element as emitters archive it, the comprobante kept verbatim."""
    comprobante = _text(node, "comprobante")
    parts = [
        f"<{name}>{escape(_text(node, name))}</{name}>"
        for name in ("estado", "numeroAutorizacion", "fechaAutorizacion", "ambiente")
        if _text(node, name)
    ]
    body = comprobante.replace("]]>", "]]]]><![CDATA[>")
    messages = node.xpath("./*[local-name()='mensajes']")
    rendered = (
        etree.tostring(messages[0], encoding="unicode").strip() if messages else "<mensajes/>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<autorizacion>'
        + "".join(parts)
        + f"<comprobante><![CDATA[{body}]]></comprobante>{rendered}</autorizacion>\n"
    )


class SriClient:
    """One per batch; ``http`` (a requests.Session) keeps connections alive across calls."""

    def __init__(
        self,
        reception_url: str,
        authorisation_url: str,
        *,
        timeout: float = 20.0,
        http: requests.Session | None = None,
    ) -> None:
        import requests  # here, not at import: the daily run imports this module every day

        self.reception_url, self.authorisation_url = reception_url, authorisation_url
        self.timeout = timeout
        # The environment's proxies and CA bundle are read once here: left to requests
        # (trust_env), every call walks os.environ, a good part of a batch's client time.
        self.proxies = {
            url: requests.utils.get_environ_proxies(url)
            for url in (reception_url, authorisation_url)
        }
        if http is None:
            http = requests.Session()
            http.trust_env = False
            http.verify = (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
        self.http = http

    def close(self) -> None:
        self.http.close()

    def _post(self, service: str, url: str, body: bytes) -> tuple[Any, Exchange]:
        import requests

        started = time.monotonic()

        def spent() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            answer = self.http.post(
                url,
                data=body,
                headers=_HEADERS,
                timeout=self.timeout,
                proxies=self.proxies.get(url) or {},
            )
        except requests.Timeout as exc:
            raise SriUnavailable(
                "timeout", Exchange(service, body, None, None, "timeout", spent())
            ) from exc
        except requests.RequestException as exc:
            raise SriUnavailable(
                "connection", Exchange(service, body, None, None, "connection", spent())
            ) from exc
        raw = answer.content
        try:
            root = etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError:
            root = None
        fault = root is not None and bool(root.xpath("//*[local-name()='Fault']"))
        if root is None or fault or answer.status_code != 200:
            kind = "fault" if fault else "unexpected"  # a SOAP fault, or a WAF / proxy page
            raise SriUnavailable(
                kind, Exchange(service, body, raw, answer.status_code, kind, spent())
            )
        return root, Exchange(service, body, raw, answer.status_code, "", spent())

    def send(self, signed_xml: bytes) -> Reception:
        """``validarComprobante``: RECIBIDA, or DEVUELTA with the SRI's messages."""
        payload = base64.b64encode(signed_xml).decode("ascii")
        body = envelope(
            "http://ec.gob.sri.ws.recepcion", "validarComprobante", f"<xml>{payload}</xml>"
        )
        root, exchange = self._post("recepcion", self.reception_url, body)
        answers = root.xpath("//*[local-name()='RespuestaRecepcionComprobante']")
        state = _text(answers[0], "estado").upper() if answers else ""
        if state not in (RECEIVED, RETURNED):
            raise SriUnavailable("unexpected", replace(exchange, outcome="unexpected"))
        return Reception(state, _messages(answers[0]), replace(exchange, outcome=state))

    def authorisation(self, access_key: str) -> Authorisation:
        """``autorizacionComprobante``: the authorised answer wins over earlier rejections
        (§4.4: a key rejected then resent lists both); otherwise the latest one decides."""
        body = envelope(
            "http://ec.gob.sri.ws.autorizacion",
            "autorizacionComprobante",
            f"<claveAccesoComprobante>{escape(access_key)}</claveAccesoComprobante>",
        )
        root, exchange = self._post("autorizacion", self.authorisation_url, body)
        if not root.xpath("//*[local-name()='RespuestaAutorizacionComprobante']"):
            raise SriUnavailable("unexpected", replace(exchange, outcome="unexpected"))
        entries = root.xpath("//*[local-name()='autorizaciones']/*[local-name()='autorizacion']")
        if not entries:
            return Authorisation(NOT_FOUND, replace(exchange, outcome=NOT_FOUND))
        chosen = next((e for e in entries if _text(e, "estado").upper() == AUTHORISED), entries[-1])
        state = _text(chosen, "estado").upper()
        if state == AUTHORISED:
            return Authorisation(
                AUTHORISED,
                replace(exchange, outcome=AUTHORISED),
                _messages(chosen),
                number=_text(chosen, "numeroAutorizacion") or access_key,
                authorised_at=parse_moment(_text(chosen, "fechaAutorizacion")),
                environment=_text(chosen, "ambiente"),
                xml=authorisation_xml(chosen),
            )
        if state in REJECTED:
            return Authorisation(
                NOT_AUTHORISED, replace(exchange, outcome=NOT_AUTHORISED), _messages(chosen)
            )
        # "EN PROCESO" (literal not established, §4.4): anything else is still pending.
        return Authorisation(
            PENDING, replace(exchange, outcome=state[:20] or PENDING), _messages(chosen)
        )
