"""A Streamlit client that speaks the server's own WebSocket protocol, as the browser does,
without a browser: ``BackMsg`` protobufs up, ``ForwardMsg`` protobufs down
(``streamlit.proto``), over ``/_stcore/stream``.

Why: ten Chromium contexts already fill two cores (bench/load.py), so browsers cannot say
how many sessions the *server* carries. This client costs a few protobuf parses a run, so
hundreds of sessions fit on one asyncio loop and the server is what is measured.

What it does as the browser does (read from streamlit 1.67's starlette_websocket.py and
app_session.py):
- connects with the ``streamlit`` subprotocol and the browser's cookies (the auth cookie
  signs a session in: the app reads ``st.context.cookies`` on the session's first run);
- asks for a run with ``BackMsg.rerun_script`` = ``ClientState(page_script_hash, widget
  states, query string, context info)``; a page switch is a run with another page's hash,
  the hash the server lists in its ``navigation`` message (``app_pages``);
- tells the server which large elements it holds (``cached_message_hashes``): the server
  then sends a ``ref_hash`` instead of the element again, and the client resolves it from
  its own cache. Nothing has to be answered: the server never waits on the client.

A run ends at ``script_finished``. ``FINISHED_EARLY_FOR_RERUN`` is not the end (the script
called ``st.rerun()`` and the server goes on with the next run, as a person sees it); any
other status, a ``page_not_found``, an exception element, a script compilation error or no
end within the timeout is an error of that run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ClientState_pb2 import ClientState, ContextInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.TextInput_pb2 import TextInput
from streamlit.proto.WidgetStates_pb2 import WidgetState, WidgetStates
from websockets.asyncio.client import ClientConnection, connect

RUN_TIMEOUT_S = 30.0
TIMEZONE = "America/Guayaquil"


@dataclass
class Run:
    """One run as the client saw it: from the rerun request sent to the run's end."""

    ms: float
    ok: bool
    deltas: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: int = 0  # deprecation notes drawn as warnings: not errors of the run


@dataclass
class Widget:
    kind: str  # "text_input" or "button"
    id: str
    label: str
    form_id: str
    password: bool = False
    submitter: bool = False


