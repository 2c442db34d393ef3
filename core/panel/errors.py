"""The pure, HTTP-free side of the panel adapter: errors, response classification, values.

Holds the error types, the envelope rules of ``cpanel-api.md`` §2.6, the coercion of cPanel's
stringly-typed values (§7.19), the username rules and the small value types the client returns.
Kept apart from ``core.panel.whm`` so callers (services, mailboxes, pages) can import them without
pulling in ``requests``, and so each rule is testable without a server.

Nothing here ever formats request parameters into a message: cPanel errors are shown to staff
and written to logs, and the parameters carry passwords.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CreatedAccount",
    "Mailbox",
    "Usage",
    "account_row",
    "mailbox_row",
    "plan_row",
    "InvalidUsername",
    "PanelAuthError",
    "PanelBlocked",
    "PanelError",
    "PanelNotFound",
    "PanelRejected",
    "PanelUnavailable",
    "classify_response",
    "clean_reason",
    "limit_mb",
    "size_mb",
    "to_int",
    "validate_username",
]


class PanelError(Exception):
    """Any failure talking to the panel. ``function`` names the WHM/UAPI call."""

    def __init__(self, message: str, *, function: str | None = None) -> None:
        super().__init__(message)
        self.function = function


class PanelAuthError(PanelError):
    """401/403, a login form, or an "Access denied" body. Never retried: cPHulk counts them."""


class PanelBlocked(PanelAuthError):
    """cPHulk "Brute Force Protection" page: our IP or user is blocked for a while."""


class PanelUnavailable(PanelError):
    """Transport failure, timeout, 5xx, redirect or a body that is not the API's JSON.

    ``ambiguous`` is True when the request may have reached cPanel and been carried out
    (read timeout, connection dropped after sending, 5xx, unexpected body): a write that ends
    this way must be reconciled by reading state, never blindly repeated (§5.4).
    """

    def __init__(self, message: str, *, function: str | None = None, ambiguous: bool = True):
        super().__init__(message, function=function)
        self.ambiguous = ambiguous


class PanelRejected(PanelError):
    """cPanel answered and said no (``metadata.result`` 0, UAPI ``status`` 0, legacy 0).

    ``reason`` is cPanel's own text, cleaned of ``(XID …)`` references and Perl source
    locations, suitable for showing to staff.
    """

    def __init__(self, reason: str, *, function: str | None = None) -> None:
        self.reason = clean_reason(reason) or "cPanel rejected the request without a reason."
        label = f"{function}: " if function else ""
        super().__init__(f"{label}{self.reason}", function=function)


class PanelNotFound(PanelRejected):
    """The account (or mailbox) the call needs does not exist or is not visible to us."""


class InvalidUsername(ValueError):
    """A cPanel username that the server would reject; checked locally before createacct."""


_XID = re.compile(r"\s*\(XID [^)]*\)", re.IGNORECASE)
# createacct failures carry a Perl location, e.g. "… pacakge name. at /usr/local/…pm line 12."
_PERL_AT = re.compile(r"\s+at \S+ line \d+\.?", re.IGNORECASE)


def clean_reason(text: Any) -> str:
    """cPanel's reason as a one-paragraph string without XID or Perl-location noise."""
    if text is None:
        return ""
    if isinstance(text, list | tuple):
        text = "; ".join(str(t) for t in text if t not in (None, ""))
    text = _PERL_AT.sub("", _XID.sub("", str(text)))
    return " ".join(text.split())


def to_int(value: Any, default: int = 0) -> int:
    """Coerce cPanel's stringly-typed flags ("1", "0", 1, True, None) to int (§7.19)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(str(value).strip()))  # "1.0" flags: a float here is not money
    except (TypeError, ValueError):
        return default


_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)", re.IGNORECASE)
_UNIT_MB = {"": 1.0, "K": 1 / 1024, "M": 1.0, "G": 1024.0, "T": 1024.0 * 1024}


def size_mb(value: Any) -> float | None:
    """Parse cPanel sizes ("14M", "1.5G", 250, "unlimited", None) into MiB; None = unlimited."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)  # sizes in MiB are measurements, a float is fine: not money
    match = _SIZE.match(str(value))
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_MB[match.group(2).upper()]  # MiB: float, not money


def limit_mb(value: Any) -> float | None:
    """A quota/limit in MiB where 0, "unlimited", "None", "∞" and null all mean unlimited."""
    mb = size_mb(value)
    return mb if mb else None


