"""scale indexes: the orders in which the desk pages read at 500,000 invoices

- invoice (status, issued_on): a status filter pages the newest invoices first without
  sorting every invoice of that status;
- ticket (status, sla_due_at, breached, last_reply_at, assignee_id): the triage queue
  orders the open tickets, and the desk counts them and their assignees, from the index
  alone.

Revision ID: 0030
Revises: 0003
Create Date: 2026-11-26 14:00:00
"""

from alembic import op

revision = "0030"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index("ix_invoice_status_issued", ["status", "issued_on"], unique=False)
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ticket_queue",
            ["status", "sla_due_at", "breached", "last_reply_at", "assignee_id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_index("ix_ticket_queue")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_status_issued")
