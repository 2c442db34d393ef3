"""add-ons: products of kind add-on, the add-ons ordered on services, their charges

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-04 18:45:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0041"
down_revision = "0040"
branch_labels = None
depends_on = None


def _money() -> sa.types.TypeEngine:
    # As 0031 left every amount: integer cents on SQLite, exact NUMERIC elsewhere.
    if op.get_bind().dialect.name == "sqlite":
        return sa.Integer()
    return sa.Numeric(precision=12, scale=2)


def upgrade() -> None:
    op.add_column(
        "product",
        sa.Column("kind", sa.String(length=10), nullable=False, server_default="hosting"),
    )
    op.add_column("product", sa.Column("addon_fits", sa.JSON(), nullable=True))
    op.add_column("product", sa.Column("addon_action", sa.String(length=10), nullable=True))
    op.create_table(
        "service_addon",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("recurring_amount", _money(), nullable=False),
        sa.Column("next_due_date", sa.Date(), nullable=True),
        sa.Column("cancel_at", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_service_addon_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["service_id"], ["service.id"], name=op.f("fk_service_addon_service_id_service")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_service_addon_product_id_product")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_addon")),
    )
    with op.batch_alter_table("service_addon", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_addon_client_id"), ["client_id"])
        batch_op.create_index(batch_op.f("ix_service_addon_service_id"), ["service_id"])
    op.create_table(
        "addon_charge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("addon_id", sa.Integer(), nullable=False),
        sa.Column("invoice_item_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["addon_id"], ["service_addon.id"], name=op.f("fk_addon_charge_addon_id_service_addon")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_item_id"],
            ["invoice_item.id"],
            name=op.f("fk_addon_charge_invoice_item_id_invoice_item"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addon_charge")),
        sa.UniqueConstraint("addon_id", "period_start", name=op.f("uq_addon_charge_addon_id")),
        sa.UniqueConstraint("invoice_item_id", name=op.f("uq_addon_charge_invoice_item_id")),
    )
    with op.batch_alter_table("addon_charge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_addon_charge_addon_id"), ["addon_id"])


def downgrade() -> None:
    op.drop_table("addon_charge")
    op.drop_table("service_addon")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("addon_action")
        batch_op.drop_column("addon_fits")
        batch_op.drop_column("kind")
