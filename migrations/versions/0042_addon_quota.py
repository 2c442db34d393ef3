"""add-on quota: disk-quota add-ons (the MB a product adds) and their pending panel change

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-05 08:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0042"
down_revision = "0041"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("product", sa.Column("addon_quota_mb", sa.Integer(), nullable=True))
    op.add_column(
        "service_addon",
        sa.Column("panel_pending", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    with op.batch_alter_table("service_addon", schema=None) as batch_op:
        batch_op.drop_column("panel_pending")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("addon_quota_mb")
