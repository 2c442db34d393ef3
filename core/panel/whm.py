"""WHM API 1 / cPanel UAPI client on ``requests`` — the one adapter to the hosting panel.

Contract: ``cpanel-api.md`` (§2 envelopes, §3–4 calls; the transport, timeouts, retries and
ambiguous outcomes of §1 and §5 are ``core.panel.transport``). The rules that shape this module:

* Reads are retried and writes idempotent by value get one retry; any other write goes through
  the transport's reconciliation (read state, never repeat).
* "Already in the desired state" is success (account already suspended, already gone, ...).
* Error messages carry cPanel's reason but never a token or a password.

Units: disk and quotas in MiB (cPanel's "MB"), mailbox usage in bytes; None means unlimited.
"""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Callable, Iterable
from typing import Any

from core.panel.errors import (
    CreatedAccount,
    InvalidUsername,
    Mailbox,
    PanelAuthError,
    PanelBlocked,
    PanelError,
    PanelNotFound,
    PanelRejected,
    PanelUnavailable,
    Usage,
    account_row,
    mailbox_row,
    plan_row,
    to_int,
    validate_username,
)
from core.panel.transport import PanelTransport

__all__ = [
    "CreatedAccount",
    "InvalidUsername",
    "Mailbox",
    "PanelAuthError",
    "PanelBlocked",
    "PanelError",
    "PanelNotFound",
    "PanelRejected",
    "PanelUnavailable",
    "Usage",
    "WhmClient",
    "generate_password",
    "suggest_username",
    "validate_username",
]

LOGIN_SERVICES = ("cpaneld", "webmaild")
BYTES_PER_MB = 1024 * 1024
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}")


def suggest_username(domain: str, taken: Iterable[str]) -> str:
    """A valid username derived from ``domain`` whose first 8 characters are not in ``taken``.

    cPanel requires the first 8 characters to be unique server-wide (database prefixes), so
    suggestions are at most 8 characters and collisions get a numeric tail.
    """
    host = domain.strip().lower().rstrip(".").removeprefix("www.")
    stem = re.sub(r"[^a-z0-9]", "", host.split(".")[0]) or "cliente"
    if not stem[0].isalpha() or stem.startswith("test"):
        stem = "u" + stem
    prefixes = {t.strip().lower()[:8] for t in taken}
    for n in range(100_000):
        tail = str(n) if n else ""
        candidate = stem[: 8 - len(tail)] + tail
        if candidate not in prefixes:
            try:
                return validate_username(candidate)
            except InvalidUsername:
                continue  # e.g. "password" ends with "assword"; a digit tail fixes it
    raise RuntimeError("no free username")  # pragma: no cover - 100k collisions


