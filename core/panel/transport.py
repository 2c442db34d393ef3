"""How every panel call travels: the HTTP transport and the retry policy (cpanel-api.md §1
transport, §5 timeouts, retries and ambiguous outcomes). ``core.panel.whm`` builds the WHM
API 1 and UAPI calls on top of it.

* Every call is a form-encoded POST with ``api.version=1`` and ``Authorization: whm user:token``:
  POST keeps passwords out of URLs and access logs; v1 everywhere means one envelope shape.
* Only reads (and writes that are idempotent by value) are retried. A write that times out may
  still have been carried out by cPanel, so it is *reconciled* by reading state, never repeated.
* Error messages carry cPanel's reason but never a token.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Self, TypeVar

from core.panel.errors import PanelRejected, PanelUnavailable, classify_response

if TYPE_CHECKING:
    import requests

# requests and urllib3 are imported where a call is made, not here: the daily run imports the
# panel for its service steps, and a run with nothing to suspend never talks to a panel
# (~0.1 s of the cron job's start-up).

T = TypeVar("T")

# §5.2: connect fast, read patiently. createacct/removeacct run a long pipeline on the server
# (DNS, mail, quotas, hooks); FOSSBilling's 30 s timeout reported failures for accounts that
# were in fact created.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0
SLOW_TIMEOUT = 240.0
SLOW_FUNCTIONS = frozenset(
    {"createacct", "removeacct", "changepackage", "suspendacct", "unsuspendacct"}
)
DEFAULT_BACKOFF = (1.0, 2.0, 4.0)  # §5.4: 1 s, 2 s, 4 s, at most three retries
# The biggest reply read: listaccts of a full server is a few MB. A bigger one is refused
# before it is read (a 400 MB reply once took 1.2 GB of memory).
MAX_REPLY_BYTES = 32 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


def _was_sent(exc: requests.RequestException) -> bool:
    """False only when the request certainly never reached the server (connect failure)."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return not isinstance(reason, NewConnectionError | ConnectTimeoutError)


