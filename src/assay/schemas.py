"""Wire models: what clients send and receive. Shared by the API, the engine and the SDK."""

from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, PlainSerializer, StrictBool

from assay.automation.settings import AutomationSettings
from assay.enums import BATCH_STATUSES, ROLES, TASK_STATUSES, WORKER_ROLES
from assay.kinds import KINDS
from assay.quality import CATEGORICAL
from assay.quality.fraud import DEFAULT_LABEL_WINDOW, DEFAULT_MAX_FAST_SHARE, DEFAULT_WINDOW
from assay.text import Text

Name = Annotated[Text, Field(min_length=1, max_length=200)]
Id = Annotated[Text, Field(min_length=1, max_length=64)]
UNIQUE_ID_MAX = 256
PRIORITY_MIN, PRIORITY_MAX = -(2**31), 2**31 - 1
UniqueId = Annotated[Text, Field(min_length=1, max_length=UNIQUE_ID_MAX)]
Url = Annotated[AnyHttpUrl, Field(max_length=2000), PlainSerializer(str, return_type=str)]
Priority = Annotated[int, Field(ge=PRIORITY_MIN, le=PRIORITY_MAX)]
Overlap = Annotated[int, Field(ge=1, le=50)]
Instructions = Annotated[Text, Field(max_length=200_000)]
Role = Literal[ROLES]  # type: ignore[valid-type]
KindName = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Stage = Literal["label", "review"]
TaskStatus = Literal[TASK_STATUSES]  # type: ignore[valid-type]
BatchStatus = Literal[BATCH_STATUSES]  # type: ignore[valid-type]
# Intervals are [low, high]: lists of two, not tuples, whose `prefixItems` schema some
# OpenAPI tools do not read.
Pair = Annotated[list[float], Field(min_length=2, max_length=2)]
OptionalPair = Annotated[list[float | None], Field(min_length=2, max_length=2)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- projects -------------------------------------------------------------------------


Skill = Annotated[Text, Field(min_length=1, max_length=100)]
Skills = Annotated[list[Skill], Field(max_length=100)]
LeaseSeconds = Annotated[int, Field(ge=1, le=7 * 24 * 3600)]
GoldRate = Annotated[float, Field(ge=0, le=1)]
MaxLeases = Annotated[int, Field(ge=1, le=1000)]
MAX_LEASES = (
    "Tasks one worker may hold at once in this project (the labelling page holds 2: the "
    "task shown and the next); past it `work/next` gives back the open leases"
)
Consolidation = Literal[tuple(CATEGORICAL)]  # type: ignore[valid-type]
TargetConfidence = Annotated[float, Field(gt=0.5, le=1)]
ADAPTIVE = (
    "Adaptive overlap: each task gets `min_overlap` answers (default `overlap`), then more "
    "while its result's confidence is below `target_confidence`, up to `max_overlap`"
)


class FraudSettings(Request):
    """Spam rules (assay.quality.fraud); a rule is on when its setting is given."""

    fast_answer_ms: Annotated[int, Field(ge=1, le=600_000)] | None = Field(
        None,
        description="Answers faster than this count as fast; a worker with more than "
        "`max_fast_share` of their last `window` answers fast leaves the queue (`fast_answers`)",
    )
    max_fast_share: Annotated[float, Field(ge=0, lt=1)] = DEFAULT_MAX_FAST_SHARE
    window: Annotated[int, Field(ge=5, le=1000)] = DEFAULT_WINDOW
    repeated_label_chance: Annotated[float, Field(gt=0, lt=0.5)] | None = Field(
        None,
        description="A worker who gives one label in most of their last `label_window` "
        "answers, so much more often than others give it that an honest worker would with a "
        "chance below this (e.g. 0.0001), leaves the queue (`repeated_label`); label kinds only",
    )
    label_window: Annotated[int, Field(ge=10, le=1000)] = DEFAULT_LABEL_WINDOW


class QualitySettings(Request):
    consolidation: Consolidation | None = Field(
        None,
        description="Truth inference behind results; default Dawid-Skene once the project "
        "has enough answers on tasks answered more than once, majority vote before",
    )
    min_overlap: Overlap | None = Field(None, description=ADAPTIVE)
    max_overlap: Overlap | None = Field(None, description=ADAPTIVE)
    target_confidence: TargetConfidence | None = Field(None, description=ADAPTIVE)
    review_rate: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="Share of completed results a reviewer checks before delivery"
    )
    review_below: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None, description="Results with a confidence below this always go to review"
    )
    min_worker_quality: Annotated[float, Field(ge=0, le=1)] | None = Field(
        None,
        description="Workers surely below this accuracy (gold, else model-based) leave the "
        "project's queue until a manager restores them",
    )
    fraud: FraudSettings | None = Field(
        None, description="Spam rules that take a worker off the queue, each with evidence"
    )
    automation: AutomationSettings | None = Field(
        None,
        description="Model in the loop: a model pre-labels every task and completes those "
        "it is certified sure enough of; null: people label everything",
    )


