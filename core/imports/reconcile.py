"""What a later run and the money check add to the writer.

Between a Friday import and a Monday switch the old system keeps working: renewals are
paid, due dates move, services are suspended. A later run brings those changes to rows
it imported before (only when they differ: an unchanged source changes nothing here).
The money check compares, per client, the source's open balance and credit with ours
(import-sources.md §7.7): a row that did not come over shows up there."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from core.imports.links import Linked
from core.imports.records import Balance, InvoiceRec, ServiceRec
from core.imports.report import Mismatch
from core.models import Client, Invoice, Service

ZERO = Decimal("0.00")


class Reconciling(Linked):
    def _sync_services(self, recs: list[ServiceRec]) -> None:
        mine = self._imported("services", recs)
        if not mine:
            return
        changes = []
        for svc in self.s.scalars(select(Service).where(Service.id.in_(mine))):
            rec = mine[svc.id]
            now = {
                "status": rec.status,
                "billing_cycle": rec.cycle,
                "next_due_date": rec.next_due,
                "recurring_amount": rec.amount,
                "terminated_on": rec.terminated_on,
            }
            if any(getattr(svc, k) != v for k, v in now.items()):
                changes.append({"_id": svc.id, **now})
        self._update(Service, changes, "services")

    def _sync_invoices(self, recs: list[InvoiceRec]) -> None:
        mine = self._imported("invoices", recs)
        if not mine:
            return
        changes = []
        for inv in self.s.scalars(select(Invoice).where(Invoice.id.in_(mine))):
            rec = mine[inv.id]
            balance = ZERO
            if rec.status == "unpaid":
                balance = max(inv.total - rec.paid - rec.credit, ZERO)
            elif rec.status == "draft":
                balance = inv.total
            now = {
                "status": rec.status,
                "amount_paid": rec.paid,
                "credit_applied": rec.credit,
                "balance": balance,
                "paid_at": rec.paid_at if rec.status == "paid" else None,
            }
            if any(getattr(inv, k) != v for k, v in now.items()):
                changes.append({"_id": inv.id, **now})
        self._update(Invoice, changes, "invoices")

    def money_check(self, source: dict[str, Balance]) -> None:
        """Per client, the source's open balance and credit against ours (§7.7)."""
        clients = self.links("clients")
        ours_open = dict(
            self.s.execute(
                select(Invoice.client_id, func.sum(Invoice.balance))
                .where(Invoice.status == "unpaid")
                .group_by(Invoice.client_id)
            )
            .tuples()
            .all()
        )
        credit = dict(self.s.execute(select(Client.id, Client.credit_balance)).tuples().all())
        for sid, cid in sorted(
            clients.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0
        ):
            theirs = source.get(sid)
            if theirs is None:
                continue
            ours = Decimal(ours_open.get(cid) or ZERO)
            if ours != theirs.open or credit.get(cid, ZERO) != max(theirs.credit, ZERO):
                self.report.mismatches.append(
                    Mismatch(
                        sid, str(theirs.open), str(ours), str(theirs.credit), str(credit.get(cid))
                    )
                )
