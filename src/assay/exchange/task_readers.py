"""Read task files (.jsonl, .csv, .parquet) as a stream of (line number, JSON object) pairs.

The server validates every row, so readers only reshape: JSONL lines pass through
untouched; a CSV or Parquet row becomes a task object whose `params` is its `params`
column (JSON) merged with every column that is not a task field. Columns that an
export adds (id, status, response, ...) are dropped so an export can be imported again.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from assay.exchange.task_writers import EXPORT_COLUMNS
from assay.extras import require

TASK_FIELDS = ("unique_id", "metadata", "callback_url", "priority", "gold", "hypothesis")
EXPORT_ONLY = frozenset(EXPORT_COLUMNS) - set(TASK_FIELDS) - {"params"}
READ_BLOCK = 1 << 20


@dataclass
class TaskFile:
    path: Path
    format: str
    rows_estimate: int

    def rows(self) -> Iterator[tuple[int, bytes]]:
        return READERS[self.format](self.path)


def open_task_file(path: str | Path, fmt: str | None = None) -> TaskFile:
    """A task file in `fmt` (jsonl, csv or parquet), by default the one its suffix names."""
    path = Path(path)
    fmt = fmt or {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}.get(
        path.suffix.lower()
    )
    if fmt is None:
        raise ValueError(f"{path.name}: expected a .jsonl, .csv or .parquet file")
    if fmt == "parquet":
        estimate = _parquet().ParquetFile(path).metadata.num_rows
    else:
        estimate = _count_lines(path) - (fmt == "csv")
    return TaskFile(path, fmt, estimate)


def _count_lines(path: Path) -> int:
    count, last = 0, b"\n"
    with path.open("rb") as f:
        while block := f.read(READ_BLOCK):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")


def read_jsonl(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if line:
                yield number, line


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def task_object(record: dict[str, Any]) -> dict[str, Any]:
    """Reshape one flat record (a CSV or Parquet row) into a task object."""
    task: dict[str, Any] = {}
    params = _json_or_text(record.get("params")) if record.get("params") not in (None, "") else {}
    extra: dict[str, Any] = {}
    for column, value in record.items():
        if column in EXPORT_ONLY or column == "params" or value is None or value == "":
            continue
        if column in TASK_FIELDS:
            json_valued = column in ("metadata", "priority", "gold", "hypothesis")
            task[column] = _json_or_text(value) if json_valued else value
        else:
            extra[column] = value
    task["params"] = params | extra if isinstance(params, dict) else params
    return task


def read_csv(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        for record in reader:
            yield reader.line_num, orjson.dumps(task_object(record))


def _parquet():
    return require("pyarrow.parquet", "parquet", "Parquet")


def read_parquet(path: Path) -> Iterator[tuple[int, bytes]]:
    number = 0
    for batch in _parquet().ParquetFile(path).iter_batches(batch_size=10_000):
        for record in batch.to_pylist():
            number += 1
            yield number, orjson.dumps(task_object(record))


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def kind_task_rows(tasks: Iterator[dict[str, Any]]) -> list[tuple[int, bytes]]:
    """Tasks a kind's reader made (from COCO, CoNLL, ...) as numbered, encoded rows."""
    return [(number, orjson.dumps(task)) for number, task in enumerate(tasks, start=1)]
