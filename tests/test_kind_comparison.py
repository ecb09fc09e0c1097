"""The comparison kind: pairwise preference of model responses (pure, no server)."""

import json
import math

import pytest
from kind_helpers import completed, fields, write_export

from assay.errors import Invalid
from assay.kinds import (
    agreement,
    answer_keys,
    consolidate,
    is_categorical,
    matches,
    validate_params,
    validate_response,
    validate_task,
)
from assay.kinds.comparison import model_scores

KIND = "comparison"
PLAIN: dict = {}
RICH = {"criteria": ["helpfulness", "honesty"], "strength": True, "require_rationale": True}
TASK = {"prompt": "Capital of France?", "responses": ["Paris", "Lyon", "Nice"]}


def bad_response(params: dict, response: dict, task: dict = TASK) -> dict[str, str]:
    with pytest.raises(Invalid) as exc:
        validate_response(KIND, params, task, response)
    return fields(exc)


def test_params_criteria_must_be_distinct():
    with pytest.raises(Invalid) as exc:
        validate_params(KIND, {"criteria": ["honesty", "helpfulness", "honesty"]})
    assert "params.criteria[2]" in fields(exc)


def test_task_needs_two_responses_and_one_model_each():
    with pytest.raises(Invalid) as exc:
        validate_task(KIND, PLAIN, {"prompt": "p", "responses": ["a"]})
    assert "params.responses" in fields(exc)
    with pytest.raises(Invalid) as exc:
        validate_task(KIND, PLAIN, {**TASK, "models": ["m1", "m2"]})
    assert "3 responses, 2 models" in fields(exc)["params.models"]
    kept = validate_task(KIND, PLAIN, {**TASK, "models": ["m1", "m2", "m3"], "id": 7})
    assert kept["id"] == 7


def test_preferred_must_index_a_response_or_be_an_allowed_tie():
    assert "0..2" in bad_response(PLAIN, {"preferred": 3})["response.preferred"]
    assert "no ties" in bad_response(PLAIN, {"preferred": "tie"})["response.preferred"]
    assert "tie" in bad_response(PLAIN, {"preferred": "first"})["response.preferred"]
    assert "response.preferred" in bad_response(PLAIN, {"preferred": True})
    answer = validate_response(KIND, {"allow_tie": True}, TASK, {"preferred": "tie"})
    assert answer == {"preferred": "tie"}


def test_strength_criteria_and_rationale_follow_the_project():
    assert (
        "does not rate" in bad_response(PLAIN, {"preferred": 0, "strength": 2})["response.strength"]
    )
    errors = bad_response(
        RICH, {"preferred": 0, "criteria": {"helpfulness": 5, "style": 0}, "rationale": " "}
    )
    assert "1..4" in errors["response.strength"]
    assert "0..2" in errors["response.criteria.helpfulness"]
    assert "response.criteria.honesty" not in errors  # a criterion may be left out
    assert "not a criterion" in errors["response.criteria.style"]
    assert "explain" in errors["response.rationale"]
    assert (
        "no criteria"
        in bad_response(PLAIN, {"preferred": 0, "criteria": {"honesty": 0}})["response.criteria"]
    )
    tie_project = {"strength": True, "allow_tie": True}
    assert (
        "a tie has no strength"
        in bad_response(tie_project, {"preferred": "tie", "strength": 1})["response.strength"]
    )
    good = {
        "preferred": 1,
        "strength": 3,
        "criteria": {"helpfulness": 1, "honesty": 0},
        "rationale": "clearer",
    }
    assert validate_response(KIND, RICH, TASK, good) == good


def test_vote_is_weighted_by_strength():
    params = {"strength": True}
    answers = [
        {"preferred": 0, "strength": 1},
        {"preferred": 0, "strength": 1},
        {"preferred": 1, "strength": 4},
    ]
    assert consolidate(KIND, params, TASK, answers) == {"preferred": 1, "confidence": 4 / 6}
    plain = [{"preferred": 2}, {"preferred": 2}, {"preferred": 1}]
    assert consolidate(KIND, PLAIN, TASK, plain) == {"preferred": 2, "confidence": 2 / 3}


def test_ties_go_to_the_lowest_index_and_tie_loses_to_any_index():
    even = [{"preferred": 2}, {"preferred": 1}]
    assert consolidate(KIND, PLAIN, TASK, even) == {"preferred": 1, "confidence": 0.5}
    with_tie = [{"preferred": "tie"}, {"preferred": 2}]
    assert consolidate(KIND, {"allow_tie": True}, TASK, with_tie)["preferred"] == 2
    ties = [{"preferred": "tie"}, {"preferred": "tie"}, {"preferred": 0}]
    assert consolidate(KIND, {"allow_tie": True}, TASK, ties) == {
        "preferred": "tie",
        "confidence": 2 / 3,
    }


