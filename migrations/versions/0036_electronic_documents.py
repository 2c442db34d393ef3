"""electronic documents: SRI facturas and notas de crédito as issued and signed

Revision ID: 0036
Revises: 0031
Create Date: 2026-12-04 17:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0036"
down_revision = "0031"
branch_labels = None
depends_on = None


def _money() -> sa.types.TypeEngine:
    # As 0031 left every amount: integer cents on SQLite, exact NUMERIC elsewhere.
    if op.get_bind().dialect.name == "sqlite":
        return sa.Integer()
    return sa.Numeric(precision=12, scale=2)


def upgrade() -> None:
    op.create_table(
        "electronic_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=2), nullable=False),
        sa.Column("environment", sa.Integer(), nullable=False),
        sa.Column("establishment", sa.String(length=3), nullable=False),
        sa.Column("emission_point", sa.String(length=3), nullable=False),
        sa.Column("sequential", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=17), nullable=False),
        sa.Column("access_key", sa.String(length=49), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("xml_signed", sa.Text(), nullable=False),
        sa.Column("xml_authorised", sa.Text(), nullable=True),
        sa.Column("authorisation_number", sa.String(length=49), nullable=True),
        sa.Column("authorised_at", sa.DateTime(), nullable=True),
        sa.Column("messages", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("modified_document_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("total", _money(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_id"], ["client.id"], name=op.f("fk_electronic_document_client_id_client")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoice.id"], name=op.f("fk_electronic_document_invoice_id_invoice")
        ),
        sa.ForeignKeyConstraint(
            ["modified_document_id"],
            ["electronic_document.id"],
            name=op.f("fk_electronic_document_modified_document_id_electronic_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_electronic_document")),
        sa.UniqueConstraint("access_key", name=op.f("uq_electronic_document_access_key")),
        sa.UniqueConstraint(
            "doc_type",
            "establishment",
            "emission_point",
            "sequential",
            name=op.f("uq_electronic_document_doc_type"),
        ),
    )
    with op.batch_alter_table("electronic_document", schema=None) as batch_op:
        for column in ("client_id", "invoice_id", "issued_on", "status", "modified_document_id"):
            batch_op.create_index(
                batch_op.f(f"ix_electronic_document_{column}"), [column], unique=False
            )


def downgrade() -> None:
    op.drop_table("electronic_document")
