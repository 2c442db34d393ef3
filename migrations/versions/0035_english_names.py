"""english names: the owner's texts a client reads get an English value beside the Spanish

A plan's name, a department's name and a support channel's label were one text, so the English
UI showed "Básico", "Facturación", "Soporte técnico". Each gets an optional English value
(empty: the Spanish one is shown in both languages).

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-04 18:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

COLUMNS = (("product", "name_en", 120), ("department", "name_en", 100))
LABELS = (("support_channel", "label_en", 100),)


def upgrade() -> None:
    for table, column, length in (*COLUMNS, *LABELS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.String(length=length), nullable=True))


def downgrade() -> None:
    for table, column, _length in (*COLUMNS, *LABELS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
