"""WHM API 1 ``editquota`` (issue 19, disk-quota add-ons): the sandbox server's account quota
and ``WhmClient.set_quota`` / ``package_quota`` against it, over real HTTP on loopback.

The fake keeps an account's own quota until a changepackage puts the package's back, as cPanel
does; ``listaccts``, ``accountsummary``, ``get_disk_usage`` and the client's ``usage`` all read it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from core.panel.whm import PanelNotFound, PanelRejected, PanelUnavailable, WhmClient
from sandbox.whm_server import FakeWhm


@pytest.fixture(scope="module")
def server() -> Iterator[FakeWhm]:
    with FakeWhm() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeWhm) -> FakeWhm:
    server.reset()
    server.add_account("alice", "alice.example", "basico")  # basico: 2048 MB
    return server


def make_client(fake: FakeWhm, user: str = "root", token: str | None = None) -> WhmClient:
    return WhmClient(
        fake.url,
        user,
        fake.token if token is None else token,
        timeout=0.4,
        backoff=(0.01, 0.01, 0.01),
        reconcile_wait=0.4,
    )


@pytest.fixture
def client(fake: FakeWhm) -> Iterator[WhmClient]:
    with make_client(fake) as c:
        yield c


def calls(fake: FakeWhm, function: str) -> list[dict]:
    return [e for e in fake.log if e["function"] == function]


def raw(fake: FakeWhm, function: str, **form: str) -> dict:
    form = {"api.version": "1", **form}
    headers = {"Authorization": f"whm root:{fake.token}"}
    return requests.post(
        f"{fake.url}/json-api/{function}", data=form, headers=headers, timeout=2
    ).json()


def test_editquota_sets_the_disk_limit_that_every_read_shows(fake, client):
    assert client.account("alice")["disk_limit_mb"] == 2048
    client.set_quota("alice", 3072)
    assert client.account("alice")["disk_limit_mb"] == 3072
    assert client.usage("alice").disk_limit_mb == 3072
    summary = raw(fake, "accountsummary", user="alice")
    assert summary["data"]["acct"][0]["disklimit"] == "3072M"
    usage = raw(fake, "get_disk_usage")["data"]["accounts"]
    assert next(u for u in usage if u["user"] == "alice")["blocks_limit"] == 3072 * 1024
    sent = calls(fake, "editquota")
    assert [(e["params"]["user"], e["params"]["quota"]) for e in sent] == [("alice", "3072")]
    assert raw(fake, "editquota", user="alice", quota="3072")["metadata"]["result"] == 1


def test_setting_the_same_quota_twice_leaves_the_same_account(fake, client):
    client.set_quota("alice", 3072)
    before = client.account("alice")
    client.set_quota("alice", 3072)
    after = client.account("alice")
    assert before["disk_limit_mb"] == after["disk_limit_mb"] == 3072
    assert fake.accounts["alice"]["quota"] == 3072


def test_unlimited_and_zero_mean_no_limit(fake, client):
    client.set_quota("alice", None)
    assert client.account("alice")["disk_limit_mb"] is None
    assert raw(fake, "listaccts")["data"]["acct"][0]["disklimit"] == "unlimited"
    raw(fake, "editquota", user="alice", quota="500")
    assert client.account("alice")["disk_limit_mb"] == 500
    assert raw(fake, "editquota", user="alice", quota="0")["metadata"]["result"] == 1
    assert client.account("alice")["disk_limit_mb"] is None


def test_a_package_change_puts_the_packages_quota_back(fake, client):
    client.set_quota("alice", 3072)
    client.change_plan("alice", "estandar")
    assert client.account("alice")["disk_limit_mb"] == 10240
    assert client.package_quota("estandar") == 10240
    assert client.package_quota("premium") == 30720
    assert client.package_quota("default") is None  # unlimited
    with pytest.raises(PanelNotFound):
        client.package_quota("nope")


def test_bad_requests_are_refused_with_cpanels_reason(fake, client):
    with pytest.raises(PanelRejected, match="does not exist"):
        client.set_quota("ghost", 1000)
    for bad in ("abc", "-5", "1.5", ""):
        answer = raw(fake, "editquota", user="alice", quota=bad)
        assert answer["metadata"]["result"] == 0
        assert "quota" in answer["metadata"]["reason"].lower()
    assert raw(fake, "editquota", quota="100")["metadata"]["reason"] == "No user specified."
    assert fake.accounts["alice"].get("quota") is None and "quota" not in fake.accounts["alice"]
    sent = len(calls(fake, "editquota"))
    for bad in (0, -1, True):  # refused before anything is sent
        with pytest.raises(ValueError):
            client.set_quota("alice", bad)
    assert len(calls(fake, "editquota")) == sent


def test_a_reseller_edits_only_its_own_accounts_and_an_acl_can_deny_it(fake):
    fake.add_package("res1_small", quota=500)
    fake.add_account("bob", "bob.example", "res1_small", owner="res1")
    token = fake.add_token("res1")
    with make_client(fake, "res1", token) as reseller:
        with pytest.raises(PanelRejected, match="does not exist"):
            reseller.set_quota("alice", 9999)
        reseller.set_quota("bob", 800)
    assert "quota" not in fake.accounts["alice"] and fake.accounts["bob"]["quota"] == 800
    limited = fake.add_token("root", acl=["listaccts"])
    with make_client(fake, token=limited) as c, pytest.raises(PanelRejected) as err:
        c.set_quota("alice", 4000)
    assert err.value.reason == "Permission denied"


def test_faults_are_injected_as_for_any_other_function(fake, client):
    fake.inject("editquota", "http500")  # once: idempotent by value, so retried once
    client.set_quota("alice", 3072)
    assert [e["status"] for e in calls(fake, "editquota")] == [500, 200]
    assert fake.accounts["alice"]["quota"] == 3072
    fake.inject("editquota", "http500", times=2)
    with pytest.raises(PanelUnavailable):
        client.set_quota("alice", 4096)
    assert fake.accounts["alice"]["quota"] == 3072  # a 500 does nothing
    fake.inject("editquota", "reject", reason="Disk quotas are disabled (XID zz9)")
    with pytest.raises(PanelRejected) as err:
        client.set_quota("alice", 4096)
    assert err.value.reason == "Disk quotas are disabled"
    fake.inject("editquota", "drop_after_commit")  # done, answer lost: the retry converges
    client.set_quota("alice", 4096)
    assert fake.accounts["alice"]["quota"] == 4096


def test_the_quota_survives_a_restart_of_the_sandbox(tmp_path):
    state = tmp_path / "sandbox.json"
    with FakeWhm(state_file=state) as first:
        first.add_account("alice", "alice.example", "basico")
        with make_client(first) as c:
            c.set_quota("alice", 2560)
    with FakeWhm(state_file=state) as second, make_client(second) as c:
        assert c.account("alice")["disk_limit_mb"] == 2560
