"""Keyset pagination over time-ordered ids: stable while rows are being inserted."""

import base64
import binascii
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Row, Select

from assay.errors import FieldError, Invalid
from assay.store.db import Store

_PREFIX = "v1:"


def encode_token(last_id: str) -> str:
    return base64.urlsafe_b64encode((_PREFIX + last_id).encode()).decode().rstrip("=")


def decode_token(token: str | None) -> str | None:
    """The id after which the next page starts; a malformed token is the client's error."""
    if not token:
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raw = ""
    if not raw.startswith(_PREFIX) or len(raw) > 64:
        raise Invalid([FieldError("next_token", "not a token this server issued")])
    return raw[len(_PREFIX) :]


def fetch_page(
    store: Store,
    query: Select,
    id_column: ColumnElement[str],
    limit: int,
    next_token: str | None,
    render: Callable[[Row], dict[str, Any]],
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of `query` in id order after the token's id, and the token for the next."""
    after = decode_token(next_token)
    query = query.order_by(id_column).limit(limit + 1)
    if after:
        query = query.where(id_column > after)
    with store.read() as conn:
        rows = [render(row) for row in conn.execute(query)]
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_token(rows[-1]["id"])
    return rows, None
