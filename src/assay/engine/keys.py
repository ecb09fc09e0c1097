"""API keys: random secrets shown once, stored as SHA-256 digests, each with one role."""

import hashlib
import secrets
from dataclasses import dataclass

import orjson
from sqlalchemy import select, update

from assay.engine.pagination import fetch_page
from assay.enums import ROLES, WORKER_ROLES
from assay.errors import NotFound
from assay.ids import new_id, utc_now
from assay.store.db import Store, as_dict
from assay.store.sql import Sql, one
from assay.store.tables import api_keys, workers

KEY_PREFIX = "assay_"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: str
    name: str | None
    worker_active: bool | None = None
    """For worker keys (else None): whether the worker may work, and their skills."""
    worker_skills: frozenset[str] | None = None


def digest(secret: str) -> str:
    # Keys carry 256 random bits, so a fast digest is as strong as a slow KDF here.
    return hashlib.sha256(secret.encode()).hexdigest()


def _public(row) -> dict:
    out = as_dict(row)
    out.pop("key_hash", None)
    return out


def create_key(
    store: Store, role: str, name: str | None = None, skills: list[str] | None = None
) -> dict:
    """Create a key; the returned dict's `key` is the only time the secret is seen.

    A key of a worker role (annotator, reviewer) is a worker: it gets a workers row, with
    the same id, in the same transaction.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    row = {
        "id": new_id(),
        "name": name,
        "role": role,
        "key_hash": digest(secret),
        "prefix": secret[: len(KEY_PREFIX) + 6],
        "created_at": utc_now(),
        "revoked_at": None,
    }
    with store.write() as conn:
        conn.execute(api_keys.insert(), row)
        if role in WORKER_ROLES:
            conn.execute(
                workers.insert(),
                {
                    "id": row["id"],
                    "name": name or f"worker {row['id'][-6:]}",
                    "skills": orjson.dumps(skills or []).decode(),
                    "active": 1,
                    "created_at": row["created_at"],
                    "blocked_at": None,
                },
            )
    return _public(row) | {"key": secret}


# One lookup per request: the key, and the worker behind it if there is one.
_BY_DIGEST = Sql(
    "SELECT k.id, k.role, k.name, w.active, w.skills FROM api_keys k"
    " LEFT JOIN workers w ON w.id = k.id"
    " WHERE k.key_hash = :digest AND k.revoked_at IS NULL"
)


def authenticate(store: Store, secret: str) -> Principal | None:
    with store.read() as conn:
        row = one(conn, _BY_DIGEST, {"digest": digest(secret)})
    return None if row is None else principal_of(row)


def principal_of(row) -> Principal:
    """A key's principal from a row of its id, role and name and (for worker keys) its
    worker's active and skills columns; both None for keys that are not workers."""
    if row.active is None:
        return Principal(row.id, row.role, row.name)
    return Principal(
        row.id, row.role, row.name, bool(row.active), frozenset(orjson.loads(row.skills))
    )


def list_keys(store: Store, limit: int, next_token: str | None) -> tuple[list[dict], str | None]:
    return fetch_page(store, select(api_keys), api_keys.c.id, limit, next_token, _public)


def revoke_key(store: Store, key_id: str) -> dict:
    """Revoke a key; revoking twice is harmless and keeps the first revocation time."""
    with store.write() as conn:
        conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utc_now())
        )
        row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise NotFound("key", key_id)
    return _public(row)
