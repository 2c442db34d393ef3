"""Fixtures of the browser journeys (tests/e2e/test_journeys.py): the app served on a fresh
database whose panel server is the sandbox panel (a FakeWhm on loopback), with an upgrade
target in the catalogue, plus small helpers for driving Streamlit widgets in Chromium.

Imported by the journeys module (``from tests.e2e.journeys_conftest import ...``); pytest does
not collect it as a conftest, so the other browser tests keep their plain ``live_app``.
"""

from __future__ import annotations

import struct
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from core import panel
from core.billing import payments
from core.models import Service
from core.platform.clock import today
from core.platform.config import get_settings
from core.platform.db import read_session, unit_of_work
from core.platform.i18n import t
from sandbox.whm_server import FakeWhm
from tests.e2e.conftest import ARTIFACTS, serve_app, wait_for_app
from tests.panel_fixtures import calls, ready
from tests.personas import Personas, add_estandar
from ui.auth.signin import TWO_FA_COOKIE


@dataclass(frozen=True)
class Journeys:
    base: str
    personas: Personas
    whm: FakeWhm
    estandar_id: int


@pytest.fixture(scope="module")
def sandbox_whm() -> Iterator[FakeWhm]:
    with FakeWhm() as fake:
        yield fake


def _prepare(whm: FakeWhm, found: dict) -> Callable[[Personas], None]:
    def prepare(personas: Personas) -> None:
        """Before the server starts: the personas' server row points at the sandbox panel
        (with their accounts clienta/clientb), Básico may move to Estándar, and client A's
        renewal invoice is paid (an unpaid renewal blocks plan changes), so the unpaid invoice
        of the journey is the plan change's own."""
        ready(whm)
        panel.configure()  # ready() shrinks this process's panel timeouts: not needed here
        owner, a = personas.owner.actor, personas.client_a
        with unit_of_work() as s:
            estandar = add_estandar(s)
            found["estandar"] = estandar.id
        with read_session() as s:
            client_id = s.get(Service, a.service_id).client_id
        business_day = today(get_settings().tz)
        payments.record_payment(
            owner,
            [a.invoice_id],
            "11.50",
            client_id=client_id,
            method="transfer",
            received_on=business_day,
        )
        # The period is pinned to end 15 days from today, whatever today is, so the quote
        # is a prorated upgrade (not "renew first").
        due = business_day + timedelta(days=15)
        with unit_of_work() as s:
            svc = s.get(Service, a.service_id)
            svc.next_due_date, svc.anchor_day = due, due.day

    return prepare


@pytest.fixture(scope="module")
def journeys(sandbox_whm: FakeWhm) -> Iterator[Journeys]:
    found: dict = {}
    for base, personas in serve_app(_prepare(sandbox_whm, found)):
        yield Journeys(base, personas, sandbox_whm, found["estandar"])


# --------------------------------------------------------------------------- test data


def png_bytes() -> bytes:
    """A real 2×2 PNG (what a screenshot attached to a ticket would be)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\x00\xff" * 2)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def pdf_bytes(text: str) -> bytes:
    """A minimal one-page PDF, like a bank's transfer receipt."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def panel_calls(whm: FakeWhm, function: str) -> list[dict]:
    """The sandbox panel's successful calls of ``function``."""
    return [e for e in calls(whm, function) if e["fault"] is None and e["status"] == 200]


def eventually(check, timeout: float = 10.0) -> None:
    """Until ``check()`` is true (work that finishes right after a script run)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


# --------------------------------------------------------------------------- browser helpers


def open_page(page, url: str) -> None:
    """A pasted URL: load it and wait for the script run (and the cookie's rerun) to settle."""
    page.goto(url)
    wait_for_app(page)
    page.wait_for_timeout(500)
    wait_for_app(page)


def settle(page) -> None:
    """After a click: the rerun it triggers has finished."""
    page.wait_for_timeout(250)
    wait_for_app(page)


def sign_in_here(page, email: str, password: str, landed) -> None:
    """Sign in on the form the current URL shows (a pasted deep link), until ``landed`` (a
    locator of the page asked for) is visible.

    The form is typed into once the cookie component has loaded and its rerun is over. If
    that rerun still lands after the typing, it redraws the form empty (the library's form
    flicker, streamlit-notes P6) and the click sends nothing: then, as a person would, type
    again, once.
    """
    page.locator("iframe[title*='CookieManager']").wait_for(state="attached", timeout=30_000)
    page.wait_for_timeout(500)
    wait_for_app(page)
    email_box = page.get_by_role("textbox", name=t("signin.email"))
    for attempt in range(2):
        email_box.fill(email)
        page.get_by_role("textbox", name=t("signin.password")).fill(password)
        page.get_by_role("button", name=t("signin.submit")).click()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if landed.is_visible():
                wait_for_app(page)
                wait_for_auth_cookie(page)
                return
            page.wait_for_timeout(250)
            redrawn = (
                attempt == 0
                and email_box.is_visible()
                and email_box.input_value() == ""
                and page.get_by_test_id("stAlert").count() == 0
            )
            if (
                redrawn
                and page.get_by_test_id("stApp").get_attribute("data-test-script-state")
                == "notRunning"
            ):
                warnings.warn("the sign-in form was redrawn empty; typed again", stacklevel=2)
                break
        else:
            raise AssertionError(f"not signed in on {page.url}")
    raise AssertionError(f"the sign-in form came back empty twice on {page.url}")


def wait_for_auth_cookie(page, *, second_factor: bool = False) -> None:
    """Until the browser holds the sign-in cookie (and the mark of a passed second factor).
    The cookie component writes them from the browser a moment after the sign-in run; a
    reload before that signs the person out again (streamlit-notes P5), so a test reloads
    only after it, as a person reading the page would."""
    names = {get_settings().cookie_name} | ({TWO_FA_COOKIE} if second_factor else set())
    eventually(lambda: names <= {c["name"] for c in page.context.cookies()}, timeout=30)
    settle(page)  # the rerun the component asks for once it has written them


def main_text(page) -> str:
    return page.inner_text("[data-testid='stMain']")


def everything(page) -> str:
    """Every text of the page, including the cells of canvas-drawn tables and hidden parts."""
    return page.inner_text("body") + "\n" + page.content()


def table_text(table) -> str:
    """The cells of an st.dataframe: drawn on a canvas, kept as text in its accessible table."""
    return table.evaluate("e => e.textContent")


def type_date(page, label: str, value: date) -> None:
    """Type a day into the st.date_input labelled ``label`` (year, month and day segments)."""
    field = page.get_by_test_id("stDateInput").filter(has_text=label)
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type(value.strftime("%Y%m%d"))
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # closing the calendar commits the value (one rerun)
    settle(page)


def check_box(page, label: str) -> None:
    page.get_by_test_id("stCheckbox").filter(has_text=label).locator("label").click()
    settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.get_by_role("combobox").click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def upload(page, container, name: str, mime: str, data: bytes) -> None:
    """Hand a file to the st.file_uploader inside ``container`` and wait until it is up."""
    container.locator("input[type='file']").set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    chip = container.get_by_test_id("stFileChip").filter(has_text=name)
    chip.wait_for(timeout=15_000)
    chip.get_by_test_id("stFileChipIconSpinner").wait_for(state="detached", timeout=15_000)
    assert chip.get_by_test_id("stFileChipIconError").count() == 0, chip.inner_text()
    settle(page)


def failure_shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
