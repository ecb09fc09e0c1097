"""Truth inference on real crowd data: assay.quality beside crowd-kit, and adaptive overlap.

Measures, in one run on this machine, on the crowd datasets in ../shared/data/crowd/ (real
answers with expert truth; see that folder's README for sources and published figures):
  * for every categorical method in `assay.quality.CATEGORICAL` (whatever it holds when this
    runs) and its crowd-kit counterpart (MajorityVote, Wawa, DawidSkene, OneCoinDawidSkene,
    GLAD, MACE, at crowd-kit's defaults): accuracy of the inferred labels against truth and
    fit seconds (the fit alone, not reading or encoding the data; assay: median of --repeat
    runs, crowd-kit: median of --peer-repeat runs of `.fit_predict()`), EM iterations where
    known, and the speedup crowd-kit seconds / assay seconds (targets: DS >= 20x, GLAD >= 50x
    at equal accuracy); for DS and one-coin also per EM iteration, since each side stops on
    its own tolerance (assay: relative log-likelihood gain 1e-5 for these two, posterior
    change 1e-6 for GLAD and MACE; crowd-kit: log-likelihood change 1e-5);
  * for numeric data (emotion, -100..100): mean absolute error and seconds of every method in
    `assay.quality.NUMERIC` (crowd-kit has no scalar aggregator to compare with);
  * adaptive overlap, replayed on real answers (assay only): each task's answers are read in a
    seeded random order, stopping as soon as the posterior (class prior x the workers'
    confusion entries) of some label reaches a target confidence, after at least a minimum
    overlap, or when the task's answers run out. Worker models come from a Dawid-Skene fit on
    ALL answers (an oracle: it has seen the answers the replay pretends not to have read yet)
    or, the realistic variant, from a fit on a random 20% of the tasks, with the replay scored
    on the other 80% (a worker absent from that 20% gets the answer-weighted mean matrix).
    Reports accuracy of the labels at stopping, the share of answers read, and both beside
    full-overlap Dawid-Skene on the same tasks (and a Dawid-Skene refit on only the answers
    read). Target: within 0.5 points of full accuracy with <= 60% of the answers.

crowd-kit is never a dependency of assay: it lives in a virtual environment of its own, and
this file, run by that environment's interpreter with --crowdkit-side, fits one crowd-kit
method per subprocess (importing only the standard library, pandas and crowd-kit there),
so a slow method is stopped after --peer-timeout seconds ("timeout") and a failing one is
reported with the first line of its exception ("fails"). Install it with
    python3.11 -m venv /tmp/ck-venv && /tmp/ck-venv/bin/pip install crowd-kit
Without --crowdkit-python (or if that interpreter is missing) the crowd-kit columns are
skipped. Timings on a shared machine wander (other processes compete for the cores): compare
them within one run, not across runs.

Usage:
    python bench/aggregation.py [--crowdkit-python /tmp/ck-venv/bin/python]
        [--datasets duck product sentiment tempeval emotion] [--repeat 3] [--peer-repeat 1]
        [--peer-timeout 300] [--replay-datasets product sentiment] [--targets 0.95 0.99]
        [--min-overlaps 1 2] [--seed 0] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

CROWDKIT_SIDE = sys.argv[1:2] == ["--crowdkit-side"]
if not CROWDKIT_SIDE:  # the crowd-kit interpreter has neither assay nor rich
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from assay.exchange.answer_tables import read_answers, read_gold
    from assay.quality import CATEGORICAL, NUMERIC
    from assay.quality.answers import Answers
    from assay.quality.dawid_skene import DawidSkene, confusion_matrices, shrunk_confusions
    from assay.quality.numeric import NumericAnswers

    console = Console(width=None if sys.stdout.isatty() else 150)

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "crowd"
DATASETS = ("duck", "product", "sentiment", "tempeval", "emotion")
NUMERIC_DATASETS = {"emotion"}
PEER = {
    "mv": "MajorityVote",
    "wawa": "Wawa",
    "ds": "DawidSkene",
    "onecoin": "OneCoinDawidSkene",
    "glad": "GLAD",
    "mace": "MACE",
}
"""assay method name -> the crowd-kit class it is compared with."""
SPEEDUP_TARGETS = {"ds": 20.0, "glad": 50.0}
PER_ITERATION = {"ds", "onecoin"}
"""Methods whose EM iteration is the same work on both sides (closed-form M-step), so seconds
per iteration compare too; both stop on their own tolerance, so iteration counts differ."""
FIT_SHARE = 0.2
"""Share of tasks whose answers train the realistic (non-oracle) worker models."""
REPLAY_MAX_LOSS = 0.005
REPLAY_MAX_SHARE = 0.60
VERSIONS = ("crowdkit", "scikit-learn", "pandas")


# --- crowd-kit side: runs under the crowd-kit interpreter -----------------------------------


def crowdkit_side(argv: list[str]) -> None:
    """Fit one crowd-kit method on one answers CSV; print one JSON line: the predicted label of
    every task, seconds of each `.fit_predict()`, versions; or the exception's first line."""
    from importlib.metadata import version

    parser = argparse.ArgumentParser(prog="aggregation.py --crowdkit-side")
    parser.add_argument("--answers", type=Path, required=True)
    parser.add_argument("--method", required=True)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    report: dict = {"method": args.method, "crowdkit": version("crowd-kit")}
    try:
        report["scikit-learn"] = version("scikit-learn")
        report["pandas"] = version("pandas")
    except Exception:  # versions are a courtesy
        pass
    try:
        import pandas as pd
        from crowdkit import aggregation

        data = pd.read_csv(args.answers, dtype=str)[["task", "worker", "label"]]
        seconds = []
        for _ in range(args.repeat):
            method = getattr(aggregation, args.method)()
            start = time.perf_counter()
            predicted = method.fit_predict(data)
            seconds.append(time.perf_counter() - start)
        report["seconds"] = statistics.median(seconds)
        report["runs"] = seconds
        history = getattr(method, "loss_history_", None)  # one entry per EM iteration
        if history is not None:
            report["iterations"] = len(history)
        report["labels"] = {str(task): str(label) for task, label in predicted.items()}
    except Exception as exc:  # any failure is a result to report
        first = (str(exc).strip().splitlines() or [""])[0]
        report["error"] = f"{type(exc).__name__}: {first}"
    print(json.dumps(report))


