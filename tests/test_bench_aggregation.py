"""The truth-inference benchmark still runs (small datasets, assay only, crowd-kit skipped):
its figures in BENCHMARKS.md stay reproducible."""

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "aggregation.py"


def test_aggregation_bench_runs(tmp_path):
    out = tmp_path / "aggregation.json"
    subprocess.run(
        [
            sys.executable,
            str(BENCH),
            *("--datasets", "duck", "tempeval", "--repeat", "1"),
            *("--replay-datasets", "tempeval", "--out", str(out)),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    figures = json.loads(out.read_text())
    assert figures["crowdkit"] is None  # no --crowdkit-python: the peer columns are skipped
    for name in ("duck", "tempeval"):
        methods = figures["datasets"][name]["methods"]
        for method in ("mv", "ds"):
            assert 0.5 < methods[method]["assay"]["accuracy"] <= 1.0
            assert methods[method]["assay"]["seconds"] > 0
            assert "crowdkit" not in methods[method]
    # Dawid-Skene beats the majority vote on duck (0.76 -> ~0.89 on these data).
    duck = figures["datasets"]["duck"]["methods"]
    assert duck["ds"]["assay"]["accuracy"] > duck["mv"]["assay"]["accuracy"]
    replay = figures["adaptive"]["tempeval"]
    assert len(replay["runs"]) == 8  # 2 worker models x 2 targets x 2 minimum overlaps
    for run in replay["runs"]:
        assert 0 < run["answer_share"] <= 1
        assert 0.5 < run["accuracy"] <= 1.0
        assert 0.5 < run["full_ds_accuracy"] <= 1.0
