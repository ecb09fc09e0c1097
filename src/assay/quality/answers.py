"""Crowd answers as index arrays: the one input every truth-inference method reads.

Ids and labels are mapped to dense integers once (`np.unique`), so methods work on flat
NumPy arrays (`task`, `worker`, `label`, one entry per answer) with `np.bincount` /
`np.add.at` instead of Python loops over answers.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

UNKNOWN = -1
"""In a gold vector: no known answer for this task."""


@dataclass(frozen=True)
class Answers:
    task: np.ndarray  # int64 [n_answers]: index into `tasks`
    worker: np.ndarray  # int64 [n_answers]: index into `workers`
    label: np.ndarray  # int64 [n_answers]: index into `labels`
    tasks: np.ndarray  # the task ids, sorted
    workers: np.ndarray  # the worker ids, sorted
    labels: np.ndarray  # the label values, in their given order (else sorted)

    @classmethod
    def from_columns(
        cls,
        tasks: Sequence,
        workers: Sequence,
        labels: Sequence,
        label_order: Sequence | None = None,
    ) -> "Answers":
        """Encode parallel columns. `label_order` fixes the label indices (and so the
        tie-break: the label listed first wins a tie); by default labels sort."""
        if not (len(tasks) == len(workers) == len(labels)):
            raise ValueError("tasks, workers and labels must have the same length")
        task_ids, task = np.unique(np.asarray(tasks, dtype=object), return_inverse=True)
        worker_ids, worker = np.unique(np.asarray(workers, dtype=object), return_inverse=True)
        if label_order is None:
            label_values, label = np.unique(np.asarray(labels, dtype=object), return_inverse=True)
        else:
            label_values = np.asarray(list(label_order), dtype=object)
            index = {value: i for i, value in enumerate(label_values)}
            try:
                label = np.fromiter((index[v] for v in labels), dtype=np.int64, count=len(labels))
            except KeyError as exc:
                raise ValueError(f"label {exc.args[0]!r} is not in label_order") from None
        return cls(
            task.astype(np.int64),
            worker.astype(np.int64),
            label.astype(np.int64),
            task_ids,
            worker_ids,
            label_values,
        )

    @property
    def n_tasks(self) -> int:
        return len(self.tasks)

    @property
    def n_workers(self) -> int:
        return len(self.workers)

    @property
    def n_labels(self) -> int:
        return len(self.labels)

    def votes(self, weights: np.ndarray | None = None) -> np.ndarray:
        """[n_tasks, n_labels] sum of answer weights (1 each by default) per task and label."""
        counts = np.zeros((self.n_tasks, self.n_labels))
        np.add.at(counts, (self.task, self.label), 1.0 if weights is None else weights)
        return counts

    def gold_vector(self, gold: Mapping) -> np.ndarray:
        """[n_tasks] label index of each task's known answer, UNKNOWN where none is known.
        Gold for tasks without answers is ignored; a gold label outside `labels` is an error."""
        label_index = {value: i for i, value in enumerate(self.labels)}
        task_index = {task_id: i for i, task_id in enumerate(self.tasks)}
        vector = np.full(self.n_tasks, UNKNOWN, dtype=np.int64)
        for task_id, value in gold.items():
            if task_id not in task_index:
                continue
            if value not in label_index:
                raise ValueError(f"gold label {value!r} of task {task_id!r} is no answer's label")
            vector[task_index[task_id]] = label_index[value]
        return vector