USERNAME_MAX = 16
# System users and the aliases cPanel reserves (Cpanel::Validate::Username::Core, /etc/aliases).
_RESERVED_NAMES = (
    "abuse adm admin all apache bin cpanel cpanelphpmyadmin cpses daemon dbus dovecot exim ftp "
    "games halt hostmaster info lp mail mailman mailnull marketing mysql named news nobody noc "
    "nscd ntp operator postgres postmaster root rpc sales security shutdown smmsp sshd support "
    "sync system tss usenet uucp virtfs webmaster wheel whm www xfs"
)
RESERVED_USERNAMES = frozenset(_RESERVED_NAMES.split())
_USERNAME_CHARS = re.compile(r"[a-z0-9]+")


def validate_username(username: str) -> str:
    """Return ``username`` unchanged if cPanel would accept it, else raise InvalidUsername.

    Rules (cPanel "Reserved, Invalid, and Misconfigured Usernames", cpanel-api.md §3.1/§5.4):
    lowercase a–z and 0–9 only, 1–16 characters, starts with a letter, does not start with
    ``test`` nor end with ``assword``, not a reserved system name. Uppercase is refused rather
    than lowercased so the caller stores exactly the name the server will have (§7.11).
    The server-wide "first 8 characters unique" rule needs the server (see suggest_username).
    """
    name = username if isinstance(username, str) else ""
    problem = None
    if not name:
        problem = "is empty"
    elif name != name.lower():
        problem = "must be lowercase"
    elif len(name) > USERNAME_MAX:
        problem = f"is longer than {USERNAME_MAX} characters"
    elif not _USERNAME_CHARS.fullmatch(name):
        problem = "may only contain the letters a–z and the digits 0–9"
    elif not name[0].isalpha():
        problem = "must start with a letter"
    elif name.startswith("test"):
        problem = "cannot start with “test”"
    elif name.endswith("assword"):
        problem = "cannot end with “assword”"
    elif name in RESERVED_USERNAMES:
        problem = "is reserved by the system"
    if problem:
        raise InvalidUsername(f"The username “{name}” {problem}.")
    return name


def _html_error(function: str, body: str) -> PanelError:
    """Sub-classify a 200 body that is not JSON (§2.6 step 3)."""
    low = body.lower()
    if "brute force protection" in low:
        return PanelBlocked(
            f"{function}: blocked by cPanel brute force protection (cPHulk); "
            "check the API token and wait for the block to expire",
            function=function,
        )
    if 'http-equiv="refresh"' in low or "http-equiv=refresh" in low:
        return PanelUnavailable(
            f"{function}: the panel redirected to another address (SSL required?); "
            "use https:// and port 2087",
            function=function,
            ambiguous=False,
        )
    if "<form" in low and ("login" in low or 'name="pass"' in low):
        return PanelAuthError(
            f"{function}: the panel answered with a login page", function=function
        )
    return PanelUnavailable(
        f"{function}: the panel answered with a non-JSON body", function=function
    )


