"""Rating: score an item on each criterion of the project's rubric, with comments.

Params: `criteria`, each {name, scale}; a scale is {"type": "likert", "labels": [...]}
(ordered, worst first, at least 2, distinct) or {"type": "numeric", "min", "max", "step"?}.
`comment` says whether a comment per criterion is "none" (not taken), "optional" or
"required"; with "optional", `comment_below` makes a comment required when the score is at
or below it: a label applies to the likert criteria (each must have that label), a number
to the numeric ones. `consolidation` ("mean", the default, or "median") is the rule for
numeric criteria. A task carries the item as given (any JSON object).

An answer is {"scores": {criterion: value}, "comments"?: {criterion: text}}: every
criterion scored, a likert score one of its labels, a numeric score within [min, max] and
on the step (min + k * step) when there is one.

Consolidation, criterion by criterion: likert takes the median of the label positions (the
lower median on an even count, so the result is always a label); numeric the mean (or the
median, the middle two averaged, with `consolidation: "median"`); numeric results need not
lie on the step. Comments are not consolidated. A worker-weighted mean waits for the engine
to pass worker weights. Result: {"scores", "confidence", "confidences": {criterion:
share}}: a criterion's share is the share of answers within the gold tolerance (below) of
the result, the confidence their mean.

Gold: an answer matches when every score is within the tolerance of the gold score: one
label step on likert scales (exact on two-label scales, where one step is every answer),
10% of the range on numeric ones.

Agreement: "krippendorff_alpha", Krippendorff's alpha per criterion (ordinal over the label
order for likert, interval for numeric), averaged over the criteria where it is defined
(alpha is undefined when every answer gives the same score); None when it is nowhere.
"""

import math
import statistics
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.kinds.base import Agreement, AnyItem, Kind
from assay.kinds.labels import Label, repeats
from assay.kinds.rubric_votes import part_errors, vote_parts
from assay.quality.agreement import json_number, krippendorff_alpha
from assay.quality.answers import Answers
from assay.text import Text

Name = Annotated[Text, Field(min_length=1, max_length=100)]
Comment = Annotated[Text, Field(max_length=5000)]
NUMERIC_TOLERANCE = 0.1
"""Share of a numeric scale's range within which a score matches gold."""
EPSILON = 1e-9


class LikertScale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["likert"]
    labels: Annotated[list[Label], Field(min_length=2, max_length=100)]


