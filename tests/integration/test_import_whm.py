"""Issue 18: a WHM server's accounts become clients and services (matched to products by
package), adopted as they are; then the imported accounts are checked against the panel."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func, select

from core import imports
from core.models import Client, Service
from core.platform.db import read_session
from tests.panel_fixtures import calls, fake, whm  # noqa: F401 - fixtures

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_accounts_become_clients_and_services_without_a_panel_change(fake):  # noqa: F811
    fake.add_account("nuevo", "nuevo.ec", "basico", contact_email="Nuevo@Test.ec")
    fake.add_account("nuevo2", "nuevo2.ec", "basico", contact_email="nuevo@test.ec")
    fake.add_account("rarito", "rarito.ec", "raro", contact_email="raro@test.ec")
    fake.add_account("susp", "susp.ec", "basico", suspended=True, reason="abuso")
    before = len(fake.log)
    dry = imports.run("whm", server="sandbox", dry_run=True).as_json()
    report = imports.run("whm", server="sandbox")
    out = report.as_json()
    assert dry["created"] == out["created"]
    # clienta/clientb are already billed here: adopted, not made twice.
    assert out["created"]["services"] == 3 and out["created"]["clients"] == 2  # nuevo, susp
    assert ("services", "rarito", "unknown_product") in {
        (p["kind"], p["source_id"], p["reason"]) for p in out["problems"]
    }
    with read_session() as s:
        nuevo = s.scalars(select(Service).where(Service.panel_username == "nuevo")).one()
        nuevo2 = s.scalars(select(Service).where(Service.panel_username == "nuevo2")).one()
        assert nuevo.client_id == nuevo2.client_id  # one address, one client
        assert s.get_one(Client, nuevo.client_id).email == "nuevo@test.ec"
        susp = s.scalars(select(Service).where(Service.panel_username == "susp")).one()
        assert susp.status == "suspended" and nuevo.status == "active"
        assert nuevo.product.whm_package == "basico" and nuevo.next_due_date is None
        assert s.scalar(select(func.count()).where(Service.panel_username == "clienta")) == 1
    # Only reads reached the panel: nothing created, suspended or changed.
    assert {e["function"] for e in fake.log[before:]} <= {"listaccts", "listpkgs"}
    assert not calls(fake, "createacct")
    again = imports.run("whm", server="sandbox").as_json()
    assert all(n == 0 for n in again["created"].values())
    # The check: "rarito" was not imported (unknown package), so it is not in the book.
    diffs = {(d.username, d.problem) for d in imports.panel_check()}
    assert diffs == {("rarito", "not_in_book")}


def test_panel_check_lists_a_missing_account_and_a_status_difference(fake):  # noqa: F811
    fake.add_account("uno", "uno.ec", "basico", contact_email="uno@test.ec")
    fake.add_account("dos", "dos.ec", "basico", contact_email="dos@test.ec")
    imports.run("whm", server="sandbox")
    fake.reset()
    fake.add_account("clienta", "cliente-a.ec", "basico", contact_email="a@test.ec")
    fake.add_account("clientb", "cliente-b.ec", "basico", contact_email="b@test.ec")
    fake.add_account("dos", "dos.ec", "basico", suspended=True, reason="x")
    diffs = {(d.username, d.problem) for d in imports.panel_check()}
    assert diffs == {("uno", "missing_on_panel"), ("dos", "status_differs")}


def test_cli_whm_json(fake):  # noqa: F811
    out = subprocess.run(
        [sys.executable, "-m", "core.cli", "import", "whm", "--server", "sandbox", "--json"],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        cwd=ROOT,
        check=True,
        timeout=120,
    ).stdout
    data = json.loads(out)
    assert data["dry_run"] is False and data["created"]["services"] == 0
    assert data["skipped"]["services"] == 2  # the personas' two accounts, already billed


def test_unknown_server_is_a_clear_error(fake):  # noqa: F811
    import pytest

    from core.platform.errors import NotFound

    with pytest.raises(NotFound) as err:
        imports.run("whm", server="nope")
    assert err.value.key == "imports.error.no_server"
