"""Projects: one kind of work, its settings, and the secret that signs its callbacks."""

import secrets
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from assay.engine.pagination import fetch_page
from assay.errors import NotFound
from assay.ids import new_id, utc_now
from assay.kinds import validate_params
from assay.store.db import Store, as_dict
from assay.store.tables import projects

_PUBLIC = [c for c in projects.c if c.name != "callback_secret"]


def _public(row) -> dict[str, Any]:
    out = as_dict(row)
    out["params"] = orjson.loads(out["params"])
    out.pop("callback_secret", None)
    return out


def require_project(conn: Connection, project_id: str, field: str | None = "project") -> None:
    """Raise NotFound (naming `field`) unless the project exists."""
    found = conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first()
    if found is None:
        raise NotFound("project", project_id, field)


def create_project(store: Store, spec: dict[str, Any]) -> dict[str, Any]:
    params = validate_params(spec["kind"], spec["params"])
    now = utc_now()
    row = {
        "id": new_id(),
        "name": spec["name"],
        "kind": spec["kind"],
        "params": orjson.dumps(params).decode(),
        "instructions": spec.get("instructions") or "",
        "overlap": spec.get("overlap") or 1,
        "callback_url": spec.get("callback_url"),
        "callback_secret": secrets.token_hex(32),
        "created_at": now,
        "updated_at": now,
    }
    with store.write() as conn:
        conn.execute(projects.insert(), row)
    return _public_with_secret(row)


def _public_with_secret(row: dict[str, Any]) -> dict[str, Any]:
    return row | {"params": orjson.loads(row["params"])}


def get_project(store: Store, project_id: str) -> dict[str, Any]:
    with store.read() as conn:
        row = conn.execute(select(*_PUBLIC).where(projects.c.id == project_id)).first()
    if row is None:
        raise NotFound("project", project_id)
    return _public(row)


def list_projects(
    store: Store, limit: int, next_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    return fetch_page(store, select(*_PUBLIC), projects.c.id, limit, next_token, _public)


def update_project(store: Store, project_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply a partial update; only the keys present in `changes` are touched."""
    values = {
        k: v for k, v in changes.items() if k in ("name", "instructions", "overlap", "callback_url")
    }
    for required in ("name", "instructions", "overlap"):
        if required in values and values[required] is None:
            values.pop(required)
    with store.write() as conn:
        require_project(conn, project_id, None)
        if values:
            conn.execute(
                update(projects)
                .where(projects.c.id == project_id)
                .values(**values, updated_at=utc_now())
            )
        row = conn.execute(select(*_PUBLIC).where(projects.c.id == project_id)).one()
    return _public(row)
