"""Comparison: which of k model responses to a prompt is better (pairwise preference, RLHF).

Project params: `criteria` (distinct names, e.g. helpfulness, honesty, harmlessness: each
answer then also picks the best response per criterion), `strength` (answers rate how strong
the preference is, 1 = slight .. 4 = decisive), `require_rationale`, `allow_tie`.

A task carries {prompt, responses: [at least 2], models?: [one per response]}.

An answer is {"preferred": i, "strength"?: 1..4, "criteria"?: {name: i}, "rationale"?: text}
where i indexes `responses`, or is "tie" when the project allows ties. With `strength` every
non-tie answer rates it and a tie carries none; `criteria` may name any of the project's
criteria (a worker may leave one out).

Consolidation: a weighted vote on `preferred`, each answer counting its strength (1 without
one); confidence is the winner's share of the weight. Each criterion is a plain majority
vote of the answers that name it (left out of the result when none does). Ties go to the
lowest response index, "tie" losing to any index. The result is
{"preferred", "confidence", "criteria"?}. Answers are categorical (`answer_key` is
`preferred` as a string), so truth inference can weigh workers instead.

Agreement: Krippendorff's alpha (nominal) over `preferred`. An answer matches a gold answer
when both prefer the same response.

Dataset level: `model_scores` fits Bradley-Terry scores per model on completed tasks.

Exports (JSONL, one row per response the result did not prefer; tasks whose result is a
tie give none): `trl` (TRL preference {prompt, chosen, rejected}) and `dpo` (OpenAI
preference fine-tuning {input: {messages}, preferred_output, non_preferred_output}).
"""

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, WithJsonSchema

from assay.errors import FieldError
from assay.exchange.llm_formats import (
    JSONL_MEDIA_TYPE,
    JSONL_SUFFIX,
    Row,
    dpo_pair,
    jsonl_writer,
    preference_pair,
)
from assay.kinds.base import Agreement, Answer, Export, Kind
from assay.kinds.labels import repeats
from assay.kinds.nominal import nominal_agreement
from assay.kinds.preference_items import PreferenceTask, check_task, index_error
from assay.quality import bradley_terry
from assay.text import Text

TIE = "tie"


def _choice(value: Any) -> int | str:
    if value == TIE or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValueError(f'give the index of a response (0, 1, ...) or "{TIE}"')


Choice = Annotated[
    int | str,
    PlainValidator(_choice),
    WithJsonSchema({"anyOf": [{"type": "integer", "minimum": 0}, {"const": TIE}]}),
]
"""A response index, or "tie"."""

Criterion = Annotated[Text, Field(min_length=1, max_length=100)]


class ComparisonParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    criteria: Annotated[list[Criterion], Field(max_length=50)] = []
    strength: bool = False
    require_rationale: bool = False
    allow_tie: bool = False


def check_params(params: ComparisonParams) -> list[FieldError]:
    """Criteria must be distinct; each repeat is named by its index."""
    return repeats(params.criteria, "criteria", "criterion")


class ComparisonResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    preferred: Choice
    strength: Annotated[int, Field(ge=1, le=4)] | None = None
    criteria: dict[str, Choice] | None = None
    rationale: Annotated[Text, Field(max_length=20_000)] | None = None


def _choice_errors(
    path: str, choice: int | str, params: ComparisonParams, task: PreferenceTask
) -> list[FieldError]:
    if choice != TIE:
        return index_error(path, int(choice), task)
    if params.allow_tie:
        return []
    return [FieldError(path, "this project allows no ties; pick a response index")]


def _strength_errors(params: ComparisonParams, response: ComparisonResponse) -> list[FieldError]:
    if not params.strength:
        if response.strength is None:
            return []
        return [FieldError("strength", "this project does not rate strength; leave it out")]
    if response.preferred == TIE:
        if response.strength is None:
            return []
        return [FieldError("strength", "a tie has no strength; leave it out")]
    if response.strength is None:
        return [FieldError("strength", "rate how strong the preference is, 1..4")]
    return []


def _criteria_errors(
    params: ComparisonParams, task: PreferenceTask, response: ComparisonResponse
) -> list[FieldError]:
    if response.criteria is None:
        return []
    if not params.criteria:
        return [FieldError("criteria", "this project has no criteria; leave them out")]
    errors = []
    for name, choice in response.criteria.items():
        path = f"criteria.{name}"
        if name in params.criteria:
            errors.extend(_choice_errors(path, choice, params, task))
        else:
            errors.append(FieldError(path, f"not a criterion of this project; {params.criteria}"))
    return errors


