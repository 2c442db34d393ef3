"""exact money on SQLite: amounts as integer cents, tax rates as integer thousandths

On SQLite a NUMERIC column holds a binary float, so a SQL sum of 0.10 + 0.20 - 0.30 was not 0
(ARCHITECTURE §2 rule 4). Every money column becomes an INTEGER of cents and the tax rate an
INTEGER of thousandths of a percent point (``core.models.money_type``). Stored values had at
most 2 (rates 3) decimals, so ``ROUND(x * 100)`` recovers each one exactly: the float is off
by far less than half a cent, and SQLite's ROUND rounds half away from zero.

PostgreSQL's NUMERIC is exact already: nothing changes there.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# table -> (column, precision, scale); written out, as a migration must not follow the models.
COLUMNS: dict[str, list[tuple[str, int, int]]] = {
    "client": [("credit_balance", 12, 2)],
    "invoice": [
        ("subtotal", 12, 2),
        ("tax_total", 12, 2),
        ("total", 12, 2),
        ("amount_paid", 12, 2),
        ("credit_applied", 12, 2),
        ("balance", 12, 2),
    ],
    "product_price": [("price", 12, 2), ("setup_fee", 12, 2)],
    "service": [("recurring_amount", 12, 2), ("first_payment_amount", 12, 2)],
    "credit_ledger": [("amount", 12, 2)],
    "invoice_item": [("amount", 12, 2), ("tax_rate", 6, 3), ("tax_amount", 12, 2)],
    "payment": [("amount", 12, 2)],
    "transfer_receipt": [("amount", 12, 2)],
}


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade() -> None:
    if not _sqlite():
        return
    for table, columns in COLUMNS.items():
        # Scale in place first: batch mode copies the rows with CAST(x AS INTEGER), which
        # would truncate 0.10 to 0.
        sets = ", ".join(
            f"{name} = CAST(ROUND({name} * {10**scale}) AS INTEGER)" for name, _p, scale in columns
        )
        op.execute(f"UPDATE {table} SET {sets}")  # noqa: S608 - names are the constants above
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, precision, scale in columns:
                batch_op.alter_column(
                    name,
                    existing_type=sa.Numeric(precision=precision, scale=scale),
                    type_=sa.Integer(),
                    existing_nullable=False,
                )


def downgrade() -> None:
    if not _sqlite():
        return
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, precision, scale in columns:
                batch_op.alter_column(
                    name,
                    existing_type=sa.Integer(),
                    type_=sa.Numeric(precision=precision, scale=scale),
                    existing_nullable=False,
                )
        # The nearest float to each amount, as the NUMERIC column held before.
        sets = ", ".join(f"{name} = {name} / {10**scale}.0" for name, _p, scale in columns)
        op.execute(f"UPDATE {table} SET {sets}")  # noqa: S608 - names are the constants above
