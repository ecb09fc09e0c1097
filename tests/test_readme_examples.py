"""The files the README's commands use exist in examples/, and do what the README says:
the tasks import without a rejected row, COCO and CoNLL import into their kinds'
projects, and the crowd answers aggregate."""

import re
from pathlib import Path

import pytest

from assay import Client
from assay.exchange.task_readers import kind_task_rows, open_task_file
from assay.kinds import imports
from assay.quality.aggregate import aggregate_files

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
USED = sorted(set(re.findall(r"\bexamples/[\w./-]+\w", README)))


def test_the_readme_uses_example_files_that_exist():
    assert {"examples/tasks.jsonl", "examples/answers.csv", "examples/annotations.json"} <= set(
        USED
    )
    for name in USED:
        assert (ROOT / name).is_file(), name


def test_every_example_file_is_used_by_the_readme():
    shipped = {f"examples/{p.name}" for p in (ROOT / "examples").iterdir()}
    assert shipped == set(USED)


@pytest.fixture
def client(server, keys):
    with Client(server.url, keys["admin"]) as c:
        yield c


def test_the_example_tasks_import_into_the_tours_project(client):
    project = client.create_project(
        "Animals", "categorization", {"labels": ["cat", "dog", "bird"]}, overlap=3
    )
    rows = open_task_file(ROOT / "examples/tasks.jsonl").rows()
    report = client.import_tasks(project["id"], rows)
    assert (report["created"], report["rejected"]) == (6, 0), report
    texts = [t["params"]["text"] for t in client.iter_tasks(project=project["id"])]
    assert all(texts)  # what the model-in-the-loop example reads


@pytest.mark.parametrize(
    ("kind", "params", "file", "fmt", "count"),
    [
        ("boxes", {"labels": ["car", "person"]}, "annotations.json", "coco", 2),
        ("spans", {"labels": ["PER", "LOC"]}, "ner.conll", "conll", 2),
    ],
)
def test_the_kind_examples_import_into_their_projects(client, kind, params, file, fmt, count):
    project = client.create_project(kind, kind, params)
    tasks = imports(kind)[fmt].read((ROOT / "examples" / file).read_bytes())
    report = client.import_tasks(project["id"], kind_task_rows(tasks))
    assert (report["created"], report["rejected"]) == (count, 0), report
    imported = list(client.iter_tasks(project=project["id"]))
    assert all(task["hypothesis"] for task in imported)


def test_the_example_answers_aggregate(tmp_path):
    labels, workers = tmp_path / "labels.csv", tmp_path / "workers.csv"
    summary = aggregate_files(ROOT / "examples/answers.csv", "ds", None, labels, workers)
    assert "method=ds tasks=40 workers=5 answers=151 labels=3" in summary
    assert len(labels.read_text().splitlines()) == 41
    assert len(workers.read_text().splitlines()) == 6
    gold = ROOT / "examples/gold.csv"
    chosen = aggregate_files(ROOT / "examples/answers.csv", "auto", gold, tmp_path / "l", None)
    assert "chosen_by=" in chosen
