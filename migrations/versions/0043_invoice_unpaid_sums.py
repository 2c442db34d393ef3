"""invoice unpaid sums: the desk's receivables read from an index alone

invoice (status, due_on, balance) replaces invoice (status, due_on): every read the old one
served it serves in the same order (overdue counts, the oldest unpaid first), and the sum of
the unpaid balances on the desk's home, with the overdue part, no longer visits the table's
rows. After a daily run added ~18,000 unpaid invoices to the L book, that sum read ~25,000
rows from the table on every home rerun (issue 20).

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-05 09:00:00
"""

from alembic import op

revision = "0043"
down_revision = "0042"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_status_due")
        batch_op.create_index(
            "ix_invoice_status_due_balance", ["status", "due_on", "balance"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_status_due_balance")
        batch_op.create_index("ix_invoice_status_due", ["status", "due_on"], unique=False)