# --- assay side ------------------------------------------------------------------------------


def load(name: str, data: Path) -> dict:
    tasks, workers, labels = read_answers(data / name / "answers.csv")
    truth = read_gold(data / name / "truth.csv")
    return {"tasks": tasks, "workers": workers, "labels": labels, "truth": truth}


def timed(fit, repeat: int):
    """(last result, median seconds) of `repeat` calls of `fit()`."""
    seconds = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        result = fit()
        seconds.append(time.perf_counter() - start)
    return result, statistics.median(seconds)


def accuracy(predicted: dict, truth: dict) -> float:
    """Share of tasks with truth whose predicted label equals it (missing counts as wrong)."""
    return sum(predicted.get(task) == label for task, label in truth.items()) / len(truth)


def run_peer(python: str, answers_csv: Path, method: str, args) -> dict:
    command = [
        python,
        str(Path(__file__).resolve()),
        "--crowdkit-side",
        *("--answers", str(answers_csv), "--method", method, "--repeat", str(args.peer_repeat)),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=args.peer_timeout)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "error": f"no result within {args.peer_timeout:g} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        return {"status": "fails", "error": f"exit {done.returncode}: {tail}"}
    report = json.loads(lines[-1])
    report["status"] = "fails" if "error" in report else "ok"
    report["versions"] = {key: report.pop(key) for key in VERSIONS if key in report}
    return report


def categorical(name: str, dataset: dict, args, peer_python: str | None) -> dict:
    answers = Answers.from_columns(dataset["tasks"], dataset["workers"], dataset["labels"])
    truth = dataset["truth"]
    figures = {
        "kind": "categorical",
        "tasks": answers.n_tasks,
        "workers": answers.n_workers,
        "answers": len(answers.task),
        "labels": [str(label) for label in answers.labels],
        "tasks_with_truth": len(truth),
        "methods": {},
    }
    for method in [*CATEGORICAL, *(m for m in PEER if m not in CATEGORICAL)]:
        row: dict = {}
        if method in CATEGORICAL:
            aggregator = CATEGORICAL[method]
            fit, seconds = timed(lambda a=aggregator: a().fit(answers), args.repeat)
            predicted = dict(zip(answers.tasks, fit.predict(), strict=True))
            row["assay"] = {
                "accuracy": accuracy(predicted, truth),
                "seconds": seconds,
                "iterations": fit.iterations_,
            }
            console.print(
                f"  {name} assay {method}: accuracy {row['assay']['accuracy']:.3f}, {seconds:.4f} s"
            )
        if peer_python and method in PEER:
            peer = run_peer(peer_python, args.data / name / "answers.csv", PEER[method], args)
            labels = peer.pop("labels", None)
            if labels is not None:
                peer["accuracy"] = accuracy(labels, truth)
            peer.pop("method", None)
            row["crowdkit"] = {"class": PEER[method], **peer}
            shown = (
                f"accuracy {peer['accuracy']:.3f}, {peer['seconds']:.3f} s"
                if peer["status"] == "ok"
                else f"{peer['status']}: {peer['error'][:100]}"
            )
            console.print(f"  {name} crowd-kit {PEER[method]}: {shown}")
        if row.get("assay") and row.get("crowdkit", {}).get("status") == "ok":
            row["speedup"] = row["crowdkit"]["seconds"] / row["assay"]["seconds"]
            row["accuracy_difference"] = row["assay"]["accuracy"] - row["crowdkit"]["accuracy"]
            if method in PER_ITERATION and row["crowdkit"].get("iterations"):
                row["per_iteration_speedup"] = row["speedup"] * (
                    row["assay"]["iterations"] / row["crowdkit"]["iterations"]
                )
        figures["methods"][method] = row
    return figures


