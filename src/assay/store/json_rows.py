"""Render rows as JSON objects inside the database.

SQLite's json_object and PostgreSQL's json_build_object encode a row in C, several times
faster than fetching the columns and encoding them in Python; exports use this.
"""

from sqlalchemy import JSON, ColumnElement, String, Text, cast, func, literal


def json_object(
    dialect: str, fields: dict[str, ColumnElement], json_fields: frozenset[str]
) -> ColumnElement[str]:
    """An expression giving each row as JSON object text with `fields` as its keys, in
    order. Columns named in `json_fields` hold JSON text and are embedded, not quoted."""
    args: list[ColumnElement] = []
    for name, column in fields.items():
        if name in json_fields:
            column = func.json(column) if dialect == "sqlite" else cast(column, JSON)
        args += [literal(name, String), column]
    if dialect == "sqlite":
        return func.json_object(*args)
    return cast(func.json_build_object(*args), Text)
