"""The transcription kind: length rules, ROVER-style consolidation, CER gold, text export."""

import pyarrow.csv as pacsv
import pytest
from kind_helpers import field_paths

from assay.errors import Invalid
from assay.kinds import (
    agreement,
    consolidate,
    exports,
    matches,
    settings_model,
    validate_params,
    validate_response,
    validate_task,
)

KIND = "transcription"


def result(texts: list[str], params: dict | None = None) -> dict:
    return consolidate(KIND, params or {}, {}, [{"text": t} for t in texts])


def test_params_defaults_and_length_bounds_in_order():
    assert validate_params(KIND, {}) == {"min_length": None, "max_length": None, "normalize": True}
    with pytest.raises(Invalid) as info:
        validate_params(KIND, {"min_length": 10, "max_length": 5})
    assert field_paths(info) == ["params.max_length"]


def test_task_is_any_object():
    item = {"image": "https://example.com/a.png", "page": 3}
    assert validate_task(KIND, {}, item) == item
    with pytest.raises(Invalid) as info:
        validate_task(KIND, {}, ["not", "an", "object"])
    assert field_paths(info) == ["params"]


def test_response_shape_and_length_rules():
    params = {"min_length": 3, "max_length": 5}
    assert validate_response(KIND, params, {}, {"text": "  abcd  "}) == {"text": "  abcd  "}
    for bad, path in [
        ({"text": " ab "}, "response.text"),  # 2 characters once stripped
        ({"text": "abcdef"}, "response.text"),
        ({"text": 5}, "response.text"),
        ({"text": "abc", "extra": 1}, "response.extra"),
        ({}, "response.text"),
    ]:
        with pytest.raises(Invalid) as info:
            validate_response(KIND, params, {}, bad)
        assert field_paths(info) == [path], bad
    with pytest.raises(Invalid) as info:
        validate_response(KIND, params, {}, {"text": "abcdef"})
    assert "at most 5" in info.value.errors[0].message


def test_fewer_than_three_answers_give_the_medoid_as_written():
    assert result(["Hello  World"]) == {"text": "Hello  World", "confidence": 1.0}
    two = result(["first text", "second text"])
    assert two["text"] == "first text"  # equal totals: the earliest answer
    assert two["confidence"] == pytest.approx(1 - (0 + 6 / 11) / 2)


def test_words_are_voted_so_the_result_can_differ_from_every_answer():
    texts = ["the quick brown fox", "the quack brown fox jumps", "a quick brown fox jumps"]
    assert result(texts)["text"] == "the quick brown fox jumps"


def test_deletions_win_a_word_vote():
    assert result(["a b c d", "a c d", "a c d"])["text"] == "a c d"
    assert result(["a c d", "a b c d", "a b c d"])["text"] == "a b c d"


def test_insertions_need_a_plurality_over_the_pivot():
    # Only one of three inserts "extra": the pivot (inserting nothing) and the other win.
    assert result(["x y z", "x y z", "x y extra z"])["text"] == "x y z"


def test_ties_go_to_the_pivot_not_to_the_earliest_answer():
    # The medoid is "x y z" (answer 1); at the second word "y" and "w" have two votes each.
    assert result(["x w z extra", "x y z", "x w z", "x y z"])["text"] == "x y z"
    assert result(["x w z", "x w z", "x y z", "x y z"])["text"] == "x w z"
    assert result(["x y z", "x y z", "x w z", "x w z"])["text"] == "x y z"


def test_words_compare_normalized_and_keep_the_pivots_form():
    assert result(["The  Cat sat", "the cat SAT", "THE CAT"])["text"] == "The Cat sat"
    assert result(["the cat", "The Cat", "THE CAT"])["text"] == "the cat"
    # Written forms: "The Cat" is the medoid, and every word ties 1-1-1, so the pivot wins.
    assert result(["the cat", "The Cat", "THE CAT"], {"normalize": False})["text"] == "The Cat"


def test_confidence_is_one_minus_mean_distance_to_the_result():
    assert result(["abcd", "abcd", "abce"]) == {
        "text": "abcd",
        "confidence": pytest.approx(11 / 12),
    }
    assert result(["Same text", "same  TEXT", "SAME text"])["confidence"] == 1.0
    raw = result(["Same text", "same text", "same text"], {"normalize": False})
    assert raw["text"] == "same text"
    assert raw["confidence"] == pytest.approx(1 - 1 / 27)


def test_gold_match_is_a_character_error_rate_of_at_most_five_percent():
    gold = {"text": "abcdefghijklmnopqrst"}  # 20 characters: one edit is 5%
    assert matches(KIND, {}, {}, {"text": "abcdefghijklmnopqrsX"}, gold)
    assert not matches(KIND, {}, {}, {"text": "abcdefghijklmnopqrXX"}, gold)
    assert matches(KIND, {}, {}, {"text": "ABCDEFGHIJ  klmnopqrst"}, gold)
    assert not matches(KIND, {"normalize": False}, {}, {"text": "Abcdefghijklmnopqrst "}, gold)
    assert matches(KIND, {}, {}, {"text": "  "}, {"text": ""})
    assert not matches(KIND, {}, {}, {"text": "a"}, {"text": ""})


def test_agreement_is_mean_pairwise_character_similarity():
    items = [
        ({"image": "a"}, [{"text": "abcd"}, {"text": "abce"}]),
        ({"image": "b"}, [{"text": "x"}, {"text": "X"}, {"text": "x "}]),
        ({"image": "c"}, [{"text": "alone"}]),
    ]
    measured = agreement(KIND, {}, items)
    assert measured.measure == "char_similarity"
    assert measured.pairs == 4
    assert measured.value == pytest.approx((0.75 + 3) / 4)
    raw = agreement(KIND, {"normalize": False}, items[1:2])
    assert raw.value == pytest.approx((0 + 0.5 + 0) / 3)
    assert agreement(KIND, {}, items[2:]).value is None


def test_text_export_reads_back_as_tab_separated_lines(tmp_path):
    tasks = [
        {"id": "t1", "unique_id": None, "params": {}, "metadata": {},
         "response": {"text": 'He said "hi"\tthen\nleft', "confidence": 0.9}},
        {"id": "t2", "unique_id": "u2", "params": {}, "metadata": {},
         "response": {"text": "plain", "confidence": 1.0}},
    ]  # fmt: skip
    export = exports(KIND)["text"]
    path = tmp_path / f"out{export.suffix}"
    path.write_bytes(b"".join(export.write(settings_model(KIND, {}), iter(tasks))))
    table = pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=["id", "text"]),
        parse_options=pacsv.ParseOptions(delimiter="\t", quote_char=False),
    )
    assert table.to_pylist() == [
        {"id": "t1", "text": 'He said "hi" then left'},
        {"id": "t2", "text": "plain"},
    ]
