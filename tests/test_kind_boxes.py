"""The boxes kind: validation, consolidation, gold, agreement, COCO/YOLO export, COCO import."""

import copy
import io
import zipfile
from typing import Any

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

PARAMS = {"labels": ["cat", "dog"]}
TASK = {"image": "media/photo.jpg", "width": 100, "height": 80}


def box(x: float, y: float, w: float, h: float, label: str = "cat") -> dict[str, Any]:
    return {"x": x, "y": y, "width": w, "height": h, "label": label}


def answer(*boxes: dict[str, Any]) -> dict[str, Any]:
    return {"boxes": list(boxes)}


def test_params_need_distinct_labels_and_a_threshold_in_range():
    assert problems(validate_params, "boxes", {"labels": ["cat", "dog", "cat"]}) == {
        "params.labels[2]": "label 'cat' is repeated"
    }
    assert "params.labels" in problems(validate_params, "boxes", {"labels": []})
    assert "params.iou_threshold" in problems(
        validate_params, "boxes", {"labels": ["cat"], "iou_threshold": 0}
    )
    assert validate_params("boxes", {"labels": ["cat"]}) == {
        "labels": ["cat"],
        "min_size": 0.0,
        "iou_threshold": 0.5,
    }


def test_task_needs_an_image_and_its_size():
    assert set(problems(validate_task, "boxes", PARAMS, {"image": "", "width": 0})) == {
        "params.image",
        "params.width",
        "params.height",
    }
    kept = validate_task("boxes", PARAMS, {**TASK, "source": "camera 3"})
    assert kept == {**TASK, "source": "camera 3"}


def test_response_errors_name_the_box_and_its_field():
    params = {**PARAMS, "min_size": 5}
    bad = answer(
        box(10, 10, 20, 20),
        box(90, 10, 20, 20),
        box(10, 70, 20, 20, "bird"),
        box(10, 10, 20, 4),
    )
    found = problems(validate_response, "boxes", params, TASK, bad)
    assert set(found) == {
        "response.boxes[1].width",
        "response.boxes[2].label",
        "response.boxes[2].height",
        "response.boxes[3].height",
    }
    assert "x + width = 110" in found["response.boxes[1].width"]
    assert "0 to 100" in found["response.boxes[1].width"]
    assert "min_size 5" in found["response.boxes[3].height"]
    shape = problems(validate_response, "boxes", PARAMS, TASK, answer(box(-1, 0, 0, 5)))
    assert set(shape) == {"response.boxes[0].x", "response.boxes[0].width"}


def test_valid_response_is_returned_as_floats():
    valid = validate_response("boxes", PARAMS, TASK, answer(box(0, 0, 100, 80, "dog")))
    assert valid == {"boxes": [box(0.0, 0.0, 100.0, 80.0, "dog")]}


def test_three_workers_average_the_shared_box_and_drop_the_outlier():
    answers = [
        answer(box(10, 10, 20, 20)),
        answer(box(12, 10, 20, 20), box(70, 50, 10, 10)),
        answer(box(14, 10, 20, 20, "dog")),
    ]
    result = consolidate("boxes", PARAMS, TASK, answers)
    iou = (360 / 440 + 320 / 480 + 360 / 440) / 3
    assert result["boxes"] == [
        {**box(12.0, 10.0, 20.0, 20.0), "support": 1.0, "iou": pytest.approx(iou)}
    ]
    kept, dropped = 2 / 3 * iou, 1 - 1 / 3
    assert result["confidence"] == pytest.approx((kept + dropped) / 2)


def test_label_ties_go_to_the_label_listed_first():
    answers = [answer(box(10, 10, 20, 20, "cat")), answer(box(10, 10, 20, 20, "dog"))]
    assert consolidate("boxes", PARAMS, TASK, answers)["boxes"][0]["label"] == "cat"
    flipped = {"labels": ["dog", "cat"]}
    result = consolidate("boxes", flipped, TASK, answers)
    assert result["boxes"][0]["label"] == "dog"
    assert result["confidence"] == pytest.approx(0.5)


