"""Spans: mark labelled character ranges of a text (named entities, phrases, evidence).

Project params: {labels: [1+ distinct names], allow_overlap: false, match_threshold: 0.5}.
A task carries {text: str} (other keys are kept). An answer is
{"spans": [{"start": int, "end": int, "label": str}, ...]}: offsets are Python string
indices (code points) with 0 <= start < end <= len(text), the label one of the project's.
No span of an answer may be given twice, nor (unless `allow_overlap`) overlap another.
A span may carry `text`, which must then equal text[start:end] (a guard that the offsets
mean what the worker saw); it is kept with the answer and plays no part in consolidation,
matching or agreement.

Consolidation: every worker's spans are clustered by overlap, ignoring labels. Candidate
pairs are spans of two different workers whose character Jaccard (overlap / union) is at
least `match_threshold`; taking pairs by Jaccard (highest first, then same-label pairs,
then position), two clusters merge when they share no worker and every span of one has
Jaccard >= threshold with every span of the other. So a cluster holds at most one span
per worker, all pairwise similar. A cluster's label is its most common label (ties to
the label listed first in params); its support is the number of workers who gave that
label; its offsets are its most common (start, end) among all its spans (ties to the
earliest). A cluster is kept when its support is a strict majority of the task's answers
(support > n/2). Where the project forbids overlap and two kept spans overlap, the one
with less support (then the later one) is dropped. Result: {"spans": [...] sorted by
(start, end, label), "confidence"}, confidence being the mean over clusters of the share
of workers that agree with the decision: support / n for a kept cluster, the share of
workers with no span in it for a dropped one; 1 when no worker gave any span.

Gold: an answer matches when its span-level F1 against the gold (spans equal in start,
end and label) is at least 0.8; two empty answers have F1 1.

Agreement: "span_f1", the mean over every pair of answers to the same task of their
span-level F1 (exact matches).

Exports: "conll" (token<TAB>BIO tag per line, a blank line after each task; tokens are
the text's whitespace-separated runs, see `assay.exchange.span_conll`), "spacy" (JSONL,
one {"id", "text", "ents": [[start, end, label], ...]} per task, spaCy's offsets format).
Imports: "conll" (BIO CoNLL, one task per blank-line-separated block, the text rebuilt
from its tokens joined by single spaces, the tags as a hypothesis).
"""

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.exchange.span_conll import Span, read_conll, write_conll
from assay.kinds.base import Agreement, Answer, Export, Import, Kind, pairwise_agreement
from assay.kinds.labels import Label, label_errors, repeats, vote
from assay.text import Text

MIN_GOLD_F1 = 0.8


class SpansParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    labels: Annotated[list[Label], Field(min_length=1, max_length=1000)]
    allow_overlap: bool = False
    match_threshold: Annotated[float, Field(gt=0, le=1)] = 0.5
    """Least character Jaccard for two workers' spans to be the same span."""


def check_params(params: SpansParams) -> list[FieldError]:
    return repeats(params.labels)


class SpansTask(BaseModel):
    model_config = ConfigDict(extra="allow")

    text: Annotated[Text, Field(min_length=1, max_length=1_000_000)]


class SpanAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: Annotated[int, Field(strict=True, ge=0)]
    end: Annotated[int, Field(strict=True, ge=1)]
    label: Label
    text: Text | None = None
    """Optional: the marked text, checked against text[start:end]."""


class SpansResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    spans: Annotated[list[SpanAnswer], Field(max_length=10_000)]


def check_response(
    params: SpansParams, task: SpansTask, response: SpansResponse
) -> list[FieldError]:
    spans = response.spans
    errors = [e for i, s in enumerate(spans) for e in check_span(params, task.text, i, s)]
    placed = [(i, s) for i, s in enumerate(spans) if s.start < s.end <= len(task.text)]
    return errors + check_overlaps(params, placed)


