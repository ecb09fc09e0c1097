"""The ranking kind: order model responses best first (pure, no server)."""

import pytest
from kind_helpers import completed, fields, write_export

from assay.errors import Invalid
from assay.kinds import (
    agreement,
    consolidate,
    is_categorical,
    matches,
    validate_params,
    validate_response,
    validate_task,
)
from assay.kinds.ranking import kendall_agreement

KIND = "ranking"
TASK = {"prompt": "Best pet?", "responses": ["cat", "dog", "fish"]}
FOUR = {"prompt": "p", "responses": ["a", "b", "c", "d"]}


def bad_response(response: dict, task: dict = TASK) -> dict[str, str]:
    with pytest.raises(Invalid) as exc:
        validate_response(KIND, {}, task, response)
    return fields(exc)


def ranked(*rankings: list[int]) -> list[dict]:
    return [{"ranking": list(r)} for r in rankings]


def write(tmp_path, fmt: str, tasks: list[dict]):
    return write_export(tmp_path, KIND, fmt, {}, tasks)


def done(params: dict, ranking: list[int]) -> dict:
    return completed(params, {"ranking": ranking, "confidence": 1.0})


def test_params_take_nothing():
    assert validate_params(KIND, {}) == {}
    with pytest.raises(Invalid) as exc:
        validate_params(KIND, {"top": 3})
    assert "params.top" in fields(exc)


def test_task_models_must_match_responses():
    with pytest.raises(Invalid) as exc:
        validate_task(KIND, {}, {**TASK, "models": ["m"]})
    assert "params.models" in fields(exc)
    with pytest.raises(Invalid) as exc:
        validate_task(KIND, {}, {"responses": ["a", "b"]})
    assert "params.prompt" in fields(exc)


def test_ranking_must_be_a_permutation():
    assert "all 3 responses" in bad_response({"ranking": [0, 1]})["response.ranking"]
    assert "twice" in bad_response({"ranking": [0, 1, 0]})["response.ranking[2]"]
    errors = bad_response({"ranking": [0, 3, 1]})
    assert "0..2" in errors["response.ranking[1]"]
    assert validate_response(KIND, {}, TASK, {"ranking": [2, 0, 1]}) == {"ranking": [2, 0, 1]}


def test_kendall_agreement_is_the_share_of_pairs_in_the_same_order():
    assert kendall_agreement([0, 1, 2], [0, 1, 2]) == 1
    assert kendall_agreement([0, 1, 2], [2, 1, 0]) == 0
    assert kendall_agreement([0, 1, 2], [0, 2, 1]) == pytest.approx(2 / 3)
    assert kendall_agreement([0, 1, 2, 3], [1, 0, 2, 3]) == pytest.approx(5 / 6)


def test_borda_count_decides():
    # Points: 0 -> 2+2+1 = 5, 1 -> 1+0+2 = 3, 2 -> 0+1+0 = 1.
    result = consolidate(KIND, {}, TASK, ranked([0, 1, 2], [0, 2, 1], [1, 0, 2]))
    assert result["ranking"] == [0, 1, 2]
    assert result["confidence"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)


def test_equal_points_go_to_the_pairwise_majority_then_index():
    # 0 and 1 both score 4; two of three answers put 1 above 0.
    result = consolidate(KIND, {}, TASK, ranked([1, 0, 2], [1, 0, 2], [0, 2, 1]))
    assert result["ranking"] == [1, 0, 2]
    # No majority either way: the lower index first.
    split = consolidate(KIND, {}, TASK, ranked([0, 1, 2], [1, 0, 2]))
    assert split == {"ranking": [0, 1, 2], "confidence": pytest.approx(5 / 6)}
    assert consolidate(KIND, {}, TASK, ranked([2, 1, 0]))["ranking"] == [2, 1, 0]


def test_matches_needs_the_same_top_and_close_order():
    gold = {"ranking": [0, 1, 2, 3]}
    assert matches(KIND, {}, FOUR, {"ranking": [0, 1, 3, 2]}, gold)  # 5/6 of pairs
    assert not matches(KIND, {}, FOUR, {"ranking": [1, 0, 2, 3]}, gold)  # other top
    assert not matches(KIND, {}, FOUR, {"ranking": [0, 3, 2, 1]}, gold)  # 3/6 of pairs
    assert not matches(KIND, {}, TASK, {"ranking": [0, 2, 1]}, {"ranking": [0, 1, 2]})
    assert not is_categorical(KIND)


def test_agreement_is_mean_pairwise_kendall_agreement():
    items = [
        (TASK, ranked([0, 1, 2], [0, 1, 2], [2, 1, 0])),  # pairs: 1, 0, 0
        ({"prompt": "q", "responses": ["x", "y"]}, ranked([0, 1], [1, 0])),  # pair: 0
        (TASK, ranked([0, 1, 2])),  # no pair
    ]
    result = agreement(KIND, {}, items)
    assert (result.measure, result.value, result.pairs) == ("kendall_agreement", 0.25, 4)
    assert agreement(KIND, {}, [(TASK, ranked([0, 1, 2]))]).value is None


def test_pairs_export_is_trl_preference(tmp_path, load_json):
    rows = load_json(write(tmp_path, "pairs", [done(TASK, [2, 0, 1])]))
    assert rows.column_names == ["prompt", "chosen", "rejected"]
    assert [(r["chosen"], r["rejected"]) for r in rows] == [
        ("fish", "cat"),
        ("fish", "dog"),
        ("cat", "dog"),
    ]
    assert set(rows["prompt"]) == {"Best pet?"}


def test_ranked_export_orders_responses_and_models(tmp_path, load_json):
    with_models = {**TASK, "models": ["m0", "m1", "m2"]}
    rows = load_json(write(tmp_path, "ranked", [done(with_models, [1, 2, 0])]))
    assert rows.to_list() == [
        {
            "prompt": "Best pet?",
            "responses": ["dog", "fish", "cat"],
            "ranking": [1, 2, 0],
            "models": ["m1", "m2", "m0"],
        }
    ]
