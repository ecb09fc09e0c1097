"""How much of a project the model did, how well, and what people saved (per batch).

- Share completed by the model and by people, per batch and overall.
- The model's accuracy: the certified figures of its last cycle (on the calibration
  sample, above the threshold, with the Clopper-Pearson lower bound at the project's
  confidence level), and customer audits of model-completed results.
- People's accuracy: audits of their results and their answers on gold.
- Human hours saved: model-completed tasks × the project's overlap × people's mean
  answer time.
"""

from collections import Counter
from typing import Any

import orjson

from assay.automation.credentials import masked_settings
from assay.engine.audits import measured_accuracy
from assay.engine.automation import is_model_result
from assay.engine.projects import require_project
from assay.quality.intervals import accuracy_summary
from assay.store.db import Store
from assay.store.sql import Sql, all_rows, one

_PROJECT = Sql("SELECT overlap, automation FROM projects WHERE id = :project")
_STATE = Sql(
    "SELECT model_version, fitted_at, threshold, report FROM automation_state"
    " WHERE project_id = :project"
)
_RESULTS = Sql(
    "SELECT t.batch_id, t.response, a.correct FROM tasks t"
    " LEFT JOIN audits a ON a.task_id = t.id"
    " WHERE t.project_id = :project AND t.status = 'completed' AND t.gold IS NULL"
)
_PEOPLE = Sql(
    "SELECT count(n.correct) AS gold_answered, coalesce(sum(n.correct), 0) AS gold_correct,"
    " avg(n.duration_ms) AS mean_ms"
    " FROM annotations n JOIN tasks t ON t.id = n.task_id WHERE t.project_id = :project"
)


def automation_report(store: Store, project_id: str) -> dict[str, Any]:
    with store.read() as conn:
        require_project(conn, project_id, None)
        project = one(conn, _PROJECT, {"project": project_id})
        state = one(conn, _STATE, {"project": project_id})
        results = all_rows(conn, _RESULTS, {"project": project_id})
        people = one(conn, _PEOPLE, {"project": project_id})
    by_batch: dict[str | None, Counter] = {}
    for r in results:
        who = "model" if is_model_result(orjson.loads(r.response)) else "people"
        counts = by_batch.setdefault(r.batch_id, Counter())
        counts[who] += 1
        if r.correct is not None:
            counts[f"{who}_audited"] += 1
            counts[f"{who}_audited_correct"] += r.correct
    total = sum(by_batch.values(), Counter())
    certified = orjson.loads(state.report)["certified"] if state else None
    settings = project.automation
    return {
        "project": project_id,
        "settings": None if settings is None else masked_settings(orjson.loads(settings)),
        "model": None
        if state is None
        else {
            "version": state.model_version or None,
            "fitted_at": state.fitted_at,
            "threshold": state.threshold,
            "last_cycle": orjson.loads(state.report),
        },
        "overall": _shares(total, certified),
        "batches": [
            {"batch": batch_id} | _shares(counts, certified)
            for batch_id, counts in sorted(by_batch.items(), key=lambda b: b[0] or "")
        ],
        "people_gold": {"answered": people.gold_answered}
        | accuracy_summary(people.gold_correct, people.gold_answered),
        "human_hours_saved": total["model"] * project.overlap * (people.mean_ms or 0) / 3_600_000,
    }


def _shares(counts: Counter, certified: dict | None) -> dict[str, Any]:
    done = counts["model"] + counts["people"]
    return {
        "completed_by_model": counts["model"],
        "completed_by_people": counts["people"],
        "automated_share": counts["model"] / done if done else None,
        "model_certified": certified,
        "model_audits": measured_accuracy(counts["model_audited"], counts["model_audited_correct"]),
        "people_audits": measured_accuracy(
            counts["people_audited"], counts["people_audited_correct"]
        ),
    }
