"""Throwaway MariaDB databases for the importer's tests and bench: one per test module,
built from the real schema files in /work/shared/design/import/ and dropped afterwards."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pymysql

SCHEMAS = Path(os.environ.get("IMPORT_SCHEMAS", "/work/shared/design/import"))
HOST = os.environ.get("MARIADB_HOST", "127.0.0.1")
PORT = int(os.environ.get("MARIADB_PORT", "3306"))


def available() -> bool:
    try:
        pymysql.connect(host=HOST, port=PORT, user="root", password="").close()
    except pymysql.err.OperationalError:
        return False
    return True


def connect(database: str | None = None) -> Any:
    conn = pymysql.connect(
        host=HOST,
        port=PORT,
        user="root",
        password="",
        database=database,
        charset="utf8mb4",
        autocommit=True,
    )
    with conn.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")  # as WHMCS runs: zero dates, implicit defaults
    return conn


def create(name: str, schema_file: str) -> str:
    """A fresh database ``name`` with the CREATE TABLEs of ``schema_file``; its URL."""
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{name}`")
        sql = (SCHEMAS / schema_file).read_text(encoding="utf-8")
        for stmt in re.findall(r"^CREATE TABLE .*?^\) ENGINE=[^;]*;", sql, flags=re.S | re.M):
            cur.execute(stmt)
    conn.close()
    return f"mysql+pymysql://root@{HOST}:{PORT}/{name}"


def drop(name: str) -> None:
    conn = connect()
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def put(conn: Any, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table``; omitted NOT NULL columns take ''/0 (sql_mode '')."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    for cols, same in groups.items():
        names = ", ".join(f"`{c}`" for c in cols)
        marks = ", ".join(["%s"] * len(cols))
        sql = f"INSERT INTO `{table}` ({names}) VALUES ({marks})"  # noqa: S608 - fixture names
        with conn.cursor() as cur:
            cur.executemany(sql, [tuple(r[c] for c in cols) for r in same])
