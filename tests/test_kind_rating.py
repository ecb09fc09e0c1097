"""The rating kind: rubric params, score and comment rules, per-criterion consolidation,
gold tolerance and Krippendorff's alpha per criterion."""

import pytest
from kind_helpers import field_paths

from assay.errors import Invalid
from assay.kinds import (
    agreement,
    consolidate,
    matches,
    validate_params,
    validate_response,
    validate_task,
)

KIND = "rating"
FIVE = ["awful", "poor", "fair", "good", "great"]
PARAMS = {
    "criteria": [
        {"name": "clarity", "scale": {"type": "likert", "labels": FIVE}},
        {"name": "accuracy", "scale": {"type": "numeric", "min": 0, "max": 10, "step": 0.5}},
    ]
}


def with_params(**changes) -> dict:
    return {**PARAMS, **changes}


def one(scale: dict) -> dict:
    """Params with a single criterion "c" on this scale."""
    return {"criteria": [{"name": "c", "scale": scale}]}


def scores(clarity: str, accuracy: float) -> dict:
    return {"scores": {"clarity": clarity, "accuracy": accuracy}}


def test_params_defaults():
    checked = validate_params(KIND, PARAMS)
    assert checked["comment"] == "optional"
    assert checked["consolidation"] == "mean"
    assert checked["comment_below"] is None


@pytest.mark.parametrize(
    ("params", "paths"),
    [
        (
            {"criteria": [PARAMS["criteria"][0], PARAMS["criteria"][0]]},
            ["params.criteria[1].name"],
        ),
        (
            one({"type": "likert", "labels": ["a", "b", "a"]}),
            ["params.criteria[0].scale.labels[2]"],
        ),
        (
            one({"type": "likert", "labels": ["only"]}),
            ["params.criteria[0].scale.likert.labels"],
        ),
        (
            one({"type": "numeric", "min": 5, "max": 5}),
            ["params.criteria[0].scale.max"],
        ),
        (
            one({"type": "numeric", "min": 0, "max": 1, "step": 2}),
            ["params.criteria[0].scale.step"],
        ),
        ({"criteria": []}, ["params.criteria"]),
        (with_params(comment="required", comment_below="poor"), ["params.comment_below"]),
        (with_params(comment_below="bad"), ["params.comment_below"]),
        (
            {"criteria": PARAMS["criteria"][:1], "comment_below": 3},
            ["params.comment_below"],
        ),
        (with_params(consolidation="mode"), ["params.consolidation"]),
    ],
)
def test_params_errors_name_their_path(params, paths):
    with pytest.raises(Invalid) as info:
        validate_params(KIND, params)
    assert field_paths(info) == paths


def test_task_is_any_object():
    assert validate_task(KIND, PARAMS, {"answer": "42", "n": 1}) == {"answer": "42", "n": 1}
    with pytest.raises(Invalid) as info:
        validate_task(KIND, PARAMS, "text")
    assert field_paths(info) == ["params"]


def test_valid_responses_pass_unchanged():
    assert validate_response(KIND, PARAMS, {}, scores("fair", 7.5)) == scores("fair", 7.5)
    answer = {**scores("good", 10), "comments": {"clarity": "fine"}}
    assert validate_response(KIND, PARAMS, {}, answer) == answer


@pytest.mark.parametrize(
    ("response", "paths"),
    [
        ({"scores": {"clarity": "fair"}}, ["response.scores.accuracy"]),
        ({"scores": {"clarity": "fair", "accuracy": 1, "style": 2}}, ["response.scores.style"]),
        (scores("Fair", 1), ["response.scores.clarity"]),
        (scores("fair", 10.5), ["response.scores.accuracy"]),
        (scores("fair", 7.25), ["response.scores.accuracy"]),
        (scores("fair", True), ["response.scores.accuracy"]),
        (scores("fair", "7"), ["response.scores.accuracy"]),
        (scores(3, 7), ["response.scores.clarity"]),
        ({**scores("fair", 1), "comments": {"style": "x"}}, ["response.comments.style"]),
        ({"scores": {}, "extra": 1}, ["response.extra"]),
    ],
)
def test_response_errors_name_the_criterion(response, paths):
    with pytest.raises(Invalid) as info:
        validate_response(KIND, PARAMS, {}, response)
    assert field_paths(info) == paths


def test_numeric_scores_without_step_take_any_number_in_range():
    params = {"criteria": [{"name": "n", "scale": {"type": "numeric", "min": -1, "max": 1}}]}
    assert validate_response(KIND, params, {}, {"scores": {"n": 0.123}}) == {"scores": {"n": 0.123}}


def test_comment_rules():
    required = with_params(comment="required")
    with pytest.raises(Invalid) as info:
        validate_response(KIND, required, {}, {**scores("fair", 1), "comments": {"clarity": " "}})
    assert field_paths(info) == ["response.comments.clarity", "response.comments.accuracy"]
    with pytest.raises(Invalid) as info:
        validate_response(
            KIND, with_params(comment="none"), {}, {**scores("fair", 1), "comments": {}}
        )
    assert field_paths(info) == ["response.comments"]