class ProjectCreate(QualitySettings):
    name: Name
    kind: KindName
    params: dict[str, Any] = Field(
        description="Settings of the kind; categorization: {labels: [2+ distinct], multi}"
    )
    instructions: Instructions = ""
    overlap: Overlap = 1
    callback_url: Url | None = None
    members_only: bool = Field(False, description="Only workers added as members get its tasks")
    required_skills: Skills = Field(
        default_factory=list, description="A worker needs all of these to get its tasks"
    )
    lease_seconds: LeaseSeconds = Field(600, description="How long a worker holds a task")
    gold_rate: GoldRate = Field(0.1, description="Share of a worker's tasks that are gold")
    max_leases_per_worker: MaxLeases = Field(2, description=MAX_LEASES)


class ProjectUpdate(QualitySettings):
    name: Name | None = None
    instructions: Instructions | None = None
    overlap: Overlap | None = None
    callback_url: Url | None = None
    members_only: bool | None = None
    required_skills: Skills | None = None
    lease_seconds: LeaseSeconds | None = None
    gold_rate: GoldRate | None = None
    max_leases_per_worker: MaxLeases | None = Field(None, description=MAX_LEASES)


class ProjectOut(BaseModel):
    id: str
    name: str
    kind: str
    params: dict[str, Any]
    instructions: str
    overlap: int
    callback_url: str | None
    members_only: bool
    required_skills: list[str]
    lease_seconds: int
    gold_rate: float
    max_leases_per_worker: int
    consolidation: str | None
    min_overlap: int = Field(
        description="The same setting as `overlap`, under its name for adaptive overlap"
    )
    max_overlap: int | None
    target_confidence: float | None
    min_worker_quality: float | None
    fraud: dict[str, Any] | None
    review_rate: float | None
    review_below: float | None
    automation: dict[str, Any] | None
    created_at: str
    updated_at: str


class ProjectCreated(ProjectOut):
    callback_secret: str = Field(description="Signs callbacks; shown only here")


class CallbackSecret(BaseModel):
    project: str
    callback_secret: str = Field(description="Signs callbacks from now on; shown only here")


class BatchProgress(BaseModel):
    batch: str | None = Field(description="null: the tasks outside any batch")
    name: str | None
    total: int
    counts: dict[TaskStatus, int]


class HourlyCount(BaseModel):
    hour: str = Field(description='a UTC hour, "YYYY-MM-DDTHH"')
    completed: int


class LabelCount(BaseModel):
    label: str = Field(description="the kind's answer key of the results")
    count: int


class LowConfidenceTask(BaseModel):
    task: str
    confidence: float
    url: str = Field(description="where the task's JSON is")


class Dashboard(BaseModel):
    """A project's progress and pace; gold tasks are left out of every figure."""

    project: str
    batch: str | None
    since: str | None
    until: str | None
    total: int = Field(description="tasks now (time filters do not apply)")
    counts: dict[TaskStatus, int] = Field(description="tasks by status now")
    batches: list[BatchProgress] = Field(description="tasks by status in each batch")
    throughput: list[HourlyCount] = Field(description="completions per hour, oldest first")
    labels: list[LabelCount] = Field(
        description="completed results per answer key (kinds whose answers are categories)"
    )
    lowest_confidence: list[LowConfidenceTask] = Field(
        description="completed tasks with the least sure results, least sure first"
    )
    answers: int
    workers_active: int = Field(description="distinct workers who gave these answers")
    mean_answer_ms: float | None = Field(description="mean duration the clients reported")
    answers_last_hour: int = Field(description="the recent answer rate (time filters do not apply)")
    remaining_answers: int = Field(description="answers the pending tasks still need")
    eta_seconds: float | None = Field(
        description="remaining_answers at the recent rate; null while that rate is 0"
    )


# --- batches --------------------------------------------------------------------------


class BatchCreate(Request):
    project: Id
    name: Name
    callback_url: Url | None = None


class BatchOut(BaseModel):
    id: str
    project: Id
    name: str
    status: BatchStatus
    callback_url: str | None
    created_at: str
    finalized_at: str | None
    completed_at: str | None


class BatchStatusOut(BaseModel):
    id: str
    status: BatchStatus
    total: int
    counts: dict[TaskStatus, int]