def classify_response(function: str, status: int, body: str) -> dict[str, Any]:
    """Return the decoded JSON body of a successful call or raise the matching PanelError.

    Follows ``cpanel-api.md`` §2.6 in order: HTTP status, non-JSON bodies, API 2
    ``cpanelresult``, top-level ``error``, WHM API 1 ``metadata``, proxied UAPI ``result``,
    direct UAPI, then the legacy API 0 shapes.
    """
    if status in (401, 403):
        raise PanelAuthError(
            f"{function}: authentication failed (HTTP {status})", function=function
        )
    if 300 <= status < 400:
        raise PanelUnavailable(
            f"{function}: the panel redirected (HTTP {status}); use https:// and port 2087",
            function=function,
            ambiguous=False,
        )
    if not 200 <= status < 300:
        raise PanelUnavailable(f"{function}: the panel answered HTTP {status}", function=function)
    try:
        doc = json.loads(body)
    except ValueError:
        raise _html_error(function, body) from None
    if not isinstance(doc, dict):
        raise PanelUnavailable(f"{function}: unexpected JSON shape", function=function)

    cpr = doc.get("cpanelresult")
    if isinstance(cpr, dict) and cpr.get("error"):
        rows = cpr.get("data")
        row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else {}
        reason = row.get("reason") or cpr["error"]
        if clean_reason(reason).lower().startswith("access denied"):
            raise PanelAuthError(f"{function}: access denied", function=function)
        raise PanelRejected(reason, function=function)

    bare_error = isinstance(doc.get("error"), str) and not isinstance(doc.get("metadata"), dict)
    if bare_error and not isinstance(doc.get("result"), dict):
        data = doc.get("data")
        if not isinstance(data, dict):
            data = {}
        raise PanelRejected(data.get("reason") or doc["error"], function=function)

    meta = doc.get("metadata")
    if isinstance(meta, dict) and "result" in meta:
        if to_int(meta.get("result")) != 1:
            raise PanelRejected(meta.get("reason") or "", function=function)
        data = doc.get("data")
        uapi = data.get("uapi") if isinstance(data, dict) else None
        if isinstance(uapi, dict) and "status" in uapi and to_int(uapi.get("status")) != 1:
            raise PanelRejected(uapi.get("errors") or "", function=function)
        return doc

    result = doc.get("result")
    if isinstance(result, dict) and "status" in result:
        if to_int(result.get("status")) != 1:
            raise PanelRejected(result.get("errors") or "", function=function)
        return doc

    if "status" in doc and "errors" in doc:
        if to_int(doc.get("status")) != 1:
            raise PanelRejected(doc.get("errors") or "", function=function)
        return doc

    for key in ("result", "passwd"):
        rows = doc.get(key)
        if isinstance(rows, list) and rows and isinstance(rows[0], dict) and "status" in rows[0]:
            if to_int(rows[0].get("status")) != 1:
                raise PanelRejected(rows[0].get("statusmsg") or "", function=function)
            return doc
    if "status" in doc and "statusmsg" in doc and to_int(doc.get("status")) != 1:
        msg = str(doc.get("statusmsg") or "")
        if msg.lower().startswith("access denied"):
            raise PanelAuthError(f"{function}: access denied", function=function)
        raise PanelRejected(msg, function=function)
    return doc


@dataclass(frozen=True)
class CreatedAccount:
    """Outcome of create_account. ``adopted``: the account already existed with our domain and
    owner (an earlier attempt that timed out had succeeded). Its password may then differ from
    the one just sent; call set_password if the caller needs to know it."""

    username: str
    domain: str
    plan: str
    ip: str | None
    adopted: bool


@dataclass(frozen=True)
class Usage:
    """Usage of one account, all in MiB; a limit of None means unlimited. Disk comes from
    listaccts (``diskused``/``disklimit``), bandwidth from showbw (bytes, converted) for the
    current month."""

    disk_used_mb: float
    disk_limit_mb: float | None
    bandwidth_used_mb: float
    bandwidth_limit_mb: float | None


@dataclass(frozen=True)
class Mailbox:
    """One row of Email::list_pops_with_disk. ``quota_mb`` None = unlimited; ``used_bytes`` is
    cPanel's exact ``_diskused``."""

    address: str
    local: str
    domain: str
    quota_mb: float | None
    used_bytes: int
    suspended_login: bool
    suspended_incoming: bool


def account_row(row: dict[str, Any]) -> dict[str, Any]:
    """A listaccts row, raw keys kept, plus coerced ``suspended``/``is_locked`` (bool) and
    ``disk_used_mb``/``disk_limit_mb`` (MiB, limit None = unlimited) (§7.19)."""
    acct = dict(row)
    acct["suspended"] = bool(to_int(row.get("suspended")))
    acct["is_locked"] = bool(to_int(row.get("is_locked")))
    acct["disk_used_mb"] = size_mb(row.get("diskused")) or 0.0
    acct["disk_limit_mb"] = limit_mb(row.get("disklimit"))
    return acct


def plan_row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": str(row.get("name", "")),
        "disk_mb": limit_mb(row.get("QUOTA")),
        "bandwidth_mb": limit_mb(row.get("BWLIMIT")),
        "max_mailboxes": to_int(row.get("MAXPOP")) or None,
        "max_mailbox_quota_mb": limit_mb(row.get("MAX_EMAILACCT_QUOTA")),
        "raw": dict(row),
    }


def mailbox_row(row: dict[str, Any]) -> Mailbox:
    address = str(row.get("email", "")).lower()
    local, _, domain = address.partition("@")
    return Mailbox(
        address=address,
        local=local,
        domain=domain,
        quota_mb=limit_mb(row.get("diskquota")),
        used_bytes=to_int(row.get("_diskused")),
        suspended_login=bool(to_int(row.get("suspended_login"))),
        suspended_incoming=bool(to_int(row.get("suspended_incoming"))),
    )
