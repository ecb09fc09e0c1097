"""Write exported tasks as JSONL, CSV or Parquet, chunk by chunk, never the whole set.

CSV and Parquet rows arrive as tuples in EXPORT_COLUMNS order, JSON columns still as
their stored text (carried as strings); JSONL rows arrive already encoded.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

from assay.extras import missing, require

EXPORT_COLUMNS = (
    "id",
    "project",
    "batch",
    "status",
    "params",
    "unique_id",
    "metadata",
    "callback_url",
    "priority",
    "response",
    "created_at",
    "completed_at",
    "canceled_at",
    "callback_succeeded_at",
    "gold",
    "hypothesis",
)
JSON_COLUMNS = frozenset({"params", "metadata", "response", "gold", "hypothesis"})
FORMATS = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}

Chunk = Sequence[Sequence]


def write_jsonl(chunks: Iterable[Sequence[Sequence[bytes]]]) -> Iterator[bytes]:
    """JSON Lines. Here each row is a 1-tuple: the task already rendered as a UTF-8 JSON
    object (by the database, which does it far faster than Python)."""
    for chunk in chunks:
        if chunk:
            yield b"\n".join([row[0] for row in chunk]) + b"\n"


def write_csv(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for chunk in chunks:
        writer.writerows(chunk)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


class _Sink(io.RawIOBase):
    """A write-only file that hands back what was written since the last drain."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def drain(self) -> bytes:
        out, self.parts = b"".join(self.parts), []
        return out


def write_parquet(chunks: Iterable[Chunk]) -> Iterator[bytes]:
    pa = require("pyarrow", "parquet", "Parquet")
    pq = require("pyarrow.parquet", "parquet", "Parquet")
    schema = pa.schema(
        [(c, pa.int64() if c == "priority" else pa.string()) for c in EXPORT_COLUMNS]
    )
    sink = _Sink()
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for chunk in chunks:
            columns = list(zip(*chunk, strict=True)) if chunk else [[] for _ in EXPORT_COLUMNS]
            writer.write_table(
                pa.Table.from_arrays(
                    [pa.array(col, type=f.type) for col, f in zip(columns, schema, strict=True)],
                    schema=schema,
                )
            )
            yield sink.drain()
    yield sink.drain()


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}


def unavailable(fmt: str) -> str | None:
    """Why `fmt` cannot be written by this install (its extra is missing), or None."""
    return missing("pyarrow", "parquet", "Parquet") if fmt == "parquet" else None