class NumericScale(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["numeric"]
    min: float
    max: float
    step: Annotated[float, Field(gt=0)] | None = None


Scale = Annotated[LikertScale | NumericScale, Field(discriminator="type")]


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    scale: Scale


class RatingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: Annotated[list[Criterion], Field(min_length=1, max_length=100)]
    comment: Literal["none", "optional", "required"] = "optional"
    comment_below: float | Label | None = None
    consolidation: Literal["mean", "median"] = "mean"


def check_params(params: RatingParams) -> list[FieldError]:
    errors = part_errors(
        "criteria", params.criteria, lambda c, path: check_scale(c.scale, f"{path}.scale")
    )
    return errors + check_comment_below(params)


def check_scale(scale: LikertScale | NumericScale, path: str) -> list[FieldError]:
    if isinstance(scale, LikertScale):
        return repeats(scale.labels, f"{path}.labels")
    if not scale.min < scale.max:
        return [FieldError(f"{path}.max", "must be greater than min")]
    if scale.step is not None and scale.step > scale.max - scale.min:
        return [FieldError(f"{path}.step", "must not exceed max - min")]
    return []


def check_comment_below(params: RatingParams) -> list[FieldError]:
    threshold = params.comment_below
    if threshold is None:
        return []
    if params.comment != "optional":
        return [FieldError("comment_below", 'only applies when comment is "optional"')]
    wanted = LikertScale if isinstance(threshold, str) else NumericScale
    fitting = [c for c in params.criteria if isinstance(c.scale, wanted)]
    if not fitting:
        kind = "a likert" if wanted is LikertScale else "a numeric"
        return [FieldError("comment_below", f"no criterion has {kind} scale it applies to")]
    return [
        FieldError("comment_below", f"{threshold!r} is not a label of criterion {c.name!r}")
        for c in fitting
        if isinstance(c.scale, LikertScale) and threshold not in c.scale.labels
    ]


class RatingResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[Name, Any]
    comments: dict[Name, Comment] | None = None


def check_response(
    params: RatingParams, task: AnyItem, response: RatingResponse
) -> list[FieldError]:
    names = {c.name for c in params.criteria}
    comments = response.comments or {}
    errors = [
        FieldError(f"{part}.{name}", "not a criterion of this project")
        for part, given in (("scores", response.scores), ("comments", comments))
        for name in given
        if name not in names
    ]
    if params.comment == "none" and response.comments is not None:
        errors.append(FieldError("comments", "this project takes no comments"))
    for criterion in params.criteria:
        if criterion.name not in response.scores:
            errors.append(FieldError(f"scores.{criterion.name}", "score this criterion"))
            continue
        score = response.scores[criterion.name]
        problem = score_problem(criterion.scale, score)
        if problem:
            errors.append(FieldError(f"scores.{criterion.name}", problem))
        elif (
            needs_comment(params, criterion.scale, score)
            and not comments.get(criterion.name, "").strip()
        ):
            errors.append(FieldError(f"comments.{criterion.name}", "a comment is required"))
    return errors


def score_problem(scale: LikertScale | NumericScale, score: Any) -> str | None:
    """What is wrong with a score on this scale, None if nothing."""
    if isinstance(scale, LikertScale):
        return None if score in scale.labels else f"give one of the labels {scale.labels}"
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        return "give a number"
    if not scale.min <= score <= scale.max:
        return f"must be between {scale.min:g} and {scale.max:g}"
    if scale.step is not None:
        steps = (score - scale.min) / scale.step
        if abs(steps - round(steps)) > EPSILON:
            return f"must be {scale.min:g} plus a multiple of {scale.step:g}"
    return None


def needs_comment(params: RatingParams, scale: LikertScale | NumericScale, score: Any) -> bool:
    threshold = params.comment_below
    if params.comment == "required":
        return True
    if threshold is None:
        return False
    if isinstance(scale, LikertScale):
        return isinstance(threshold, str) and position(scale, score) <= position(scale, threshold)
    return not isinstance(threshold, str) and score <= threshold


def position(scale: LikertScale | NumericScale, score: Any) -> float:
    """A score as a number: its label's index on likert scales, itself on numeric ones."""
    return scale.labels.index(score) if isinstance(scale, LikertScale) else float(score)


def tolerance(scale: LikertScale | NumericScale) -> float:
    """How far (in `position` units) a score may be from another and still agree."""
    if isinstance(scale, LikertScale):
        return 1.0 if len(scale.labels) > 2 else 0.0
    return NUMERIC_TOLERANCE * (scale.max - scale.min)


def close(scale: LikertScale | NumericScale, a: Any, b: Any) -> bool:
    return abs(position(scale, a) - position(scale, b)) <= tolerance(scale) + EPSILON


def consolidated_score(params: RatingParams, criterion: Criterion, scores: list[Any]) -> Any:
    scale = criterion.scale
    if isinstance(scale, LikertScale):
        return scale.labels[statistics.median_low(position(scale, s) for s in scores)]
    if params.consolidation == "median":
        return statistics.median(scores)
    return statistics.fmean(scores)


def consolidate(
    params: RatingParams, task: AnyItem, answers: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    """Criterion by criterion; a criterion's share is that of the scores close to its result."""
    return vote_parts(
        "scores",
        params.criteria,
        answers,
        lambda criterion, scores: consolidated_score(params, criterion, scores),
        lambda criterion, score, result: close(criterion.scale, score, result),
    )


def matches(
    params: RatingParams, task: AnyItem, answer: dict[str, Any], gold: dict[str, Any]
) -> bool:
    return all(
        close(c.scale, answer["scores"][c.name], gold["scores"][c.name]) for c in params.criteria
    )


def criterion_alpha(criterion: Criterion, items: Sequence[Sequence[dict[str, Any]]]) -> float:
    """Krippendorff's alpha of one criterion over every task's answers (NaN if undefined)."""
    rows = [
        (task, worker, answer["scores"][criterion.name])
        for task, answers in enumerate(items)
        for worker, answer in enumerate(answers)
    ]
    scale = criterion.scale
    if isinstance(scale, LikertScale):
        coded = Answers.from_columns(*zip(*rows, strict=True), label_order=scale.labels)
        return krippendorff_alpha(coded, "ordinal")
    return krippendorff_alpha(Answers.from_columns(*zip(*rows, strict=True)), "interval")


def agreement(
    params: RatingParams, items: Sequence[tuple[AnyItem, Sequence[dict[str, Any]]]]
) -> Agreement:
    pairs = sum(len(a) * (len(a) - 1) // 2 for _, a in items)
    if not pairs:
        return Agreement("krippendorff_alpha", None, 0)
    answer_lists = [answers for _, answers in items]
    alphas = [criterion_alpha(c, answer_lists) for c in params.criteria]
    defined = [alpha for alpha in alphas if not math.isnan(alpha)]
    mean = statistics.fmean(defined) if defined else math.nan
    return Agreement("krippendorff_alpha", json_number(mean), pairs)


KIND = Kind(
    name="rating",
    summary="score an item on each criterion of a rubric (likert or numeric scales)",
    widget="rating",
    params_model=RatingParams,
    task_model=AnyItem,
    check_params=check_params,
    response_model=RatingResponse,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
)