# --- tasks ----------------------------------------------------------------------------


class TaskFields(Request):
    """One task as a client submits it; a row of a bulk import has exactly these fields."""

    params: dict[str, Any] = Field(description='The item, e.g. {"text": ...}')
    unique_id: UniqueId | None = Field(None, description="Idempotency key, unique per project")
    metadata: dict[str, Any] | None = None
    callback_url: Url | None = None
    priority: Priority = 0
    gold: dict[str, Any] | None = Field(
        None, description="The known answer: makes this a gold task that measures workers"
    )
    hypothesis: dict[str, Any] | None = Field(
        None,
        description="A pre-label in the kind's response format (e.g. a model's answer), "
        "shown to workers to accept or correct",
    )


class TaskCreate(TaskFields):
    project: Id
    batch: Id | None = None


class TaskOut(BaseModel):
    id: str
    project: Id
    batch: str | None
    status: TaskStatus
    params: dict[str, Any]
    unique_id: str | None
    metadata: dict[str, Any] | None
    callback_url: str | None
    priority: int
    response: dict[str, Any] | None
    created_at: str
    completed_at: str | None
    canceled_at: str | None
    callback_succeeded_at: str | None
    gold: dict[str, Any] | None
    hypothesis: dict[str, Any] | None


class RowError(BaseModel):
    line: int
    field: str
    message: str
    code: str = Field(
        description="invalid_json, a pydantic error type (missing, int_parsing, ...), or "
        "invalid for the task kind's own checks"
    )


class ImportReport(BaseModel):
    created: int = 0
    duplicate: int = 0
    rejected: int = 0
    errors: list[RowError] = Field(
        default_factory=list, description="The first 100 problems, in line order"
    )
    error_count: int = Field(0, description="Every problem found (a row may have several)")
    errors_by_field: dict[str, int] = Field(
        default_factory=dict,
        description="Problems by field; past 100 fields the rest count under (other)",
    )
    errors_by_code: dict[str, int] = Field(
        default_factory=dict, description="Problems by code, bounded like errors_by_field"
    )


# --- keys -----------------------------------------------------------------------------


class KeyCreate(Request):
    role: Role
    name: Name | None = None


class KeyOut(BaseModel):
    id: str
    name: str | None
    role: Role
    prefix: str
    created_at: str
    revoked_at: str | None


class KeyCreated(KeyOut):
    key: str = Field(description="The secret; shown only here")


# --- workers and work ----------------------------------------------------------------

WorkerRole = Literal[WORKER_ROLES]  # type: ignore[valid-type]


class WorkerCreate(Request):
    name: Name
    role: WorkerRole = "annotator"
    skills: Skills = Field(default_factory=list)


class WorkerUpdate(Request):
    name: Name | None = None
    skills: Skills | None = None


class WorkerOut(BaseModel):
    id: str
    name: str
    role: WorkerRole
    skills: list[str]
    active: bool
    created_at: str
    blocked_at: str | None


class WorkerCreated(WorkerOut):
    key: str = Field(description="The worker's API key; shown only here")


class Members(Request):
    workers: Annotated[list[Id], Field(min_length=1, max_length=1000)]


class MembersOut(BaseModel):
    project: str
    workers: list[str]


class Me(BaseModel):
    key_id: str
    role: Role
    name: str | None
    worker: WorkerOut | None


class WorkRequest(Request):
    project: Id | None = None


class AssignedTask(BaseModel):
    id: str
    params: dict[str, Any]
    hypothesis: dict[str, Any] | None = Field(
        None, description="the pre-label to accept or correct, when the task has one"
    )


class AssignedProject(BaseModel):
    id: str
    kind: str
    params: dict[str, Any]
    instructions: str


class Assignment(BaseModel):
    id: str
    task: AssignedTask
    project: AssignedProject
    expires_at: str


class ReviewAssignment(Assignment):
    stage: Literal["review"]
    result: dict[str, Any] = Field(description="the result to judge")
    answers: list[Any] = Field(description="the answers it was made from")


class OpenLeases(BaseModel):
    items: list[ReviewAssignment | Assignment]


class ReviewIn(Request):
    verdict: Literal["accept", "reject", "fix"]
    response: Any = Field(None, description="with fix: the corrected response")
    reason: Annotated[str, Field(max_length=2000)] | None = None


class ReviewOut(BaseModel):
    id: str
    assignment: str
    task: str
    verdict: str
    response: Any
    reason: str | None
    created_at: str


class LeaseOut(BaseModel):
    id: str
    status: str
    expires_at: str | None = None


class Submission(Request):
    response: Any = Field(description='The answer; categorization: {"label": ...}')
    duration_ms: Annotated[int, Field(ge=0, le=2**31 - 1)] | None = None


