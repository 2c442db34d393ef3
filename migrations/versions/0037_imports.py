"""imports: the mapping from a source system's rows (WHMCS, FOSSBilling, WHM) to ours

Revision ID: 0037
Revises: 0036
Create Date: 2026-12-04 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0037"
down_revision = "0036"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_link")),
        sa.UniqueConstraint("system", "kind", "source_id", name=op.f("uq_import_link_system")),
    )


def downgrade() -> None:
    op.drop_table("import_link")
