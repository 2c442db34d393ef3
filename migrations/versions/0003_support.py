"""support: SLA clock columns on ticket, WhatsApp prefill on support_channel

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("resolution_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("breached", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("support_channel", schema=None) as batch_op:
        batch_op.add_column(sa.Column("prefill", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("support_channel", schema=None) as batch_op:
        batch_op.drop_column("prefill")
    with op.batch_alter_table("ticket", schema=None) as batch_op:
        batch_op.drop_column("breached")
        batch_op.drop_column("resolution_due_at")
        batch_op.drop_column("sla_started_at")
