"""page indexes: a client's invoices newest first, read from an index

invoice (client_id, issued_on, id) serves a client's billing list (theirs, newest first,
25 a page) in its order. Without it PostgreSQL walked the index of every invoice's issue
date backwards, filtering for the client: ~265,000 rows and 0.3-0.6 s for a client of 48
invoices at scale L (issue 20), growing with the book rather than with the client.

user_account (role) picks the desk's staff and owner (the ticket queue's assignees, the
team) out of the users, where every client has a sign-in: a scan of 100,000 users at ten
times L for two rows.

invoice (status, due_on, issued_on, id) serves the desk's unpaid invoices in their order
(oldest due first, then oldest issued), a page at a time.

client (name, id) serves the desk's client list and the client pickers, which read clients
in name order a page at a time: without it each rerun sorted every client.

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-05 13:00:00
"""

from alembic import op

revision = "0044"
down_revision = "0043"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.create_index("ix_client_name_id", ["name", "id"], unique=False)
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoice_client_issued", ["client_id", "issued_on", "id"], unique=False
        )
        batch_op.create_index(
            "ix_invoice_status_due_issued", ["status", "due_on", "issued_on", "id"], unique=False
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.create_index("ix_user_account_role", ["role"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("client", schema=None) as batch_op:
        batch_op.drop_index("ix_client_name_id")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_index("ix_user_account_role")
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_index("ix_invoice_status_due_issued")
        batch_op.drop_index("ix_invoice_client_issued")