class PanelTransport:
    """The connection to one WHM server (``https://host:2087``) authenticated by an API token:
    posting a call, retrying reads and settling ambiguous writes. ``WhmClient`` is the one
    subclass; the calls themselves are there.

    ``verify``: True, or a CA bundle path (False only for a throw-away local panel).
    ``timeout`` overrides the per-call timeouts of §5.2 (a number = read timeout of every call,
    or a ``(connect, read)`` tuple); ``backoff`` lists the sleeps between read retries (its
    length is the number of retries); ``reconcile_wait`` bounds how long the outcome of an
    ambiguous write is looked for by reading state.
    """

    def __init__(
        self,
        base_url: str,
        user: str,
        token: str,
        *,
        verify: bool | str = True,
        timeout: float | tuple[float, float] | None = None,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        reconcile_wait: float = 60.0,
        session: requests.Session | None = None,
    ) -> None:
        url = base_url.strip().rstrip("/")
        if not url.startswith(("https://", "http://")):
            raise ValueError("base_url must start with https:// (or http:// for a local fake)")
        self.base_url, self.user, self.verify = url, user, verify
        self._token = token
        self._timeout = timeout
        self._backoff = tuple(backoff) or (0.0,)
        self._reads = len(tuple(backoff))  # retries granted to reads
        self._reconcile_wait = reconcile_wait
        import requests

        # urllib3 stays at its default of zero retries: it must never resend a POST.
        self._http = session or requests.Session()

    def __repr__(self) -> str:  # keeps the token out of logs and tracebacks
        return f"{type(self).__name__}({self.base_url!r}, user={self.user!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- transport
    def _timeouts(self, function: str) -> tuple[float, float]:
        if isinstance(self._timeout, tuple):
            return self._timeout
        if self._timeout is not None:
            seconds = float(self._timeout)  # a timeout in seconds: float, not money
            return (min(CONNECT_TIMEOUT, seconds), seconds)
        return (CONNECT_TIMEOUT, SLOW_TIMEOUT if function in SLOW_FUNCTIONS else READ_TIMEOUT)

    def _post(self, path: str, function: str, params: dict[str, Any]) -> dict[str, Any]:
        import requests

        form = {"api.version": "1"}
        form.update({k: str(v) for k, v in params.items() if v is not None})
        headers = {"Authorization": f"whm {self.user}:{self._token}", "Accept": "application/json"}
        timeouts = self._timeouts(function)
        # The read timeout bounds each wait for a packet; a reply that drips a byte at a time
        # never trips it, so the whole exchange also has a deadline.
        deadline = time.monotonic() + sum(timeouts)
        try:
            resp = self._http.post(
                self.base_url + path,
                data=form,
                headers=headers,
                timeout=timeouts,
                verify=self.verify,
                allow_redirects=False,  # a redirect turns POST into GET and drops the form
                stream=True,  # read by _body, under a size cap and the deadline
            )
        except requests.RequestException as exc:
            kind = "timed out" if isinstance(exc, requests.Timeout) else "connection failed"
            raise PanelUnavailable(
                f"{function}: {kind} ({type(exc).__name__}: {self._hidden(str(exc))})",
                function=function,
                ambiguous=_was_sent(exc),
            ) from exc
        with resp:
            body = self._body(resp, function, deadline).decode("utf-8", "replace")
        return classify_response(function, resp.status_code, body)  # Content-Type unreliable

    def _hidden(self, text: str) -> str:
        return text.replace(self._token, "***") if self._token else text

    def _body(self, resp: requests.Response, function: str, deadline: float) -> bytes:
        """The reply's bytes, read as they arrive: refused when it says (or turns out to be)
        bigger than MAX_REPLY_BYTES, and cut off at the deadline. Either is reported as the
        panel being unavailable; the request was sent, so the outcome is ambiguous (a write
        is then reconciled by reading state, never repeated)."""

        from urllib3.exceptions import HTTPError

        def failed(why: str) -> PanelUnavailable:
            return PanelUnavailable(f"{function}: {why}", function=function, ambiguous=True)

        declared = resp.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_REPLY_BYTES:
            raise failed(f"reply too large ({int(declared)} bytes, at most {MAX_REPLY_BYTES})")
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise failed(f"timed out (the reply was still arriving after {size} bytes)")
            try:
                # read1: what has arrived (one socket read), so the deadline is checked often.
                data = resp.raw.read1(CHUNK_BYTES, decode_content=True)
            except (HTTPError, OSError) as exc:
                kind = "timed out" if "timed out" in str(exc).lower() else "reply broken off"
                raise failed(f"{kind} ({type(exc).__name__}: {self._hidden(str(exc))})") from exc
            if not data:
                return b"".join(chunks)
            size += len(data)
            if size > MAX_REPLY_BYTES:
                raise failed(f"reply too large (over {MAX_REPLY_BYTES} bytes)")
            chunks.append(data)

    def _attempts(self, once: Callable[[], T], retries: int) -> T:
        for attempt in range(retries):
            try:
                return once()
            except PanelUnavailable:  # auth errors and rejections are final, never retried
                time.sleep(self._backoff[min(attempt, len(self._backoff) - 1)])
        return once()

    # ------------------------------------------------------------ reconciliation
    def _settle(self, check: Callable[[], bool], wait: float) -> bool:
        """Poll ``check`` (a read of panel state) until it is True or ``wait`` s have passed."""
        deadline = time.monotonic() + wait
        for attempt in range(1_000_000):
            try:
                if check():
                    return True
            except PanelUnavailable:
                pass  # the panel is still busy or unreachable; look again until the deadline
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(self._backoff[min(attempt, len(self._backoff) - 1)], remaining))
        return False

    def _write(self, label: str, send: Callable[[], T], done: Callable[[], bool]) -> T | None:
        """Run a non-idempotent write once (§5.4). Returns its result, or None when the call
        failed but the panel is already in the desired state (``done()``), which is success."""
        try:
            return send()
        except PanelRejected:
            if self._settle(done, 0):  # e.g. "already exists" for our own earlier attempt
                return None
            raise
        except PanelUnavailable as exc:
            if not exc.ambiguous:
                raise
            if self._settle(done, self._reconcile_wait):
                return None
            raise PanelUnavailable(
                f"{label}: no clear answer from the panel and the outcome could not be "
                "confirmed; check the panel before trying again",
                function=label,
            ) from exc
