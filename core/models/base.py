"""SQLAlchemy tables: persistence only, no behaviour.

Money columns are exact on every engine and read back as Decimal: NUMERIC(12, 2) on
PostgreSQL, integer cents on SQLite, whose NUMERIC is a binary float (``money_type``).
Timestamps are naive UTC (``clock.now``) on both engines, so comparisons never mix aware and
naive values. Billing dates are plain
calendar dates in the business time zone. Later issues extend this by Alembic migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    Integer,
    MetaData,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.models.money_type import ExactDecimal
from core.platform.clock import now

Money = ExactDecimal(12, 2)  # integer cents on SQLite
Rate = ExactDecimal(6, 3)  # a tax percentage such as 15.000; integer thousandths on SQLite

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _id() -> Mapped[int]:
    return mapped_column(Integer, primary_key=True)


def _created() -> Mapped[datetime]:
    return mapped_column(DateTime, default=now, nullable=False)
