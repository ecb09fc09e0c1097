"""What every model plugin is: items in, one prediction per item out.

Items are task params dicts as the kind validated them; a prediction's `response` is an
answer in the kind's response format (categorization: {"label": "pos"}), so the engine
stores and shows it like any answer. `confidence` is the model's raw score in [0, 1];
calibration (automation.calibration) turns it into a probability on human labels later.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from assay.errors import field_path

Item = dict[str, Any]


class ModelError(RuntimeError):
    """A model could not answer: unreachable endpoint, malformed reply, not fitted. The
    message is for the server log; `status` is the HTTP status its endpoint answered."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Prediction:
    response: dict[str, Any]
    confidence: float
    probabilities: dict[str, float] | None = None
    """Per-label probabilities where the model gives them (active learning's margins)."""


class Model(Protocol):
    def predict(self, items: list[Item]) -> list[Prediction]: ...


@runtime_checkable
class Trainable(Protocol):
    """A model the engine refits on human labels (one label per item)."""

    def fit(self, items: list[Item], labels: list[str]) -> None: ...


class _Reply(BaseModel):
    """One prediction as an outside model (HTTP endpoint, Python function) returns it."""

    model_config = ConfigDict(extra="ignore")

    response: dict[str, Any]
    confidence: float = Field(ge=0, le=1)
    probabilities: dict[str, float] | None = None


_REPLIES = TypeAdapter(list[_Reply])


def predictions_from(replies: Any, expected: int, source: str, path: str) -> list[Prediction]:
    """Outside replies checked and turned into predictions; a ModelError names `source` and
    the first bad field (e.g. "predictions[3].confidence")."""
    try:
        parsed = _REPLIES.validate_python(replies)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = field_path((path, *first["loc"]))
        raise ModelError(f"{source}: {where}: {first['msg']}") from None
    if len(parsed) != expected:
        raise ModelError(f"{source}: {len(parsed)} predictions for {expected} items")
    return [Prediction(r.response, r.confidence, r.probabilities) for r in parsed]


def check_training_labels(known: Sequence[str], items: Sequence[Item], labels: Sequence[str]):
    """Refuse a fit that cannot make a classifier over `known`: ValueError says why."""
    if len(items) != len(labels):
        raise ValueError("one label per item")
    unknown = sorted(set(labels) - set(known))
    if unknown:
        raise ValueError(f"labels not in the label set: {unknown}")
    if len(set(labels)) < 2:
        raise ValueError("need examples of at least two labels to fit")


def texts_of(items: Sequence[Item], fields: Sequence[str], separator: str = " [SEP] ") -> list[str]:
    """Each item's text fields joined (e.g. premise [SEP] hypothesis), for text models."""
    out = []
    for i, item in enumerate(items):
        missing = [f for f in fields if f not in item]
        if missing:
            raise ModelError(f"items[{i}] has no field {missing[0]!r}")
        out.append(separator.join(str(item[f]) for f in fields))
    return out
