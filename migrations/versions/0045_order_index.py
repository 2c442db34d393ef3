"""order index: the newest pending services, read from an index

service (status, registration_date, id) serves the orders list (pending services, newest
first, a page of them): the list walks it backwards and stops at the page, looking up each
order's invoice as it goes. Before, it grouped the order lines of every pending service in
the book to find their invoices: 62-107 ms at ten times scale L (issue 20), five times its
time at L, where pages should cost at most one and a half times.

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-05 16:00:00
"""

from alembic import op

revision = "0045"
down_revision = "0044"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_status_registered", ["status", "registration_date", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("service", schema=None) as batch_op:
        batch_op.drop_index("ix_service_status_registered")
