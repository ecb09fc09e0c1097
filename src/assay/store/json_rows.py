"""Render rows as JSON objects inside the database.

SQLite's json_object and PostgreSQL's json_build_object encode a row in C, several times
faster than fetching the columns and encoding them in Python; exports use this.
"""

from sqlalchemy import (
    JSON,
    ColumnElement,
    LargeBinary,
    String,
    Text,
    cast,
    func,
    literal,
    type_coerce,
)
from sqlalchemy.types import NullType


def json_object(
    dialect: str, fields: dict[str, ColumnElement], json_fields: frozenset[str]
) -> ColumnElement[bytes]:
    """An expression giving each row as a JSON object in UTF-8 bytes with `fields` as its
    keys, in order. Columns named in `json_fields` hold JSON text and are embedded, not
    quoted. Bytes, not text, so that the rows go to the client without being decoded
    and encoded again."""
    args: list[ColumnElement] = []
    for name, column in fields.items():
        if name in json_fields:
            column = func.json(column) if dialect == "sqlite" else cast(column, JSON)
        args += [literal(name, String), column]
    if dialect == "sqlite":
        encoded = cast(func.json_object(*args), LargeBinary)
    else:
        encoded = func.convert_to(cast(func.json_build_object(*args), Text), "UTF8")
    return type_coerce(encoded, NullType)  # no per-row result processing
