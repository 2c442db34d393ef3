"""A faithful stand-in for the SRI's offline web services (sri-einvoice.md §4.7).

Both SOAP services on one loopback HTTP server, at the SRI's own paths::

    POST /comprobantes-electronicos-ws/RecepcionComprobantesOffline     validarComprobante
    POST /comprobantes-electronicos-ws/AutorizacionComprobantesOffline  autorizacionComprobante
    GET  ...?wsdl   the WSDL copies with ``soap:address`` pointing here

It speaks the published contract (WSDLs in ``sandbox/sri/``, shapes of §4.3–4.4), not our
client, so the client is proven against the SRI's behaviour: a non-empty SOAPAction is a 500
fault, the XSD check answers DEVUELTA 35 with the validator's text, the access key is checked
against the document (58), the ambiente (60), the date window (65), a key already received
answers 43 (or 70 while processing), a secuencial used by another key answers 45, and the
XAdES signature is verified for real at autorización (39 "FIRMA INVALIDA"). A received document
is "in process" for ``processing_polls`` queries, then AUTORIZADO with the exact bytes sent.

Switches for scripted scenarios (each applies to the next ``times`` requests):

``force(code, times=1)``      recepción answers DEVUELTA ``code``. 43 and 70 keep the document
                              (as if an earlier send had got through), the others drop it.
``force_not_authorised(code)`` autorización answers NO AUTORIZADO ``code`` for the next key.
``stall(seconds, times=1)``   wait before answering (the client times out); the request is
                              still handled afterwards, as a slow SRI does.
``refuse(kind, times=1)``     ``"waf"`` (HTTP 403 HTML "Request Rejected"), ``"fault"``
                              (soap:Fault), ``"drop"`` (connection closed unanswered).
``processing_polls = N``      each newly received key answers "in process" N times first;
``processing_literal``        "EN PROCESO" (default) or ``None`` for an empty list instead.

Run it alone: ``python -m sandbox.sri_server --port 8089 [--state data/sandbox-sri.json]``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import datetime as dt
import json
import re
import signal
import socket
import threading
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from lxml import etree

from sandbox.sri_signature import SignatureError, verify

HERE = Path(__file__).resolve().parent / "sri"
BASE = "/comprobantes-electronicos-ws/"
RECEPCION = BASE + "RecepcionComprobantesOffline"
AUTORIZACION = BASE + "AutorizacionComprobantesOffline"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
NS_RECEPCION = "http://ec.gob.sri.ws.recepcion"
NS_AUTORIZACION = "http://ec.gob.sri.ws.autorizacion"
ECUADOR = dt.timezone(dt.timedelta(hours=-5))
MAX_BYTES = 320 * 1024
TOLERANCE_MINUTES = 129_600  # error 65: 90 days either side of the server's date
SCHEMAS = {("01", "1.1.0"): "factura_V1.1.0.xsd", ("04", "1.1.0"): "NotaCredito_V1.1.0.xsd"}
ROOTS = {"factura": "01", "notaCredito": "04"}
PROCESSING, RECEIVED, AUTHORISED, NOT_AUTHORISED = "PROCESSING", "RECIBIDA", "AUTORIZADO", "NO"

# The texts the live service sends (§4.5); clients key on the number, never on these.
MESSAGES = {
    "26": "TAMAÑO MÁXIMO SUPERADO",
    "35": "ARCHIVO NO CUMPLE ESTRUCTURA XML",
    "36": "VERSIÓN ESQUEMA DESCONTINUADA",
    "39": "FIRMA INVALIDA",
    "43": "CLAVE ACCESO REGISTRADA",
    "45": "SECUENCIAL REGISTRADO",
    "47": "TIPO DE COMPROBANTE NO EXISTE",
    "49": "ARGUMENTOS QUE ENVIAN AL WS NULOS",
    "50": "ERROR INTERNO GENERAL",
    "52": "ERROR EN DIFERENCIAS",
    "56": "ESTABLECIMIENTO CERRADO",
    "58": "ERROR EN LA ESTRUCTURA DE CLAVE ACCESO",
    "60": "AMBIENTE INCORRECTO",
    "65": "FECHA EMISIÓN EXTEMPORANEA",
    "70": "CLAVE DE ACCESO EN PROCESAMIENTO",
}
STRUCTURE = "Se encontró el siguiente error en la estructura del comprobante: "
UNMARSHALLING = "Unmarshalling Error"
WAF_HTML = (
    "<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. "
    "Please consult with your administrator.</body></html>"
)


def check_digit(first48: str) -> int:
    """Módulo 11 with weights 2..7 from the right (§1.3); 11 → 0, 10 → 1."""
    total = sum(int(d) * (2 + i % 6) for i, d in enumerate(reversed(first48)))
    digit = 11 - total % 11
    return {11: 0, 10: 1}.get(digit, digit)


def _message(code: str, extra: str = "", tipo: str = "ERROR") -> dict[str, str]:
    return {
        "identificador": code,
        "mensaje": MESSAGES.get(code, "ERROR"),
        "informacionAdicional": extra,
        "tipo": tipo,
    }


@dataclass
class Document:
    """What the SRI keeps per access key."""

    key: str
    xml: bytes
    identity: tuple[str, ...]  # (ruc, codDoc, estab, ptoEmi, secuencial)
    state: str = PROCESSING
    polls_left: int = 0
    authorisations: list[dict[str, Any]] = field(default_factory=list)


class Devuelta(Exception):  # noqa: N818 - the SRI's own word for the answer
    def __init__(self, code: str, extra: str = "", key: str = "N/A") -> None:
        super().__init__(code)
        self.code, self.extra, self.key = code, extra, key


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds the
        # body until the client's delayed ACK (~40 ms per answer on loopback).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        path, _, query = self.path.partition("?")
        name = {RECEPCION: "RecepcionComprobantesOffline.wsdl"}.get(path) or (
            "AutorizacionComprobantesOffline.wsdl" if path == AUTORIZACION else ""
        )
        if not name or query.lower() != "wsdl":
            self._send(404, "text/plain", b"Not Found")
            return
        text = (HERE / name).read_text(encoding="utf-8")
        text = re.sub(r'location="[^"]*"', f'location="{self.server.fake.url}{path}"', text)
        self._send(200, "text/xml;charset=UTF-8", text.encode())

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, ctype, answer = self.server.fake.handle(
            self.path.partition("?")[0], self.headers.get("SOAPAction"), body
        )
        if status == 0:  # "drop": close without an answer
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(2)
            return
        self._send(status, ctype, answer)

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep stderr quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeSri


class FakeSri:
    """The SRI's two offline services in memory. See the module docstring for the switches."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        environment: int = 1,
        processing_polls: int = 0,
        processing_literal: str | None = "EN PROCESO",
        check_dates: bool = True,
        today: dt.date | None = None,
        check_totals: bool = True,
        state_file: str | Path | None = None,
        keep_log: bool = True,
    ) -> None:
        self.host, self.port, self.environment = host, port, environment
        self.processing_polls = processing_polls
        self.processing_literal = processing_literal
        self.check_dates, self.check_totals = check_dates, check_totals
        self.today = today  # the server's date for the window of error 65 (default: real)
        self.state_file = Path(state_file) if state_file else None
        self.keep_log = keep_log
        self.log: list[dict[str, Any]] = []
        self.documents: dict[str, Document] = {}
        self._sequentials: dict[tuple[str, ...], str] = {}
        self._forced: list[str] = []
        self._forced_auth: list[str] = []
        self._stalls: list[float] = []
        self._refusals: list[str] = []
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._schemas: dict[str, etree.XMLSchema] = {}

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeSri:
        self._load()
        self._stop.clear()
        self._server = _Server((self.host, self.port), _Handler)
        self._server.fake = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()  # wakes stalled handlers
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSri:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def recepcion_url(self) -> str:
        return self.url + RECEPCION

    @property
    def autorizacion_url(self) -> str:
        return self.url + AUTORIZACION

    # ------------------------------------------------------------------ switches
    def force(self, code: str | int, times: int = 1) -> None:
        with self._lock:
            self._forced += [str(code)] * times

    def force_not_authorised(self, code: str | int, times: int = 1) -> None:
        with self._lock:
            self._forced_auth += [str(code)] * times

    def stall(self, seconds: float, times: int = 1) -> None:
        with self._lock:
            self._stalls += [seconds] * times

    def refuse(self, kind: str = "waf", times: int = 1) -> None:
        if kind not in ("waf", "fault", "drop"):
            raise ValueError(f"unknown refusal {kind!r}")
        with self._lock:
            self._refusals += [kind] * times

    def reset(self) -> None:
        with self._lock:
            self.documents.clear()
            self._sequentials.clear()
            self._forced.clear()
            self._forced_auth.clear()
            self._stalls.clear()
            self._refusals.clear()
            self.log.clear()

    # ------------------------------------------------------------------ dispatch
    def handle(self, path: str, soap_action: str | None, body: bytes) -> tuple[int, str, bytes]:
        with self._lock:
            stall = self._stalls.pop(0) if self._stalls else 0.0
            refusal = self._refusals.pop(0) if self._refusals else None
        if stall:
            self._stop.wait(stall)
        if refusal == "waf":
            return 403, "text/html", WAF_HTML.encode()
        if refusal == "drop":
            return 0, "", b""
        if refusal == "fault":
            return 500, "text/xml;charset=UTF-8", _fault("soap:Server", "Internal Error")
        if path not in (RECEPCION, AUTORIZACION):
            return 404, "text/plain", b"Not Found"
        if soap_action not in (None, "", '""'):
            return (
                500,
                "text/xml;charset=UTF-8",
                _fault(
                    "soap:Client",
                    f"The given SOAPAction {soap_action} does not match an operation.",
                ),
            )
        try:
            envelope = etree.fromstring(
                body, etree.XMLParser(resolve_entities=False, no_network=True)
            )
        except etree.XMLSyntaxError:
            return 500, "text/xml;charset=UTF-8", _fault("soap:Client", UNMARSHALLING)
        operation = envelope.find(f"{{{SOAP_NS}}}Body/*")
        if operation is None:
            return 500, "text/xml;charset=UTF-8", _fault("soap:Client", UNMARSHALLING)
        if path == RECEPCION and operation.tag == f"{{{NS_RECEPCION}}}validarComprobante":
            answer = self._recepcion(operation)
        elif (
            path == AUTORIZACION
            and operation.tag == f"{{{NS_AUTORIZACION}}}autorizacionComprobante"
        ):
            answer = self._autorizacion(
                (operation.findtext("claveAccesoComprobante") or "").strip()
            )
        elif (
            path == AUTORIZACION
            and operation.tag == f"{{{NS_AUTORIZACION}}}autorizacionComprobanteLote"
        ):
            answer = _lote((operation.findtext("claveAccesoLote") or "").strip())
        else:
            return 500, "text/xml;charset=UTF-8", _fault("soap:Client", UNMARSHALLING)
        if self.keep_log:
            with self._lock:
                self.log.append({"path": path, "request": body, "response": answer})
        return 200, "text/xml;charset=UTF-8", answer

    # ------------------------------------------------------------------ recepción
    def _recepcion(self, operation: Any) -> bytes:
        try:
            key = self._receive(operation)
        except Devuelta as exc:
            return _devuelta(exc.key, [_message(exc.code, exc.extra)])
        del key  # RECIBIDA names no key: the answer carries an empty <comprobantes/>
        return _envelope(
            NS_RECEPCION,
            "validarComprobanteResponse",
            "<RespuestaRecepcionComprobante><estado>RECIBIDA</estado><comprobantes/>"
            "</RespuestaRecepcionComprobante>",
        )

    def _receive(self, operation: Any) -> str:
        encoded = "".join((operation.findtext("xml") or "").split())
        if not encoded:
            raise Devuelta("49")
        try:
            xml = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Devuelta("35", STRUCTURE + "El contenido no está en base64.") from exc
        if len(xml) > MAX_BYTES:
            raise Devuelta("26", f"El comprobante pesa {len(xml)} bytes; máximo {MAX_BYTES}.")
        try:
            doc = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise Devuelta("35", STRUCTURE + str(exc)) from exc
        key = (doc.findtext("infoTributaria/claveAcceso") or "").strip()
        if not re.fullmatch(r"\d{49}", key):
            raise Devuelta(
                "35", STRUCTURE + "No se ha encontrado información en el tag claveAcceso."
            )
        cod_doc = ROOTS.get(doc.tag)
        if cod_doc is None:
            raise Devuelta("47", f"Elemento raíz {doc.tag!r}", key)
        schema = SCHEMAS.get((cod_doc, doc.get("version", "")))
        if schema is None:
            raise Devuelta("36", f"Versión {doc.get('version')!r}", key)
        validator = self._schema(schema)
        if not validator.validate(doc):
            error = validator.error_log.last_error
            raise Devuelta("35", STRUCTURE + (error.message if error else "XSD"), key)
        identity = self._check_key(doc, key, cod_doc)
        with self._lock:
            forced = self._forced.pop(0) if self._forced else None
            known = self.documents.get(key)
            if forced in ("43", "70") and known is None:  # an earlier send got through
                self._store(key, xml, identity)
            if forced:
                raise Devuelta(forced, "", key)
            if known is not None and known.state == PROCESSING:
                raise Devuelta("70", "", key)
            if known is not None and known.state in (RECEIVED, AUTHORISED):
                raise Devuelta("43", "", key)
            owner = self._sequentials.get(identity)
            if owner is not None and owner != key:
                raise Devuelta("45", f"Ya usado por la clave {owner}", key)
            self._store(key, xml, identity, history=known)
        return key

    def _store(
        self, key: str, xml: bytes, identity: tuple[str, ...], history: Document | None = None
    ) -> None:
        document = Document(key, xml, identity, polls_left=self.processing_polls)
        if history is not None:  # a corrected resend of a NO AUTORIZADO key keeps its history
            document.authorisations = history.authorisations
        self.documents[key] = document
        self._sequentials[identity] = key
        self._save()

    def _check_key(self, doc: Any, key: str, cod_doc: str) -> tuple[str, ...]:
        info = doc.find("infoTributaria")
        field_of = {
            name: (info.findtext(name) or "").strip()
            for name in (
                "ambiente",
                "tipoEmision",
                "ruc",
                "codDoc",
                "estab",
                "ptoEmi",
                "secuencial",
            )
        }
        when = (
            doc.findtext("infoFactura/fechaEmision")
            or doc.findtext("infoNotaCredito/fechaEmision")
            or ""
        ).strip()
        try:
            issued = dt.datetime.strptime(when, "%d/%m/%Y").date()
        except ValueError as exc:
            raise Devuelta("67", f"fechaEmision {when!r}", key) from exc
        expected = (
            issued.strftime("%d%m%Y")
            + cod_doc
            + field_of["ruc"]
            + field_of["ambiente"]
            + field_of["estab"]
            + field_of["ptoEmi"]
            + field_of["secuencial"]
        )
        if (
            field_of["codDoc"] != cod_doc
            or key[:47] != expected + key[39:47]
            or key[47] != field_of["tipoEmision"]
            or int(key[48]) != check_digit(key[:48])
        ):
            raise Devuelta("58", "La clave de acceso no corresponde al comprobante", key)
        if field_of["ambiente"] != str(self.environment):
            raise Devuelta("60", f"Ambiente del servidor: {self.environment}", key)
        if self.check_dates:
            today = self.today or dt.datetime.now(ECUADOR).date()
            if abs((today - issued).days) * 1440 > TOLERANCE_MINUTES or issued > today:
                raise Devuelta(
                    "65",
                    f"La fecha de emisión está fuera del rango de tolerancia [{TOLERANCE_MINUTES}"
                    " minutos], o es mayor a la fecha del servidor",
                    key,
                )
        return (
            field_of["ruc"],
            cod_doc,
            field_of["estab"],
            field_of["ptoEmi"],
            field_of["secuencial"],
        )

    def _schema(self, name: str) -> etree.XMLSchema:
        with self._lock:
            if name not in self._schemas:
                self._schemas[name] = etree.XMLSchema(etree.parse(str(HERE / name)))
            return self._schemas[name]

    # ------------------------------------------------------------------ autorización
    def _autorizacion(self, key: str) -> bytes:
        with self._lock:
            document = self.documents.get(key)
            if document is None:
                return _respuesta(key, [])
            if document.state == PROCESSING and document.polls_left > 0:
                document.polls_left -= 1
                if self.processing_literal is None:
                    return _respuesta(key, [])
                pending = {
                    "estado": self.processing_literal,
                    "ambiente": self._ambiente(),
                    "comprobante": document.xml,
                    "mensajes": [],
                }
                return _respuesta(key, [*document.authorisations, pending])
            if document.state == PROCESSING:
                self._decide(document)
                self._save()
            return _respuesta(key, document.authorisations)

    def _decide(self, document: Document) -> None:
        forced = self._forced_auth.pop(0) if self._forced_auth else None
        messages: list[dict[str, str]] = []
        if forced:
            messages = [_message(forced)]
        else:
            try:
                verify(document.xml)
            except SignatureError as exc:
                messages = [_message("39", str(exc))]
            if not messages and self.check_totals:
                problem = _totals_problem(document.xml)
                if problem:
                    messages = [_message("52", problem)]
        stamp = dt.datetime.now(ECUADOR)
        when = stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}-05:00"
        entry: dict[str, Any] = {
            "estado": "NO AUTORIZADO" if messages else "AUTORIZADO",
            "fechaAutorizacion": when,
            "ambiente": self._ambiente(),
            "comprobante": document.xml,
            "mensajes": messages,
        }
        if not messages:
            entry["numeroAutorizacion"] = document.key
        document.state = NOT_AUTHORISED if messages else AUTHORISED
        document.authorisations.append(entry)

    def _ambiente(self) -> str:
        return "PRODUCCIÓN" if self.environment == 2 else "PRUEBAS"

    # ------------------------------------------------------------------ persistence
    def _save(self) -> None:
        if self.state_file is None:
            return
        data = {
            key: {
                "xml": base64.b64encode(d.xml).decode(),
                "identity": list(d.identity),
                "state": d.state,
                "polls_left": d.polls_left,
                "authorisations": [
                    {**a, "comprobante": base64.b64encode(a["comprobante"]).decode()}
                    for a in d.authorisations
                ],
            }
            for key, d in self.documents.items()
        }
        tmp = self.state_file.with_suffix(".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self.state_file)

    def _load(self) -> None:
        if self.state_file is None or not self.state_file.exists():
            return
        for key, d in json.loads(self.state_file.read_text(encoding="utf-8")).items():
            document = Document(
                key, base64.b64decode(d["xml"]), tuple(d["identity"]), d["state"], d["polls_left"]
            )
            document.authorisations = [
                {**a, "comprobante": base64.b64decode(a["comprobante"])}
                for a in d["authorisations"]
            ]
            self.documents[key] = document
            self._sequentials[document.identity] = key


# ---------------------------------------------------------------------- business check (52)
def _amount(node: Any, path: str) -> Decimal:
    try:
        return Decimal((node.findtext(path) or "0").strip())
    except InvalidOperation:
        return Decimal("NaN")


def _totals_problem(xml: bytes) -> str:
    """Lines against totals, with the SRI's observed cent of tolerance per group (§6.4)."""
    doc = etree.fromstring(xml)
    info = doc.find("infoFactura")
    if info is None:
        info = doc.find("infoNotaCredito")
    if info is None:
        return ""
    lines = sum(
        (_amount(d, "precioTotalSinImpuesto") for d in doc.iterfind("detalles/detalle")), Decimal(0)
    )
    base = _amount(info, "totalSinImpuestos")
    if abs(lines - base) > Decimal("0.01"):
        return f"Suma de detalles {lines} distinta de totalSinImpuestos {base}"
    taxes = sum(
        (_amount(t, "valor") for t in info.iterfind("totalConImpuestos/totalImpuesto")), Decimal(0)
    )
    total_tag = "importeTotal" if doc.tag == "factura" else "valorModificacion"
    total = _amount(info, total_tag)
    extra = _amount(info, "propina") if doc.tag == "factura" else Decimal(0)
    if abs(base + taxes + extra - total) > Decimal("0.01"):
        return f"{total_tag} {total} distinto de {base + taxes + extra}"
    return ""


# ---------------------------------------------------------------------- answers
def _envelope(namespace: str, element: str, inner: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body>'
        f'<ns2:{element} xmlns:ns2="{namespace}">{inner}</ns2:{element}>'
        "</soap:Body></soap:Envelope>"
    ).encode()


def _fault(code: str, text: str) -> bytes:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP_NS}"><soap:Body><soap:Fault>'
        f"<faultcode>{escape(code)}</faultcode><faultstring>{escape(text)}</faultstring>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def _mensajes(messages: list[dict[str, str]]) -> str:
    if not messages:
        return "<mensajes/>"
    parts = "".join(
        "<mensaje>"
        + "".join(
            f"<{k}>{escape(m[k])}</{k}>"
            for k in ("identificador", "mensaje", "informacionAdicional", "tipo")
            if m.get(k)
        )
        + "</mensaje>"
        for m in messages
    )
    return f"<mensajes>{parts}</mensajes>"