def numeric(name: str, dataset: dict, args) -> dict:
    answers = NumericAnswers.from_columns(dataset["tasks"], dataset["workers"], dataset["labels"])
    truth = {task: float(value) for task, value in dataset["truth"].items()}
    figures = {
        "kind": "numeric",
        "tasks": answers.n_tasks,
        "workers": len(answers.workers),
        "answers": len(answers.task),
        "tasks_with_truth": len(truth),
        "methods": {},
        "crowdkit": "no scalar aggregator in crowd-kit; not compared",
    }
    for method, fit in NUMERIC.items():
        estimate, seconds = timed(lambda fit=fit: fit(answers), args.repeat)
        value = dict(zip(answers.tasks, estimate.value, strict=True))
        mae = statistics.fmean(abs(value[task] - true) for task, true in truth.items())
        figures["methods"][method] = {"assay": {"mae": mae, "seconds": seconds}}
        console.print(f"  {name} assay {method}: MAE {mae:.2f}, {seconds:.4f} s")
    return figures


# --- adaptive overlap replay -----------------------------------------------------------------


def worker_models(answers: Answers, fit_tasks: np.ndarray | None):
    """(confusion [n_workers, K, K], class prior [K], workers the fit never saw) from
    Dawid-Skene on the answers to `fit_tasks` (a boolean mask over tasks), or on all answers
    when None."""
    if fit_tasks is None:
        posterior = DawidSkene().fit(answers).posterior_
        confusion = confusion_matrices(answers, posterior)
        return confusion, posterior.mean(axis=0), 0
    keep = fit_tasks[answers.task]
    task_ids, task = np.unique(answers.task[keep], return_inverse=True)
    subset = Answers(
        task.astype(np.int64),
        answers.worker[keep],
        answers.label[keep],
        answers.tasks[task_ids],
        answers.workers,
        answers.labels,
    )
    posterior = DawidSkene().fit(subset).posterior_
    # As the engine stores them: shrunk toward the average worker, who stands in for a
    # worker the fit never saw.
    confusion, _ = shrunk_confusions(subset, confusion_matrices(subset, posterior))
    seen = np.bincount(subset.worker, minlength=answers.n_workers)
    return confusion, posterior.mean(axis=0), int((seen == 0).sum())


def replay(answers: Answers, order: np.ndarray, confusion, prior, target: float, min_overlap: int):
    """Read each task's answers in `order` until its posterior reaches `target` (after at least
    `min_overlap` answers) or they run out. Returns (label index [n_tasks], answers read per
    task [n_tasks], indices of the answers read)."""
    task = answers.task[order]  # grouped by task: `order` sorts by task first
    n = len(order)
    log_answer = np.log(confusion[answers.worker[order], :, answers.label[order]])
    counts = np.bincount(task, minlength=answers.n_tasks)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    running = np.cumsum(log_answer, axis=0)
    before = running[starts] - log_answer[starts]
    log_posterior = np.log(prior) + running - before[task]
    log_posterior -= log_posterior.max(axis=1, keepdims=True)
    top = 1.0 / np.exp(log_posterior).sum(axis=1)  # the largest posterior entry
    position = np.arange(n) - starts[task]
    ok = ((position + 1 >= min_overlap) & (top >= target)) | (position == counts[task] - 1)
    stop = np.minimum.reduceat(np.where(ok, np.arange(n), n), starts)
    read = position <= (stop - starts)[task]
    return np.argmax(log_posterior[stop], axis=1), stop - starts + 1, order[read]


