"""SQLAlchemy tables: persistence only, no behaviour.

Money columns are Numeric(12, 2) read back as Decimal. Timestamps are naive UTC (``clock.now``)
on both engines, so comparisons never mix aware and naive values. Billing dates are plain
calendar dates in the business time zone. Later issues extend this by Alembic migration.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    Integer,
    MetaData,
    Numeric,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.platform.clock import now

Money = Numeric(12, 2, asdecimal=True)
Rate = Numeric(6, 3, asdecimal=True)

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
