"""The report of a bulk import: counts, the first problems in full, every problem counted
by field and by code.

A body of a few megabytes can hold millions of bad rows, each with several problems,
and their field names are the sender's to choose. So the report stays the same size
whatever comes in: at most `KEPT_ERRORS` problems in full, at most `KEPT_GROUPS` fields
and codes counted by name (the rest under `OTHER`), every text clipped to `TEXT_LIMIT`
characters. Neither the server's memory nor the response grows with the rows.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

KEPT_ERRORS = 100
KEPT_GROUPS = 100
TEXT_LIMIT = 200
OTHER = "(other)"


@dataclass
class RowProblem:
    line: int
    field: str
    message: str
    code: str
    """What kind of problem: `invalid_json`, one of pydantic's error types (`missing`,
    `int_parsing`, `extra_forbidden`, ...), or `invalid` for the task kind's own checks."""


def clip(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def count(counter: Counter, key: str, n: int = 1) -> None:
    """Count `key`, or `OTHER` once the counter names `KEPT_GROUPS` keys."""
    if key not in counter and len(counter) >= KEPT_GROUPS:
        key = OTHER
    counter[key] += n


@dataclass
class ImportTally:
    """Rejected rows and their problems, as they are found, in bounded memory."""

    rejected: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)
    by_field: Counter = field(default_factory=Counter)
    by_code: Counter = field(default_factory=Counter)

    def reject(self, problems: Iterable[RowProblem]) -> None:
        """One row rejected for these problems."""
        self.rejected += 1
        for problem in problems:
            self.error_count += 1
            name = clip(problem.field)
            if len(self.errors) < KEPT_ERRORS:
                self.errors.append(
                    {
                        "line": problem.line,
                        "field": name,
                        "message": clip(problem.message),
                        "code": problem.code,
                    }
                )
            count(self.by_field, name)
            count(self.by_code, clip(problem.code))

    def report(self, created: int, duplicate: int) -> dict[str, Any]:
        return {
            "created": created,
            "duplicate": duplicate,
            "rejected": self.rejected,
            "errors": self.errors,
            "error_count": self.error_count,
            "errors_by_field": dict(self.by_field),
            "errors_by_code": dict(self.by_code),
        }