def generate_password(length: int = 16) -> str:
    """A random password that passes cPanel's strength meter (all four classes, >= 12 chars).

    The required strength is a per-server setting (65, 80 and 100 were seen, §4.1); 16 mixed
    characters rate 100. Symbols avoid quotes, backslash, space and ``@``/``:`` so the password
    survives copy/paste, shells and ``user:pass`` strings.
    """
    if length < 12:
        raise ValueError("cPanel passwords should be at least 12 characters")
    pools = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#%*+-=?^_~")
    chars = [secrets.choice(pool) for pool in pools]
    chars += [secrets.choice("".join(pools)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _user(username: str) -> str:
    """An existing account's name for lookups: the server stores it lowercase."""
    name = (username or "").strip().lower()
    if not name:
        raise InvalidUsername("The username is empty.")
    return name


def _domain(domain: str) -> str:
    name = (domain or "").strip().lower().rstrip(".")
    if not _DOMAIN.fullmatch(name):
        raise ValueError(f"“{domain}” is not a valid domain name.")
    return name


def _local(email_local: str) -> str:
    local = (email_local or "").strip().lower().partition("@")[0]
    if not local:
        raise ValueError("The mailbox name is empty.")
    return local


class WhmClient(PanelTransport):
    """Client for one WHM server: the WHM API 1 and UAPI calls (accounts, plans, mailboxes)
    on the transport and retry policy of :class:`PanelTransport`, which takes the same
    arguments."""

    # ------------------------------------------------------------------ envelopes
    def _whm(
        self, function: str, params: dict[str, Any] | None = None, retries: int = 0
    ) -> dict[str, Any]:
        """Call a WHM API 1 function; returns its ``data`` object ({} when absent)."""
        path = f"/json-api/{function}"
        doc = self._attempts(lambda: self._post(path, function, params or {}), retries)
        if not isinstance(doc.get("metadata"), dict):
            raise PanelUnavailable(f"{function}: not a WHM API 1 answer", function=function)
        return doc["data"] if isinstance(doc.get("data"), dict) else {}

    def _uapi(self, username: str, func: str, params: dict[str, Any], retries: int = 0) -> Any:
        """Call UAPI Email::<func> as ``username`` through WHM's /json-api/cpanel proxy."""
        label = f"Email::{func}"
        form = {
            "cpanel_jsonapi_user": _user(username),  # capitals make the proxy refuse (§7.14)
            "cpanel_jsonapi_apiversion": "3",
            "cpanel_jsonapi_module": "Email",
            "cpanel_jsonapi_func": func,
            **params,
        }
        doc = self._attempts(lambda: self._post("/json-api/cpanel", label, form), retries)
        if not isinstance(doc.get("result"), dict):
            raise PanelUnavailable(f"{label}: not a UAPI answer", function=label)
        return doc["result"].get("data")

    def _lifecycle(self, function: str, params: dict[str, str], done: Callable[[], bool]) -> None:
        self._write(function, lambda: self._whm(function, params), done)

    # ----------------------------------------------------------------- accounts
    def create_account(
        self, username: str, domain: str, plan: str, password: str, contact_email: str | None = None
    ) -> CreatedAccount:
        username, domain = validate_username(username), _domain(domain)
        params = {
            "username": username,
            "domain": domain,
            "plan": plan,
            "password": password,
            "contactemail": contact_email,
            "showpass": "n",  # otherwise metadata.output.raw echoes the password (§7.17)
        }

        def ours() -> bool:
            acct = self.account(username)
            if acct is None:
                return False
            owner = acct.get("owner")
            if str(acct.get("domain", "")).lower() != domain or (owner and owner != self.user):
                msg = f"The username “{username}” is already used by another account."
                raise PanelRejected(msg, function="createacct")
            return True

        data = self._write("createacct", lambda: self._whm("createacct", params), ours)
        if data is None:  # adopted: read what the panel really has
            acct = self.account(username) or {}
            return CreatedAccount(username, domain, acct.get("plan") or plan, acct.get("ip"), True)
        return CreatedAccount(username, domain, data.get("package") or plan, data.get("ip"), False)

    def suspend(self, username: str, reason: str) -> None:
        user = _user(username)
        params = {"user": user, "reason": reason}
        self._lifecycle("suspendacct", params, lambda: self._state(user, "suspended") is True)

    def unsuspend(self, username: str) -> None:
        user = _user(username)
        self._lifecycle(
            "unsuspendacct", {"user": user}, lambda: self._state(user, "suspended") is False
        )

    def terminate(self, username: str) -> None:
        """removeacct; an account that is already gone counts as terminated."""
        user = _user(username)
        self._lifecycle("removeacct", {"username": user}, lambda: self.account(user) is None)

    def change_plan(self, username: str, plan: str) -> None:
        user = _user(username)
        params = {"user": user, "pkg": plan}
        self._lifecycle("changepackage", params, lambda: self._state(user, "plan") == plan)

    def set_quota(self, username: str, quota_mb: int | None) -> None:
        """editquota: the account's disk quota in MB (None = unlimited). A changepackage
        puts the package's quota back, so callers set it again after one. Idempotent by
        value, so one retry is safe (§5.4)."""
        if quota_mb is not None and (isinstance(quota_mb, bool) or quota_mb < 1):
            raise ValueError("a disk quota is a positive number of MB, or None for unlimited")
        quota = "unlimited" if quota_mb is None else str(int(quota_mb))
        self._whm("editquota", {"user": _user(username), "quota": quota}, retries=1)

    def package_quota(self, plan: str) -> int | None:
        """The disk quota (MB, None = unlimited) of package ``plan``, from listpkgs."""
        row = next((p for p in self.list_plans() if p["name"] == plan), None)
        if row is None:
            raise PanelNotFound(f"The package “{plan}” does not exist.", function="listpkgs")
        disk = row["disk_mb"]
        return None if disk is None else int(disk)

    def _state(self, user: str, key: str) -> Any:
        acct = self.account(user)
        return None if acct is None else acct.get(key)

    def set_password(self, username: str, password: str) -> None:
        # Idempotent by value, so one retry is safe (§5.4).
        self._whm("passwd", {"user": _user(username), "password": password}, retries=1)

    def account(self, username: str) -> dict[str, Any] | None:
        """The listaccts row (see cpanel_errors.account_row); None if absent or not ours."""
        user = _user(username)
        # searchmethod=exact: ``search`` is otherwise a regex and "bob" matches "bobby" (§7.13).
        params = {"searchtype": "user", "search": user, "searchmethod": "exact"}
        for row in self._whm("listaccts", params, self._reads).get("acct") or []:
            if isinstance(row, dict) and str(row.get("user", "")).lower() == user:
                return account_row(row)
        return None

    def list_accounts(self) -> list[dict[str, Any]]:
        rows = self._whm("listaccts", None, self._reads).get("acct") or []
        return [account_row(r) for r in rows if isinstance(r, dict)]

    def list_plans(self) -> list[dict[str, Any]]:
        """Packages as {name, disk_mb, bandwidth_mb, max_mailboxes, max_mailbox_quota_mb, raw};
        None means unlimited."""
        rows = self._whm("listpkgs", None, self._reads).get("pkg") or []
        return [plan_row(r) for r in rows if isinstance(r, dict)]

    def login_url(self, username: str, service: str = "cpaneld") -> str:
        """A single-use SSO link (create_user_session). Generate at click time; never store."""
        if service not in LOGIN_SERVICES:
            raise ValueError(f"service must be one of {LOGIN_SERVICES}")
        params = {"user": _user(username), "service": service}
        url = self._whm("create_user_session", params, self._reads).get("url")
        if not isinstance(url, str) or not url:
            raise PanelUnavailable("create_user_session: no url", function="create_user_session")
        return url

    def usage(self, username: str) -> Usage:
        user = _user(username)
        acct = self.account(user)
        if acct is None:
            raise PanelNotFound(f"The account “{user}” does not exist.", function="listaccts")
        params = {"searchtype": "user", "search": user, "searchmethod": "exact"}
        rows = self._whm("showbw", params, self._reads).get("acct") or []
        bw = next((r for r in rows if isinstance(r, dict) and r.get("user") == user), {})
        limit = to_int(bw.get("limit"))  # bytes; 0 = unlimited
        return Usage(
            disk_used_mb=acct["disk_used_mb"],
            disk_limit_mb=acct["disk_limit_mb"],
            bandwidth_used_mb=to_int(bw.get("totalbytes")) / BYTES_PER_MB,
            bandwidth_limit_mb=limit / BYTES_PER_MB if limit else None,
        )

    # ---------------------------------------------------------------- mailboxes
    def list_mailboxes(self, username: str, domain: str | None = None) -> list[Mailbox]:
        params = {"domain": _domain(domain)} if domain else {}
        rows = self._uapi(username, "list_pops_with_disk", params, self._reads) or []
        # The account's system mailbox ("Main Account") is not one we created (§7.20).
        return [
            mailbox_row(r)
            for r in rows
            if isinstance(r, dict)
            and "@" in str(r.get("email"))
            and r.get("login") != "Main Account"
        ]

    def _mailbox_exists(self, username: str, local: str, domain: str) -> bool:
        params = {"domain": domain, "email": local}
        rows = self._uapi(username, "list_pops_with_disk", params, self._reads) or []
        return any(str(r.get("email", "")).lower() == f"{local}@{domain}" for r in rows)

    def add_mailbox(
        self, username: str, email_local: str, domain: str, password: str, quota_mb: int | None
    ) -> str:
        """Create ``local@domain`` (quota in MB, None/0 = unlimited); returns the address.

        A duplicate is a PanelRejected ("The account x@y already exists!"): it may be the
        customer's mailbox, so its password is never overwritten. Only after an ambiguous
        failure do we look, and converge password and quota on the mailbox we just created.
        """
        local, dom = _local(email_local), _domain(domain)
        params = {"email": local, "domain": dom, "password": password, "quota": quota_mb or 0}
        try:
            self._uapi(username, "add_pop", params)
        except PanelUnavailable as exc:
            exists = lambda: self._mailbox_exists(username, local, dom)  # noqa: E731
            if not exc.ambiguous or not self._settle(exists, self._reconcile_wait):
                raise
            self.set_mailbox_password(username, local, dom, password)
            self.set_mailbox_quota(username, local, dom, quota_mb)
        return f"{local}@{dom}"

    def set_mailbox_password(
        self, username: str, email_local: str, domain: str, password: str
    ) -> None:
        params = {"email": _local(email_local), "domain": _domain(domain), "password": password}
        self._uapi(username, "passwd_pop", params, retries=1)  # idempotent by value

    def set_mailbox_quota(
        self, username: str, email_local: str, domain: str, quota_mb: int | None
    ) -> None:
        """Quota in MB, None/0 = unlimited. cPanel clamps values above the account maximum."""
        params = {"email": _local(email_local), "domain": _domain(domain), "quota": quota_mb or 0}
        self._uapi(username, "edit_pop_quota", params, retries=1)  # idempotent by value

    def delete_mailbox(self, username: str, email_local: str, domain: str) -> None:
        """delete_pop; a mailbox that is already gone counts as deleted."""
        local, dom = _local(email_local), _domain(domain)
        self._write(
            "Email::delete_pop",
            lambda: self._uapi(username, "delete_pop", {"email": local, "domain": dom}),
            lambda: not self._mailbox_exists(username, local, dom),
        )
