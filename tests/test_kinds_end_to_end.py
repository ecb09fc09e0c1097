"""Every kind through the whole engine, on SQLite and PostgreSQL: create a project, three
workers answer the same task, the task completes with the kind's consolidated result, and
each of the kind's export formats is written and read back."""

import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pytest

from assay.kinds import KINDS

IMAGE = {"image": "street.png", "width": 100, "height": 80}
PAIR = {"prompt": "Say hi", "responses": ["Hello!", "Go away."], "models": ["m1", "m2"]}
TRIPLE = {"prompt": "Name a colour", "responses": ["red", "blue", "sky"], "models": ["a", "b", "c"]}
TEXT = "Ada Lovelace lived in London"
PER, LOC = {"start": 0, "end": 12, "label": "PER"}, {"start": 22, "end": 28, "label": "LOC"}
BOX = {"x": 10, "y": 10, "width": 30, "height": 20, "label": "car"}
SQUARE = [[10, 10], [40, 10], [40, 40], [10, 40]]
LIKERT = {"type": "likert", "labels": ["bad", "ok", "good"]}
CONVERSATION = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello, how can I help?"},
]


@dataclass
class Case:
    params: dict[str, Any]
    task: dict[str, Any]
    answers: list[dict[str, Any]]
    expected: dict[str, Any]
    """Keys the result must carry with these values."""
    extra: dict[str, Any] = field(default_factory=dict)


CASES = {
    "categorization": Case(
        {"labels": ["cat", "dog"]},
        {"text": "a"},
        [{"label": "cat"}, {"label": "cat"}, {"label": "dog"}],
        {"label": "cat"},
    ),
    "spans": Case(
        {"labels": ["PER", "LOC"]},
        {"text": TEXT},
        [{"spans": [PER, LOC]}, {"spans": [PER, LOC]}, {"spans": [PER]}],
        {"spans": [PER, LOC]},
    ),
    "boxes": Case(
        {"labels": ["car"]},
        IMAGE,
        [{"boxes": [BOX]}, {"boxes": [BOX | {"x": 12}]}, {"boxes": []}],
        {},
    ),
    "polygons": Case(
        {"labels": ["roof"]},
        IMAGE,
        [{"polygons": [{"points": SQUARE, "label": "roof"}]}] * 2 + [{"polygons": []}],
        {},
    ),
    "points": Case(
        {"labels": ["eye"]},
        IMAGE,
        [{"points": [{"x": 20, "y": 20, "label": "eye"}]}] * 3,
        {},
    ),
    "transcription": Case(
        {},
        {"image": "line.png"},
        [{"text": "the cat sat"}, {"text": "the cat sat"}, {"text": "the cat sad"}],
        {"text": "the cat sat"},
    ),
    "comparison": Case(
        {"criteria": ["helpfulness"]},
        PAIR,
        [
            {"preferred": 0, "criteria": {"helpfulness": 0}},
            {"preferred": 0, "criteria": {"helpfulness": 0}},
            {"preferred": 1, "criteria": {"helpfulness": 1}},
        ],
        {"preferred": 0},
    ),
    "ranking": Case(
        {},
        TRIPLE,
        [{"ranking": [0, 1, 2]}, {"ranking": [0, 1, 2]}, {"ranking": [1, 0, 2]}],
        {"ranking": [0, 1, 2]},
    ),
    "rating": Case(
        {"criteria": [{"name": "fluency", "scale": LIKERT}], "comment": "none"},
        {"text": "a reply"},
        [
            {"scores": {"fluency": "good"}},
            {"scores": {"fluency": "good"}},
            {"scores": {"fluency": "ok"}},
        ],
        {},
    ),
    "form": Case(
        {"fields": [{"name": "city", "type": "text", "required": True}]},
        {"text": "an address"},
        [{"values": {"city": "Paris"}}] * 2 + [{"values": {"city": "Lyon"}}],
        {"values": {"city": "Paris"}},
    ),
    "response": Case(
        {},
        {"prompt": "Write a haiku about rain"},
        [{"text": "Rain on the roof"}, {"text": "Soft rain"}, {"text": "Grey sky"}],
        {},
    ),
    "chat": Case({}, {}, [{"messages": CONVERSATION}] * 3, {}),
}


def test_every_kind_has_an_end_to_end_case():
    assert set(CASES) == set(KINDS)


def _load_export(fmt: str, suffix: str, data: bytes, tmp_path) -> Any:
    """Read an export back with the reader its users would use."""
    path = tmp_path / f"export.{suffix}"
    path.write_bytes(data)
    if fmt == "coco":
        from pycocotools.coco import COCO

        return COCO(str(path)).dataset
    if fmt == "yolo":
        return zipfile.ZipFile(io.BytesIO(data)).namelist()
    if fmt == "conll":
        import nltk
        from nltk.corpus.reader import ConllCorpusReader

        nltk.data.path.append(str(tmp_path))  # nltk reads only from folders it is given
        # Two columns, token and BIO tag: nltk reads the tag column as its "pos" column.
        reader = ConllCorpusReader(str(tmp_path), path.name, ("words", "pos"))
        return list(reader.tagged_words())
    if suffix in ("jsonl", "json") or data.lstrip().startswith((b"{", b"[")):
        return [json.loads(line) for line in data.splitlines() if line.strip()]
    return data.decode()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_kind_end_to_end(api, make_worker, kind, tmp_path):
    case = CASES[kind]
    project = api.post(
        "/v1/projects",
        json={
            "name": f"{kind}-{secrets.token_hex(3)}",
            "kind": kind,
            "params": case.params,
            "overlap": 3,
            "gold_rate": 0,
        },
    )
    assert project.status_code == 201, project.text
    project_id = project.json()["id"]
    task = api.post(
        "/v1/tasks",
        json={"project": project_id, "params": case.task, "hypothesis": case.answers[0]},
    )
    assert task.status_code == 201, task.text
    for answer in case.answers:
        worker = make_worker()
        offered = worker.post("/v1/work/next", json={"project": project_id}).json()
        assert offered["task"]["id"] == task.json()["id"]
        assert offered["task"]["hypothesis"] == case.answers[0]
        assert offered["project"]["kind"] == kind
        submitted = worker.post(
            f"/v1/assignments/{offered['id']}/submit", json={"response": answer}
        )
        assert submitted.status_code in (200, 201), submitted.text
    done = api.get(f"/v1/tasks/{task.json()['id']}").json()
    assert done["status"] == "completed", done
    result = done["response"]
    assert 0 <= result["confidence"] <= 1
    for key, value in case.expected.items():
        assert result[key] == value, (key, result)

    quality = api.get(f"/v1/projects/{project_id}/quality").json()
    assert quality["kind_agreement"]["pairs"] == 3
    assert [w["answers"] for w in quality["workers"]] == [1, 1, 1]

    described = api.get(f"/v1/kinds/{kind}").json()
    for fmt in described["exports"]:
        exported = api.get(f"/v1/projects/{project_id}/export", params={"format": fmt})
        assert exported.status_code == 200, (fmt, exported.text)
        suffix = exported.headers["content-disposition"].rsplit(".", 1)[1].rstrip('"')
        loaded = _load_export(fmt, suffix, exported.content, tmp_path)
        assert loaded, (fmt, exported.content[:200])
