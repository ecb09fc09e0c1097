"""Ranking: order k model responses to a prompt from best to worst.

The project takes no params. A task carries {prompt, responses: [at least 2], models?: [one
per response]}. An answer is {"ranking": [response indexes, best first]}, a permutation of
0..k-1.

Consolidation (the result is the Borda order, not an exact Kemeny ranking): a response
placed p-th (0 = best) scores k - 1 - p Borda points per answer; responses sort by points,
most first. Responses with equal points are ordered by how many of the others with those
points they beat in pairwise majority (more answers rank it above than below), then by
index. Confidence is the mean Kendall agreement of the answers with the result.

Kendall agreement of two rankings: the share of the k(k-1)/2 response pairs both order the
same way, (tau + 1) / 2 in [0, 1] (Kendall's tau-b; rankings have no ties). Agreement is its
mean over every pair of answers to the same task ("kendall_agreement"). An answer matches a
gold answer when both put the same response first and their Kendall agreement is at least
0.8 (with 3 responses, only the same ranking; with 4, one adjacent swap below the top).

Exports (JSONL): `pairs` (TRL preference {prompt, chosen, rejected}, one row per pair of
responses, the better one chosen, in result order) and `ranked` ({prompt, responses best
first, ranking, models? best first}).
"""

from collections.abc import Sequence
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.exchange.llm_formats import (
    JSONL_MEDIA_TYPE,
    JSONL_SUFFIX,
    Row,
    jsonl_writer,
    preference_pair,
)
from assay.kinds.base import Agreement, Answer, Export, Kind, pairwise_agreement
from assay.kinds.preference_items import MAX_RESPONSES, PreferenceTask, check_task, index_error
from assay.quality.special import kendall_tau

MATCH_AGREEMENT = 0.8
"""An answer matches gold from this Kendall agreement on (and with the same top response)."""


class RankingParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RankingResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ranking: Annotated[list[int], Field(min_length=2, max_length=MAX_RESPONSES)]


def check_response(
    params: RankingParams, task: PreferenceTask, response: RankingResponse
) -> list[FieldError]:
    k = len(task.responses)
    errors = []
    if len(response.ranking) != k:
        errors.append(FieldError("ranking", f"rank all {k} responses: a permutation of 0..{k - 1}"))
    seen: set[int] = set()
    for i, index in enumerate(response.ranking):
        if index in seen:
            errors.append(FieldError(f"ranking[{i}]", f"response {index} is ranked twice"))
        else:
            errors.extend(index_error(f"ranking[{i}]", index, task))
        seen.add(index)
    return errors


def positions(ranking: Sequence[int]) -> np.ndarray:
    """[k] the place of each response in `ranking` (0 = best)."""
    places = np.empty(len(ranking), dtype=np.int64)
    places[np.asarray(ranking)] = np.arange(len(ranking))
    return places


def kendall_agreement(a: Sequence[int], b: Sequence[int]) -> float:
    """Share of response pairs two rankings order the same way: (tau + 1) / 2."""
    return (kendall_tau(positions(a), positions(b)) + 1) / 2


def borda_order(rankings: Sequence[Sequence[int]]) -> list[int]:
    """Responses by Borda points, then pairwise wins among equal points, then index."""
    places = np.stack([positions(r) for r in rankings])  # [answers, k]
    k = places.shape[1]
    points = (k - 1 - places).sum(axis=0)
    above = (places[:, :, None] < places[:, None, :]).sum(axis=0)  # [i, j]: i ranked above j
    beats = (above > above.T) & (points[:, None] == points[None, :])
    wins = beats.sum(axis=1)
    return sorted(range(k), key=lambda i: (-points[i], -wins[i], i))


def consolidate(params: RankingParams, task: PreferenceTask, answers: Sequence[Answer]) -> Answer:
    rankings = [answer["ranking"] for answer in answers]
    result = borda_order(rankings)
    support = [kendall_agreement(ranking, result) for ranking in rankings]
    return {"ranking": result, "confidence": sum(support) / len(support)}


def matches(params: RankingParams, task: PreferenceTask, answer: Answer, gold: Answer) -> bool:
    same_top = answer["ranking"][0] == gold["ranking"][0]
    return same_top and kendall_agreement(answer["ranking"], gold["ranking"]) >= MATCH_AGREEMENT


def agreement(
    params: RankingParams, items: Sequence[tuple[PreferenceTask, Sequence[Answer]]]
) -> Agreement:
    return pairwise_agreement(
        "kendall_agreement", items, lambda _, a, b: kendall_agreement(a["ranking"], b["ranking"])
    )


def _pair_rows(params: BaseModel, task: dict[str, Any]) -> list[Row]:
    ranked = _ranked_row(params, task)
    better = ranked["responses"]
    return [
        preference_pair(ranked["prompt"], chosen, rejected)
        for p, chosen in enumerate(better)
        for rejected in better[p + 1 :]
    ]


def _ranked_row(params: BaseModel, task: dict[str, Any]) -> Row:
    ranking = task["response"]["ranking"]
    row = {
        "prompt": task["params"]["prompt"],
        "responses": [task["params"]["responses"][i] for i in ranking],
        "ranking": ranking,
    }
    if task["params"].get("models"):
        row["models"] = [task["params"]["models"][i] for i in ranking]
    return row


KIND = Kind(
    name="ranking",
    summary="order k model responses to a prompt from best to worst",
    widget="ranking",
    params_model=RankingParams,
    task_model=PreferenceTask,
    check_task=check_task,
    response_model=RankingResponse,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
    exports={
        "pairs": Export(JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(_pair_rows)),
        "ranked": Export(
            JSONL_MEDIA_TYPE, JSONL_SUFFIX, jsonl_writer(lambda p, t: [_ranked_row(p, t)])
        ),
    },
)
