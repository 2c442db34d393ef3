"""The journeys of issue 9 in real Chromium, against `streamlit run` and the sandbox panel.

1. Client A: services, cPanel password reset (shown once), a mailbox created and deleted, a
   ticket with an attachment, a plan-change quote confirmed into an invoice, a transfer
   receipt for that invoice, sign-out.
2. The owner (with 2FA): approves the receipt, so the invoice is paid and the plan changes on
   the panel exactly once; previews the automation; exports a report as CSV; signs out.
3. Client B tries client A's ``?service=``, ``?invoice=`` and ``?ticket=`` URLs and the owner's
   pages, and sees nothing of them.
4. Pasted deep links (signed out, then signed in) and reloads land on the page asked for.

The journeys run in this order on one database (journey 2 reviews what journey 1 sent).
Every step leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from core import plan_changes
from core.automation import oversight as automation_owner
from core.models import Invoice, PlanChange, Service, Ticket, TicketMessage, TransferReceipt, Upload
from core.platform.db import read_session
from core.platform.i18n import day, t
from sandbox.whm_server import _check as password_matches
from tests.e2e.conftest import sign_in, wait_for_app
from tests.e2e.journeys_conftest import (  # noqa: F401 - fixtures
    Journeys,
    check_box,
    choose,
    eventually,
    everything,
    failure_shot,
    journeys,
    main_text,
    open_page,
    panel_calls,
    pdf_bytes,
    png_bytes,
    sandbox_whm,
    settle,
    sign_in_here,
    table_text,
    type_date,
    upload,
    wait_for_auth_cookie,
)
from tests.personas import TOTP_SECRET

pytestmark = pytest.mark.e2e

SUBJECT = "No puedo enviar correos desde Outlook"
MAILBOX = "ventas"
MAILBOX_PASSWORD = "Correo-Seguro-2026!Qz"
REFERENCE = "TRX-20261126-7788"
VIEWPORT = {"width": 1280, "height": 1400}  # Streamlit scrolls inside: a tall window shows more
PREVIEW_DAY = date(2026, 12, 10)  # after client B's unpaid renewal F-B-1 (due 2026-12-05)

# What journey 1 made, for the journeys after it.
made: dict[str, object] = {}


def nav(page, title: str) -> None:
    """Move with the sidebar navigation, as a person would.

    Right after a sign-in the cookie component's own rerun can still be on its way, and it
    carries the page it started on (streamlit-notes P1/P5); a click that lands just before it
    is undone, as for a person who clicks again. So: click, and click again if it was lost.
    """
    link = page.get_by_test_id("stSidebarNav").get_by_role("link", name=title, exact=True)
    heading = page.get_by_role("heading", name=title).first
    for attempt in range(3):
        link.click()
        try:
            heading.wait_for(timeout=10_000 if attempt < 2 else 30_000)
            break
        except Exception:
            if attempt == 2:
                raise
            warnings.warn(f"a click on {title!r} was undone; clicked again", stacklevel=2)
            wait_for_app(page)
    wait_for_app(page)


def sign_out(page) -> None:
    page.get_by_role("button", name=t("nav.sign_out"), exact=True).click()
    page.get_by_role("button", name=t("signin.submit")).first.wait_for(timeout=30_000)
    wait_for_app(page)


# ----------------------------------------------------------------------- journey 1: a client


def test_client_a_services_password_mailbox_ticket_plan_change_and_receipt(
    journeys: Journeys, browser, shot
):
    j, a = journeys, journeys.personas.client_a
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        sign_in(page, j.base, a.email, j.personas.password)
        wait_for_auth_cookie(page)
        shot(page, "signed-in")

        # Services: the list, then the one service opened with the list's own button.
        nav(page, t("page.services"))
        # A client's list is a plain table (ui.kit.tables): its escaped cells read as typed.
        listing = page.get_by_test_id("stMain").get_by_role("table").first
        listing.wait_for()
        assert "cliente-a.ec" in listing.inner_text()
        assert "cliente-b.ec" not in everything(page)
        shot(page, "services")
        page.get_by_role("button", name=t("services.open")).click()
        page.get_by_role("heading", name="cliente-a.ec").first.wait_for()
        settle(page)
        assert f"service={a.service_id}" in page.url
        detail = main_text(page)
        assert "Básico" in detail and "Activo" in detail and "clienta" in detail
        shot(page, "service-detail")

        # Reset the cPanel password: the new one is shown once and really set on the panel.
        before = len(panel_calls(j.whm, "passwd"))
        page.get_by_role("button", name=t("services.reset_button")).click()
        page.get_by_text("La contraseña de cPanel fue cambiada.").first.wait_for()
        settle(page)
        password = page.get_by_test_id("stCode").inner_text().strip()
        assert len(password) >= 16
        assert len(panel_calls(j.whm, "passwd")) == before + 1
        assert password_matches(password, j.whm.accounts["clienta"]["password_hash"])
        page.get_by_text("se muestra una sola vez").first.wait_for()
        shot(page, "password-shown-once")
        page.reload()
        wait_for_app(page)
        page.get_by_role("heading", name="cliente-a.ec").first.wait_for()
        settle(page)
        assert password not in everything(page)  # once means once
        shot(page, "password-gone-after-reload")

        # A mailbox: created on the panel, then deleted after the confirmation box.
        page.get_by_role("link", name=t("services.mailboxes_link")).click()
        page.get_by_role("heading", name="Crear cuenta de correo").first.wait_for()
        settle(page)
        assert f"service={a.service_id}" in page.url
        shot(page, "mailboxes")
        page.get_by_role("textbox", name="Nombre de la cuenta").fill(MAILBOX)
        page.get_by_role("textbox", name=t("mailboxes.password"), exact=True).fill(MAILBOX_PASSWORD)
        page.get_by_role("button", name="Crear cuenta de correo").click()
        address = f"{MAILBOX}@cliente-a.ec"
        page.get_by_text(f"Cuenta de correo {address} creada.").first.wait_for()
        settle(page)
        assert address in j.whm.accounts["clienta"]["mailboxes"]
        assert MAILBOX_PASSWORD not in everything(page)  # typed, sent, never shown back
        shot(page, "mailbox-created")
        delete = page.get_by_role("button", name="Eliminar", exact=True)
        assert delete.is_disabled()  # not before the box is ticked
        check_box(page, f"Confirmo que quiero eliminar {address}")
        delete.click()
        page.get_by_text(f"Cuenta de correo {address} eliminada.").first.wait_for()
        settle(page)
        assert address not in j.whm.accounts["clienta"]["mailboxes"]
        page.get_by_text(t("mailboxes.none")).first.wait_for()
        shot(page, "mailbox-deleted")

        # A ticket with a screenshot attached.
        nav(page, t("page.tickets"))
        page.get_by_role("tab", name="Abrir ticket").click()
        settle(page)  # the open tab alone is drawn: opening it is a rerun
        form = page.get_by_test_id("stForm")
        # The subject sits above the form: it is live, for the help centre's suggestions.
        page.get_by_role("textbox", name="Asunto").fill(SUBJECT)
        form.get_by_role("textbox", name="Mensaje").fill(
            "Desde ayer Outlook rechaza el envío con el error 550. Adjunto la captura."
        )
        upload(page, form, "captura-error.png", "image/png", png_bytes())
        shot(page, "ticket-form")
        form.get_by_role("button", name="Abrir ticket").click()
        page.get_by_text("Ticket abierto.").first.wait_for()
        settle(page)
        page.get_by_text("Adjunto: captura-error.png").first.wait_for()
        assert SUBJECT in main_text(page)
        with read_session() as s:
            ticket = s.scalars(select(Ticket).where(Ticket.subject == SUBJECT)).one()
            message = s.scalars(
                select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
            ).one()
            files = [s.get(Upload, i) for i in message.attachment_ids]
            assert [(f.filename, f.content_type, f.data) for f in files] == [
                ("captura-error.png", "image/png", png_bytes())
            ]
        assert f"ticket={ticket.id}" in page.url
        page.get_by_role("heading", name=f"Ticket {ticket.number}").first.wait_for()
        made["ticket_number"] = ticket.number
        shot(page, "ticket-opened")

        # A plan change: the quote, the formula in words, then confirmed into an invoice.
        nav(page, t("page.upgrades"))
        choose(page, "Servicio", "cliente-a.ec · Básico")
        page.get_by_text(t("upgrades.quote_title"), exact=True).first.wait_for()
        settle(page)
        assert f"service={a.service_id}" in page.url
        expected = plan_changes.quote(a.actor, a.service_id, j.estandar_id, "monthly")
        shown = main_text(page)
        assert "Estándar" in shown
        for sentence in plan_changes.explain(expected, "es"):
            assert sentence in shown
        assert f"Presupuesto válido hasta el {day(expected.valid_until, 'es')}." in shown
        shot(page, "plan-change-quote")
        confirm = page.get_by_role("button", name=t("upgrades.confirm"))
        assert confirm.is_disabled()
        check_box(page, "Acepto el presupuesto")
        confirm.click()
        page.get_by_text("Cambio de plan confirmado.").first.wait_for()
        settle(page)
        with read_session() as s:
            change = s.scalars(select(PlanChange)).one()
            invoice = s.get(Invoice, change.invoice_id)
            assert (change.status, invoice.status) == ("pending", "unpaid")
            assert invoice.total == expected.total
            number, invoice_id, total = invoice.number, invoice.id, invoice.total
        made.update(invoice_id=invoice_id, invoice_number=number, total=total)
        shot(page, "plan-change-confirmed")

        # The transfer receipt, for the plan change's invoice (opened from the change's link).
        page.get_by_role("link", name=f"Ver la factura {number}").click()
        page.get_by_role("heading", name=f"Factura {number}").first.wait_for()
        settle(page)
        assert f"invoice={invoice_id}" in page.url
        assert t("billing.status.unpaid") in main_text(page)
        form = page.get_by_test_id("stForm")
        upload(page, form, "transferencia.pdf", "application/pdf", pdf_bytes(REFERENCE))
        form.get_by_role("textbox", name=t("billing.upload_reference")).fill(REFERENCE)
        shot(page, "receipt-form")
        form.get_by_role("button", name=t("billing.upload_submit")).click()
        page.get_by_text("Recibimos su comprobante de transferencia.").first.wait_for()
        settle(page)
        with read_session() as s:
            receipt = s.scalars(select(TransferReceipt)).one()
            assert (receipt.invoice_id, receipt.status, receipt.amount) == (
                invoice_id,
                "pending",
                total,
            )
            assert receipt.reference == REFERENCE
            assert s.get(Upload, receipt.upload_id).data == pdf_bytes(REFERENCE)
        page.get_by_role("heading", name=t("billing.receipts")).first.wait_for()
        shot(page, "receipt-sent")

        sign_out(page)
        assert "cliente-a.ec" not in main_text(page)
        shot(page, "signed-out")
    except Exception:
        failure_shot(page, "journey-client-failed")
        raise
    finally:
        context.close()


# ----------------------------------------------------------------------- journey 2: the owner


def test_owner_approves_the_receipt_previews_automation_exports_a_report(
    journeys: Journeys, browser, shot
):
    if "invoice_id" not in made:
        pytest.fail("journey 1 (the client's) did not leave a receipt to review")
    j, owner = journeys, journeys.personas.owner
    invoice_id, number = made["invoice_id"], made["invoice_number"]
    context = browser.new_context(accept_downloads=True, viewport=VIEWPORT)
    page = context.new_page()
    try:
        sign_in(page, j.base, owner.email, j.personas.password, TOTP_SECRET)
        wait_for_auth_cookie(page, second_factor=True)
        page.get_by_role("heading", name=t("home.desk_title")).first.wait_for()
        shot(page, "owner-signed-in")

        # The receipt waiting for review: approve it.
        nav(page, "Facturación")
        page.get_by_role("heading", name=t("billing.pending_receipts")).first.wait_for()
        page.get_by_text(t("billing.approve")).first.wait_for()
        assert changepackages(j) == 0
        shot(page, "receipt-to-review")
        page.get_by_role("button", name=t("billing.review_submit")).click()
        page.get_by_text(t("billing.receipt_approved")).first.wait_for()
        settle(page)
        shot(page, "receipt-approved")

        # The invoice is paid, and the plan changed on the panel exactly once.
        eventually(lambda: changepackages(j) >= 1)
        with read_session() as s:
            assert s.get(Invoice, invoice_id).status == "paid"
            assert s.scalars(select(TransferReceipt)).one().status == "approved"
            change = s.scalars(select(PlanChange)).one()
            service = s.get(Service, change.service_id)
            assert (change.status, service.product_id) == ("applied", j.estandar_id)
        assert j.whm.accounts["clienta"]["plan"] == "estandar"
        open_page(page, f"{j.base}/billing?invoice={invoice_id}")
        page.get_by_role("heading", name=f"Factura {number}").first.wait_for()
        assert t("billing.status.paid") in main_text(page)
        shot(page, "invoice-paid")
        page.reload()  # nothing re-applies the change on a rerun
        wait_for_app(page)
        page.get_by_role("heading", name=f"Factura {number}").first.wait_for()
        assert changepackages(j) == 1

        # The automation preview of a chosen day: what would run, and nothing done.
        open_page(page, f"{j.base}/billing")
        automation_tab = page.get_by_role("tab", name="Automatización", exact=True)
        if automation_tab.count():
            automation_tab.click()
            settle(page)
        page.get_by_role("tab", name="Vista previa", exact=True).click()
        page.get_by_text("Elija una fecha para ver qué haría el proceso").first.wait_for()
        shot(page, "automation-preview-empty")
        type_date(page, "Fecha de la ejecución", PREVIEW_DAY)
        preview = page.get_by_role("tabpanel").filter(has_text="Fecha de la ejecución")
        preview.get_by_test_id("stDataFrame").wait_for()
        assert page.get_by_text("Elija una fecha para ver qué haría el proceso").count() == 0
        table = preview.get_by_test_id("stDataFrame")
        eventually(lambda: "F-B-1" in table_text(table))
        rows = table_text(table)
        # Client B's renewal F-B-1 is overdue that day; client A's was paid before the journeys.
        for step in (t("automation.kind.first"), "Recargo por mora", t("automation.step.suspend")):
            assert step in rows
        assert "F-B-1" in rows and "cliente-b.ec" in rows and "F-A-1" not in rows
        shot(page, "automation-preview")
        assert automation_owner.runs(owner.actor) == []  # a preview writes nothing
        with read_session() as s:
            assert {x.status for x in s.scalars(select(Service))} == {"active"}

        # A report exported as CSV: the income of the paid invoices.
        nav(page, "Reportes")
        page.get_by_role("tab", name=t("reports.tab_income")).first.wait_for()
        shot(page, "reports")
        with page.expect_download() as info:
            page.get_by_role("button", name=t("exports.csv"), exact=True).first.click()
        download = info.value
        # Named after the report and the day, in the reader's language.
        assert re.fullmatch(r"ingresos-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
        content = Path(download.path()).read_bytes().decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(content)))
        assert rows, content
        assert {"Mes", "Facturas", t("reports.col.base"), "IVA", "Total"} <= set(rows[0])
        # F-A-1 (paid before the journeys) and the plan change's invoice (paid just now).
        assert sum(int(r["Facturas"]) for r in rows) >= 2
        settle(page)
        shot(page, "report-exported")

        # Settings draw one tab at a time; the URL names the open one, so a link or a reload
        # opens it again, and the automation tab links to the billing page's settings tab.
        audit_count = page.get_by_text(re.compile(r"Mostrando \d+ de \d+ registros"))
        invite = page.get_by_role("heading", name=t("settings.invite"))
        open_page(page, f"{j.base}/settings?tab=audit")
        audit_count.wait_for()
        assert invite.count() == 0
        shot(page, "settings-audit-by-link")
        page.get_by_role("tab", name=t("settings.users"), exact=True).click()
        invite.wait_for()
        settle(page)
        eventually(lambda: audit_count.count() == 0)  # the audit tab's run is gone
        eventually(lambda: "tab=" not in page.url)
        page.get_by_role("tab", name=t("catalog.tab_products"), exact=True).click()
        page.get_by_text(t("catalog.product_choice")).first.wait_for()
        eventually(lambda: page.url.endswith("/settings?tab=products"))
        page.reload()
        wait_for_app(page)
        page.get_by_role(
            "tab", name=t("catalog.tab_products"), exact=True, selected=True
        ).wait_for()
        assert invite.count() == 0
        page.get_by_role("tab", name="Automatización", exact=True).click()
        settle(page)
        page.get_by_role("link", name=t("catalog.automation_link")).click()
        page.get_by_role("button", name=t("automation.settings_submit")).wait_for(timeout=30_000)
        assert "auto=settings" in page.url
        shot(page, "automation-settings-by-link")

        sign_out(page)
        shot(page, "owner-signed-out")
    except Exception:
        failure_shot(page, "journey-owner-failed")
        raise
    finally:
        context.close()


def changepackages(j: Journeys) -> int:
    return len(panel_calls(j.whm, "changepackage"))


# ----------------------------------------------------------------- journey 3: client B snoops


def test_client_b_sees_nothing_of_client_a_or_the_owners_pages(journeys: Journeys, browser, shot):
    j, a, b = journeys, journeys.personas.client_a, journeys.personas.client_b
    secrets = ["cliente-a.ec", "F-A-1", "T-A-1", "Ayuda a", "Cliente A", "a@test.ec", "clienta"]
    secrets += [str(made[k]) for k in ("invoice_number", "ticket_number") if k in made]
    secrets.append(SUBJECT)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()

    def nothing_of_a(where: str) -> None:
        seen = everything(page)
        leaked = [s for s in secrets if s in seen]
        assert not leaked, f"{where}: client B sees {leaked}"

    try:
        sign_in(page, j.base, b.email, j.personas.password)  # client B reads English
        wait_for_auth_cookie(page)
        # B's own service, in a table's cells: what the check below reads does include rows.
        eventually(lambda: "cliente-b.ec" in everything(page), timeout=30)
        nothing_of_a("home")
        shot(page, "client-b-home")

        for path, param, value in (
            ("services", "service", a.service_id),
            ("billing", "invoice", a.invoice_id),
            ("tickets", "ticket", a.ticket_id),
            ("email_accounts", "service", a.service_id),
            ("upgrades", "service", a.service_id),
        ):
            if path == "billing" and "invoice_id" in made:
                value = made["invoice_id"]  # the plan change's invoice too, below
            open_page(page, f"{j.base}/{path}?{param}={value}")
            page.get_by_text("Not found.").first.wait_for()
            nothing_of_a(f"/{path}?{param}={value}")
            shot(page, f"b-tries-{path}")
        open_page(page, f"{j.base}/billing?invoice={a.invoice_id}")
        page.get_by_text("Not found.").first.wait_for()
        nothing_of_a("A's renewal invoice")

        for path, title in (
            ("settings", "Settings"),
            ("reports", "Reports"),
            ("clients", "Clients"),
        ):
            open_page(page, f"{j.base}/{path}")
            # Streamlit says "Page not found" and runs B's own home page instead.
            page.get_by_text("Page not found").first.wait_for()
            eventually(lambda: "cliente-b.ec" in everything(page), timeout=30)
            assert page.get_by_role("heading", name=title, exact=True).count() == 0
            assert title not in page.get_by_test_id("stSidebarNav").inner_text()
            nothing_of_a(f"/{path}")
            shot(page, f"b-tries-{path}")
            page.keyboard.press("Escape")  # Streamlit's own "page not found" notice
    except Exception:
        failure_shot(page, "journey-client-b-failed")
        raise
    finally:
        context.close()


# --------------------------------------------------------- journey 4: deep links and reloads


def test_pasted_deep_links_and_reloads_land_on_the_page_asked_for(
    journeys: Journeys, browser, shot
):
    j, a = journeys, journeys.personas.client_a
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    try:
        # Pasted while signed out: the sign-in form, then the invoice asked for.
        open_page(page, f"{j.base}/billing?invoice={a.invoice_id}")
        page.get_by_role("button", name=t("signin.submit")).first.wait_for()
        assert "F-A-1" not in everything(page)
        shot(page, "deep-link-signed-out")
        invoice = page.get_by_role("heading", name="Factura F-A-1")
        sign_in_here(page, a.email, j.personas.password, invoice)
        assert f"/billing?invoice={a.invoice_id}" in page.url
        shot(page, "deep-link-after-sign-in")
        page.reload()
        wait_for_app(page)
        page.get_by_role("heading", name="Factura F-A-1").first.wait_for(timeout=30_000)
        assert f"/billing?invoice={a.invoice_id}" in page.url
        shot(page, "invoice-after-reload")

        # Pasted while signed in, then reloaded: each lands where it was asked.
        for url, heading in (
            (f"/tickets?ticket={a.ticket_id}", "Ticket T-A-1"),
            (f"/services?service={a.service_id}", "cliente-a.ec"),
            (f"/email_accounts?service={a.service_id}", "Crear cuenta de correo"),
            ("/account", t("account.title")),
        ):
            open_page(page, j.base + url)
            page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
            assert page.url.endswith(url)
            page.reload()
            wait_for_app(page)
            page.get_by_role("heading", name=heading).first.wait_for(timeout=30_000)
            assert page.url.endswith(url)
            shot(page, f"reloaded-{url.strip('/').split('?')[0]}")
        sign_out(page)
    except Exception:
        failure_shot(page, "journey-deep-links-failed")
        raise
    finally:
        context.close()
