"""Projects: one kind of work, its settings, and the secret that signs its callbacks."""

import secrets
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from assay.automation.credentials import kept_credentials, masked_settings
from assay.automation.models.spec import endpoints
from assay.automation.settings import checked_settings
from assay.engine.pagination import fetch_page
from assay.errors import FieldError, Invalid, NotFound
from assay.ids import new_id, utc_now
from assay.kinds import automation_refusal, validate_params
from assay.outbound import STRICT, OutboundPolicy
from assay.store.db import Store, as_dict
from assay.store.sql import Sql, run
from assay.store.tables import projects

_PUBLIC = [c for c in projects.c if c.name != "callback_secret"]
DEFAULT_LEASE_SECONDS = 600
DEFAULT_GOLD_RATE = 0.1
DEFAULT_MAX_LEASES = 2


def _public(row) -> dict[str, Any]:
    out = as_dict(row)
    out["params"] = orjson.loads(out["params"])
    out["required_skills"] = orjson.loads(out["required_skills"])
    out["members_only"] = bool(out["members_only"])
    out["min_overlap"] = out["overlap"]  # one setting, two names (see _quality_columns)
    out["fraud"] = orjson.loads(out["fraud"]) if out.get("fraud") else None
    if out.get("automation") is not None:
        out["automation"] = masked_settings(orjson.loads(out["automation"]))
    out.pop("callback_secret", None)
    return out


ADAPTIVE = ("min_overlap", "max_overlap", "target_confidence")


def _quality_columns(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Column values for the quality settings in `changes`, checked together with the
    project's `current` ones. min_overlap is stored as `overlap`: what every task gets."""
    settings = ("consolidation", "min_worker_quality", "review_rate", "review_below")
    out = {k: changes[k] for k in settings if k in changes}
    if "fraud" in changes:
        fraud = changes["fraud"]
        out["fraud"] = None if fraud is None else orjson.dumps(fraud).decode()
    if not any(k in changes for k in ADAPTIVE):
        return out
    merged = {k: current.get(k) for k in ("overlap", "max_overlap", "target_confidence")}
    merged["overlap"] = changes.get("overlap") or merged["overlap"] or 1
    minimum = changes.get("min_overlap")
    if minimum is not None:
        if changes.get("overlap") not in (None, minimum):
            message = "min_overlap is another name for overlap: give one of them"
            raise Invalid([FieldError("min_overlap", message)])
        merged["overlap"] = minimum
    merged |= {k: changes[k] for k in ("max_overlap", "target_confidence") if k in changes}
    if (merged["max_overlap"] is None) != (merged["target_confidence"] is None):
        missing, given = ("max_overlap", "target_confidence")
        if merged["target_confidence"] is None:
            missing, given = given, missing
        message = f"adaptive overlap needs {missing} too (it was given {given})"
        raise Invalid([FieldError(missing, message)])
    if merged["max_overlap"] is not None and merged["max_overlap"] < merged["overlap"]:
        raise Invalid([FieldError("max_overlap", "must be at least min_overlap")])
    return out | merged


def _stored(changes: dict[str, Any]) -> dict[str, Any]:
    """Column values for the work-routing settings present in `changes`."""
    out = {}
    if changes.get("members_only") is not None:
        out["members_only"] = int(changes["members_only"])
    if changes.get("required_skills") is not None:
        out["required_skills"] = orjson.dumps(changes["required_skills"]).decode()
    for setting in ("lease_seconds", "gold_rate", "max_leases_per_worker"):
        if changes.get(setting) is not None:
            out[setting] = changes[setting]
    return out


def _automation_column(kind: str, params: dict, settings: Any) -> str | None:
    """The stored automation settings (None: off), checked against the project's kind."""
    if settings is None:
        return None
    refusal = automation_refusal(kind, params)
    if refusal:
        raise Invalid([FieldError("automation", refusal)])
    return orjson.dumps(checked_settings(settings, params.get("labels"))).decode()


def _with_stored_credentials(settings: Any, stored: str | None) -> Any:
    """New automation settings with the stored model's credentials kept where the model
    spec leaves them out or sends them back masked."""
    if stored is None or not isinstance(settings, dict) or "model" not in settings:
        return settings
    model = orjson.loads(stored)["model"]
    return settings | {"model": kept_credentials(settings["model"], model, "automation.model")}


def require_project(
    conn: Connection, project_id: str, field: str | None = "project"
) -> tuple[str, dict[str, Any]]:
    """The project's kind and params; NotFound (naming `field`) if there is no such project."""
    found = conn.execute(
        select(projects.c.kind, projects.c.params).where(projects.c.id == project_id)
    ).first()
    if found is None:
        raise NotFound("project", project_id, field)
    return found.kind, orjson.loads(found.params)


def _check_destinations(changes: dict[str, Any], outbound: OutboundPolicy) -> None:
    """Refuse a callback or model URL the outbound policy does not allow. Before any
    transaction: checking a name resolves it."""
    outbound.check_field("callback_url", changes.get("callback_url"))
    automation = changes.get("automation")
    model = automation.get("model") if isinstance(automation, dict) else None
    for field, url in endpoints(model).items():
        outbound.check_field(f"automation.model.{field}", url)


def create_project(
    store: Store, spec: dict[str, Any], outbound: OutboundPolicy = STRICT
) -> dict[str, Any]:
    params = validate_params(spec["kind"], spec["params"])
    given = {k: v for k, v in spec.items() if v is not None}
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
        "members_only": 0,
        "required_skills": "[]",
        "lease_seconds": DEFAULT_LEASE_SECONDS,
        "gold_rate": DEFAULT_GOLD_RATE,
        "max_leases_per_worker": DEFAULT_MAX_LEASES,
        "consolidation": None,
        "max_overlap": None,
        "target_confidence": None,
        "min_worker_quality": None,
        "fraud": None,
        "review_rate": None,
        "review_below": None,
        "automation": _automation_column(spec["kind"], params, spec.get("automation")),
    } | _stored(spec)
    row |= _quality_columns(row, given)
    _check_destinations(spec, outbound)
    with store.write() as conn:
        conn.execute(projects.insert(), row)
    return _public(row) | {"callback_secret": row["callback_secret"]}


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


