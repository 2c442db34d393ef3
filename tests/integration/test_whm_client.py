"""core.panel.whm.WhmClient against the faithful fake WHM server (cpanel-api.md §5–§6).

A real HTTP server on loopback, no mocks: what the client sends is read back from the server's
request log, and faults are injected on the server side. Timeouts and backoff are shrunk so
every test stays well under two seconds.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core.panel.errors import classify_response, clean_reason, size_mb, to_int
from core.panel.whm import (
    InvalidUsername,
    PanelAuthError,
    PanelBlocked,
    PanelNotFound,
    PanelRejected,
    PanelUnavailable,
    WhmClient,
    generate_password,
    suggest_username,
    validate_username,
)
from sandbox.whm_server import FakeWhm, _token_from_file, password_strength

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Kx7#pQ2!vR9zLm4w"  # strong enough for the fake's meter (rating 100)


@pytest.fixture(scope="module")
def server() -> Iterator[FakeWhm]:
    with FakeWhm() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeWhm) -> FakeWhm:
    server.reset()
    server.auth_status, server.cphulk_threshold = 401, None
    server.content_type, server.min_strength = "application/json", 65
    return server


def make_client(fake: FakeWhm, token: str | None = None, **kw) -> WhmClient:
    opts = {"timeout": 0.4, "backoff": (0.01, 0.01, 0.01), "reconcile_wait": 0.4, **kw}
    return WhmClient(fake.url, "root", fake.token if token is None else token, **opts)


@pytest.fixture
def client(fake: FakeWhm) -> Iterator[WhmClient]:
    with make_client(fake) as c:
        yield c


def calls(fake: FakeWhm, function: str) -> list[dict]:
    return [e for e in fake.log if e["function"] == function]


# --------------------------------------------------------------------------- transport


def test_every_call_is_a_v1_post_with_secrets_only_in_the_body(fake, client):
    client.create_account("alice", "alice.example", "basico", PASSWORD, "a@alice.example")
    client.set_password("alice", PASSWORD + "x")
    client.add_mailbox("alice", "info", "alice.example", PASSWORD, 250)
    client.set_mailbox_password("alice", "info", "alice.example", PASSWORD + "y")
    client.login_url("alice")
    client.usage("alice")
    client.list_mailboxes("alice")
    assert len(fake.log) >= 8
    for entry in fake.log:
        assert entry["method"] == "POST"
        assert entry["api_version"] == "1"
        assert entry["auth_scheme"] == "whm" and entry["auth_user"] == "root"
        assert entry["query_keys"] == [] and entry["query"] == ""
        assert not entry["secret_in_url"] and not entry["json_body"]
    assert "password" in calls(fake, "createacct")[0]["body_keys"]
    assert calls(fake, "createacct")[0]["params"]["showpass"] == "n"


def test_request_log_redacts_passwords_and_token(fake, client):
    client.create_account("alice", "alice.example", "basico", PASSWORD)
    client.add_mailbox("alice", "ventas", "alice.example", PASSWORD + "m", 100)
    dumped = json.dumps(fake.log, ensure_ascii=False)
    assert PASSWORD not in dumped and fake.token not in dumped
    assert calls(fake, "createacct")[0]["params"]["password"] == "***"
    assert calls(fake, "Email::add_pop")[0]["params"]["password"] == "***"


def test_fake_flags_a_secret_sent_in_the_url(fake):
    url = f"{fake.url}/cpsess0123456789/json-api/passwd?api.version=1&user=x&password=Zz9!longpw"
    requests.post(url, headers={"Authorization": f"whm root:{fake.token}"}, timeout=2)
    entry = fake.log[-1]
    assert entry["secret_in_url"] and entry["function"] == "passwd"
    assert "Zz9!longpw" not in json.dumps(fake.log)


def test_wrong_token_is_an_auth_error_and_never_retried(fake):
    with make_client(fake, token="WRONG") as bad, pytest.raises(PanelAuthError) as err:
        bad.list_accounts()
    assert len(fake.log) == 1 and fake.log[0]["status"] == 401
    assert "WRONG" not in str(err.value)


def test_403_is_an_auth_error_too(fake):
    fake.auth_status = 403
    with make_client(fake, token="WRONG") as bad, pytest.raises(PanelAuthError):
        bad.create_account("alice", "alice.example", "basico", PASSWORD)
    assert len(fake.log) == 1 and not fake.accounts


def test_cphulk_block_is_reported_and_not_retried(fake, client):
    fake.cphulk_threshold = 2
    with make_client(fake, token="WRONG") as bad:
        for _ in range(2):
            with pytest.raises(PanelAuthError):
                bad.list_accounts()
    with pytest.raises(PanelBlocked):  # even the right token is blocked now
        client.list_accounts()
    assert len(fake.log) == 3


def test_token_acl_gives_permission_denied(fake):
    token = fake.add_token("root", acl=["listaccts"])
    with make_client(fake, token=token) as limited:
        assert limited.list_accounts() == []
        with pytest.raises(PanelRejected) as err:
            limited.create_account("alice", "alice.example", "basico", PASSWORD)
    assert err.value.reason == "Permission denied"


def test_reseller_sees_only_its_own_accounts(fake, client):
    fake.add_account("alice", "alice.example")
    fake.add_package("res1_small", quota=500, maxpop=2)
    token = fake.add_token("res1")
    with WhmClient(fake.url, "res1", token, timeout=0.4, backoff=(0.01,)) as reseller:
        assert reseller.list_accounts() == [] and reseller.account("alice") is None
        assert [p["name"] for p in reseller.list_plans()] == ["res1_small"]
        created = reseller.create_account("bob", "bob.example", "res1_small", PASSWORD)
        assert created.adopted is False and fake.accounts["bob"]["owner"] == "res1"
    assert {a["user"] for a in client.list_accounts()} == {"alice", "bob"}


def test_read_hitting_500_once_is_retried(fake, client):
    fake.add_account("alice", "alice.example")
    fake.inject("listaccts", "http500")
    assert [a["user"] for a in client.list_accounts()] == ["alice"]
    assert [e["status"] for e in calls(fake, "listaccts")] == [500, 200]


def test_read_timeout_is_retried(fake, client):
    fake.inject("listpkgs", "hang", seconds=1)
    assert "basico" in {p["name"] for p in client.list_plans()}
    assert len(calls(fake, "listpkgs")) == 2


def test_read_gives_up_after_three_retries(fake, client):
    fake.inject("listaccts", "html", times=None)
    with pytest.raises(PanelUnavailable, match="non-JSON"):
        client.list_accounts()
    assert len(calls(fake, "listaccts")) == 4


def test_write_hitting_500_is_not_retried(fake, client):
    fake.inject("createacct", "http500")
    with pytest.raises(PanelUnavailable, match="could not be confirmed"):
        client.create_account("alice", "alice.example", "basico", PASSWORD)
    assert len(calls(fake, "createacct")) == 1 and not fake.accounts


def test_html_body_is_unavailable(fake, client):
    fake.inject("showbw", "html")
    fake.add_account("alice", "alice.example")
    assert client.usage("alice").bandwidth_used_mb > 0  # read: retried past the HTML page
    fake.inject("passwd", "html", times=2)
    with pytest.raises(PanelUnavailable, match="non-JSON"):
        client.set_password("alice", PASSWORD)
    assert len(calls(fake, "passwd")) == 2  # idempotent by value: exactly one retry


def test_meta_refresh_page_points_to_https(fake, client):
    fake.inject("listaccts", "meta_refresh", times=None)
    with pytest.raises(PanelUnavailable, match="https://"):
        client.list_accounts()


def test_string_numbers_and_text_plain_are_understood(fake, client):
    fake.add_account("alice", "alice.example", suspended=True, reason="impago")
    fake.inject("listaccts", "string_numbers")
    acct = client.account("alice")
    assert acct["suspended"] is True and acct["is_locked"] is False
    fake.inject("unsuspendacct", "string_numbers")
    fake.inject("listaccts", "text_plain")
    client.unsuspend("alice")
    assert client.account("alice")["suspended"] is False
    assert fake.log[-1]["fault"] == "text_plain"


def test_connection_refused_is_unavailable_and_not_ambiguous():
    c = WhmClient("http://127.0.0.1:1", "root", "T0KEN", timeout=0.3, backoff=(0.01,))
    with c, pytest.raises(PanelUnavailable) as err:
        c.create_account("alice", "alice.example", "basico", PASSWORD)
    assert err.value.ambiguous is False and "T0KEN" not in str(err.value)


def test_tls_with_self_signed_certificate():
    with FakeWhm(tls=True) as fake:
        with WhmClient(fake.url, "root", fake.token, verify=fake.cert_path, timeout=2) as ok:
            assert ok.list_accounts() == []
        strict = WhmClient(fake.url, "root", fake.token, timeout=2, backoff=())
        with strict, pytest.raises(PanelUnavailable) as err:
            strict.list_accounts()
        assert err.value.ambiguous is False


# --------------------------------------------------------------------------- rejections


def test_result_zero_raises_rejected_with_reason_xid_stripped(fake, client):
    fake.inject("listaccts", "reject", reason="Database is locked (XID 9x8y7z)")
    with pytest.raises(PanelRejected) as err:
        client.list_accounts()
    assert err.value.reason == "Database is locked"
    assert len(calls(fake, "listaccts")) == 1  # a rejection is an answer, not retried


def test_unknown_plan_reason_is_cpanels_text_without_perl_location(fake, client):
    with pytest.raises(PanelRejected) as err:
        client.create_account("alice", "alice.example", "nope", PASSWORD)
    assert err.value.reason == 'Sorry, "nope" is not a valid pacakge name.'


def test_weak_password_is_rejected_with_the_strength_text(fake, client):
    with pytest.raises(PanelRejected, match="strength rating of 65 or higher") as err:
        client.create_account("alice", "alice.example", "basico", "password1")
    assert "password1" not in str(err.value) and not fake.accounts


def test_duplicate_mailbox_is_rejected_with_a_clear_reason(fake, client):
    fake.add_account("alice", "alice.example")
    client.add_mailbox("alice", "info", "alice.example", PASSWORD, 100)
    with pytest.raises(PanelRejected) as err:
        client.add_mailbox("alice", "info", "alice.example", PASSWORD, 100)
    assert err.value.reason == "The account info@alice.example already exists!"


def test_uapi_status_zero_is_rejected_and_xid_is_stripped(fake, client):
    fake.add_account("alice", "alice.example")
    fake.inject("passwd_pop", "xid")
    with pytest.raises(PanelRejected) as err:
        client.set_mailbox_password("alice", "nadie", "alice.example", PASSWORD)
    assert err.value.reason == "You do not have an email account named “nadie@alice.example”."
    with pytest.raises(PanelRejected, match="You do not own the domain “other.example”"):
        client.add_mailbox("alice", "info", "other.example", PASSWORD, 100)


def test_unknown_proxy_user_is_rejected(fake, client):
    with pytest.raises(PanelRejected) as err:
        client.list_mailboxes("ghost")
    assert err.value.reason == "User parameter is invalid or was not supplied"


# --------------------------------------------------------------------- ambiguous outcomes


@pytest.mark.parametrize("fault", ["timeout_after_commit", "drop_after_commit"])
def test_createacct_lost_answer_is_adopted_not_repeated(fake, client, fault):
    fake.inject("createacct", fault, seconds=3)
    created = client.create_account("alice", "alice.example", "estandar", PASSWORD)
    assert created.adopted is True and created.plan == "estandar"
    assert list(fake.accounts) == ["alice"]
    assert len(calls(fake, "createacct")) == 1


def test_createacct_already_done_by_an_earlier_attempt_is_adopted(fake, client):
    fake.add_account("alice", "alice.example", "basico")
    created = client.create_account("alice", "alice.example", "basico", PASSWORD)
    assert created.adopted is True and created.ip == "192.0.2.10"


def test_createacct_username_taken_by_someone_else_is_a_conflict(fake, client):
    fake.add_account("alice", "other.example")
    with pytest.raises(PanelRejected, match="already used by another account"):
        client.create_account("alice", "alice.example", "basico", PASSWORD)
    fake.add_account("bobbybob", "bob.example")  # first 8 characters must be unique
    with pytest.raises(PanelRejected, match="a group for that username already exists"):
        client.create_account("bobbybob2", "bob2.example", "basico", PASSWORD)


def test_already_suspended_counts_as_success(fake, client):
    fake.add_account("alice", "alice.example")
    client.suspend("alice", "Factura vencida")
    client.suspend("alice", "Factura vencida")
    fake.inject("suspendacct", "reject", reason="Account already suspended")
    client.suspend("alice", "Factura vencida")
    assert fake.accounts["alice"]["suspended"] is True
    assert fake.accounts["alice"]["suspendreason"] == "Factura vencida"
    with pytest.raises(PanelRejected, match="does not exist"):
        client.suspend("ghost", "x")


def test_unsuspend_of_an_active_account_is_success(fake, client):
    fake.add_account("alice", "alice.example")
    fake.inject("unsuspendacct", "reject", reason="Account is not suspended")
    client.unsuspend("alice")
    fake.inject("unsuspendacct", "timeout_after_commit", seconds=2)
    client.unsuspend("alice")
    assert len(calls(fake, "unsuspendacct")) == 2


def test_terminate_of_an_absent_account_is_success(fake, client):
    client.terminate("ghost")
    fake.add_account("alice", "alice.example")
    fake.inject("removeacct", "drop_after_commit")
    client.terminate("alice")
    assert fake.accounts == {} and len(calls(fake, "removeacct")) == 2


def test_change_plan_reconciles_by_reading_the_plan(fake, client):
    fake.add_account("alice", "alice.example", "basico")
    fake.inject("changepackage", "timeout_after_commit", seconds=2)
    client.change_plan("alice", "premium")
    assert fake.accounts["alice"]["plan"] == "premium"
    with pytest.raises(PanelRejected, match="Specified package does not exist"):
        client.change_plan("alice", "nope")


def test_add_mailbox_lost_answer_converges_instead_of_repeating(fake, client):
    fake.add_account("alice", "alice.example")
    fake.inject("add_pop", "timeout_after_commit", seconds=2)
    assert (
        client.add_mailbox("alice", "Info", "alice.example", PASSWORD, 300) == "info@alice.example"
    )
    assert len(calls(fake, "Email::add_pop")) == 1
    assert len(calls(fake, "Email::passwd_pop")) == 1
    assert fake.accounts["alice"]["mailboxes"]["info@alice.example"]["quota_mb"] == 300


def test_delete_of_an_absent_mailbox_is_success(fake, client):
    fake.add_account("alice", "alice.example")
    fake.add_mailbox("alice", "info")
    fake.inject("delete_pop", "empty_messages")
    client.delete_mailbox("alice", "info", "alice.example")
    client.delete_mailbox("alice", "info", "alice.example")
    assert fake.accounts["alice"]["mailboxes"] == {}


# ----------------------------------------------------------------------- shapes and rules


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "empty"),
        ("Alice", "lowercase"),
        ("a" * 17, "longer than 16"),
        ("al-ice", "a–z"),
        ("1alice", "start with a letter"),
        ("testuser", "“test”"),
        ("mypassword", "“assword”"),
        ("root", "reserved"),
    ],
)
def test_usernames_are_validated_before_any_request(fake, client, name, problem):
    with pytest.raises(InvalidUsername, match=problem):
        client.create_account(name, "alice.example", "basico", PASSWORD)
    assert fake.log == []


def test_username_helpers():
    assert validate_username("alice2024") == "alice2024"
    assert suggest_username("www.Mi-Tienda.com.ec", set()) == "mitienda"
    assert suggest_username("mitienda.ec", {"mitienda"}) == "mitiend1"
    assert suggest_username("mitiendaonline.ec", {"mitiendafoo"}) == "mitiend1"
    assert suggest_username("123hosting.com", set()) == "u123host"
    assert suggest_username("testing.com", set()) == "utesting"
    assert suggest_username("password.org", set()) == "passwor1"
    for _ in range(20):
        pw = generate_password()
        assert len(pw) == 16 and password_strength(pw) >= 80
        assert re.search(r"[a-z]", pw) and re.search(r"[A-Z]", pw) and re.search(r"\d", pw)


def test_account_list_plans_usage_and_login_url_shapes(fake, client):
    fake.add_account("alice", "alice.example", "basico", contact_email="a@x.ec")
    fake.add_account("bob", "bob.example", "premium", suspended=True, reason="abuso")
    accounts = {a["user"]: a for a in client.list_accounts()}
    assert accounts["bob"]["suspended"] is True and accounts["bob"]["suspendreason"] == "abuso"
    assert accounts["alice"]["suspended"] is False and accounts["alice"]["plan"] == "basico"
    assert client.account("alic") is None  # exact search, not a regex
    plans = {p["name"]: p for p in client.list_plans()}
    assert {"basico", "estandar", "premium"} <= set(plans)
    assert plans["basico"]["max_mailboxes"] == 10 and plans["premium"]["bandwidth_mb"] is None
    usage = client.usage("alice")
    assert 0 < usage.disk_used_mb <= usage.disk_limit_mb == 2048
    assert 0 < usage.bandwidth_used_mb <= usage.bandwidth_limit_mb == 20480
    assert client.usage("bob").bandwidth_limit_mb is None
    with pytest.raises(PanelNotFound):
        client.usage("ghost")
    url = client.login_url("alice")
    assert re.fullmatch(
        r"https://127\.0\.0\.1:2083/cpsess\d{10}/login/\?session=alice%3a[\w-]+"
        r"%3acreate_user_session%2c[0-9a-f]{32}",
        url,
    )
    assert ":2096/" in client.login_url("alice", service="webmaild")
    with pytest.raises(ValueError):
        client.login_url("alice", service="whostmgrd")


def test_mailbox_listing_skips_the_main_account_and_reports_usage(fake, client):
    fake.add_account("alice", "alice.example", "premium")
    client.add_mailbox("alice", "info", "alice.example", PASSWORD, 500)
    client.add_mailbox("alice", "ventas", "alice.example", PASSWORD, 1000)
    boxes = {m.local: m for m in client.list_mailboxes("alice", "alice.example")}
    assert set(boxes) == {"info", "ventas"}
    assert boxes["info"].quota_mb == 500 and boxes["info"].used_bytes > 0
    client.set_mailbox_quota("alice", "ventas", "alice.example", 99_999)  # clamped to max
    assert client.list_mailboxes("alice")[1].quota_mb == 5120
    with pytest.raises(PanelRejected, match="cannot be unlimited"):  # premium has a max
        client.add_mailbox("alice", "todo", "alice.example", PASSWORD, None)
    fake.add_account("bob", "bob.example", "default")  # no per-mailbox maximum
    client.add_mailbox("bob", "todo", "bob.example", PASSWORD, None)
    assert client.list_mailboxes("bob")[0].quota_mb is None


def test_mailbox_limits_of_the_plan(fake, client):
    fake.add_account("alice", "alice.example", "basico")
    with pytest.raises(PanelRejected, match="exceeds the maximum of 1024 MB"):
        client.add_mailbox("alice", "big", "alice.example", PASSWORD, 4096)
    with pytest.raises(PanelRejected, match="strength rating"):
        client.add_mailbox("alice", "weak", "alice.example", "abc123", 100)


# ------------------------------------------------------------------ classification rules


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ('{"metadata":{"result":"1","reason":"OK"}}', None),
        ('{"metadata":{"result":"0","reason":"No (XID a1b2c3)"}}', PanelRejected),
        ('{"apiversion":3,"result":{"status":"0","errors":["Bad"]}}', PanelRejected),
        ('{"status":0,"errors":["Bad"],"data":null}', PanelRejected),
        ('{"type":"text","error":"User parameter is invalid"}', PanelRejected),
        ('{"cpanelresult":{"error":"Access denied","data":[]}}', PanelAuthError),
        ('{"cpanelresult":{"error":"x","data":[{"result":0,"reason":"Too weak"}]}}', PanelRejected),
        ('{"result":[{"status":0,"statusmsg":"System user x does not exist!"}]}', PanelRejected),
        ('{"passwd":[{"status":1,"statusmsg":"ok"}]}', None),
        ('{"status":0,"statusmsg":"Permission Denied"}', PanelRejected),
        ("<html><h1>Brute Force Protection</h1></html>", PanelBlocked),
        ('<html><form action="/login/"><input name="pass"></form></html>', PanelAuthError),
        ("<html>Internal error</html>", PanelUnavailable),
    ],
)
def test_classification_order(body, error):
    if error is None:
        assert isinstance(classify_response("f", 200, body), dict)
    else:
        with pytest.raises(error):
            classify_response("f", 200, body)


def test_classification_of_http_status_and_values():
    with pytest.raises(PanelAuthError):
        classify_response("f", 401, '{"metadata":{"result":1}}')
    with pytest.raises(PanelUnavailable):
        classify_response("f", 502, "")
    assert clean_reason(["", "A (XID zz99)", None]) == "A"
    assert to_int("1") == 1 and to_int(None) == 0 and to_int("x") == 0
    assert size_mb("14M") == 14 and size_mb("1.5G") == 1536 and size_mb("unlimited") is None


# -------------------------------------------------------------- fake server as a sandbox


def test_fake_answers_legacy_shapes_without_api_version(fake):
    headers = {"Authorization": f"WHM root:{fake.token}"}  # scheme word is case-insensitive
    form = {"username": "alice", "domain": "alice.example", "plan": "basico", "password": PASSWORD}
    body = requests.post(f"{fake.url}/json-api/createacct", data=form, headers=headers, timeout=2)
    assert body.json()["result"][0]["status"] == 1
    again = requests.post(f"{fake.url}/json-api/createacct", data=form, headers=headers, timeout=2)
    assert (
        again.json()["result"][0]["statusmsg"] == "Sorry, a group for that username already exists."
    )
    summary = requests.post(f"{fake.url}/json-api/accountsummary", headers=headers, timeout=2)
    assert summary.json() == {
        "status": 0,
        "statusmsg": "You must specify a user or domain to get a summary of",
        "acct": None,
    }


def test_fake_cpanel_router_and_single_use_sso_session(fake):
    fake.add_account("alice", "alice.example", password=PASSWORD)
    token = fake.add_cpanel_token("alice")
    direct = requests.post(
        f"{fake.url}/execute/Email/add_pop",
        data={"email": "info", "password": PASSWORD},
        headers={"Authorization": f"cpanel alice:{token}"},
        timeout=2,
    ).json()
    assert direct == {
        "status": 1, "data": "info+alice.example", "errors": None, "messages": None,
        "warnings": None, "metadata": {},
    }  # fmt: skip
    wrong = requests.post(
        f"{fake.url}/execute/Email/list_pops",
        headers={"Authorization": f"whm root:{fake.token}"},
        timeout=2,
    )
    assert wrong.status_code == 401 and wrong.text.startswith("<html>")
    fake.self_login = True
    try:
        with make_client(fake) as c:
            url = c.login_url("alice")
    finally:
        fake.self_login = False
    assert requests.get(url, timeout=2).status_code == 200
    assert requests.get(url, timeout=2).status_code == 401  # single use


def test_state_file_persists_between_runs(tmp_path):
    state = tmp_path / "sandbox.json"
    with FakeWhm(state_file=state) as first, make_client(first) as c:
        c.create_account("alice", "alice.example", "premium", PASSWORD)
        c.add_mailbox("alice", "info", "alice.example", PASSWORD, 100)
    with FakeWhm(state_file=state) as second, make_client(second) as c:
        assert c.account("alice")["plan"] == "premium"
        assert [m.address for m in c.list_mailboxes("alice")] == ["info@alice.example"]
    assert PASSWORD not in state.read_text()


def test_sandbox_main_creates_a_private_token_and_never_prints_it(tmp_path):
    token_file = tmp_path / "t" / "sandbox.token"
    token = _token_from_file(token_file)
    assert len(token) == 32 and oct(token_file.stat().st_mode & 0o777) == "0o600"
    assert _token_from_file(token_file) == token
    cmd = [sys.executable, "-m", "sandbox.whm_server", "--port", "0"]
    cmd += ["--state", str(tmp_path / "s.json"), "--token-file", str(token_file)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, env=dict(os.environ))
    try:
        line = proc.stdout.readline()
        assert token not in line
        url = re.search(r"https?://[\d.]+:\d+", line).group(0)
        with WhmClient(url, "root", token, timeout=2) as c:
            assert "basico" in {p["name"] for p in c.list_plans()}
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    assert (tmp_path / "s.json").exists()