class Session:
    """One browser tab's session. ``await run(...)`` one run at a time (as a tab does)."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None) -> None:
        self.base = base.rstrip("/")
        self.cookies = dict(cookies or {})
        self.pages: dict[str, str] = {}  # url path -> page script hash, as navigation lists
        self.hidden: set[str] = set()  # pages listed but not in the menu
        self.page = ""  # url path of the page the last run drew
        self.widgets: list[Widget] = []  # widgets the last run drew
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task | None = None
        self._cache: dict[str, ForwardMsg] = {}  # hash -> cacheable element, as the browser
        self._current: _Pending | None = None

    async def connect(self, timeout: float = 60.0) -> None:
        split = urlsplit(self.base)
        scheme = "wss" if split.scheme == "https" else "ws"
        headers = {"Origin": self.base}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        self._ws = await connect(
            f"{scheme}://{split.netloc}{split.path}/_stcore/stream",
            subprotocols=["streamlit"],  # type: ignore[list-item]
            additional_headers=headers,
            max_size=None,  # a page of data frames is a few MB; the browser takes it all
            open_timeout=timeout,
            ping_interval=None,  # the server pings; the library answers on its own
        )
        self._reader = asyncio.create_task(self._read())

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            # Closing anyway: whatever the reader ended with is no longer anyone's concern.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def run(
        self,
        page: str | None = None,
        widgets: list[WidgetState] | None = None,
        query_string: str = "",
        timeout: float = RUN_TIMEOUT_S,
    ) -> Run:
        """Ask for a run of ``page`` (a url path; None: the page now drawn, or the default
        before any) with these widget states, and wait for its end."""
        if self._ws is None:
            raise RuntimeError("not connected")
        target = self.page if page is None else page
        state = ClientState(
            query_string=query_string,
            page_script_hash=self.pages.get(target, "") if target else "",
            page_name="" if target in self.pages else target,
            widget_states=WidgetStates(widgets=widgets or []),
            cached_message_hashes=list(self._cache),
            context_info=ContextInfo(
                timezone=TIMEZONE,
                timezone_offset=300,
                locale="es-EC",
                url=f"{self.base}/{target}",
            ),
        )
        pending = _Pending()
        self._current = pending
        self.widgets = []
        started = time.perf_counter()
        await self._ws.send(BackMsg(rerun_script=state).SerializeToString())
        try:
            await asyncio.wait_for(pending.done.wait(), timeout)
        except TimeoutError:
            pending.errors.append(f"no end of run within {timeout:.0f} s")
            pending.ok = False
        ms = (pending.finished_at or time.perf_counter()) - started
        self._current = None
        return Run(
            round(ms * 1000, 1), pending.ok, pending.deltas, pending.errors, pending.warnings
        )

    def signed_in(self) -> bool:
        """The menu lists real pages only to a signed-in session (dashboard.py)."""
        return any(path not in self.hidden for path in self.pages)

    def form(self, form_id_part: str) -> list[Widget]:
        return [w for w in self.widgets if form_id_part in w.form_id]

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for data in self._ws:
                if isinstance(data, str):
                    continue
                msg = ForwardMsg()
                msg.ParseFromString(data)
                self._handle(msg)
        except Exception as exc:  # noqa: BLE001 - a dropped connection fails the run waiting
            if self._current is not None:
                self._current.fail(f"connection lost: {type(exc).__name__}")
            return
        if self._current is not None:
            self._current.fail("connection closed by the server")

    def _handle(self, msg: ForwardMsg) -> None:
        kind = msg.WhichOneof("type")
        if kind == "ref_hash":
            cached = self._cache.get(msg.ref_hash)
            if cached is None:
                self._fail(f"unknown cached element {msg.ref_hash}")
                return
            msg = cached
            kind = msg.WhichOneof("type")
        elif msg.metadata.cacheable and msg.hash:
            self._cache[msg.hash] = msg
        pending = self._current
        if kind == "navigation":
            self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
            self.hidden = {p.url_pathname for p in msg.navigation.app_pages if p.is_hidden}
            self.hidden |= {
                p.url_pathname
                for p in msg.navigation.app_pages
                if msg.navigation.position == msg.navigation.Position.HIDDEN
            }
            drawn = msg.navigation.page_script_hash
            self.page = next((u for u, h in self.pages.items() if h == drawn), self.page)
        elif kind == "delta":
            if pending is not None:
                pending.deltas += 1
            self._element(msg)
        elif kind == "page_not_found":
            self._fail(f"page not found: {msg.page_not_found.page_name or self.page}")
        elif kind == "session_event":
            if msg.session_event.WhichOneof("type") == "script_compilation_exception":
                self._fail("script compilation error")
        elif kind == "script_finished" and pending is not None:
            status = msg.script_finished
            if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                return  # the script asked for another run: the page is not drawn yet
            if status == ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY:
                return  # a fragment's own rerun, not the page's
            if status != ForwardMsg.FINISHED_SUCCESSFULLY:
                pending.errors.append(f"run ended {ForwardMsg.ScriptFinishedStatus.Name(status)}")
                pending.ok = False
            pending.finish()

    def _element(self, msg: ForwardMsg) -> None:
        if msg.delta.WhichOneof("type") != "new_element":
            return
        element = msg.delta.new_element
        kind = element.WhichOneof("type")
        if kind == "exception":
            if element.exception.is_warning:
                if self._current is not None:
                    self._current.warnings += 1
                return
            self._fail(f"exception on {self.page or 'the page'}: {element.exception.type}")
        elif kind == "text_input":
            box = element.text_input
            self.widgets.append(
                Widget(
                    "text_input",
                    box.id,
                    box.label,
                    box.form_id,
                    password=box.type == TextInput.PASSWORD,
                )
            )
        elif kind == "button":
            button = element.button
            self.widgets.append(
                Widget(
                    "button",
                    button.id,
                    button.label,
                    button.form_id,
                    submitter=button.is_form_submitter,
                )
            )

    def _fail(self, why: str) -> None:
        if self._current is not None:
            self._current.errors.append(why)
            self._current.ok = False


class _Pending:
    def __init__(self) -> None:
        self.done = asyncio.Event()
        self.ok = True
        self.deltas = 0
        self.warnings = 0
        self.errors: list[str] = []
        self.finished_at: float | None = None

    def finish(self) -> None:
        self.finished_at = time.perf_counter()
        self.done.set()

    def fail(self, why: str) -> None:
        self.errors.append(why)
        self.ok = False
        self.finish()


def text(widget: Widget, value: str) -> WidgetState:
    return WidgetState(id=widget.id, string_value=value)


def click(widget: Widget) -> WidgetState:
    return WidgetState(id=widget.id, trigger_value=True)