def test_comment_below_a_label_or_a_number():
    by_label = with_params(comment_below="poor")
    validate_response(KIND, by_label, {}, scores("fair", 0))
    with pytest.raises(Invalid) as info:
        validate_response(KIND, by_label, {}, scores("poor", 0))
    assert field_paths(info) == ["response.comments.clarity"]
    validate_response(KIND, by_label, {}, {**scores("awful", 0), "comments": {"clarity": "why"}})
    by_number = with_params(comment_below=3)
    validate_response(KIND, by_number, {}, scores("awful", 3.5))
    with pytest.raises(Invalid) as info:
        validate_response(KIND, by_number, {}, scores("awful", 3))
    assert field_paths(info) == ["response.comments.accuracy"]


def test_likert_takes_the_lower_median_of_positions():
    answers = [scores(label, 5) for label in ["awful", "awful", "good", "great"]]
    out = consolidate(KIND, PARAMS, {}, answers)
    assert out["scores"]["clarity"] == "awful"  # positions 0, 0, 3, 4: lower median 0
    assert out["confidences"]["clarity"] == 0.5  # two answers within one step of "awful"
    odd = [scores(label, 5) for label in ["great", "poor", "fair"]]
    assert consolidate(KIND, PARAMS, {}, odd)["scores"]["clarity"] == "fair"


def test_numeric_mean_or_median_and_confidence_within_ten_percent_of_range():
    answers = [scores("fair", value) for value in [2, 3, 10]]
    mean = consolidate(KIND, PARAMS, {}, answers)
    assert mean["scores"] == {"clarity": "fair", "accuracy": 5.0}
    assert mean["confidences"] == {"clarity": 1.0, "accuracy": 0.0}
    assert mean["confidence"] == 0.5
    median = consolidate(KIND, with_params(consolidation="median"), {}, answers)
    assert median["scores"]["accuracy"] == 3
    assert median["confidences"]["accuracy"] == pytest.approx(2 / 3)  # 2 and 3 within 1
    even = consolidate(KIND, with_params(consolidation="median"), {}, answers[:2])
    assert even["scores"]["accuracy"] == 2.5


def test_two_label_scales_agree_only_exactly():
    params = {"criteria": [{"name": "ok", "scale": {"type": "likert", "labels": ["no", "yes"]}}]}
    answers = [{"scores": {"ok": label}} for label in ["yes", "no", "yes"]]
    out = consolidate(KIND, params, {}, answers)
    assert out["scores"] == {"ok": "yes"}
    assert out["confidence"] == pytest.approx(2 / 3)
    assert not matches(KIND, params, {}, {"scores": {"ok": "no"}}, {"scores": {"ok": "yes"}})


def test_gold_tolerance_is_one_step_or_ten_percent_of_range():
    gold = scores("fair", 5)
    assert matches(KIND, PARAMS, {}, scores("good", 6), gold)
    assert matches(KIND, PARAMS, {}, scores("poor", 4), gold)
    assert not matches(KIND, PARAMS, {}, scores("great", 5), gold)
    assert not matches(KIND, PARAMS, {}, scores("fair", 6.5), gold)


def test_agreement_is_the_mean_alpha_over_criteria():
    # Ordinal, in the scale's order (not the alphabet's): units {poor, fair}, {good, good}
    # give alpha 5/6; interval on units {1, 2}, {3, 3} gives 8/11 (Krippendorff 2011).
    labels = ["poor", "fair", "good"]
    params = {
        "criteria": [
            {"name": "quality", "scale": {"type": "likert", "labels": labels}},
            {"name": "score", "scale": {"type": "numeric", "min": 0, "max": 5}},
        ]
    }

    def answer(quality: str, score: float) -> dict:
        return {"scores": {"quality": quality, "score": score}}

    items = [
        ({}, [answer("poor", 1), answer("fair", 2)]),
        ({}, [answer("good", 3), answer("good", 3)]),
        ({}, [answer("poor", 0)]),
    ]
    measured = agreement(KIND, params, items)
    assert measured.measure == "krippendorff_alpha"
    assert measured.pairs == 2
    assert measured.value == pytest.approx((5 / 6 + 8 / 11) / 2)
    assert agreement(KIND, params, items[2:]).value is None


def test_agreement_leaves_out_criteria_where_alpha_is_undefined():
    params = {
        "criteria": [
            {"name": "same", "scale": {"type": "numeric", "min": 0, "max": 5}},
            {"name": "varies", "scale": {"type": "numeric", "min": 0, "max": 5}},
        ]
    }
    items = [
        ({}, [{"scores": {"same": 2, "varies": 1}}, {"scores": {"same": 2, "varies": 1}}]),
        ({}, [{"scores": {"same": 2, "varies": 4}}, {"scores": {"same": 2, "varies": 4}}]),
    ]
    assert agreement(KIND, params, items).value == 1.0
    only_same = [({}, [{"scores": {"same": 2, "varies": 3}}] * 2)]
    assert agreement(KIND, params, only_same).value is None