def test_no_majority_gives_no_boxes():
    answers = [answer(box(0, 0, 10, 10)), answer(box(40, 0, 10, 10)), answer(box(80, 0, 10, 10))]
    result = consolidate("boxes", PARAMS, TASK, answers)
    assert result == {"boxes": [], "confidence": pytest.approx(2 / 3)}


def test_a_worker_adds_at_most_one_box_to_a_cluster():
    same = box(10, 10, 20, 20)
    answers = [answer(same, same), answer(same), answer(same)]
    result = consolidate("boxes", PARAMS, TASK, answers)
    assert [b["support"] for b in result["boxes"]] == [1.0]
    assert result["confidence"] == pytest.approx((1 + 2 / 3) / 2)


def test_all_workers_drawing_nothing_is_a_sure_empty_result():
    assert consolidate("boxes", PARAMS, TASK, [answer()] * 3) == {"boxes": [], "confidence": 1.0}


def test_gold_needs_every_box_matched_with_its_label_and_nothing_extra():
    gold = answer(box(10, 10, 20, 20), box(50, 40, 20, 20, "dog"))
    close = answer(box(52, 40, 20, 20, "dog"), box(12, 12, 20, 20))
    assert matches("boxes", PARAMS, TASK, close, gold)
    assert not matches("boxes", PARAMS, TASK, answer(*close["boxes"][:1]), gold)
    extra = answer(*close["boxes"], box(80, 60, 10, 10))
    assert not matches("boxes", PARAMS, TASK, extra, gold)
    relabelled = answer(box(52, 40, 20, 20, "cat"), box(12, 12, 20, 20))
    assert not matches("boxes", PARAMS, TASK, relabelled, gold)
    far = answer(box(60, 40, 20, 20, "dog"), box(12, 12, 20, 20))
    assert not matches("boxes", PARAMS, TASK, far, gold)
    assert matches("boxes", PARAMS, TASK, answer(), answer())


def test_agreement_is_mean_pairwise_matched_iou():
    same = answer(box(0, 0, 10, 10))
    half = (answer(box(0, 0, 10, 10), box(50, 50, 10, 10, "dog")), answer(box(0, 0, 10, 20)))
    found = agreement("boxes", PARAMS, [(TASK, [same, same]), (TASK, list(half))])
    assert found.measure == "box_iou"
    assert found.pairs == 2
    assert found.value == pytest.approx((1 + 2 * 0.5 / 3) / 2)
    relabelled = answer(box(0, 0, 10, 10, "dog"))
    assert agreement("boxes", PARAMS, [(TASK, [same, relabelled])]).value == 0
    assert agreement("boxes", PARAMS, [(TASK, [same])]).value is None


def export(name: str, params: dict[str, Any], results: list[tuple[dict, dict]]) -> bytes:
    return export_bytes("boxes", name, params, completed_tasks(results))


RESULTS = [
    ({**TASK, "image": "media/a.jpg"}, {"boxes": [box(10, 20, 30, 40)], "confidence": 0.9}),
    (
        {"image": "https://x.test/img/b.png?sig=1", "width": 200, "height": 100},
        {"boxes": [box(0, 0, 200, 100, "dog"), box(5.5, 6.5, 10, 10)], "confidence": 0.5},
    ),
    ({**TASK, "image": "media/empty.jpg"}, {"boxes": [], "confidence": 1.0}),
]