def _devuelta(key: str, messages: list[dict[str, str]]) -> bytes:
    return _envelope(
        NS_RECEPCION,
        "validarComprobanteResponse",
        "<RespuestaRecepcionComprobante><estado>DEVUELTA</estado><comprobantes><comprobante>"
        f"<claveAcceso>{escape(key)}</claveAcceso>{_mensajes(messages)}</comprobante>"
        "</comprobantes></RespuestaRecepcionComprobante>",
    )


def _cdata(data: bytes) -> str:
    return "<![CDATA[" + data.decode("utf-8").replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _respuesta(key: str, entries: list[dict[str, Any]]) -> bytes:
    items = "".join(
        "<autorizacion>"
        f"<estado>{escape(e['estado'])}</estado>"
        + (
            f"<numeroAutorizacion>{e['numeroAutorizacion']}</numeroAutorizacion>"
            if e.get("numeroAutorizacion")
            else ""
        )
        + (
            f"<fechaAutorizacion>{e['fechaAutorizacion']}</fechaAutorizacion>"
            if e.get("fechaAutorizacion")
            else ""
        )
        + f"<ambiente>{e['ambiente']}</ambiente>"
        f"<comprobante>{_cdata(e['comprobante'])}</comprobante>"
        f"{_mensajes(e['mensajes'])}</autorizacion>"
        for e in entries
    )
    return _envelope(
        NS_AUTORIZACION,
        "autorizacionComprobanteResponse",
        "<RespuestaAutorizacionComprobante>"
        f"<claveAccesoConsultada>{escape(key)}</claveAccesoConsultada>"
        f"<numeroComprobantes>{len(entries)}</numeroComprobantes>"
        + (f"<autorizaciones>{items}</autorizaciones>" if items else "<autorizaciones/>")
        + "</RespuestaAutorizacionComprobante>",
    )


def _lote(key: str) -> bytes:
    return _envelope(
        NS_AUTORIZACION,
        "autorizacionComprobanteLoteResponse",
        f"<RespuestaAutorizacionLote><claveAccesoLoteConsultada>{escape(key)}"
        "</claveAccesoLoteConsultada><numeroComprobantesLote>0</numeroComprobantesLote>"
        "<autorizaciones/></RespuestaAutorizacionLote>",
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Sandbox SRI web services for local development.")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8089)
    ap.add_argument("--environment", type=int, default=1, choices=[1, 2])
    ap.add_argument("--processing-polls", type=int, default=0)
    ap.add_argument("--state", default="")
    ap.add_argument(
        "--no-date-check",
        action="store_true",
        help="accept any fechaEmision (a demo or bench book spans more than the 90-day window)",
    )
    args = ap.parse_args(argv)
    fake = FakeSri(
        args.host,
        args.port,
        environment=args.environment,
        processing_polls=args.processing_polls,
        check_dates=not args.no_date_check,
        state_file=args.state or None,
        keep_log=False,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    fake.start()
    print(f"Sandbox SRI on {fake.url}{BASE}", flush=True)
    try:
        while not stop.wait(1):
            pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