def test_criteria_are_voted_one_by_one():
    answers = [
        {"preferred": 0, "strength": 4, "criteria": {"helpfulness": 0, "honesty": 2}},
        {"preferred": 1, "strength": 1, "criteria": {"helpfulness": 1, "honesty": 2}},
        {"preferred": 1, "strength": 1, "criteria": {"helpfulness": 1, "honesty": 0}},
    ]
    result = consolidate(KIND, RICH, TASK, answers)
    assert result == {
        "preferred": 0,
        "confidence": 4 / 6,
        "criteria": {"helpfulness": 1, "honesty": 2},
    }
    # Only the answers naming a criterion vote on it; unnamed criteria stay out.
    partial = [
        {"preferred": 0, "strength": 2, "criteria": {"honesty": 2}},
        {"preferred": 0, "strength": 2},
        {"preferred": 0, "strength": 2, "criteria": {"honesty": 1}},
    ]
    assert consolidate(KIND, RICH, TASK, partial)["criteria"] == {"honesty": 1}


def test_matches_and_answer_keys():
    assert matches(KIND, PLAIN, TASK, {"preferred": 1, "strength": 2}, {"preferred": 1})
    assert not matches(KIND, PLAIN, TASK, {"preferred": 0}, {"preferred": 1})
    assert is_categorical(KIND)
    keys = answer_keys(KIND, PLAIN, [{"preferred": 0}, {"preferred": "tie"}])
    assert keys == ["0", "tie"]


def test_agreement_is_nominal_alpha_over_preferred():
    unanimous = [(TASK, [{"preferred": 0}, {"preferred": 0}]), (TASK, [{"preferred": 1}] * 2)]
    result = agreement(KIND, PLAIN, unanimous)
    assert (result.measure, result.value, result.pairs) == ("krippendorff_alpha_nominal", 1, 2)
    # Every pair disagrees: o_01 = o_10 = 2, n_0 = n_1 = 2 -> alpha = 1 - 3 * 4 / 8.
    split = [(TASK, [{"preferred": 0}, {"preferred": 1}])] * 2
    assert agreement(KIND, PLAIN, split).value == pytest.approx(-0.5)
    assert agreement(KIND, PLAIN, [(TASK, [{"preferred": 0}])]).value is None


def test_model_scores_fit_bradley_terry_on_results():
    def result(models, preferred):
        return {"params": {**TASK, "models": models}, "response": {"preferred": preferred}}

    tasks = [
        result(["a", "b", "c"], 0),  # a beats b and c
        result(["b", "a", "c"], 1),  # a beats b and c
        result(["a", "b", "c"], 1),  # b beats a and c
        result(["c", "b", "a"], "tie"),  # every pair ties
        {"params": TASK, "response": {"preferred": 0}},  # no models: skipped
    ]
    scores = model_scores(tasks)
    assert [row["model"] for row in scores] == ["a", "b", "c"]
    assert [row["comparisons"] for row in scores] == [7, 6, 5]
    assert sum(row["score"] for row in scores) == pytest.approx(0, abs=1e-6)
    assert model_scores([]) == []


def test_model_scores_two_models_gap_is_log_odds():
    tasks = [
        {
            "params": {"prompt": "p", "responses": ["x", "y"], "models": ["m", "n"]},
            "response": {"preferred": p},
        }
        for p in (0, 0, 0, 1)
    ]
    best, worst = model_scores(tasks)
    assert best["model"] == "m"
    assert best["score"] - worst["score"] == pytest.approx(math.log(3), abs=0.01)


def test_trl_export_has_one_row_per_rejected_response(tmp_path, load_json):
    tasks = [
        completed(TASK, {"preferred": 1, "confidence": 1.0}),
        completed(TASK, {"preferred": "tie"}),
    ]
    rows = load_json(write_export(tmp_path, KIND, "trl", PLAIN, tasks))
    assert rows.column_names == ["prompt", "chosen", "rejected"]
    assert rows.to_list() == [
        {"prompt": "Capital of France?", "chosen": "Lyon", "rejected": "Paris"},
        {"prompt": "Capital of France?", "chosen": "Lyon", "rejected": "Nice"},
    ]


def test_dpo_export_has_openai_preference_shape(tmp_path, load_json):
    two = {"prompt": "Say hi", "responses": ["hi", "go away"]}
    path = write_export(
        tmp_path, KIND, "dpo", PLAIN, [completed(two, {"preferred": 0, "confidence": 1.0})]
    )
    lines = path.read_text().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "input": {"messages": [{"role": "user", "content": "Say hi"}]},
            "preferred_output": [{"role": "assistant", "content": "hi"}],
            "non_preferred_output": [{"role": "assistant", "content": "go away"}],
        }
    ]
    assert load_json(path).column_names == ["input", "preferred_output", "non_preferred_output"]
