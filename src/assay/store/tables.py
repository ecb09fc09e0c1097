"""The schema, as SQLAlchemy Core tables. Alembic migrations must produce exactly this.

Indexes are few, and partial where they can be: each one costs every bulk import a
b-tree write per row. Times are UTC ISO-8601 text (sortable, identical on SQLite and
PostgreSQL); JSON documents are stored as their text, so exports embed them as they are.
"""

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200)),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)

projects = Table(
    "projects",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("params", Text, nullable=False),
    Column("instructions", Text, nullable=False),
    Column("overlap", Integer, nullable=False),
    Column("callback_url", String(2000)),
    Column("callback_secret", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
    Column("members_only", Integer, nullable=False, server_default=text("0")),
    Column("required_skills", Text, nullable=False, server_default=text("'[]'")),
    Column("lease_seconds", Integer, nullable=False, server_default=text("600")),
    Column("gold_rate", Float, nullable=False, server_default=text("0.1")),
    # Tasks one worker may hold at once here; past it work/next gives back the open ones.
    Column("max_leases_per_worker", Integer, nullable=False, server_default=text("2")),
    # Truth inference behind results (NULL: Dawid-Skene once there are enough answers).
    Column("consolidation", String(16)),
    # Adaptive overlap (both set, or neither): `overlap` answers at least, then more while
    # the result's confidence is below target_confidence, up to max_overlap.
    Column("max_overlap", Integer),
    Column("target_confidence", Float),
    # Workers whose measured quality is surely below this leave the project's queue.
    Column("min_worker_quality", Float),
    Column("fraud", Text),
    # Review layer: this share of completed results (review_rate), and every result whose
    # confidence is below review_below, wait in status 'in_review' for a reviewer.
    Column("review_rate", Float),
    Column("review_below", Float),
    # Model in the loop settings (JSON), NULL when people label everything.
    Column("automation", Text),
)

batches = Table(
    "batches",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(16), nullable=False),
    Column("callback_url", String(2000)),
    Column("created_at", String(32), nullable=False),
    Column("finalized_at", String(32)),
    Column("completed_at", String(32)),
    Index("ux_batches_project_name", "project_id", "name", unique=True),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("batch_id", String(32), ForeignKey("batches.id")),
    Column("status", String(16), nullable=False),
    Column("params", Text, nullable=False),
    Column("unique_id", String(256)),
    Column("metadata", Text),
    Column("callback_url", String(2000)),
    Column("priority", Integer, nullable=False),
    Column("response", Text),
    Column("created_at", String(32), nullable=False),
    Column("completed_at", String(32)),
    Column("canceled_at", String(32)),
    # The work loop's counters: accepted answers, and leases now held (expired ones are
    # swept in the claim transaction itself). ready = 0 while the task's batch is staging.
    # filled = 1 while answers + leases reach the project's overlap: such a task has no
    # slot to offer, so it leaves the queue index instead of being scanned past.
    Column("answers", Integer, nullable=False, server_default=text("0")),
    Column("leases", Integer, nullable=False, server_default=text("0")),
    Column("filled", Integer, nullable=False, server_default=text("0")),
    # Answers this task needs now, when adaptive overlap raised it above the project's.
    Column("target", Integer),
    Column("ready", Integer, nullable=False, server_default=text("1")),
    Column("callback_succeeded_at", String(32)),
    # The known answer of a gold (evaluation) task; NULL for customer tasks.
    Column("gold", Text),
    # A pre-label in the kind's response format, shown to workers to accept or correct.
    Column("hypothesis", Text),
    # Model in the loop: 1 if the task is in the project's calibration sample (always
    # labelled by people), 0 if not, NULL until drawn. `boost` orders the human queue
    # within a priority: active learning raises the tasks that teach the model most.
    Column("calibration", Integer),
    Column("boost", Integer, nullable=False, server_default=text("0")),
    Index("ix_tasks_project", "project_id", "id"),
    # The work queue: what a claim scans, in the order it serves.
    Index(
        "ix_tasks_queue",
        "project_id",
        text("priority DESC"),
        text("boost DESC"),
        "id",
        sqlite_where=text("status = 'pending' AND ready = 1 AND gold IS NULL AND filled = 0"),
        postgresql_where=text("status = 'pending' AND ready = 1 AND gold IS NULL AND filled = 0"),
    ),
    Index(
        "ix_tasks_review",
        "project_id",
        "id",
        sqlite_where=text("status = 'in_review'"),
        postgresql_where=text("status = 'in_review'"),
    ),
    Index(
        "ix_tasks_gold",
        "project_id",
        "id",
        sqlite_where=text("gold IS NOT NULL AND status = 'pending'"),
        postgresql_where=text("gold IS NOT NULL AND status = 'pending'"),
    ),
    # Pending tasks (nearly all of a fresh import) are listed through ix_tasks_project;
    # this index holds only the others, so importing never writes to it.
    Index(
        "ix_tasks_project_status",
        "project_id",
        "status",
        "id",
        sqlite_where=text("status <> 'pending'"),
        postgresql_where=text("status <> 'pending'"),
    ),
    Index(
        "ix_tasks_batch_status",
        "batch_id",
        "status",
        sqlite_where=text("batch_id IS NOT NULL"),
        postgresql_where=text("batch_id IS NOT NULL"),
    ),
    Index(
        "ux_tasks_project_unique_id",
        "project_id",
        "unique_id",
        unique=True,
        sqlite_where=text("unique_id IS NOT NULL"),
        postgresql_where=text("unique_id IS NOT NULL"),
    ),
    # SQLite keeps the rows in the id b-tree itself: one b-tree fewer to write per task.
    sqlite_with_rowid=False,
)

