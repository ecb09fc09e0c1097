"""The points kind: validation, distance clustering, gold, agreement, COCO keypoints
export and import."""

from typing import Any

import orjson
import pytest
from kind_helpers import completed_tasks, export_bytes, problems
from pycocotools.coco import COCO

from assay.kinds import (
    KINDS,
    agreement,
    consolidate,
    matches,
    validate_params,
    validate_response,
    validate_task,
)

PARAMS = {"labels": ["eye", "nose"], "max_distance": 5}
TASK = {"image": "faces/1.jpg", "width": 100, "height": 80}


def point(x: float, y: float, label: str = "eye") -> dict[str, Any]:
    return {"x": x, "y": y, "label": label}


def answer(*points: dict[str, Any]) -> dict[str, Any]:
    return {"points": list(points)}


def test_params_and_task_errors_name_their_fields():
    assert "params.max_distance" in problems(
        validate_params, "points", {"labels": ["eye"], "max_distance": 0}
    )
    assert problems(validate_params, "points", {"labels": ["eye", "eye"]}) == {
        "params.labels[1]": "label 'eye' is repeated"
    }
    assert validate_params("points", {"labels": ["eye"]})["max_distance"] == 10
    assert set(problems(validate_task, "points", PARAMS, {"width": 10, "height": 10})) == {
        "params.image"
    }


def test_response_errors_name_the_point_and_coordinate():
    bad = answer(point(0, 0), point(101, 80), point(5, -1, "ear"))
    found = problems(validate_response, "points", PARAMS, TASK, bad)
    assert found == {
        "response.points[1].x": "x = 101 is outside the image; allowed 0 to 100 (its width)",
        "response.points[2].y": "y = -1 is outside the image; allowed 0 to 80 (its height)",
        "response.points[2].label": "'ear' is not one of the project's labels",
    }
    assert "response.points[0].x" in problems(
        validate_response, "points", PARAMS, TASK, answer({"x": "nan", "y": 1, "label": "eye"})
    )


def test_consolidation_averages_close_points_and_drops_the_outlier():
    answers = [
        answer(point(10, 10), point(50, 50, "nose")),
        answer(point(13, 14), point(90, 70)),
        answer(point(10, 12, "nose"), point(52, 50, "nose")),
    ]
    result = consolidate("points", PARAMS, TASK, answers)
    eye, nose = result["points"]
    assert (eye["x"], eye["y"], eye["label"], eye["support"]) == (11, 12, "eye", 1.0)
    assert eye["distance"] == pytest.approx((5 + 2 + 13**0.5) / 3)
    assert nose == {
        "x": 51,
        "y": 50,
        "label": "nose",
        "support": 2 / 3,
        "distance": pytest.approx(2),
    }
    closeness_eye = 1 - eye["distance"] / 5
    expected = (2 / 3 * closeness_eye + 2 / 3 * (1 - 2 / 5) + 2 / 3) / 3
    assert result["confidence"] == pytest.approx(expected)


def test_points_just_beyond_max_distance_stay_apart():
    answers = [answer(point(10, 10)), answer(point(15, 10)), answer(point(20.5, 10))]
    result = consolidate("points", PARAMS, TASK, answers)
    assert [(p["x"], p["support"]) for p in result["points"]] == [(12.5, 2 / 3)]
    assert consolidate("points", PARAMS, TASK, [answer()] * 2) == {
        "points": [],
        "confidence": 1.0,
    }


def test_label_ties_go_to_the_first_listed_label():
    answers = [answer(point(10, 10, "nose")), answer(point(10, 10, "eye"))]
    assert consolidate("points", PARAMS, TASK, answers)["points"][0]["label"] == "eye"


def test_gold_needs_every_point_within_max_distance_with_its_label():
    gold = answer(point(10, 10), point(50, 50, "nose"))
    assert matches("points", PARAMS, TASK, answer(point(53, 54, "nose"), point(10, 10)), gold)
    assert not matches("points", PARAMS, TASK, answer(point(53, 55, "nose"), point(10, 10)), gold)
    assert not matches("points", PARAMS, TASK, answer(point(50, 50), point(10, 10)), gold)
    extra = answer(point(50, 50, "nose"), point(10, 10), point(30, 30))
    assert not matches("points", PARAMS, TASK, extra, gold)


def test_agreement_weighs_matches_by_closeness():
    a = answer(point(10, 10), point(50, 50, "nose"))
    b = answer(point(13, 14), point(50, 50))
    found = agreement("points", PARAMS, [(TASK, [a, b]), (TASK, [answer(), answer()])])
    assert found.measure == "point_match"
    assert found.pairs == 2
    assert found.value == pytest.approx((2 * (1 - 5 / 5) / 4 + 1) / 2)
    c = answer(point(12, 10), point(50, 50, "nose"))
    assert agreement("points", PARAMS, [(TASK, [a, c])]).value == pytest.approx(
        2 * (1 - 2 / 5 + 1) / 4
    )


RESULTS = [
    (TASK, {"points": [point(10, 20), point(30.5, 40.25, "nose")], "confidence": 0.7}),
    ({**TASK, "image": "faces/2.jpg"}, {"points": [], "confidence": 1.0}),
]


def export() -> bytes:
    return export_bytes("points", "coco", PARAMS, completed_tasks(RESULTS))


def test_coco_keypoints_export_reads_back_with_pycocotools(tmp_path):
    path = tmp_path / "points.json"
    path.write_bytes(export())
    coco = COCO(str(path))
    assert [c["keypoints"] for c in coco.loadCats(coco.getCatIds())] == [["point"], ["point"]]
    anns = coco.loadAnns(coco.getAnnIds(imgIds=[1]))
    assert [(a["keypoints"], a["category_id"], a["score"]) for a in anns] == [
        ([10, 20, 2], 1, 0.7),
        ([30.5, 40.25, 2], 2, 0.7),
    ]
    assert coco.getAnnIds(imgIds=[2]) == []
    assert coco.loadImgs([2])[0]["unique_id"] == "u1"


def test_coco_import_round_trips_and_skips_hidden_keypoints():
    read = KINDS["points"].imports["coco"].read
    tasks = list(read(export()))
    assert [t["hypothesis"] for t in tasks] == [
        {"points": RESULTS[0][1]["points"]},
        {"points": []},
    ]
    for task in tasks:
        validate_response("points", PARAMS, task["params"], task["hypothesis"])
    document = orjson.loads(export())
    document["annotations"][0]["keypoints"] = [1, 2, 0, 3, 4, 1]
    first = next(read(orjson.dumps(document)))
    assert first["hypothesis"]["points"][0] == point(3, 4)
