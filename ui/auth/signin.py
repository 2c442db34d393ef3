"""The sign-in gate around streamlit-authenticator (streamlit-notes §1.8, P1–P8).

Kept fast on purpose: everything before ``st.navigation`` runs on every rerun, and a slow
first run makes reloads and deep links land on the default page (P1).
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from core import accounts
from core.accounts import throttle, twofactor
from core.platform import i18n
from core.platform.clock import now
from core.platform.config import Settings, get_settings
from core.platform.db import read_session, unit_of_work
from core.platform.errors import DomainError
from ui.auth.public import (
    LANDING,
    end_landing,
    forgot_form,
    handle_verify_link,
    register_form,
    reset_form,
    show_landing,
)
from ui.kit.context import ACTOR_KEY, lang, tr

AUTH_AT = "anfitrion_signed_in_at"
COOKIE_EXP = "anfitrion_cookie_exp"  # expiry of this session's auth cookie (binds the 2FA mark)
TWO_FA_OK = "anfitrion_2fa_ok"
TWO_FA_COOKIE = "anfitrion_2fa"
NEEDS_2FA_SETUP = "anfitrion_needs_2fa_setup"
VERIFIED = "anfitrion_verified"
# The client account a person invited into several chose to act for (the sidebar's selector).
ACTING_FOR = "anfitrion_acting_for"


def _library_check(_cls, password: str, hashed: str) -> bool:
    return accounts.verify_password(password, hashed)


# The library checks the password itself (its login calls ``Hasher.check_pw``, a plain
# bcrypt.checkpw); routed through ours, the check waits for one of the cores' bcrypt slots
# as every other check does (core.accounts.verify_password), and a hash bcrypt refuses is
# a wrong password rather than the library's print.
stauth.Hasher.check_pw = classmethod(_library_check)  # type: ignore[method-assign,assignment]


def _cookie_token(settings: Settings) -> dict | None:
    """The auth cookie's claims when it is present and correctly signed."""
    try:
        raw = st.context.cookies.get(settings.cookie_name)
    except Exception:  # noqa: BLE001 - no browser context (AppTest, scripts)
        return None
    if not isinstance(raw, str) or not raw:
        return None
    try:
        claims = jwt.decode(raw, settings.cookie_key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    if not isinstance(claims.get("username"), str) or "exp_date" not in claims:
        return None
    return claims


def _end_session(auth: stauth.Authenticate | None, message_key: str | None) -> None:
    if auth is not None and st.session_state.get("authentication_status"):
        # The cookie component learns the browser's cookies one run late, so on this run it
        # may not list the auth cookie; its delete() then prints the KeyError
        # ("'anfitrion_auth'") into the server log. It is there to delete: tell it so.
        model = auth.cookie_controller.cookie_model
        cookies = dict(model.cookie_manager.cookies or {})
        cookies.setdefault(model.cookie_name, "")
        model.cookie_manager.cookies = cookies
        auth.logout(location="unrendered")
    for key in (
        ACTOR_KEY,
        AUTH_AT,
        COOKIE_EXP,
        TWO_FA_OK,
        ACTING_FOR,
        "authentication_status",
        "username",
    ):
        st.session_state.pop(key, None)
    st.session_state["logout"] = True  # the library must not re-login from a stale cookie
    if message_key:
        st.session_state["anfitrion_notice"] = message_key


def gate(settings: Settings):
    """Return the signed-in Actor, or render the sign-in form and return None."""
    at = now()
    state = st.session_state
    handle_verify_link()
    signed_in_as = state.get("username") if state.get("authentication_status") else None
    if signed_in_as is None and st.query_params.get("reset"):
        reset_form(st.query_params["reset"])
        return None
    cookie = None
    if signed_in_as is None and not state.get("logout"):
        cookie = _cookie_token(settings)
        if cookie is not None:
            issued = accounts.cookie_issued_at(cookie["exp_date"], settings.cookie_expiry_days)
            with read_session() as session:
                if accounts.check_session(session, cookie["username"], issued).actor is None:
                    cookie = None
                    state["logout"] = True  # a cookie from before sign-out: refused

    # A signed-in session's reruns (every page switch) build no authenticator: its cookie
    # component is an iframe the browser redraws on every run (~25 ms of a page switch's
    # ~200 ms in Chromium, bench --load), and it costs a read of the credentials. It is
    # built when the library acts: signing in, the second factor, signing out.
    auth = creds = None
    if signed_in_as is None:
        auth, creds = _authenticator(settings, at)
    else:
        # Holds the component's place: everything below keeps the position it had in the
        # sign-in run, so the browser replaces it instead of showing both for a moment.
        st.empty()
    # The code form of a second factor goes above the sign-in form when the password was
    # accepted in this very run: rerunning instead would lose the cookie being set (P5).
    top = st.container()
    if signed_in_as is None:
        notice = state.pop("anfitrion_notice", None)
        # In a slot: the run in which the sign-in succeeds empties it again.
        landing_slot = st.empty()
        if state.get(LANDING):
            with landing_slot.container():
                show_landing()  # it says why the session ended, if it did
        elif notice:
            landing_slot.info(tr(notice))
        fields = {
            "Form name": tr("signin.title"),
            "Username": tr("signin.email"),
            "Password": tr("signin.password"),
            "Login": tr("signin.submit"),
        }
        try:
            auth.login(location="main", fields=fields)
        except LoginError:  # the library's own refusals (a blank field, say)
            state["authentication_status"] = False
        wait = _write_back(creds, at, cookie, settings.cookie_expiry_days)
        if not state.get("authentication_status"):
            # The same words for an address with an account and one without.
            if wait:
                st.error(tr("signin.wait", seconds=wait))
            elif state.get("authentication_status") is False:
                st.error(tr("signin.wrong"))
            forgot_form()
            register_form()
            return None
        landing_slot.empty()
        state[COOKIE_EXP] = (
            cookie["exp_date"] if cookie else auth.cookie_controller.cookie_model.exp_date
        )

    email = state.get("username")
    signed_in_at = state.get(AUTH_AT)
    if signed_in_at is None:
        _end_session(auth or _authenticator(settings, at)[0], None)
        st.rerun()
    with read_session() as session:
        check = accounts.check_session(session, email, signed_in_at, state.get(ACTING_FOR))
    if check.actor is None:
        _end_session(auth or _authenticator(settings, at)[0], "signin.session_ended")
        st.rerun()
    if check.totp_enabled and not state.get(TWO_FA_OK):
        if _trusted_device(settings, email, state.get(COOKIE_EXP)):
            state[TWO_FA_OK] = True
        else:
            auth = auth or _authenticator(settings, at)[0]
            if not _second_factor(settings, auth, check.actor, email, at, top):
                return None
    state[NEEDS_2FA_SETUP] = not check.totp_enabled and twofactor.required_for(check.actor.role)
    state[VERIFIED] = check.verified
    state[ACTOR_KEY] = check.actor
    return check.actor


class _UsersOnDemand(dict):
    """The library's ``credentials["usernames"]``, read one address at a time as the
    library asks for it (it only ever looks up the address typed, or the cookie's).

    Why: handing it every user would read the whole book's password hashes on each
    signed-out rerun (thousands of users at a real host). ``typed`` is the last address
    asked for, known or not, so a failure can be counted against it; ``waiting`` holds the
    seconds an address still had to wait when asked (its entry is withheld, so the library
    refuses even the right password without checking it).
    """

    def __init__(self, at) -> None:
        super().__init__()
        self._at = at
        self._asked: set[str] = set()
        self.typed: str | None = None
        self.waiting: dict[str, int] = {}

    def _read(self, email: object) -> None:
        if not isinstance(email, str):
            return
        self.typed = email
        if email in self._asked:
            return
        self._asked.add(email)
        with read_session() as session:
            wait = throttle.wait_seconds(session, email, self._at)
            entry = None if wait else accounts.sign_in_entry(session, email, self._at)
        if wait:
            self.waiting[email] = wait
        if entry is not None and entry["email"] == email:
            dict.__setitem__(self, email, entry)

    def __contains__(self, email: object) -> bool:
        self._read(email)
        return dict.__contains__(self, email)

    def __getitem__(self, email: str) -> dict:
        self._read(email)
        return dict.__getitem__(self, email)

    def get(self, email: str, default=None):
        self._read(email)
        return dict.get(self, email, default)


def _authenticator(settings: Settings, at) -> tuple[stauth.Authenticate, dict]:
    """The library's authenticator over our credentials, and those credentials, whose
    failure counters it changes silently. At most one per run (streamlit-notes P2: its
    cookie component has a fixed key)."""
    creds: dict = {"usernames": {}}
    auth = stauth.Authenticate(
        creds,
        settings.cookie_name,
        settings.cookie_key,
        settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )
    # The library keeps this very dict (it does not copy it); swapped in after its
    # constructor, which would otherwise rebuild the mapping as a plain dict.
    creds["usernames"] = _UsersOnDemand(at)
    return auth, creds


def _two_fa_mark(settings: Settings, email: str, cookie_exp) -> str:
    """Binds "this browser passed 2FA" to one auth cookie: a new sign-in needs a new code."""
    message = f"{email}|{cookie_exp}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _trusted_device(settings: Settings, email: str, cookie_exp) -> bool:
    if cookie_exp is None:
        return False
    try:
        mark = st.context.cookies.get(TWO_FA_COOKIE)
    except Exception:  # noqa: BLE001 - no browser context (AppTest)
        return False
    expected = _two_fa_mark(settings, email, cookie_exp)
    return isinstance(mark, str) and hmac.compare_digest(mark, expected)


def _second_factor(settings: Settings, auth, actor, email: str, at, where) -> bool:
    """Ask for the TOTP (or a recovery) code; True once it is right."""
    where.title(tr("2fa.title"))
    where.caption(tr("2fa.prompt"))
    with where.form("two_factor", clear_on_submit=True):
        code = st.text_input(tr("2fa.code"), max_chars=20)
        submitted = st.form_submit_button(tr("2fa.submit"))
    if not submitted:
        return False
    try:
        passed = twofactor.check(actor.user_id, code, at)
    except DomainError as exc:  # the address must wait: too many wrong codes or passwords
        where.error(i18n.error_text(exc, lang()))
        return False
    if not passed:
        with read_session() as session:
            wait = throttle.wait_seconds(session, email, at)
        where.error(tr("signin.wait", seconds=wait) if wait else tr("error.2fa_code_wrong"))
        return False
    st.session_state[TWO_FA_OK] = True
    cookie_exp = st.session_state.get(COOKIE_EXP)
    if cookie_exp is not None:
        auth.cookie_controller.cookie_model.cookie_manager.set(
            TWO_FA_COOKIE,
            _two_fa_mark(settings, email, cookie_exp),
            expires_at=datetime.fromtimestamp(cookie_exp, UTC).replace(tzinfo=None),
            key="anfitrion_2fa_set",
        )
    return True


def _write_back(creds: dict, at, cookie: dict | None, expiry_days: int) -> int:
    """Persist what the library decided: the sign-in itself, or a failure counted against
    the typed address (known or not). Returns the seconds that address must now wait."""
    state = st.session_state
    users = creds["usernames"]
    if state.get("authentication_status"):
        email = state["username"]
        if cookie is not None and cookie["username"] == email:
            # Re-signed in from a cookie: the session began when the cookie was issued.
            state[AUTH_AT] = accounts.cookie_issued_at(cookie["exp_date"], expiry_days)
            return 0
        with unit_of_work() as session:
            accounts.record_sign_in(session, email, at=at)
        state[AUTH_AT] = at
        end_landing()
        return 0
    typed = users.typed
    if state.get("authentication_status") is not False or typed is None:
        return 0
    if typed in users.waiting:  # refused unread: the attempt does not lengthen the wait
        return users.waiting[typed]
    with unit_of_work() as session:
        return accounts.record_sign_in_failure(session, typed, at)


def sign_out(actor, notice: str = "signin.signed_out") -> None:
    """One click: revoke every cookie of this user, clear the session, back to the form."""
    accounts.sign_out(actor, now())
    _end_session(_authenticator(get_settings(), now())[0], notice)
    st.rerun()
