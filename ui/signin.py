"""The sign-in gate around streamlit-authenticator (streamlit-notes §1.8, P1–P8).

Kept fast on purpose: everything before ``st.navigation`` runs on every rerun, and a slow
first run makes reloads and deep links land on the default page (P1).
"""

from __future__ import annotations

import jwt
import streamlit as st
import streamlit_authenticator as stauth
from streamlit_authenticator.utilities.exceptions import LoginError

from core import accounts
from core.clock import now
from core.config import Settings
from core.db import read_session, unit_of_work
from ui.context import ACTOR_KEY, tr

AUTH_AT = "anfitrion_signed_in_at"


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
        auth.logout(location="unrendered")
    for key in (ACTOR_KEY, AUTH_AT, "authentication_status", "username"):
        st.session_state.pop(key, None)
    st.session_state["logout"] = True  # the library must not re-login from a stale cookie
    if message_key:
        st.session_state["anfitrion_notice"] = message_key


def gate(settings: Settings):
    """Return the signed-in Actor, or render the sign-in form and return None."""
    at = now()
    state = st.session_state
    signed_in_as = state.get("username") if state.get("authentication_status") else None
    cookie = None
    if signed_in_as is None and not state.get("logout"):
        cookie = _cookie_token(settings)
        if cookie is not None:
            issued = accounts.cookie_issued_at(cookie["exp_date"], settings.cookie_expiry_days)
            with read_session() as session:
                if accounts.check_session(session, cookie["username"], issued).actor is None:
                    cookie = None
                    state["logout"] = True  # a cookie from before sign-out: refused

    only = signed_in_as or (cookie["username"] if cookie else None)
    with read_session() as session:
        creds = accounts.credentials(session, at, only=only)
    before = {u: e["failed_login_attempts"] for u, e in creds["usernames"].items()}
    auth = stauth.Authenticate(
        creds,
        settings.cookie_name,
        settings.cookie_key,
        settings.cookie_expiry_days,
        auto_hash=False,
        login_sleep_time=0,
    )
    if signed_in_as is None:
        notice = state.pop("anfitrion_notice", None)
        if notice:
            st.info(tr(notice))
        fields = {
            "Form name": tr("signin.title"),
            "Username": tr("signin.email"),
            "Password": tr("signin.password"),
            "Login": tr("signin.submit"),
        }
        try:
            auth.login(location="main", fields=fields, max_login_attempts=accounts.LOCK_AFTER)
        except LoginError:
            st.error(tr("signin.locked", minutes=int(accounts.LOCK_FOR.total_seconds() // 60)))
            return None
        _write_back(creds, before, at, cookie, settings.cookie_expiry_days)
        if not state.get("authentication_status"):
            if state.get("authentication_status") is False:
                st.error(tr("signin.wrong"))
            return None

    email = state.get("username")
    signed_in_at = state.get(AUTH_AT)
    if signed_in_at is None:
        _end_session(auth, None)
        st.rerun()
    with read_session() as session:
        check = accounts.check_session(session, email, signed_in_at)
    if check.actor is None:
        _end_session(auth, "signin.session_ended")
        st.rerun()
    state[ACTOR_KEY] = check.actor
    state["anfitrion_auth"] = auth
    return check.actor


def _write_back(creds: dict, before: dict, at, cookie: dict | None, expiry_days: int) -> None:
    """Persist what the library changed silently: failure counters and the sign-in itself."""
    state = st.session_state
    users = creds["usernames"]
    if state.get("authentication_status"):
        email = state["username"]
        if cookie is not None and cookie["username"] == email:
            # Re-signed in from a cookie: the session began when the cookie was issued.
            state[AUTH_AT] = accounts.cookie_issued_at(cookie["exp_date"], expiry_days)
            return
        with unit_of_work() as session:
            accounts.record_sign_in_attempt(session, email, success=True, attempts_seen=0, at=at)
        state[AUTH_AT] = at
        return
    changed = [u for u, e in users.items() if e["failed_login_attempts"] != before.get(u)]
    if changed:
        with unit_of_work() as session:
            for email in changed:
                accounts.record_sign_in_attempt(
                    session,
                    email,
                    success=False,
                    attempts_seen=users[email]["failed_login_attempts"],
                    at=at,
                )


def sign_out(auth: stauth.Authenticate, actor, notice: str = "signin.signed_out") -> None:
    """One click: revoke every cookie of this user, clear the session, back to the form."""
    accounts.sign_out(actor, now())
    _end_session(auth, notice)
    st.rerun()
