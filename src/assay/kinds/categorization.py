"""Categorization: pick one label (or several, when `multi`) from the project's label set.

An answer is {"label": L} (or {"labels": [L, ...]} when multi). Answers consolidate by
majority: the most chosen label wins, ties going to the label listed first in params;
confidence is the winner's share. With multi, each label is in the result when more
than half the workers chose it; confidence is the mean, over labels, of the share that
agrees with the decision.

Taxonomy: instead of flat `labels` a project may give `taxonomy`, a tree of label names
as nested objects ({"animal": {"dog": {}, "cat": {}}, "vehicle": {}}; a leaf maps to {}).
Every node is a label and names are unique across the tree (a repeat is named by its
path, e.g. `taxonomy.vehicle.dog`). `labels` is then derived: the nodes in pre-order
(depth first, children in the order given), which is what the stored params hold; a
project may leave `labels` out or give exactly that list, anything else is an error.
`leaves_only` (default true) makes answers name leaves; without it any node is an answer.
A taxonomy takes one label per answer (`multi` is refused with it) and needs at least
two answerable labels.

Consolidation with a taxonomy backs off: an answer falls under its label and every
ancestor of it; the result is the deepest node that a strict majority of answers fall
under (a leaf when one has a strict majority), confidence the share of answers under it.
Nodes with a strict majority form one root-to-node chain, so the deepest is unique. When
not even a root has a strict majority, the flat rule decides (plurality, ties to the
earlier node in pre-order). A backed-off result may name an inner node even under
`leaves_only`. Gold matching, answer keys and agreement stay on the exact label.

Without a taxonomy the stored params keep their flat shape ({labels, multi}).
"""

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Annotated, Any, Self

import orjson
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)
from typing_extensions import TypeAliasType

from assay.errors import FieldError, field_path
from assay.kinds.base import Agreement, AnyItem, Kind
from assay.kinds.labels import Label, repeats
from assay.kinds.nominal import nominal_agreement

MAX_LABELS = 1000
Taxonomy = TypeAliasType("Taxonomy", dict[Label, "Taxonomy"])
"""Label name -> its children; a leaf maps to {}."""

Path = tuple[str, ...]


def taxonomy_nodes(taxonomy: Taxonomy) -> Iterator[tuple[Path, Taxonomy]]:
    """Every node as (path from its root, its children), in pre-order."""
    stack: list[tuple[Path, Taxonomy]] = [((name,), kids) for name, kids in taxonomy.items()]
    stack.reverse()
    while stack:
        path, children = stack.pop()
        yield path, children
        stack.extend(((*path, name), kids) for name, kids in reversed(children.items()))


class CategorizationParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: Annotated[list[Label], Field(min_length=2, max_length=MAX_LABELS)] = []
    """Required without a taxonomy; derived from it (pre-order) with one."""
    multi: bool = False
    taxonomy: Taxonomy | None = None
    leaves_only: bool = True
    """With a taxonomy: answers must name leaves."""

    @model_validator(mode="after")
    def _derive_labels(self) -> Self:
        if self.taxonomy is not None and "labels" not in self.model_fields_set:
            self.labels = [path[-1] for path, _ in taxonomy_nodes(self.taxonomy)]
        return self

    @model_serializer(mode="wrap")
    def _flat_without_taxonomy(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        if self.taxonomy is None:
            data.pop("taxonomy", None)
            data.pop("leaves_only", None)
        return data

    def nodes(self) -> dict[str, tuple[Path, Taxonomy]]:
        """Each taxonomy node's path from its root and its children, by name."""
        return {path[-1]: (path, kids) for path, kids in taxonomy_nodes(self.taxonomy or {})}


def check_params(params: CategorizationParams) -> list[FieldError]:
    """Flat: labels given and distinct, each repeat named by its index. With a taxonomy:
    see `check_taxonomy`."""
    if params.taxonomy is not None:
        return check_taxonomy(params, params.taxonomy)
    if "labels" not in params.model_fields_set:
        return [FieldError("labels", "give 2+ distinct labels, or a taxonomy")]
    if "leaves_only" in params.model_fields_set:
        return [FieldError("leaves_only", "only applies to a project with a taxonomy")]
    return repeats(params.labels)


def check_taxonomy(params: CategorizationParams, taxonomy: Taxonomy) -> list[FieldError]:
    """Names unique across the tree (a repeat named by its path), labels derived or equal
    to the pre-order, one label per answer, 2..MAX_LABELS labels with 2+ answerable."""
    nodes = list(taxonomy_nodes(taxonomy))
    first: dict[str, Path] = {}
    errors = []
    for path, _ in nodes:
        if path[-1] in first:
            where = field_path(("taxonomy", *first[path[-1]]))
            message = f"label {path[-1]!r} is repeated (first at {where})"
            errors.append(FieldError(field_path(("taxonomy", *path)), message))
        first.setdefault(path[-1], path)
    if params.labels != [path[-1] for path, _ in nodes]:
        message = "with a taxonomy leave labels out, or list every node in pre-order"
        errors.append(FieldError("labels", message))
    if params.multi:
        errors.append(FieldError("multi", "a taxonomy takes one label per answer"))
    answerable = sum(not kids or not params.leaves_only for _, kids in nodes)
    if answerable < 2:
        kind = "leaves" if params.leaves_only else "labels"
        errors.append(FieldError("taxonomy", f"needs at least 2 {kind} to choose from"))
    if len(nodes) > MAX_LABELS:
        errors.append(FieldError("taxonomy", f"has {len(nodes)} labels; at most {MAX_LABELS}"))
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
        return check_leaf(params, response.label)
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


def check_leaf(params: CategorizationParams, label: str) -> list[FieldError]:
    """With a taxonomy and leaves_only, the label must be a leaf."""
    if params.taxonomy is None or not params.leaves_only:
        return []
    _, children = params.nodes()[label]
    if not children:
        return []
    some = ", ".join(repr(name) for name in list(children)[:5])
    return [FieldError("label", f"{label!r} is not a leaf; pick one under it, e.g. {some}")]


def consolidate(
    params: CategorizationParams, task: AnyItem, answers: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    if params.multi:
        return consolidate_multi(params, answers)
    if params.taxonomy is not None and (deepest := majority_node(params, answers)):
        return deepest
    votes = Counter(a["label"] for a in answers)
    winner = max(params.labels, key=lambda label: (votes[label], -params.labels.index(label)))
    return {"label": winner, "confidence": votes[winner] / len(answers)}


def majority_node(
    params: CategorizationParams, answers: Sequence[dict[str, Any]]
) -> dict[str, Any] | None:
    """The deepest taxonomy node more than half the answers fall under, or None."""
    nodes = params.nodes()
    under = Counter(name for answer in answers for name in nodes[answer["label"]][0])
    held = [name for name in params.labels if under[name] * 2 > len(answers)]
    if not held:
        return None
    deepest = max(held, key=lambda name: len(nodes[name][0]))
    return {"label": deepest, "confidence": under[deepest] / len(answers)}


def automation_refusal(params: CategorizationParams) -> str | None:
    """A model answers one label per task: multi-label projects are not served."""
    return (
        "automation answers one label per task; multi projects are not served"
        if params.multi
        else None
    )


def consolidate_multi(
    params: CategorizationParams, answers: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    n = len(answers)
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
    return nominal_agreement(items, lambda answer: answer_key(params, answer))


KIND = Kind(
    name="categorization",
    summary="pick one label (or several) from the project's label set, or from a taxonomy",
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
    automation=automation_refusal,
)