# A new overlap opens or fills the slots of the project's open tasks.
_REFILL = Sql(
    "UPDATE tasks SET filled ="
    " CASE WHEN answers + leases >= COALESCE(target, :overlap) THEN 1 ELSE 0 END"
    " WHERE project_id = :project AND status = 'pending'"
)


def update_project(
    store: Store, project_id: str, changes: dict[str, Any], outbound: OutboundPolicy = STRICT
) -> dict[str, Any]:
    """Apply a partial update; only the keys present in `changes` are touched."""
    _check_destinations(changes, outbound)
    values = {
        k: v for k, v in changes.items() if k in ("name", "instructions", "overlap", "callback_url")
    }
    for required in ("name", "instructions", "overlap"):
        if required in values and values[required] is None:
            values.pop(required)
    values |= _stored(changes)
    with store.write() as conn:
        require_project(conn, project_id, None)
        current = as_dict(conn.execute(select(*_PUBLIC).where(projects.c.id == project_id)).one())
        values |= _quality_columns(current, changes)
        if "automation" in changes:
            kind, params = require_project(conn, project_id, None)
            settings = _with_stored_credentials(changes["automation"], current["automation"])
            values["automation"] = _automation_column(kind, params, settings)
        if values:
            conn.execute(
                update(projects)
                .where(projects.c.id == project_id)
                .values(**values, updated_at=utc_now())
            )
        if "overlap" in values:
            run(conn, _REFILL, {"project": project_id, "overlap": values["overlap"]})
        if values.keys() & {"overlap", "max_overlap"}:
            from assay.engine.work import settle_answered  # work needs this module first

            settle_answered(conn, project_id)
        row = conn.execute(select(*_PUBLIC).where(projects.c.id == project_id)).one()
    return _public(row)


def rotate_callback_secret(store: Store, project_id: str) -> dict[str, Any]:
    """Replace the secret that signs the project's callbacks; the new one is shown only
    here. Deliveries are signed when they go out, so every one from now on uses it."""
    secret = secrets.token_hex(32)
    with store.write() as conn:
        require_project(conn, project_id, None)
        conn.execute(
            update(projects)
            .where(projects.c.id == project_id)
            .values(callback_secret=secret, updated_at=utc_now())
        )
    return {"project": project_id, "callback_secret": secret}