def check_response(
    params: ComparisonParams, task: PreferenceTask, response: ComparisonResponse
) -> list[FieldError]:
    errors = _choice_errors("preferred", response.preferred, params, task)
    errors += _strength_errors(params, response)
    errors += _criteria_errors(params, task, response)
    if params.require_rationale and not (response.rationale or "").strip():
        errors.append(FieldError("rationale", "this project asks why: explain the choice"))
    return errors


def _vote(task: PreferenceTask, weights: Counter) -> tuple[int | str, float]:
    """The heaviest choice and its share; ties go to the lowest index, "tie" last."""
    order: list[int | str] = [*range(len(task.responses)), TIE]
    winner = max(order, key=lambda choice: (weights[choice], -order.index(choice)))
    return winner, weights[winner] / sum(weights.values())


def _criteria_votes(
    params: ComparisonParams, task: PreferenceTask, answers: Sequence[Answer]
) -> dict[str, int | str]:
    """Each criterion's plain majority among the answers that name it."""
    decided = {}
    for name in params.criteria:
        votes = Counter(a["criteria"][name] for a in answers if name in a.get("criteria", {}))
        if votes:
            decided[name] = _vote(task, votes)[0]
    return decided


def consolidate(
    params: ComparisonParams, task: PreferenceTask, answers: Sequence[Answer]
) -> Answer:
    weights: Counter = Counter()
    for answer in answers:
        weights[answer["preferred"]] += answer.get("strength", 1)
    preferred, confidence = _vote(task, weights)
    result: Answer = {"preferred": preferred, "confidence": confidence}
    if params.criteria:
        result["criteria"] = _criteria_votes(params, task, answers)
    return result


def matches(params: ComparisonParams, task: PreferenceTask, answer: Answer, gold: Answer) -> bool:
    return answer["preferred"] == gold["preferred"]


def answer_key(params: ComparisonParams, answer: Answer) -> str:
    """`preferred` as a string: "0", "1", ... or "tie"."""
    return str(answer["preferred"])


def agreement(
    params: ComparisonParams, items: Sequence[tuple[PreferenceTask, Sequence[Answer]]]
) -> Agreement:
    """Krippendorff's alpha (nominal) over `preferred` on every task."""
    return nominal_agreement(items, lambda answer: answer_key(params, answer))


def _outcomes(models: Sequence[str], preferred: int | str) -> Iterator[tuple[str, str, float]]:
    """(first model, second model, 1.0 if the first won, 0.5 for a tie) implied by a result:
    the preferred response beats each other one; a tie ties every pair. A model compared with
    itself tells nothing and is skipped."""
    for i, first in enumerate(models):
        for j, second in enumerate(models):
            if first == second:
                continue
            if preferred == TIE and i < j:
                yield first, second, 0.5
            elif preferred == i:
                yield first, second, 1.0


def model_scores(tasks: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bradley-Terry scores of the models behind completed tasks ({params, response} each,
    the response a result); tasks without `models` are skipped. Returns [{model, score,
    comparisons}], best first (ties by name). A score is a log-strength: model a beats
    model b with probability 1 / (1 + exp(score_b - score_a))."""
    comparisons = [
        outcome
        for task in tasks
        if task["params"].get("models")
        for outcome in _outcomes(task["params"]["models"], task["response"]["preferred"])
    ]
    first, second, outcome = zip(*comparisons, strict=True) if comparisons else ((), (), ())
    fit = bradley_terry.fit(first, second, outcome)
    rows = [
        {"model": str(model), "score": float(score), "comparisons": int(count)}
        for model, score, count in zip(fit.models, fit.scores, fit.comparisons, strict=True)
    ]
    return sorted(rows, key=lambda row: (-row["score"], row["model"]))


def _pairs(make: Callable[[str, str, str], Row]) -> Callable[[BaseModel, dict[str, Any]], list]:
    """Rows of `make(prompt, chosen, rejected)`: the preferred response against each other."""

    def rows(params: BaseModel, task: dict[str, Any]) -> list[Row]:
        preferred = task["response"]["preferred"]
        if preferred == TIE:
            return []
        prompt, responses = task["params"]["prompt"], task["params"]["responses"]
        return [
            make(prompt, responses[preferred], rejected)
            for i, rejected in enumerate(responses)
            if i != preferred
        ]

    return rows


KIND = Kind(
    name="comparison",
    summary="pick the better of k model responses to a prompt (pairwise preference, RLHF)",
    widget="comparison",
    params_model=ComparisonParams,
    check_params=check_params,
    task_model=PreferenceTask,
    check_task=check_task,
    response_model=ComparisonResponse,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
    answer_key=answer_key,
    leaderboard=model_scores,
    exports={
        "trl": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_pairs(preference_pair))),
        "dpo": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_pairs(dpo_pair))),
    },
)
