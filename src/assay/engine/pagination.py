"""Keyset pagination over time-ordered ids: stable while rows are being inserted."""

import base64
import binascii

from assay.errors import FieldError, Invalid

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


def paginate(rows: list, limit: int, key=lambda r: r["id"]) -> tuple[list, str | None]:
    """Given up to limit+1 rows, return the page and the token for the next one."""
    if len(rows) > limit:
        page = rows[:limit]
        return page, encode_token(key(page[-1]))
    return rows, None