class GoldScore(BaseModel):
    answered: int
    correct: int
    accuracy: float | None
    ci95: Pair = Field(description="Clopper-Pearson 95% interval of accuracy")


class WorkerGold(GoldScore):
    counted_answers: int = Field(
        description="the worker's answers (oldest first) these figures cover: all of them "
        "for a manager; for the worker themselves, those up to the last full 20 and those "
        "before today (UTC), so the figures never move with a single answer"
    )


class PrelabelUse(BaseModel):
    shown: int = Field(description="answers given with a pre-label on screen")
    kept: int = Field(description="of those, answers that kept the pre-label (anchoring)")


class WorkerStats(BaseModel):
    worker: str
    answers: int
    mean_duration_ms: float | None
    active_ms: int = Field(description="time spent answering, as the workers' pages measured it")
    prelabels: PrelabelUse = Field(description="answers to tasks shown with a pre-label")
    gold: WorkerGold


class AuditIn(Request):
    correct: StrictBool = Field(description="whether the delivered result is right")
    note: Annotated[str, Field(max_length=2000)] | None = None


class AuditOut(BaseModel):
    task: str
    correct: bool
    note: str | None
    auditor: str
    audited_at: str


class MeasuredAccuracy(BaseModel):
    audited: int
    correct: int
    accuracy: float | None
    ci95: Pair = Field(description="Clopper-Pearson 95% interval")


class BatchAccuracy(MeasuredAccuracy):
    batch: str


class WorkerRemoval(BaseModel):
    id: str
    worker: str
    reason: str
    code: str | None = Field(description="The rule: low_quality, fast_answers, ...")
    evidence: dict[str, Any] | None
    removed_at: str
    restored_at: str | None
    restored_by: str | None


class Interval(BaseModel):
    value: float | None
    ci95: OptionalPair = Field(description="bootstrap 95% interval")


class Agreement(BaseModel):
    krippendorff_alpha: Interval
    fleiss_kappa: Interval


class KindAgreement(BaseModel):
    measure: str
    value: float | None = Field(description="none while no task has two answers")
    pairs: int = Field(description="pairs of answers (or coded units) compared")


class ReviewScore(BaseModel):
    reviewed: int
    correct: int
    accuracy: float | None
    ci95: Pair


class WorkerQuality(BaseModel):
    worker: str
    answers: int
    agreement: float | None = Field(
        description="share of answers equal to the other workers' majority on the task"
    )
    model_quality: float | None = Field(
        description="chance of a right answer, from `method` (kinds whose answers are categories)"
    )
    model_quality_ci95: Pair | None = Field(
        description="approximate 95% interval: exact, over the expected right answers"
    )
    gold: GoldScore
    audits: MeasuredAccuracy = Field(
        description="answers on audited tasks whose rightness the verdict settles"
    )
    reviews: ReviewScore = Field(
        description="answers whose rightness a reviewer's accept, fix or reject settles"
    )


class ModelScore(BaseModel):
    model: str
    score: float = Field(description="Bradley-Terry log-strength; differences are log-odds")
    comparisons: int


class Leaderboard(BaseModel):
    project: str
    models: list[ModelScore]


class ConsolidationModel(BaseModel):
    method: str
    answers: int = Field(description="answers the models were fitted on")
    fitted_at: str


class ProjectQuality(BaseModel):
    project: str
    answers: int
    tasks: int
    method: str | None = Field(description="the truth inference that scored the workers")
    agreement: Agreement | None = Field(
        description="chance-corrected agreement (kinds whose answers are categories)"
    )
    kind_agreement: KindAgreement | None = Field(
        description="the kind's own agreement measure (e.g. span F1, box IoU)"
    )
    audits: MeasuredAccuracy = Field(description="customer verdicts on delivered results")
    model: ConsolidationModel | None = Field(
        description="the worker models results are consolidated with (none: majority vote)"
    )
    workers: list[WorkerQuality]


class AnnotationOut(BaseModel):
    id: str
    assignment: str
    task: str
    response: Any
    duration_ms: int | None
    created_at: str


# --- lists ----------------------------------------------------------------------------

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    docs: list[T]
    next_token: str | None


# --- errors ---------------------------------------------------------------------------


class ProblemField(BaseModel):
    field: str = Field(description='Where the input was wrong, e.g. "params.labels[2]"')
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every 4xx (and 5xx) answer, served as
    application/problem+json. Some codes add members of their own."""

    model_config = ConfigDict(extra="allow")
    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="What went wrong, for programs: invalid, not_found, ...")
    errors: list[ProblemField]
