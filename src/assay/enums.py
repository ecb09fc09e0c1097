"""The closed sets of words that the API, the engine, the pages and the CLI share, each
written once: schemas build their Literals from these, checks and lists import them.
(Consolidation methods are the keys of `assay.quality.CATEGORICAL`, where they live.)"""

ROLES = ("admin", "manager", "annotator", "reviewer")
"""Every role a key may have."""
MANAGER_ROLES = ("admin", "manager")
"""Roles that run projects: their pages and settings."""
WORKER_ROLES = ("annotator", "reviewer")
"""Roles of people who do the work: their keys are workers."""
REVIEWER_ROLES = ("reviewer",)
"""Roles that may review results."""

TASK_STATUSES = ("pending", "in_review", "completed", "canceled", "error")
BATCH_STATUSES = ("staging", "in_progress", "completed")
