"""The benchmark script still runs (at a toy size): figures in BENCHMARKS.md stay reproducible."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port

BENCH = Path(__file__).parent.parent / "bench" / "import_export.py"
WORK_LOOP_BENCH = BENCH.with_name("work_loop.py")


def test_import_export_bench_runs(tmp_path):
    out = tmp_path / "figures.json"
    subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--import-tasks",
            "2000",
            "--export-tasks",
            "4000",
            "--list-requests",
            "20",
            "--repeat",
            "1",
            "--port",
            str(free_port()),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    figures = json.loads(out.read_text())
    assert figures["tasks_stored"] == 4000
    assert figures["import_tasks_per_s"] > 0 and figures["export_tasks_per_s"] > 0


def test_work_loop_bench_runs(tmp_path, pg_url):
    out = tmp_path / "figures.json"
    subprocess.run(
        [
            sys.executable,
            str(WORK_LOOP_BENCH),
            *("--pending", "3000", "--calls", "100", "--clients", "2", "--seconds", "2"),
            *("--callbacks", "300", "--port", str(free_port()), "--postgres", pg_url),
            *("--out", str(out)),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    figures = json.loads(out.read_text())
    assert figures["latency"]["server_p99_ms"] > 0 and figures["latency"]["raw_claim_p99_ms"] > 0
    for run in ("throughput_sqlite_1", "throughput_sqlite_2", "throughput_postgres"):
        assert figures[run]["submits_per_s"] > 0
    assert figures["callbacks"]["delivered"] == figures["callbacks"]["verified_by_receiver"] == 300


def test_ui_bench_runs(tmp_path):
    out = tmp_path / "ui.json"
    subprocess.run(
        [
            sys.executable,
            str(BENCH.with_name("ui.py")),
            "--tasks",
            "5",
            "--port",
            str(free_port()),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    figures = json.loads(out.read_text())
    assert figures["tasks"] == 5 and figures["p95_ms"] >= figures["p50_ms"] > 0


SENTIMENT = Path(__file__).parent.parent.parent / "shared" / "data" / "crowd" / "sentiment"


def test_hybrid_bench_runs():
    if not (SENTIMENT / "items.csv").exists():
        pytest.skip(f"the crowd dataset is not at {SENTIMENT}")
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH.with_name("hybrid.py")),
            *("--data", str(SENTIMENT), "--limit", "300", "--target", "0.9", "--json"),
            *("--overlap", "1", "--calibration-overlap", "1", "--cycle-every", "50"),
            *("--model", "logistic_regression"),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (line,) = done.stdout.decode().splitlines()  # one target, one JSON object
    figures = json.loads(line)
    assert figures["target"] == 0.9 and figures["tasks"] == 300
    for run in (figures, figures["baseline"]):
        assert 0 <= run["automated_share"] <= 1
        assert 0 < run["human_answers"] <= 300  # overlap 1: at most one answer per task
        assert 0 <= run["accuracy"] <= 1
        low, high = run["accuracy_ci"]
        assert 0 <= low <= run["accuracy"] <= high <= 1
        assert isinstance(run["target_held"], bool)
        assert run["undelivered"] == 0