def test_coco_export_reads_back_with_pycocotools_and_scores_ap_1(tmp_path):
    path = tmp_path / "coco.json"
    path.write_bytes(export("coco", PARAMS, RESULTS))
    coco = COCO(str(path))
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == ["cat", "dog"]
    assert coco.getCatIds() == [1, 2]
    images = coco.loadImgs(coco.getImgIds())
    assert [(i["file_name"], i["width"], i["height"]) for i in images] == [
        (params["image"], params["width"], params["height"]) for params, _ in RESULTS
    ]
    second = coco.loadAnns(coco.getAnnIds(imgIds=[2]))
    assert [(a["bbox"], a["category_id"], a["area"], a["score"]) for a in second] == [
        ([0, 0, 200, 100], 2, 20000, 0.5),
        ([5.5, 6.5, 10, 10], 1, 100, 0.5),
    ]
    detections = coco.loadRes(copy.deepcopy(coco.loadAnns(coco.getAnnIds())))
    evaluation = COCOeval(coco, detections, "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    assert evaluation.stats[0] == pytest.approx(1.0)


def test_coco_export_lists_labels_no_longer_in_the_project(tmp_path):
    path = tmp_path / "coco.json"
    path.write_bytes(export("coco", {"labels": ["cat"]}, RESULTS[1:2]))
    coco = COCO(str(path))
    assert {c["id"]: c["name"] for c in coco.loadCats(coco.getCatIds())} == {1: "cat", 2: "dog"}


def test_yolo_zip_holds_normalised_boxes_classes_and_data_yaml():
    results = RESULTS + [({**TASK, "image": "other/a.jpg"}, RESULTS[0][1])]
    archive = zipfile.ZipFile(io.BytesIO(export("yolo", PARAMS, results)))
    assert archive.testzip() is None
    assert sorted(archive.namelist()) == [
        "classes.txt",
        "data.yaml",
        "labels/a.txt",
        "labels/a_t3.txt",
        "labels/b.txt",
        "labels/empty.txt",
    ]
    assert archive.read("classes.txt") == b"cat\ndog\n"
    data = yaml.safe_load(archive.read("data.yaml"))
    assert data["names"] == ["cat", "dog"] and data["nc"] == 2
    rows = [line.split() for line in archive.read("labels/b.txt").decode().splitlines()]
    assert [int(r[0]) for r in rows] == [1, 0]
    assert [[float(v) for v in r[1:]] for r in rows] == [
        [0.5, 0.5, 1.0, 1.0],
        pytest.approx([10.5 / 200, 11.5 / 100, 10 / 200, 10 / 100], abs=1e-6),
    ]
    first = archive.read("labels/a.txt").decode().split()
    assert [float(v) for v in first[1:]] == pytest.approx([0.25, 0.5, 0.3, 0.5], abs=1e-6)
    assert archive.read("labels/empty.txt") == b""


def test_coco_import_round_trips_an_export():
    data = export("coco", PARAMS, RESULTS)
    tasks = list(KINDS["boxes"].imports["coco"].read(data))
    assert [t["unique_id"] for t in tasks] == ["1", "2", "3"]
    for task, (params, result) in zip(tasks, RESULTS, strict=True):
        assert task["params"] == {k: params[k] for k in ("image", "width", "height")}
        hypothesis = validate_response("boxes", PARAMS, task["params"], task["hypothesis"])
        assert hypothesis == {"boxes": result["boxes"]}


def test_coco_import_skips_crowds_and_needs_annotations_for_a_hypothesis():
    document = {
        "images": [{"id": 7, "file_name": "a.jpg", "width": 50, "height": 50}],
        "categories": [{"id": 3, "name": "dog"}],
        "annotations": [
            {"id": 1, "image_id": 7, "category_id": 3, "bbox": [1, 2, 3, 4], "iscrowd": 0},
            {"id": 2, "image_id": 7, "category_id": 3, "bbox": [0, 0, 50, 50], "iscrowd": 1},
        ],
    }
    read = KINDS["boxes"].imports["coco"].read
    (task,) = read(orjson.dumps(document))
    assert task == {
        "params": {"image": "a.jpg", "width": 50, "height": 50},
        "unique_id": "7",
        "hypothesis": {"boxes": [box(1, 2, 3, 4, "dog")]},
    }
    (bare,) = read(orjson.dumps({**document, "annotations": []}))
    assert "hypothesis" not in bare
    with pytest.raises(ValueError, match="images"):
        list(read(b"[]"))
    with pytest.raises(ValueError, match="category"):
        list(read(orjson.dumps({**document, "categories": []})))
