"""The response kind: written or edited replies for SFT (pure, no server)."""

import json

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

KIND = "response"
EDIT = {"mode": "edit"}
TASK = {"prompt": "Describe the cat."}
DRAFT = {"prompt": "Describe the cat.", "draft": "The cat sat."}


def write(tmp_path, fmt: str, tasks: list[dict]):
    return write_export(tmp_path, KIND, fmt, {}, tasks)


def done(params: dict, text: str) -> dict:
    return completed(params, {"text": text, "confidence": 1.0})


def test_params_bounds_and_mode():
    assert validate_params(KIND, {}) == {"mode": "write", "min_length": 1, "max_length": None}
    with pytest.raises(Invalid) as exc:
        validate_params(KIND, {"min_length": 10, "max_length": 5})
    assert "min_length (10)" in fields(exc)["params.max_length"]
    with pytest.raises(Invalid) as exc:
        validate_params(KIND, {"mode": "rewrite"})
    assert "params.mode" in fields(exc)


def test_edit_tasks_need_a_draft():
    with pytest.raises(Invalid) as exc:
        validate_task(KIND, EDIT, TASK)
    assert "draft" in fields(exc)["params.draft"]
    assert validate_task(KIND, {}, TASK) == TASK
    with pytest.raises(Invalid) as exc:
        validate_task(KIND, {}, {"prompt": ""})
    assert "params.prompt" in fields(exc)


def test_text_length_is_bounded():
    params = {"min_length": 5, "max_length": 10}
    with pytest.raises(Invalid) as exc:
        validate_response(KIND, params, TASK, {"text": "  abc   "})
    assert "3 characters, at least 5" in fields(exc)["response.text"]
    with pytest.raises(Invalid) as exc:
        validate_response(KIND, params, TASK, {"text": "a" * 11})
    assert "at most 10" in fields(exc)["response.text"]
    with pytest.raises(Invalid) as exc:
        validate_response(KIND, {}, TASK, {"text": "   "})
    assert "response.text" in fields(exc)
    assert validate_response(KIND, params, TASK, {"text": "A cat."}) == {"text": "A cat."}


def test_result_is_the_first_answer_confidence_one_over_distinct_texts():
    answers = [{"text": "A grey cat."}, {"text": " A  grey cat. "}, {"text": "A dog."}]
    assert consolidate(KIND, {}, TASK, answers) == {"text": "A grey cat.", "confidence": 0.5}
    assert consolidate(KIND, {}, TASK, answers[:1]) == {"text": "A grey cat.", "confidence": 1}


def test_edit_results_carry_the_diff_from_the_draft():
    result = consolidate(KIND, EDIT, DRAFT, [{"text": "The cat sat down."}])
    assert result["edit_distance"] == 5
    assert result["diff"] == [["insert", 11, 11, 11, 16]]
    replaced = consolidate(KIND, EDIT, DRAFT, [{"text": "A cat sat."}])
    assert replaced["edit_distance"] == 3
    assert replaced["diff"] == [["replace", 0, 1, 0, 1], ["delete", 1, 3, 1, 1]]
    assert "diff" not in consolidate(KIND, {}, DRAFT, [{"text": "x"}])


def test_matches_on_normalized_text():
    assert matches(KIND, {}, TASK, {"text": "A  cat.\n"}, {"text": "A cat."})
    assert not matches(KIND, {}, TASK, {"text": "a cat."}, {"text": "A cat."})
    assert not is_categorical(KIND)


def test_agreement_is_mean_pairwise_similarity():
    # "abcd" vs "abce": Indel distance 2 over 8 characters -> 0.75.
    items = [(TASK, [{"text": "abcd"}, {"text": "abce"}]), (TASK, [{"text": "x"}, {"text": "x"}])]
    result = agreement(KIND, {}, items)
    assert (result.measure, result.value, result.pairs) == ("text_similarity", 0.875, 2)
    assert agreement(KIND, {}, [(TASK, [{"text": "x"}])]).value is None


def test_trl_export_is_prompt_completion(tmp_path, load_json):
    rows = load_json(write(tmp_path, "trl", [done(TASK, "A cat."), done(DRAFT, "The cat.")]))
    assert rows.column_names == ["prompt", "completion"]
    assert rows["completion"] == ["A cat.", "The cat."]
    assert rows["prompt"] == ["Describe the cat."] * 2


def test_messages_export_is_conversational(tmp_path, load_json):
    system = {**TASK, "system": "Be brief."}
    rows = load_json(write(tmp_path, "messages", [done(system, "A cat."), done(TASK, "Cat.")]))
    assert rows.column_names == ["messages"]
    assert rows[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Describe the cat."},
        {"role": "assistant", "content": "A cat."},
    ]
    assert [m["role"] for m in rows[1]["messages"]] == ["user", "assistant"]


def test_openai_export_has_the_chat_fine_tuning_shape(tmp_path):
    path = write(tmp_path, "openai", [done(TASK, "A cat.")])
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {
            "messages": [
                {"role": "user", "content": "Describe the cat."},
                {"role": "assistant", "content": "A cat."},
            ]
        }
    ]
