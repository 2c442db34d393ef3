"""Two app replicas on one PostgreSQL behind Debian's nginx, as deploy/ sets them up (issue 20).

* The replicas are started with the command and environment of
  ``deploy/systemd/anfitrion@.service`` (port as the instance, keys as credential files, a
  data folder of their own each, as on two machines), on free ports, on a database of this
  test's own, ``anf_replicas_<pid>`` on 127.0.0.1:5432 (dropped after).
* nginx serves ``deploy/nginx/anfitrion.conf`` itself, with only its ports, certificate (a
  self-signed one made here) and upstream addresses replaced, as a foreground process with its
  pid, logs and temporary files in a temp folder: never the system's nginx service.
* Client A's journey goes through nginx in Chromium: sign-in, services, billing, and a ticket
  with an attachment, whose upload is a plain HTTP request that must reach the replica holding
  the session's WebSocket, which is what the sticky cookie is for. nginx's access log shows
  every request of the browser on one replica, and fresh browsers spread over both.
* The daily run started on both replicas at once (the command of
  ``deploy/systemd/anfitrion-automation.service``): one acts, the other exits, and nothing is
  done twice.
* Last, the replica a signed-in browser is on is stopped: the browser's next load goes to the
  other one, still signed in.

Skipped only when PostgreSQL is unreachable; nginx and chromium are required.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import create_engine, func, select, text

from core import automation
from core.models import (
    AutomationAction,
    AutomationRun,
    Client,
    Counter,
    Invoice,
    MailOutbox,
    Service,
    Ticket,
    TicketMessage,
    Upload,
)
from core.platform.db import read_session, unit_of_work
from core.platform.i18n import t
from tests.e2e.conftest import wait_for_app
from tests.e2e.journeys_conftest import (
    eventually,
    everything,
    failure_shot,
    main_text,
    open_page,
    png_bytes,
    settle,
    sign_in_here,
    upload,
)
from tests.e2e.replicas_conftest import (  # noqa: F401 - the fixture
    ROOT,
    ROUTE_COOKIE,
    Farm,
    farm,
    routes,
    stop,
    unit_command,
)
from tests.e2e.test_journeys import nav
from tests.personas import TODAY

pytestmark = pytest.mark.e2e

SUBJECT = "El sitio carga lento desde ayer"
VIEWPORT = {"width": 1280, "height": 1400}
RENEWALS = 300  # services due on the run day: more than one renewal group (GROUP = 250)


# ---------------------------------------------------------------------------- the tests


def test_nginx_redirects_to_tls_and_spreads_fresh_browsers_stickily(farm: Farm):
    plain = requests.get(f"{farm.plain}/services?x=1", allow_redirects=False, timeout=5)
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://127.0.0.1/services?x=1")

    first = requests.get(farm.base, verify=str(farm.cert), timeout=5)
    assert first.status_code == 200
    cookie = first.cookies.get(ROUTE_COOKIE)
    assert cookie and "Secure" in first.headers["Set-Cookie"]
    assert "HttpOnly" in first.headers["Set-Cookie"]
    again = requests.get(
        f"{farm.base}/_stcore/health", cookies={ROUTE_COOKIE: cookie}, verify=str(farm.cert)
    )
    assert ROUTE_COOKIE not in again.headers.get("Set-Cookie", "")  # set once, then kept

    # Fresh browsers (no cookie) land on either replica; one cookie always on the same one.
    for _ in range(30):
        requests.get(f"{farm.base}/_stcore/health", verify=str(farm.cert), timeout=5)
    for _ in range(10):
        requests.get(
            f"{farm.base}/_stcore/health", cookies={ROUTE_COOKIE: cookie}, verify=str(farm.cert)
        )
    served = routes(farm)
    assert set().union(*served.values()) == set(farm.replicas)
    assert all(len(replicas) == 1 for replicas in served.values()), served
    assert len(served[cookie]) == 1


def test_client_journey_through_nginx(farm: Farm, browser, shot):
    a = farm.personas.client_a
    context = browser.new_context(ignore_https_errors=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        # A replica's first sign-in can be slow enough for the cookie component's rerun to
        # redraw the form after the typing: sign_in_here types again then, as a person would.
        open_page(page, farm.base)
        sign_in_here(page, a.email, farm.personas.password, page.get_by_test_id("stSidebarNav"))
        shot(page, "signed-in")

        nav(page, t("page.services"))
        listing = page.get_by_test_id("stMain").get_by_role("table").first
        listing.wait_for()
        assert "cliente-a.ec" in listing.inner_text()
        assert "cliente-b.ec" not in everything(page)
        shot(page, "services")

        nav(page, t("page.billing"))
        page.get_by_text("F-A-1").first.wait_for()
        assert "F-B-1" not in everything(page)
        shot(page, "billing")

        # A ticket with an attachment: the file goes up in its own HTTP request, which
        # only the replica holding this session's WebSocket can take.
        nav(page, t("page.tickets"))
        page.get_by_role("tab", name=t("tickets.new_title")).click()
        settle(page)
        form = page.get_by_test_id("stForm")
        page.get_by_role("textbox", name=t("tickets.col.subject")).fill(SUBJECT)
        form.get_by_role("textbox", name=t("tickets.message")).fill(
            "Las páginas tardan más de diez segundos. Adjunto la captura."
        )
        upload(page, form, "lento.png", "image/png", png_bytes())
        form.get_by_role("button", name=t("tickets.submit_new")).click()
        page.get_by_text(t("tickets.opened")).first.wait_for()
        settle(page)
        assert SUBJECT in main_text(page)
        shot(page, "ticket-opened")
        route = next(c["value"] for c in context.cookies() if c["name"] == ROUTE_COOKIE)
    except Exception:
        failure_shot(page, "replicas-journey-failed")
        raise
    finally:
        context.close()  # ends the WebSocket, which nginx logs when it closes

    with read_session() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.subject == SUBJECT)).one()
        assert ticket.client_id == a.actor.client_id
        message = s.scalars(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)).one()
        (attachment,) = [s.get(Upload, i) for i in message.attachment_ids]
        assert (attachment.filename, attachment.data) == ("lento.png", png_bytes())

    # Every request of that browser, the WebSocket and the upload among them, on one replica.
    def logged() -> bool:
        text_ = farm.access_log.read_text(encoding="utf-8")
        return f"{route} " in text_ and "/_stcore/stream" in text_

    eventually(logged, timeout=10)
    lines = [
        line
        for line in farm.access_log.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{route} ")
    ]
    assert any("GET /_stcore/stream" in line and " 101 " in line for line in lines), lines
    assert any("PUT /_stcore/upload_file/" in line for line in lines), lines
    assert len(routes(farm)[route]) == 1


def _book_due(like: int, on: date, count: int) -> None:
    """``count`` clients with one active service each (product and server of service
    ``like``), due three days after ``on``."""
    with unit_of_work() as s:
        template = s.get(Service, like)
        assert template is not None
        for i in range(count):
            client = Client(name=f"Cliente {i}", email=f"renueva{i}@test.ec")
            s.add(client)
            s.flush()
            s.add(
                Service(
                    client_id=client.id,
                    product_id=template.product_id,
                    server_id=template.server_id,
                    domain=f"renueva{i}.ec",
                    panel_username=f"renueva{i}",
                    status="active",
                    billing_cycle="monthly",
                    recurring_amount=Decimal("10.00"),
                    anchor_day=(on + timedelta(days=3)).day,
                    registration_date=on - timedelta(days=60),
                    next_due_date=on + timedelta(days=3),
                )
            )
        if s.get(Counter, automation.LOCK_NAME) is None:  # as a first run leaves it
            s.add(Counter(name=automation.LOCK_NAME, value=0))


def _ledger() -> dict[str, int]:
    with read_session() as s:
        return {
            "invoices": s.scalar(select(func.count()).select_from(Invoice)),
            "actions": s.scalar(select(func.count()).select_from(AutomationAction)),
            "runs": s.scalar(select(func.count()).select_from(AutomationRun)),
            "mail": s.scalar(select(func.count()).select_from(MailOutbox)),
        }


def _waiting_on_locks(engine, database: str) -> int:
    with engine.connect() as conn:
        return conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :db "
                "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE counter%'"
            ),
            {"db": database},
        )


def test_daily_run_started_on_both_replicas_at_once_acts_once(farm: Farm):
    on = TODAY  # the personas' day: nothing of theirs is overdue, so no panel is called
    _book_due(farm.personas.client_a.service_id, on, RENEWALS)
    before = _ledger()
    command = unit_command("anfitrion-automation.service", {}) + ["--date", on.isoformat()]
    database = farm.database_url.rsplit("/", 1)[1]
    engine = create_engine(farm.database_url)
    try:
        # Both runs are held at the lease's row, then let go together: without this gate,
        # one could finish before the other has even imported, which tests nothing.
        gate = engine.connect()
        transaction = gate.begin()
        gate.execute(
            text("SELECT value FROM counter WHERE name = :n FOR UPDATE"),
            {"n": automation.LOCK_NAME},
        )
        runs = [
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=machine.env("anfitrion-automation.service"),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for machine in farm.machines
        ]
        deadline = time.monotonic() + 120
        while _waiting_on_locks(engine, database) < 2:
            exited = [r for r in runs if r.poll() is not None]
            assert not exited, [r.communicate() for r in exited]
            assert time.monotonic() < deadline, "the two runs never reached the lease"
            time.sleep(0.2)
        transaction.rollback()
        gate.close()
        outputs = []
        for proc in runs:
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err
            outputs.append((json.loads(out.strip().splitlines()[-1]), err))
    finally:
        engine.dispose()

    skipped = [o for o, _ in outputs if o.get("skipped") == automation.IN_PROGRESS]
    acted = [o for o, _ in outputs if "skipped" not in o]
    assert len(skipped) == 1 and len(acted) == 1, outputs
    assert [err for o, err in outputs if "skipped" in o] == [automation.IN_PROGRESS + "\n"]
    counts = acted[0]
    assert counts["invoices_created"] >= RENEWALS and counts["failures"] == 0, counts
    assert set(skipped[0].values()) - {automation.IN_PROGRESS} == {0}  # the other did nothing

    after = _ledger()
    assert after["runs"] == before["runs"] + 1  # one run in the ledger, not two
    assert after["invoices"] == before["invoices"] + counts["invoices_created"]
    assert after["actions"] == before["actions"] + sum(
        v for k, v in counts.items() if k != "failures"
    )
    assert after["mail"] == before["mail"] + counts["invoices_created"]
    with read_session() as s:
        (run,) = s.scalars(select(AutomationRun)).all()
        assert run.status == "done"
        per_service = s.execute(
            select(Service.domain, func.count(Invoice.id))
            .join(Invoice, Invoice.client_id == Service.client_id)
            .where(Service.domain.like("renueva%"))
            .group_by(Service.domain)
        ).all()
    assert len(per_service) == RENEWALS and {n for _, n in per_service} == {1}

    # The timer firing again the same day (or the second machine's, late): nothing more.
    again = subprocess.run(
        command,
        cwd=ROOT,
        env=farm.machines[1].env("anfitrion-automation.service"),
        capture_output=True,
        text=True,
    )
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout.strip().splitlines()[-1])["invoices_created"] == 0
    assert _ledger()["invoices"] == after["invoices"]


def test_a_replica_going_down_moves_its_browsers_signed_in(farm: Farm, browser, shot):
    """Last in the module: it stops a replica. The browser's next load goes to the other
    one (nginx skips a replica it cannot reach), where the sign-in cookie, signed with the
    COOKIE_KEY every replica shares, still signs client A in."""
    a = farm.personas.client_a
    context = browser.new_context(ignore_https_errors=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        open_page(page, farm.base)
        sign_in_here(page, a.email, farm.personas.password, page.get_by_test_id("stSidebarNav"))
        route = next(c["value"] for c in context.cookies() if c["name"] == ROUTE_COOKIE)
        eventually(lambda: route in routes(farm), timeout=10)
        (serving,) = routes(farm)[route]
        stop(farm.processes[farm.replicas.index(serving)])

        page.reload()
        wait_for_app(page)
        page.get_by_test_id("stSidebarNav").wait_for(timeout=30_000)
        nav(page, t("page.services"))
        listing = page.get_by_test_id("stMain").get_by_role("table").first
        listing.wait_for()
        assert "cliente-a.ec" in listing.inner_text()
        shot(page, "moved-replica-still-signed-in")
    except Exception:
        failure_shot(page, "replicas-failover-failed")
        raise
    finally:
        context.close()
    assert routes(farm)[route] == set(farm.replicas)  # tried the stopped one, then the other