def check_span(params: SpansParams, text: str, i: int, span: SpanAnswer) -> list[FieldError]:
    """Offsets inside the text and in order, a project label, `text` as marked."""
    path = f"spans[{i}]"
    if span.start >= len(text):
        return [FieldError(f"{path}.start", f"must be below the text's length {len(text)}")]
    if span.end <= span.start:
        return [FieldError(f"{path}.end", f"must be greater than start ({span.start})")]
    if span.end > len(text):
        return [FieldError(f"{path}.end", f"must be at most the text's length {len(text)}")]
    if unknown := label_errors(params.labels, f"{path}.label", span.label):
        return unknown
    marked = text[span.start : span.end]
    if span.text is not None and span.text != marked:
        return [FieldError(f"{path}.text", f"is {span.text!r} but the offsets mark {marked!r}")]
    return []


def check_overlaps(
    params: SpansParams, placed: Sequence[tuple[int, SpanAnswer]]
) -> list[FieldError]:
    """A span given twice is an error; so is one that overlaps an earlier-starting one
    (named by index) unless the project allows overlap."""
    ordered = sorted(placed, key=lambda p: (p[1].start, p[1].end, p[1].label, p[0]))
    errors: list[tuple[int, FieldError]] = []
    previous: tuple[int, SpanAnswer] | None = None
    reach: tuple[int, SpanAnswer] | None = None
    for i, span in ordered:
        if previous is not None and _triple(previous[1]) == _triple(span):
            errors.append((i, FieldError(f"spans[{i}]", f"repeats spans[{previous[0]}]")))
        elif not params.allow_overlap and reach is not None and span.start < reach[1].end:
            j, other = reach
            message = f"overlaps spans[{j}] ({other.start}..{other.end}); this project"
            errors.append((i, FieldError(f"spans[{i}]", f"{message} takes no overlapping spans")))
        if reach is None or span.end > reach[1].end:
            reach = (i, span)
        previous = (i, span)
    return [error for _, error in sorted(errors, key=lambda e: e[0])]


def _triple(span: SpanAnswer) -> tuple[int, int, str]:
    return span.start, span.end, span.label


@dataclass(frozen=True)
class Mark:
    """One worker's span."""

    worker: int
    start: int
    end: int
    label: str


@dataclass(frozen=True)
class Decision:
    """A cluster's span, the workers who gave it that label, and the cluster's size."""

    span: Span
    support: int
    size: int


def marks(answers: Sequence[Answer]) -> list[Mark]:
    """Every worker's spans, ordered by (start, end, label, worker)."""
    found = [
        Mark(w, s["start"], s["end"], s["label"]) for w, a in enumerate(answers) for s in a["spans"]
    ]
    return sorted(found, key=lambda m: (m.start, m.end, m.label, m.worker))


def jaccard(a: Mark, b: Mark) -> float:
    """Characters in both over characters in either."""
    both = min(a.end, b.end) - max(a.start, b.start)
    return both / (max(a.end, b.end) - min(a.start, b.start)) if both > 0 else 0.0


def candidate_pairs(found: Sequence[Mark], threshold: float) -> list[tuple[int, int]]:
    """Pairs of spans of different workers with Jaccard >= threshold, best first: by
    Jaccard, then same label, then position."""
    scored = []
    for i, a in enumerate(found):
        for j in range(i + 1, len(found)):
            b = found[j]
            if b.start >= a.end:
                break
            similarity = jaccard(a, b)
            if a.worker != b.worker and similarity >= threshold:
                scored.append((-similarity, a.label != b.label, i, j))
    return [(i, j) for *_, i, j in sorted(scored)]


def clusters(found: Sequence[Mark], threshold: float) -> list[list[Mark]]:
    """Complete-linkage clusters with at most one span per worker (see the module doc)."""
    owner = list(range(len(found)))
    members = {i: [i] for i in range(len(found))}
    for i, j in candidate_pairs(found, threshold):
        keep, drop = sorted((owner[i], owner[j]))
        if keep != drop and _joinable(found, members[keep], members[drop], threshold):
            for m in members[drop]:
                owner[m] = keep
            members[keep] += members.pop(drop)
    return [[found[m] for m in sorted(ms)] for _, ms in sorted(members.items())]


