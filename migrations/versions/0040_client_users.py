"""client users: people a client account's holder invites, with their own permissions

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-04 18:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0040"
down_revision = "0039"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "client_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_client_membership_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_client_membership_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["user_account.id"],
            name=op.f("fk_client_membership_invited_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_membership")),
        sa.UniqueConstraint("user_id", "client_id", name=op.f("uq_client_membership_user_id")),
    )
    op.create_index(
        op.f("ix_client_membership_user_id"), "client_membership", ["user_id"], unique=False
    )
    op.create_index(
        op.f("ix_client_membership_client_id"), "client_membership", ["client_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_client_membership_client_id"), table_name="client_membership")
    op.drop_index(op.f("ix_client_membership_user_id"), table_name="client_membership")
    op.drop_table("client_membership")
