"""Categorization: pick one label (or several, when `multi`) from the project's label set.

An answer is {"label": L} (or {"labels": [L, ...]} when multi). Answers consolidate by
majority: the most chosen label wins, ties going to the label listed first in params;
confidence is the winner's share. With multi, each label is in the result when more
than half the workers chose it; confidence is the mean, over labels, of the share that
agrees with the decision.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.kinds.base import Agreement, AnyItem, Kind
from assay.quality.agreement import json_number, krippendorff_alpha
from assay.quality.answers import Answers
from assay.text import Text

Label = Annotated[Text, Field(min_length=1, max_length=200)]


class CategorizationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: Annotated[list[Label], Field(min_length=2, max_length=1000)]
    multi: bool = False


def check_params(params: CategorizationParams) -> list[FieldError]:
    """Labels must be distinct; each repeat is named by its index."""
    seen: set[str] = set()
    errors = []
    for i, label in enumerate(params.labels):
        if label in seen:
            errors.append(FieldError(f"labels[{i}]", f"label {label!r} is repeated"))
        seen.add(label)
    return errors


class CategorizationResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Label | None = None
    labels: list[Label] | None = None


def check_response(
    params: CategorizationParams, task: AnyItem, response: CategorizationResponse
) -> list[FieldError]:
    allowed = set(params.labels)
    if not params.multi:
        if response.label is None or response.labels is not None:
            return [FieldError("label", 'give exactly one label as {"label": ...}')]
        if response.label not in allowed:
            return [FieldError("label", f"{response.label!r} is not one of the project's labels")]
        return []
    if response.labels is None or response.label is not None:
        return [FieldError("labels", 'this project takes several labels: {"labels": [...]}')]
    errors = []
    seen: set[str] = set()
    for i, label in enumerate(response.labels):
        if label not in allowed:
            errors.append(
                FieldError(f"labels[{i}]", f"{label!r} is not one of the project's labels")
            )
        elif label in seen:
            errors.append(FieldError(f"labels[{i}]", f"label {label!r} is repeated"))
        seen.add(label)
    return errors


def consolidate(
    params: CategorizationParams, task: AnyItem, answers: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    n = len(answers)
    if not params.multi:
        votes = Counter(a["label"] for a in answers)
        winner = max(params.labels, key=lambda label: (votes[label], -params.labels.index(label)))
        return {"label": winner, "confidence": votes[winner] / n}
    shares = {label: 0 for label in params.labels}
    for answer in answers:
        for label in answer["labels"]:
            shares[label] += 1
    chosen = [label for label in params.labels if shares[label] * 2 > n]
    agreement = [max(k, n - k) / n for k in shares.values()]
    return {"labels": chosen, "confidence": sum(agreement) / len(agreement)}


def matches(
    params: CategorizationParams, task: AnyItem, answer: dict[str, Any], gold: dict[str, Any]
) -> bool:
    if params.multi:
        return set(answer["labels"]) == set(gold["labels"])
    return answer["label"] == gold["label"]


def answer_key(params: CategorizationParams, answer: dict[str, Any]) -> str:
    """The label; with multi, the chosen set as one value (in the project's label order)."""
    if not params.multi:
        return answer["label"]
    chosen = set(answer["labels"])
    return orjson.dumps([label for label in params.labels if label in chosen]).decode()


def agreement(
    params: CategorizationParams, items: Sequence[tuple[AnyItem, Sequence[dict[str, Any]]]]
) -> Agreement:
    """Krippendorff's alpha (nominal) over the answer keys of every task."""
    rows = [
        (i, w, answer_key(params, a))
        for i, (_, answers) in enumerate(items)
        for w, a in enumerate(answers)
    ]
    pairs = sum(len(a) * (len(a) - 1) // 2 for _, a in items)
    if not pairs:
        return Agreement("krippendorff_alpha_nominal", None, 0)
    answers = Answers.from_columns(*zip(*rows, strict=True))
    return Agreement("krippendorff_alpha_nominal", json_number(krippendorff_alpha(answers)), pairs)


KIND = Kind(
    name="categorization",
    summary="pick one label (or several) from the project's label set",
    widget="labels",
    params_model=CategorizationParams,
    task_model=AnyItem,
    check_params=check_params,
    response_model=CategorizationResponse,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
    answer_key=answer_key,
)
