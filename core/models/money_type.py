"""Exact fixed-point columns on every engine (ARCHITECTURE §2 rule 4).

PostgreSQL's NUMERIC is exact, so there the column stays ``NUMERIC(p, s)``. SQLite has no
decimal storage: a NUMERIC column holds a binary float, so a SQL ``SUM`` of 0.10 + 0.20 − 0.30
is not 0. There the column holds an INTEGER count of the smallest unit (cents for money,
thousandths for a rate): integer sums are exact, and values come back as ``Decimal``.

The SQL expression type stays this one through ``sum``/``min``/``max``/``coalesce``/``case``,
through ``+``/``-`` between two such columns and through ``column * number`` or
``column / number``, so the integer is scaled back when read. A plain number compared with,
added to or subtracted from a column is bound in the column's unit too. Not covered, on
SQLite: a literal amount inside ``func.*``/``case`` (write ``literal(v, Money)``), a function
whose type SQLAlchemy does not take from its argument (``func.abs(col, type_=Money)``),
``avg``, and column × column or column ÷ column (the unit changes): do that in Python.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Integer, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator, TypeEngine

# Engines whose NUMERIC is a binary float; everywhere else NUMERIC(p, s) is exact.
SCALED_INTEGER_DIALECTS = frozenset({"sqlite"})

# Operators that keep the column's unit: a literal beside the column is bound in that unit.
_SAME_UNIT = frozenset(
    {
        operators.eq,
        operators.ne,
        operators.lt,
        operators.le,
        operators.gt,
        operators.ge,
        operators.add,
        operators.sub,
        operators.in_op,
        operators.not_in_op,
        operators.between_op,
        operators.not_between_op,
        operators.is_distinct_from,
        operators.is_not_distinct_from,
        operators.and_,  # how ``between`` coerces its two bounds
    }
)
_SCALING = frozenset({operators.mul, operators.truediv})


class ExactDecimal(TypeDecorator[Decimal]):
    """``NUMERIC(precision, scale)`` read as ``Decimal``; an INTEGER of 10**-scale units on
    SQLite. Values are quantized to ``scale`` decimals with ROUND_HALF_UP (what PostgreSQL
    does on insert), so both engines store the same number."""

    impl = Numeric
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[Decimal], Numeric.Comparator):
        """Keeps this type on ``column * number`` and ``column / number`` (an amount scaled
        is still an amount), where plain NUMERIC would hand the number's type to the result
        and the integer on SQLite would be read unscaled."""

        def _adapt_expression(self, op: Any, other_comparator: Any) -> tuple[Any, Any]:
            if op in _SCALING and not isinstance(other_comparator.type, ExactDecimal):
                return op, self.type
            return super()._adapt_expression(op, other_comparator)

    comparator_factory = Comparator

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale
        self._step = Decimal(1).scaleb(-scale)  # 0.01 for scale 2
        self._factor = 10**scale

    def __repr__(self) -> str:
        # Alembic autogenerate renders the type from this.
        return f"{type(self).__name__}({self.precision}, {self.scale})"

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in SCALED_INTEGER_DIALECTS:
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def _decimal(self, value: Any) -> Decimal:
        if isinstance(value, float):
            # Rule 4: no float reaches a money column; a float here is a bug upstream.
            raise TypeError(f"float {value!r} given to an exact decimal column")
        return Decimal(value).quantize(self._step, rounding=ROUND_HALF_UP)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        exact = self._decimal(value)
        if dialect.name in SCALED_INTEGER_DIALECTS:
            return int(exact.scaleb(self.scale))
        return exact

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        bound = self.process_bind_param(value, dialect)
        return "NULL" if bound is None else str(bound)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name in SCALED_INTEGER_DIALECTS:
            if isinstance(value, float):
                # Only an aggregate such as AVG gives a float back; its digits as printed.
                value = Decimal(repr(value))
            return (Decimal(value) / self._factor).quantize(self._step, rounding=ROUND_HALF_UP)
        return Decimal(value).quantize(self._step, rounding=ROUND_HALF_UP)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite, the integer read back as a Decimal by moving its decimal point
        (``scaleb``: exact, already at the column's scale, so no division and no rounding),
        each distinct integer converted once per column type: a listing or an export of
        hundreds of thousands of rows repeats few amounts, and this conversion was most of the
        cost of reading them. Anything else (an AVG's float, another engine) goes through
        ``process_result_value``."""
        if dialect.name not in SCALED_INTEGER_DIALECTS:
            return super().result_processor(dialect, coltype)
        slow = self.process_result_value
        exponent = -self.scale
        known: dict[int, Decimal] = {}  # Decimals are immutable: sharing one is safe

        def process(value: Any) -> Decimal | None:
            if type(value) is int:
                out = known.get(value)
                if out is None:
                    out = Decimal(value).scaleb(exponent)
                    if len(known) < 100_000:
                        known[value] = out
                return out
            return None if value is None else slow(value, dialect)

        return process

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine[Any]:
        if op in _SAME_UNIT:
            return self
        # A factor or divisor is a plain number, not an amount in this column's unit. A
        # divisor is bound as NUMERIC so SQLite divides the integer without truncating.
        if isinstance(value, int) and op is not operators.truediv:
            return Integer()
        return Numeric(asdecimal=True)

    @property
    def python_type(self) -> type:
        return Decimal