def _joinable(found: Sequence[Mark], a: list[int], b: list[int], threshold: float) -> bool:
    if {found[i].worker for i in a} & {found[j].worker for j in b}:
        return False
    return all(jaccard(found[i], found[j]) >= threshold for i in a for j in b)


def decide(labels: Sequence[str], cluster: Sequence[Mark]) -> Decision:
    """The cluster's label by vote (ties to the earlier project label) and offsets by
    their most common pair (ties to the earliest)."""
    label, support = vote(labels, [m.label for m in cluster])
    bounds = Counter((m.start, m.end) for m in cluster)
    start, end = min(bounds, key=lambda b: (-bounds[b], b))
    return Decision(Span(start, end, label), support, len(cluster))


def without_overlaps(decisions: Sequence[Decision], kept: Iterable[int]) -> set[int]:
    """The kept decisions, less any that overlaps one with more support (or, on equal
    support, an earlier one)."""
    accepted: list[Span] = []
    chosen = set()
    for k in sorted(kept, key=lambda k: (-decisions[k].support, _position(decisions[k]))):
        span = decisions[k].span
        if all(span.end <= o.start or o.end <= span.start for o in accepted):
            accepted.append(span)
            chosen.add(k)
    return chosen


def _position(decision: Decision) -> tuple[int, int, str]:
    return decision.span.start, decision.span.end, decision.span.label


def consolidate(params: SpansParams, task: SpansTask, answers: Sequence[Answer]) -> Answer:
    n = len(answers)
    decisions = [decide(params.labels, c) for c in clusters(marks(answers), params.match_threshold)]
    kept = {k for k, d in enumerate(decisions) if d.support * 2 > n}
    if not params.allow_overlap:
        kept = without_overlaps(decisions, kept)
    agree = [d.support / n if k in kept else (n - d.size) / n for k, d in enumerate(decisions)]
    spans = sorted((decisions[k] for k in kept), key=_position)
    return {
        "spans": [asdict(d.span) for d in spans],
        "confidence": sum(agree) / len(agree) if agree else 1.0,
    }


def span_f1(a: Answer, b: Answer) -> float:
    """F1 of two answers' spans, a span counting as found when start, end and label are
    equal; 1 when both are empty."""
    x, y = _span_set(a), _span_set(b)
    if not x and not y:
        return 1.0
    return 2 * len(x & y) / (len(x) + len(y))


def _span_set(answer: Answer) -> set[tuple[int, int, str]]:
    return {(s["start"], s["end"], s["label"]) for s in answer["spans"]}


def matches(params: SpansParams, task: SpansTask, answer: Answer, gold: Answer) -> bool:
    return span_f1(answer, gold) >= MIN_GOLD_F1


def agreement(
    params: SpansParams, items: Sequence[tuple[SpansTask, Sequence[Answer]]]
) -> Agreement:
    return pairwise_agreement("span_f1", items, lambda task, a, b: span_f1(a, b))


def _spans_of(answer: Answer) -> list[Span]:
    return [Span(s["start"], s["end"], s["label"]) for s in answer["spans"]]


def export_conll(params: BaseModel, tasks: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    return write_conll((t["params"]["text"], _spans_of(t["response"])) for t in tasks)


def export_spacy(params: BaseModel, tasks: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    for task in tasks:
        ents = [[s.start, s.end, s.label] for s in _spans_of(task["response"])]
        record = {"id": task["id"], "text": task["params"]["text"], "ents": ents}
        yield orjson.dumps(record) + b"\n"


def import_conll(data: bytes) -> Iterator[dict[str, Any]]:
    for text, spans in read_conll(data):
        yield {"params": {"text": text}, "hypothesis": {"spans": [asdict(s) for s in spans]}}


KIND = Kind(
    name="spans",
    summary="mark labelled character spans of a text (named entities, phrases)",
    widget="spans",
    params_model=SpansParams,
    task_model=SpansTask,
    response_model=SpansResponse,
    check_params=check_params,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
    exports={
        "conll": Export("text/plain; charset=utf-8", "conll", export_conll),
        "spacy": Export("application/x-ndjson", "jsonl", export_spacy),
    },
    imports={"conll": Import(import_conll)},
)
