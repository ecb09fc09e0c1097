"""Crowd answer tables as CSV: `task,worker,label` answers, `task,label` gold, and the
tables `assay aggregate` writes. Values are read as text; numeric methods convert them."""

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path


def _rows(path: Path, columns: Sequence[str]) -> Iterable[list[str]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = [name.strip() for name in next(reader, [])]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(missing)} (has {header})")
        index = [header.index(c) for c in columns]
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) < len(header):
                raise ValueError(f"{path}:{line}: expected {len(header)} fields, got {len(row)}")
            yield [row[i] for i in index]


def read_answers(path: Path) -> tuple[list[str], list[str], list[str]]:
    """(tasks, workers, labels) columns of an answers CSV with those three columns."""
    rows = list(_rows(path, ("task", "worker", "label")))
    if not rows:
        raise ValueError(f"{path}: no answers")
    tasks, workers, labels = (list(column) for column in zip(*rows, strict=True))
    return tasks, workers, labels


def read_gold(path: Path) -> dict[str, str]:
    """{task: label} from a `task,label` CSV."""
    return dict(_rows(path, ("task", "label")))


def write_table(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