workers = Table(
    "workers",
    metadata,
    Column("id", String(32), ForeignKey("api_keys.id"), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("skills", Text, nullable=False),
    Column("active", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("blocked_at", String(32)),
)

project_members = Table(
    "project_members",
    metadata,
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("worker_id", String(32), ForeignKey("workers.id"), nullable=False),
    PrimaryKeyConstraint("project_id", "worker_id"),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("task_id", String(32), ForeignKey("tasks.id"), nullable=False),
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("worker_id", String(32), ForeignKey("workers.id"), nullable=False),
    # active -> submitted | skipped | expired | released
    Column("status", String(16), nullable=False),
    Column("leased_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("ended_at", String(32)),
    # 'label' (answer the task) or 'review' (judge its result)
    Column("stage", String(16), nullable=False, server_default=text("'label'")),
    # A worker is offered a task at most once, whatever became of the offer.
    UniqueConstraint("task_id", "worker_id", name="ux_assignments_task_worker"),
    Index(
        "ix_assignments_active_expiry",
        "expires_at",
        sqlite_where=text("status = 'active'"),
        postgresql_where=text("status = 'active'"),
    ),
    Index("ix_assignments_worker", "worker_id", "status"),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("task_id", String(32), ForeignKey("tasks.id"), nullable=False),
    Column("worker_id", String(32), ForeignKey("workers.id"), nullable=False),
    Column("assignment_id", String(32), ForeignKey("assignments.id"), nullable=False),
    Column("response", Text, nullable=False),
    Column("duration_ms", Integer),
    Column("created_at", String(32), nullable=False),
    # On gold tasks: 1 if the answer matched the gold answer, else 0. NULL elsewhere.
    Column("correct", Integer),
    # 1 once a reviewer rejected the result it led to: the task is labelled afresh.
    Column("discarded", Integer),
    # On tasks shown with a pre-label: 1 if the answer kept it, 0 if the worker changed it.
    Column("kept_hypothesis", Integer),
    UniqueConstraint("task_id", "worker_id", name="ux_annotations_task_worker"),
    Index("ix_annotations_worker", "worker_id"),
)

# The outbox: a callback is written in the transaction that completes its task or batch,
# then delivered (at least once) by a dispatcher that may run in any process.
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("task_id", String(32), ForeignKey("tasks.id")),
    Column("batch_id", String(32), ForeignKey("batches.id")),
    Column("url", String(2000), nullable=False),
    # scheme://host:port of the url: deliveries queue per destination (NULL before 0012)
    Column("destination", String(2100)),
    Column("body", Text, nullable=False),
    # pending -> delivered | failed (gave up after the retry window)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", String(32), nullable=False),
    Column("last_error", Text),
    Column("created_at", String(32), nullable=False),
    Column("delivered_at", String(32)),
    Index(
        "ix_callbacks_due",
        "next_attempt_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

# A customer's verdict on a delivered result: one per task (a new verdict replaces it).
audits = Table(
    "audits",
    metadata,
    Column("task_id", String(32), ForeignKey("tasks.id"), primary_key=True),
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("batch_id", String(32), ForeignKey("batches.id")),
    Column("correct", Integer, nullable=False),
    Column("note", Text),
    Column("auditor", String(32), ForeignKey("api_keys.id"), nullable=False),
    Column("audited_at", String(32), nullable=False),
    Index("ix_audits_project", "project_id"),
    Index("ix_audits_batch", "batch_id"),
)

# The worker models of a project's last truth-inference fit: the class prior and each
# worker's confusion matrix (over `labels`, the kind's answer keys). Completions read
# them to weigh answers without refitting; a background refit replaces them.
project_models = Table(
    "project_models",
    metadata,
    Column("project_id", String(32), ForeignKey("projects.id"), primary_key=True),
    Column("method", String(16), nullable=False),
    Column("labels", Text, nullable=False),
    Column("prior", Text, nullable=False),
    # For a worker who has no model yet: the answer-weighted mean of everyone's.
    Column("default_confusion", Text, nullable=False),
    Column("answers", Integer, nullable=False),
    Column("last_answer_id", String(32), nullable=False),
    Column("fitted_at", String(32), nullable=False),
)

worker_models = Table(
    "worker_models",
    metadata,
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("worker_id", String(32), ForeignKey("workers.id"), nullable=False),
    Column("confusion", Text, nullable=False),
    PrimaryKeyConstraint("project_id", "worker_id"),
)

# Workers taken off a project's queue for low quality. Restoring keeps the row (the audit
# trail); a worker is removed while a row of theirs has no restored_at.
worker_removals = Table(
    "worker_removals",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("worker_id", String(32), ForeignKey("workers.id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("code", String(32)),
    Column("evidence", Text),
    Column("removed_at", String(32), nullable=False),
    Column("restored_at", String(32)),
    Column("restored_by", String(32), ForeignKey("api_keys.id")),
    Index(
        "ux_worker_removals_active",
        "project_id",
        "worker_id",
        unique=True,
        sqlite_where=text("restored_at IS NULL"),
        postgresql_where=text("restored_at IS NULL"),
    ),
)

# A reviewer's verdict on a result: accept, reject (the task is labelled again) or fix
# (`response` becomes the result). `result` is the result that was judged.
reviews = Table(
    "reviews",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("assignment_id", String(32), ForeignKey("assignments.id"), nullable=False),
    Column("task_id", String(32), ForeignKey("tasks.id"), nullable=False),
    Column("reviewer", String(32), ForeignKey("workers.id"), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("result", Text, nullable=False),
    Column("response", Text),
    Column("reason", Text),
    Column("created_at", String(32), nullable=False),
    UniqueConstraint("assignment_id", name="ux_reviews_assignment"),
    Index("ix_reviews_task", "task_id"),
)

# Uploaded media (images a task shows), kept in the database so every server process and
# every backup has them. The id is the content's SHA-256: uploading a file again is a no-op.
media = Table(
    "media",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("content_type", String(64), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", String(32), nullable=False),
)

# Browser sign-ins: the cookie carries a random token, stored here only as its SHA-256,
# with the CSRF token the session's pages must send back on every change.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("key_id", String(32), ForeignKey("api_keys.id"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)

# Model in the loop: the latest prediction of the project's model for each task.
predictions = Table(
    "predictions",
    metadata,
    Column("task_id", String(32), ForeignKey("tasks.id"), primary_key=True),
    Column("project_id", String(32), ForeignKey("projects.id"), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("response", Text, nullable=False),
    Column("confidence", Float, nullable=False),
    Column("created_at", String(32), nullable=False),
    Index("ix_predictions_project", "project_id", "confidence"),
)

# Sentence embeddings of task text, by SHA-256 of (model, text): computed once, ever.
embeddings = Table(
    "embeddings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("vector", LargeBinary, nullable=False),
)

# Each automated project's model state: its version, the certified confidence threshold
# and the figures behind it (JSON).
automation_state = Table(
    "automation_state",
    metadata,
    Column("project_id", String(32), ForeignKey("projects.id"), primary_key=True),
    Column("model_version", String(64), nullable=False),
    Column("fitted_at", String(32), nullable=False),
    Column("threshold", Float),
    Column("report", Text, nullable=False),
)

# Which process runs each background job (engine/leases.py), on SQLite: the holder renews
# `expires_at` while it runs; PostgreSQL uses advisory locks and leaves this empty.
job_leases = Table(
    "job_leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(64), nullable=False),
    Column("expires_at", String(32), nullable=False),
)
