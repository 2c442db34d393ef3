"""sri exchanges: every request to the SRI web services and its raw answer; mail attachments

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-04 17:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0039"
down_revision = "0038"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sri_exchange",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=12), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["electronic_document.id"],
            name=op.f("fk_sri_exchange_document_id_electronic_document"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sri_exchange")),
    )
    with op.batch_alter_table("sri_exchange", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sri_exchange_document_id"), ["document_id"])
        batch_op.create_index(batch_op.f("ix_sri_exchange_at"), ["at"])
    op.create_table(
        "mail_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mail_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["mail_id"], ["mail_outbox.id"], name=op.f("fk_mail_attachment_mail_id_mail_outbox")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_attachment")),
    )
    with op.batch_alter_table("mail_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mail_attachment_mail_id"), ["mail_id"])


def downgrade() -> None:
    op.drop_table("mail_attachment")
    op.drop_table("sri_exchange")
