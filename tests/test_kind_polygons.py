"""The polygons kind: validation, raster IoU, medoid consolidation, gold, agreement,
COCO/YOLO segmentation export and COCO import."""

import copy
import io
import zipfile
from typing import Any

import numpy as np
import orjson
import pytest
import yaml
from kind_helpers import completed_tasks, export_bytes, problems
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from assay.kinds import (
    KINDS,
    agreement,
    consolidate,
    matches,
    validate_params,
    validate_response,
    validate_task,
)
from assay.kinds.geometry import polygon_iou

PARAMS = {"labels": ["roof", "road"]}
TASK = {"image": "tiles/t1.png", "width": 100, "height": 80}


def square(x: float, y: float, side: float, label: str = "roof") -> dict[str, Any]:
    return {"points": [[x, y], [x + side, y], [x + side, y + side], [x, y + side]], "label": label}


def answer(*polygons: dict[str, Any]) -> dict[str, Any]:
    return {"polygons": list(polygons)}


def test_params_and_task_errors_name_their_fields():
    assert problems(validate_params, "polygons", {"labels": ["roof", "roof"]}) == {
        "params.labels[1]": "label 'roof' is repeated"
    }
    assert "params.min_size" in problems(
        validate_params, "polygons", {"labels": ["roof"], "min_size": -1}
    )
    assert set(problems(validate_task, "polygons", PARAMS, {"image": "a", "height": -5})) == {
        "params.width",
        "params.height",
    }


def test_response_errors_name_the_polygon_and_vertex():
    params = {**PARAMS, "min_size": 50}
    bad = answer(
        square(10, 10, 20),
        {"points": [[10, 10], [120, 10], [10, 90]], "label": "roof"},
        {"points": [[0, 0], [10, 10], [20, 20]], "label": "river"},
        square(50, 50, 5),
    )
    found = problems(validate_response, "polygons", params, TASK, bad)
    assert set(found) == {
        "response.polygons[1].points[1]",
        "response.polygons[1].points[2]",
        "response.polygons[2].label",
        "response.polygons[2].points",
        "response.polygons[3].points",
    }
    assert (
        "x = 120 is outside the image; allowed 0 to 100" in found["response.polygons[1].points[1]"]
    )
    assert "y = 90" in found["response.polygons[1].points[2]"]
    assert "no area" in found["response.polygons[2].points"]
    assert "area 25 is below the project's min_size 50" in found["response.polygons[3].points"]
    short = {"points": [[0, 0], [1, 1]], "label": "roof"}
    assert "response.polygons[0].points" in problems(
        validate_response, "polygons", PARAMS, TASK, answer(short)
    )
    assert validate_response("polygons", PARAMS, TASK, answer(square(0, 0, 80))) == answer(
        square(0.0, 0.0, 80.0)
    )


def test_raster_iou_is_close_to_the_exact_value():
    a, b = np.array(square(0, 0, 10)["points"]), np.array(square(5, 0, 10)["points"])
    triangle = np.array([[0, 0], [10, 0], [0, 10]])
    far = np.array(square(50, 50, 1)["points"])
    found = polygon_iou([a, triangle], [b, a, far])
    exact = [[1 / 3, 1, 0], [12.5 / 137.5, 0.5, 0]]
    assert found == pytest.approx(np.array(exact), abs=0.01)
    same = [a, b]
    assert polygon_iou(same, same) == pytest.approx(np.array([[1, 1 / 3], [1 / 3, 1]]), abs=0.01)


def test_consolidation_keeps_the_medoid_and_drops_the_outlier():
    answers = [
        answer(square(10, 10, 20)),
        answer(square(12, 10, 20), square(70, 50, 10)),
        answer(square(14, 10, 20, "road")),
    ]
    result = consolidate("polygons", PARAMS, TASK, answers)
    (kept,) = result["polygons"]
    assert kept["points"] == square(12, 10, 20)["points"]
    assert (kept["label"], kept["support"]) == ("roof", 1.0)
    iou = (360 / 440 + 320 / 480 + 360 / 440) / 3
    assert kept["iou"] == pytest.approx(iou, abs=0.01)
    assert result["confidence"] == pytest.approx((2 / 3 * iou + 2 / 3) / 2, abs=0.01)


