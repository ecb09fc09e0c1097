"""The benchmark script still runs (at a toy size): figures in BENCHMARKS.md stay reproducible."""

import json
import subprocess
import sys
from pathlib import Path

from conftest import free_port

BENCH = Path(__file__).parent.parent / "bench" / "import_export.py"


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
