"""Hand-written SQL for the hot paths, run on the driver's own cursor.

SQLAlchemy Core spends about 100 µs of Python per statement (cache lookup, events, result
wrapping) where SQLite itself needs a few; the work loop runs a dozen statements per
answer, so its statements skip that layer. They still run on the connection, and in the
transaction, that `Store.write()` / `Store.read()` opened.

Statements are written once with `:name` placeholders (which sqlite3 takes as they are)
and rewritten to `%(name)s` for psycopg. They must use SQL that both databases read alike.
"""

import re
from typing import Any

from sqlalchemy import Connection

_PLACEHOLDER = re.compile(r"(?<![:\w]):(\w+)")


class Sql:
    """One statement, in the parameter style of each driver."""

    __slots__ = ("named", "pyformat")

    def __init__(self, text: str):
        self.named = text
        self.pyformat = _PLACEHOLDER.sub(r"%(\1)s", text)

    def text_for(self, conn: Connection) -> str:
        return self.pyformat if conn.dialect.paramstyle == "pyformat" else self.named


def claim_statements(text: str) -> dict[str, Sql]:
    """A SELECT that claims a row, per dialect: on PostgreSQL it takes the row FOR UPDATE
    SKIP LOCKED (a row being claimed elsewhere is passed over, never waited for or
    doubled); SQLite has one writer at a time and needs no lock."""
    return {"sqlite": Sql(text), "postgresql": Sql(text + " FOR UPDATE SKIP LOCKED")}


def run(conn: Connection, sql: Sql, params: dict[str, Any] | None = None):
    """Execute `sql` on the connection's driver cursor; returns the cursor."""
    cursor = conn.connection.driver_connection.cursor()
    cursor.execute(sql.text_for(conn), params or {})
    return cursor


def run_many(conn: Connection, sql: Sql, params: list[dict[str, Any]]) -> None:
    if params:
        conn.connection.driver_connection.cursor().executemany(sql.text_for(conn), params)


def one(conn: Connection, sql: Sql, params: dict[str, Any] | None = None) -> tuple | None:
    """The first row (a tuple), or None."""
    return run(conn, sql, params).fetchone()


def all_rows(conn: Connection, sql: Sql, params: dict[str, Any] | None = None) -> list[tuple]:
    return run(conn, sql, params).fetchall()