def adaptive(name: str, dataset: dict, args) -> dict:
    answers = Answers.from_columns(dataset["tasks"], dataset["workers"], dataset["labels"])
    label_index = {value: i for i, value in enumerate(answers.labels)}
    truth = np.array([label_index[dataset["truth"][task]] for task in answers.tasks])
    per_task = np.bincount(answers.task, minlength=answers.n_tasks)
    full = DawidSkene().fit(answers).label_index_
    rng = np.random.default_rng(args.seed)
    order = np.lexsort((rng.random(len(answers.task)), answers.task))
    held_in = np.zeros(answers.n_tasks, dtype=bool)
    held_in[rng.permutation(answers.n_tasks)[: round(FIT_SHARE * answers.n_tasks)]] = True
    figures = {
        "tasks": answers.n_tasks,
        "answers": len(answers.task),
        "mean_overlap": len(answers.task) / answers.n_tasks,
        "full_ds_accuracy": float(np.mean(full == truth)),
        "runs": [],
    }
    variants = {
        "oracle (DS, all answers)": (None, np.ones(answers.n_tasks, dtype=bool)),
        f"DS on {FIT_SHARE:.0%} of tasks": (held_in, ~held_in),
    }
    for variant, (fit_tasks, scored) in variants.items():
        start = time.perf_counter()
        confusion, prior, unseen = worker_models(answers, fit_tasks)
        model_seconds = time.perf_counter() - start
        for target in args.targets:
            for min_overlap in args.min_overlaps:
                start = time.perf_counter()
                labels, read, kept = replay(answers, order, confusion, prior, target, min_overlap)
                seconds = time.perf_counter() - start
                subset = Answers(
                    answers.task[kept],
                    answers.worker[kept],
                    answers.label[kept],
                    answers.tasks,
                    answers.workers,
                    answers.labels,
                )
                refit = DawidSkene().fit(subset).label_index_
                run = {
                    "worker_models": variant,
                    "target_confidence": target,
                    "min_overlap": min_overlap,
                    "tasks_scored": int(scored.sum()),
                    "workers_unseen_by_model": unseen,
                    "accuracy": float(np.mean(labels[scored] == truth[scored])),
                    "full_ds_accuracy": float(np.mean(full[scored] == truth[scored])),
                    "refit_ds_accuracy": float(np.mean(refit[scored] == truth[scored])),
                    "answer_share": float(read[scored].sum() / per_task[scored].sum()),
                    "mean_answers_read": float(read[scored].mean()),
                    "model_seconds": model_seconds,
                    "replay_seconds": seconds,
                }
                run["accuracy_loss_points"] = 100 * (run["full_ds_accuracy"] - run["accuracy"])
                run["meets_target"] = (
                    run["accuracy_loss_points"] <= 100 * REPLAY_MAX_LOSS
                    and run["answer_share"] <= REPLAY_MAX_SHARE
                )
                figures["runs"].append(run)
    return figures


# --- report ----------------------------------------------------------------------------------


