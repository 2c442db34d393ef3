"""Read-only access to a source database (MariaDB/MySQL through PyMySQL).

The session is declared READ ONLY on the server, so even a bug here cannot write to the
business's old system. Tables are read in pages by primary key, so memory stays flat
whatever the size of the book."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from core.platform.errors import ValidationError

PAGE = 2000


def source_url(url: str) -> str:
    """``mysql://`` and ``mariadb://`` URLs go through PyMySQL; anything else is refused."""
    try:
        parsed = make_url(url.strip())
    except ArgumentError as exc:
        raise ValidationError("imports.error.bad_url") from exc
    backend = parsed.get_backend_name()
    if backend not in {"mysql", "mariadb"}:
        raise ValidationError("imports.error.bad_url")
    return parsed.set(drivername="mysql+pymysql").render_as_string(hide_password=False)


class Source:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(
            source_url(url), pool_pre_ping=True, connect_args={"charset": "utf8mb4"}
        )
        try:
            self.conn: Connection = self.engine.connect()
            self.conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise ValidationError("imports.error.unreachable") from exc
        self._tables: set[str] | None = None
        self._columns: dict[str, set[str]] = {}

    def close(self) -> None:
        self.conn.close()
        self.engine.dispose()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def tables(self) -> set[str]:
        """The source's tables: schema drift is detected by what is there (§7.25)."""
        if self._tables is None:
            self._tables = {row[0] for row in self.conn.exec_driver_sql("SHOW TABLES")}
        return self._tables

    def columns(self, table: str) -> set[str]:
        return {row[0] for row in self.conn.exec_driver_sql(f"SHOW COLUMNS FROM `{table}`")}

    def fields(self, table: str, names: str, alias: str = "") -> str:
        """A SELECT list of ``names`` (comma-separated, our constants) where a column this
        version lacks reads as NULL: WHMCS 7.0 has no tax_id, 7.8 no addon first payment."""
        have = self._columns.get(table)
        if have is None:
            have = self._columns[table] = self.columns(table)
        prefix = f"{alias}." if alias else ""
        picked = []
        for name in (n.strip() for n in names.split(",")):
            picked.append(f"{prefix}{name}" if name in have else f"NULL AS {name}")
        return ", ".join(picked)

    def select(self, table: str, names: str, tail: str = "") -> str:
        """``SELECT names FROM table tail`` with :meth:`fields`; table and names are the
        reader's constants, never input."""
        return f"SELECT {self.fields(table, names)} FROM {table} {tail}".strip()  # noqa: S608

    def all(self, sql: str, **params: Any) -> list[Any]:
        return list(self.conn.execute(text(sql), params))

    def pages(
        self, sql: str, key: str = "id", size: int = PAGE, **params: Any
    ) -> Iterator[list[Any]]:
        """Rows of ``sql`` (which must end in a WHERE clause … AND) ordered by ``key``, one
        page at a time: ``sql`` gets ``{key} > :_after ORDER BY {key} LIMIT size`` appended."""
        after = -1
        while True:
            rows = self.all(
                f"{sql} {key} > :_after ORDER BY {key} LIMIT {size}", _after=after, **params
            )
            if not rows:
                return
            yield rows
            after = getattr(rows[-1], key.split(".")[-1])
            if len(rows) < size:
                return

    def many(self, sql: str, ids: Sequence[Any], **params: Any) -> list[Any]:
        """``sql`` with ``IN :ids`` expanded (ids of one page)."""
        if not ids:
            return []
        from sqlalchemy import bindparam

        lists = ["ids"] + [k for k, v in params.items() if isinstance(v, list | tuple)]
        stmt = text(sql).bindparams(*(bindparam(k, expanding=True) for k in lists))
        return list(
            self.conn.execute(
                stmt,
                {
                    "ids": list(ids),
                    **{k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
                },
            )
        )
