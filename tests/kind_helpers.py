"""Helpers the task-kind tests share (tests/ is on sys.path: `from kind_helpers import ...`).
The `load_json` fixture they use lives in conftest.py."""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from assay.errors import Invalid
from assay.kinds import exports, settings_model


def problems(call: Callable[..., Any], *args: Any) -> dict[str, str]:
    """The errors `call(*args)` raises as Invalid, {field path: message}."""
    with pytest.raises(Invalid) as info:
        call(*args)
    return fields(info)


def fields(info: pytest.ExceptionInfo[Invalid]) -> dict[str, str]:
    """A raised Invalid's errors, {field path: message}."""
    return {e.field: e.message for e in info.value.errors}


def field_paths(info: pytest.ExceptionInfo[Invalid]) -> list[str]:
    """A raised Invalid's field paths, in order (repeats kept)."""
    return [e.field for e in info.value.errors]


def completed(
    params: dict[str, Any],
    response: dict[str, Any],
    task_id: str = "t",
    unique_id: str | None = None,
) -> dict[str, Any]:
    """A completed task as exports get it; `response` is its result."""
    return {
        "id": task_id,
        "unique_id": unique_id,
        "params": params,
        "response": response,
        "metadata": {},
    }


def completed_tasks(results: Sequence[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict]:
    """Completed tasks t0, t1, ... (unique ids u0, u1, ...) from (params, result) pairs."""
    return [
        completed(params, result, f"t{i}", f"u{i}") for i, (params, result) in enumerate(results)
    ]


def export_bytes(kind: str, fmt: str, params: dict[str, Any], tasks: list[dict]) -> bytes:
    """The whole file the kind's `fmt` export writes for these tasks."""
    return b"".join(exports(kind)[fmt].write(settings_model(kind, params), tasks))


def write_export(
    tmp_path: Path, kind: str, fmt: str, params: dict[str, Any], tasks: list[dict]
) -> Path:
    """The kind's `fmt` export of these tasks, written to a file named after the format."""
    path = tmp_path / f"{fmt}{exports(kind)[fmt].suffix}"
    path.write_bytes(export_bytes(kind, fmt, params, tasks))
    return path