def seconds_text(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


def fit_text(figures: dict | None) -> tuple[str, str]:
    """(accuracy, seconds and EM iterations) cells of one side's fit, or why there is none."""
    if figures is None:
        return "-", "-"
    if figures.get("status", "ok") != "ok":  # the error's first words: its exception type
        return figures["status"], figures["error"].split(":")[0]
    iterations = f" ({figures['iterations']} it.)" if figures.get("iterations") else ""
    return f"{figures['accuracy']:.3f}", seconds_text(figures["seconds"]) + iterations


def report(results: dict) -> None:
    table = Table(
        "dataset",
        "method",
        "assay acc.",
        "assay fit",
        "crowd-kit acc.",
        "crowd-kit fit",
        "speedup (target)",
        "per iteration",
        title="truth inference: accuracy against expert truth, fit time (assay vs crowd-kit)",
    )
    for name, figures in results["datasets"].items():
        if figures["kind"] != "categorical":
            continue
        for method, row in figures["methods"].items():
            speedup = f"{row['speedup']:.0f}x" if "speedup" in row else "-"
            if method in SPEEDUP_TARGETS and "speedup" in row:
                speedup += f" (>= {SPEEDUP_TARGETS[method]:.0f}x)"
            per_iteration = row.get("per_iteration_speedup")
            table.add_row(
                name,
                f"{method} / {PEER.get(method, '-')}",
                *(fit_text(row["assay"]) if "assay" in row else ("absent", "-")),
                *fit_text(row.get("crowdkit")),
                speedup,
                f"{per_iteration:.0f}x" if per_iteration else "-",
            )
        table.add_section()
    console.print(table)
    for name, figures in results["datasets"].items():
        if figures["kind"] == "numeric":
            numbers = Table("method", "MAE", "fit", title=f"{name} (numeric; crowd-kit: none)")
            for method, row in figures["methods"].items():
                mine = row["assay"]
                numbers.add_row(method, f"{mine['mae']:.2f}", seconds_text(mine["seconds"]))
            console.print(numbers)
    replay_table = Table(
        "dataset",
        "worker models (scored tasks)",
        "target",
        "min",
        "accuracy",
        "full DS",
        "loss (pt)",
        "answers read",
        "DS refit",
        "target met",
        title=(
            f"adaptive overlap replay (goal: <= {100 * REPLAY_MAX_LOSS:.1f} pt loss with "
            f"<= {REPLAY_MAX_SHARE:.0%} of answers)"
        ),
        caption=(
            "oracle: worker models from DS on all answers, the unread ones included; "
            f"DS on {FIT_SHARE:.0%}: fit on a random {FIT_SHARE:.0%} of tasks, scored on the rest"
        ),
    )
    for name, figures in results["adaptive"].items():
        for run in figures["runs"]:
            replay_table.add_row(
                name,
                f"{run['worker_models']} ({run['tasks_scored']:,})",
                f"{run['target_confidence']:.2f}",
                str(run["min_overlap"]),
                f"{run['accuracy']:.4f}",
                f"{run['full_ds_accuracy']:.4f}",
                f"{run['accuracy_loss_points']:+.2f}",
                f"{run['answer_share']:.1%} ({run['mean_answers_read']:.2f}/task)",
                f"{run['refit_ds_accuracy']:.4f}",
                "yes" if run["meets_target"] else "no",
            )
        replay_table.add_section()
    console.print(replay_table)


def peer_interpreter(path: str | None) -> str | None:
    if not path:
        console.print("[yellow]no --crowdkit-python: crowd-kit columns skipped[/]")
        return None
    if not Path(path).exists():
        console.print(f"[yellow]{path} not found: crowd-kit columns skipped[/]")
        return None
    return path


def main() -> None:
    if CROWDKIT_SIDE:
        crowdkit_side(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the crowd datasets")
    parser.add_argument("--repeat", type=int, default=3, help="assay fits per figure (median)")
    parser.add_argument("--crowdkit-python", help="interpreter of a venv with crowd-kit")
    parser.add_argument("--peer-repeat", type=int, default=1, help="crowd-kit fits (median)")
    parser.add_argument("--peer-timeout", type=float, default=300, help="seconds per method")
    parser.add_argument(
        "--replay-datasets",
        nargs="*",
        choices=sorted(set(DATASETS) - NUMERIC_DATASETS),
        default=["product", "sentiment"],
    )
    parser.add_argument("--targets", nargs="+", type=float, default=[0.95, 0.99])
    parser.add_argument("--min-overlaps", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--seed", type=int, default=0, help="replay order and 20%% split")
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "out" / "aggregation.json"
    )
    args = parser.parse_args()
    peer_python = peer_interpreter(args.crowdkit_python)
    results: dict = {
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
        "assay_methods": list(CATEGORICAL),
        "repeat": args.repeat,
        "crowdkit_python": peer_python,
        "crowdkit": None,
        "peer_repeat": args.peer_repeat if peer_python else None,
        "peer_timeout_s": args.peer_timeout if peer_python else None,
        "datasets": {},
        "adaptive": {},
    }
    loaded: dict[str, dict] = {}
    for name in args.datasets:
        console.print(f"{name} ...")
        loaded[name] = dataset = load(name, args.data)
        if name in NUMERIC_DATASETS:
            results["datasets"][name] = numeric(name, dataset, args)
        else:
            figures = categorical(name, dataset, args, peer_python)
            results["datasets"][name] = figures
            for row in figures["methods"].values():
                versions = row.get("crowdkit", {}).pop("versions", None)
                results["crowdkit"] = results["crowdkit"] or versions
    for name in args.replay_datasets:
        console.print(f"adaptive overlap replay on {name} ...")
        dataset = loaded.get(name) or load(name, args.data)
        results["adaptive"][name] = adaptive(name, dataset, args)
    results["load_average_after"] = os.getloadavg()
    report(results)
    if results["crowdkit"]:
        versions = ", ".join(f"{key} {value}" for key, value in results["crowdkit"].items())
        console.print(f"crowd-kit side: {versions} ({results['crowdkit_python']})")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    console.print(f"figures written to {args.out}")


if __name__ == "__main__":
    main()
