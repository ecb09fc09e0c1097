"""Hand-written SQL for the hot paths, run on the driver's own cursor.

SQLAlchemy Core spends about 100 µs of Python per statement (cache lookup, events, result
wrapping) where SQLite itself needs a few; the work loop runs a dozen statements per
answer, so its statements skip that layer. They still run on the connection, and in the
transaction, that `Store.write()` / `Store.read()` opened.

Statements are written once with `:name` placeholders (which sqlite3 takes as they are)
and rewritten to `%(name)s` for psycopg. They must use SQL that both databases read alike.
Rows come back as named tuples: read them by column name (`row.task_id`), so a column
added to a SELECT never shifts what another reads. Name every computed column with `AS`:
the two databases name `count(*)` differently.
"""

import re
import sqlite3
from collections import namedtuple
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Connection

_PLACEHOLDER = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """One statement, in the parameter style of each driver."""

    __slots__ = ("named", "pyformat", "sqlite_row")

    def __init__(self, text: str):
        self.named = text
        self.pyformat = _PLACEHOLDER.sub(r"%(\1)s", text)
        self.sqlite_row = None  # the row factory, once the statement has run on SQLite

    def text_for(self, conn: Connection) -> str:
        return self.pyformat if conn.dialect.paramstyle == "pyformat" else self.named


def claim_statements(text: str) -> dict[str, Sql]:
    """A SELECT that claims a row, per dialect: on PostgreSQL it takes the row FOR UPDATE
    SKIP LOCKED (a row being claimed elsewhere is passed over, never waited for or
    doubled); SQLite has one writer at a time and needs no lock."""
    return {"sqlite": Sql(text), "postgresql": Sql(text + " FOR UPDATE SKIP LOCKED")}


@lru_cache(maxsize=1024)
def _row_type(names: tuple[str, ...]) -> type[NamedTuple]:
    return namedtuple("Row", names, rename=True)  # type: ignore[return-value]


def _names(description) -> tuple[str, ...]:
    return tuple(column[0] for column in description)


def _psycopg_rows(cursor):
    """psycopg's row factory: each result's rows as named tuples."""
    return _row_type(_names(cursor.description))._make if cursor.description else None


def run(conn: Connection, sql: Sql, params: dict[str, Any] | None = None):
    """Execute `sql` on the connection's driver cursor; returns the cursor, whose rows
    are named tuples."""
    driver = conn.connection.driver_connection
    if not isinstance(driver, sqlite3.Connection):
        cursor = driver.cursor(row_factory=_psycopg_rows)
        cursor.execute(sql.pyformat, params or {})
        return cursor
    cursor = driver.cursor()
    cursor.execute(sql.named, params or {})
    if cursor.description:
        if sql.sqlite_row is None:
            make = _row_type(_names(cursor.description))._make
            sql.sqlite_row = lambda _cursor, row: make(row)
        cursor.row_factory = sql.sqlite_row
    return cursor


def run_many(conn: Connection, sql: Sql, params: list[dict[str, Any]]) -> None:
    if params:
        conn.connection.driver_connection.cursor().executemany(sql.text_for(conn), params)


def one(conn: Connection, sql: Sql, params: dict[str, Any] | None = None) -> Any:
    """The first row (a named tuple), or None."""
    return run(conn, sql, params).fetchone()


def scalar(conn: Connection, sql: Sql, params: dict[str, Any] | None = None) -> Any:
    """The first column of the first row, or None when there is no row."""
    row = run(conn, sql, params).fetchone()
    return None if row is None else row[0]


def all_rows(conn: Connection, sql: Sql, params: dict[str, Any] | None = None) -> list[Any]:
    """Every row, as named tuples."""
    return run(conn, sql, params).fetchall()