def test_medoid_ties_go_to_the_earliest_worker_and_labels_to_the_first_listed():
    answers = [answer(square(10, 10, 20, "road")), answer(square(10, 10, 20, "roof"))]
    result = consolidate("polygons", {"labels": ["road", "roof"]}, TASK, answers)
    assert result["polygons"] == [
        {**square(10, 10, 20, "road"), "support": 1.0, "iou": 1.0},
    ]
    assert result["confidence"] == pytest.approx(0.5)


def test_disagreement_and_empty_answers():
    apart = [answer(square(0, 0, 10)), answer(square(40, 0, 10)), answer(square(80, 0, 10))]
    assert consolidate("polygons", PARAMS, TASK, apart) == {
        "polygons": [],
        "confidence": pytest.approx(2 / 3),
    }
    assert consolidate("polygons", PARAMS, TASK, [answer(), answer()]) == {
        "polygons": [],
        "confidence": 1.0,
    }


def test_gold_and_agreement():
    gold = answer(square(10, 10, 20), square(50, 40, 20, "road"))
    close = answer(square(52, 40, 20, "road"), square(11, 11, 20))
    assert matches("polygons", PARAMS, TASK, close, gold)
    assert not matches("polygons", PARAMS, TASK, answer(square(10, 10, 20)), gold)
    swapped = answer(square(50, 40, 20), square(10, 10, 20, "road"))
    assert not matches("polygons", PARAMS, TASK, swapped, gold)
    found = agreement("polygons", PARAMS, [(TASK, [gold, gold, answer()])])
    assert found.measure == "polygon_iou"
    assert (found.value, found.pairs) == (pytest.approx(1 / 3), 3)


def export(name: str) -> bytes:
    return export_bytes("polygons", name, PARAMS, completed_tasks(RESULTS))


TRIANGLE = {"points": [[10.0, 10.0], [50.0, 10.0], [10.0, 70.0]], "label": "road"}
RESULTS = [
    ({**TASK, "image": "tiles/a.png"}, {"polygons": [square(20, 20, 40)], "confidence": 0.8}),
    ({**TASK, "image": "tiles/b.png"}, {"polygons": [TRIANGLE], "confidence": 0.6}),
]


@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_coco_export_reads_back_with_pycocotools(tmp_path):
    path = tmp_path / "coco.json"
    path.write_bytes(export("coco"))
    coco = COCO(str(path))
    (ann,) = coco.loadAnns(coco.getAnnIds(imgIds=[2]))
    assert ann["segmentation"] == [[10, 10, 50, 10, 10, 70]]
    assert (ann["bbox"], ann["area"], ann["category_id"]) == ([10, 10, 40, 60], 1200, 2)
    assert coco.annToMask(ann).shape == (80, 100)
    assert coco.annToMask(ann).sum() == pytest.approx(1200, rel=0.1)
    detections = coco.loadRes(copy.deepcopy(coco.loadAnns(coco.getAnnIds())))
    evaluation = COCOeval(coco, detections, "segm")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


def test_yolo_zip_holds_normalised_segmentation_lines():
    archive = zipfile.ZipFile(io.BytesIO(export("yolo")))
    assert sorted(archive.namelist()) == [
        "classes.txt",
        "data.yaml",
        "labels/a.txt",
        "labels/b.txt",
    ]
    assert yaml.safe_load(archive.read("data.yaml"))["names"] == ["roof", "road"]
    (line,) = archive.read("labels/b.txt").decode().splitlines()
    cls, *numbers = line.split()
    assert cls == "1"
    assert [float(v) for v in numbers] == pytest.approx([0.1, 0.125, 0.5, 0.125, 0.1, 0.875])


def test_coco_import_round_trips_and_splits_multipart_segmentations():
    data = export("coco")
    tasks = list(KINDS["polygons"].imports["coco"].read(data))
    for task, (_, result) in zip(tasks, RESULTS, strict=True):
        hypothesis = validate_response("polygons", PARAMS, task["params"], task["hypothesis"])
        assert hypothesis == {"polygons": result["polygons"]}
    document = orjson.loads(data)
    document["annotations"][0]["segmentation"].append([0, 0, 5, 0, 0, 5])
    first = next(KINDS["polygons"].imports["coco"].read(orjson.dumps(document)))
    assert [p["points"] for p in first["hypothesis"]["polygons"]] == [
        square(20, 20, 40)["points"],
        [[0, 0], [5, 0], [0, 5]],
    ]
    document["annotations"][0]["segmentation"] = {"counts": "abc", "size": [80, 100]}
    with pytest.raises(ValueError, match="RLE"):
        list(KINDS["polygons"].imports["coco"].read(orjson.dumps(document)))
