"""The form kind: field definitions, typed values, field-by-field consolidation, gold and
field agreement."""

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

KIND = "form"
PARAMS = {
    "fields": [
        {"name": "title", "type": "text", "required": True, "max_length": 20},
        {"name": "price", "type": "number", "min": 0, "max": 1000},
        {"name": "colour", "type": "choice", "options": ["red", "green", "blue"]},
        {"name": "tags", "type": "choice", "options": ["new", "used", "sale"], "multiple": True},
        {"name": "listed", "type": "date"},
        {"name": "link", "type": "url"},
        {"name": "stock", "type": "number", "exact": True},
    ]
}


def form(**values) -> dict:
    return {"values": values}


def result(*answers: dict, params: dict = PARAMS) -> dict:
    return consolidate(KIND, params, {}, list(answers))


@pytest.mark.parametrize(
    ("definitions", "paths"),
    [
        ([{"name": "a", "type": "text"}, {"name": "a", "type": "date"}], ["params.fields[1].name"]),
        ([{"name": "2nd", "type": "text"}], ["params.fields[0].name"]),
        ([{"name": "a", "type": "colour"}], ["params.fields[0].type"]),
        ([{"name": "a", "type": "choice", "options": ["x"]}], ["params.fields[0].options"]),
        ([{"name": "a", "type": "choice"}], ["params.fields[0].options"]),
        (
            [{"name": "a", "type": "choice", "options": ["x", "y", "x"]}],
            ["params.fields[0].options[2]"],
        ),
        (
            [{"name": "a", "type": "text", "options": ["x", "y"], "min": 1, "multiple": True}],
            ["params.fields[0].options", "params.fields[0].multiple", "params.fields[0].min"],
        ),
        ([{"name": "a", "type": "number", "min": 3, "max": 1}], ["params.fields[0].max"]),
        ([{"name": "a", "type": "date", "exact": True}], ["params.fields[0].exact"]),
        ([], ["params.fields"]),
    ],
)
def test_field_definition_errors_name_their_path(definitions, paths):
    with pytest.raises(Invalid) as info:
        validate_params(KIND, {"fields": definitions})
    assert field_paths(info) == paths


def test_params_defaults():
    checked = validate_params(KIND, {"fields": [{"name": "a", "type": "text"}]})
    assert checked["fields"][0]["required"] is False
    assert checked["fields"][0]["multiple"] is False


def test_task_is_any_object():
    assert validate_task(KIND, PARAMS, {"page": "https://x.org"}) == {"page": "https://x.org"}
    with pytest.raises(Invalid) as info:
        validate_task(KIND, PARAMS, 7)
    assert field_paths(info) == ["params"]


def test_a_full_valid_answer_passes_unchanged():
    answer = form(
        title="Chair",
        price=12.5,
        colour="red",
        tags=["new", "sale"],
        listed="2024-02-29",
        link="https://shop.example.com/chair?id=1",
        stock=3,
    )
    assert validate_response(KIND, PARAMS, {}, answer) == answer
    assert validate_response(KIND, PARAMS, {}, form(title="x", tags=[])) == form(title="x", tags=[])


@pytest.mark.parametrize(
    ("values", "paths"),
    [
        ({}, ["values.title"]),
        ({"title": None}, ["values.title"]),
        ({"title": "   "}, ["values.title"]),
        ({"title": "x" * 21}, ["values.title"]),
        ({"title": 5}, ["values.title"]),
        ({"title": "a", "size": 3}, ["values.size"]),
        ({"title": "a", "price": "12"}, ["values.price"]),
        ({"title": "a", "price": True}, ["values.price"]),
        ({"title": "a", "price": -1}, ["values.price"]),
        ({"title": "a", "price": 1000.5}, ["values.price"]),
        ({"title": "a", "colour": "pink"}, ["values.colour"]),
        ({"title": "a", "colour": ["red"]}, ["values.colour"]),
        ({"title": "a", "tags": "new"}, ["values.tags"]),
        ({"title": "a", "tags": ["new", "old", "new"]}, ["values.tags[1]", "values.tags[2]"]),
        ({"title": "a", "listed": "2023-02-29"}, ["values.listed"]),
        ({"title": "a", "listed": "2024/01/01"}, ["values.listed"]),
        ({"title": "a", "listed": "20240101"}, ["values.listed"]),
        ({"title": "a", "link": "ftp://example.com/x"}, ["values.link"]),
        ({"title": "a", "link": "https://"}, ["values.link"]),
        ({"title": "a", "link": "https://exa mple.com"}, ["values.link"]),
        ({"title": "a", "link": "http://[::1"}, ["values.link"]),
    ],
)
def test_value_errors_name_the_field(values, paths):
    with pytest.raises(Invalid) as info:
        validate_response(KIND, PARAMS, {}, {"values": values})
    assert field_paths(info) == [f"response.{p}" for p in paths]


def test_required_multiple_choice_needs_an_option():
    params = {
        "fields": [{"name": "t", "type": "choice", "options": ["a", "b"], "multiple": True,
                    "required": True}]
    }  # fmt: skip
    with pytest.raises(Invalid) as info:
        validate_response(KIND, params, {}, form(t=[]))
    assert field_paths(info) == ["response.values.t"]


def test_choices_dates_and_urls_vote_ties_to_the_first_answer():
    out = result(
        form(title="a", colour="red", listed="2024-01-01", link="http://a.org"),
        form(title="a", colour="blue", listed="2024-01-02", link="http://b.org"),
        form(title="a", colour="blue", listed="2024-01-02", link="http://c.org"),
        form(title="a", colour="red", listed="2024-01-03", link="http://b.org"),
    )
    assert out["values"]["colour"] == "red"  # 2-2: the first answer's
    assert out["values"]["listed"] == "2024-01-02"
    assert out["values"]["link"] == "http://b.org"
    assert out["confidences"]["colour"] == 0.5
    assert out["confidences"]["link"] == 0.5


def test_numbers_take_the_median_unless_exact():
    out = result(
        form(title="a", price=1, stock=4),
        form(title="a", price=2, stock=7),
        form(title="a", price=10, stock=7),
        form(title="a", price=20, stock=4),
    )
    assert out["values"]["price"] == 6.0  # median of 1, 2, 10, 20
    assert out["confidences"]["price"] == 0.0
    assert out["values"]["stock"] == 4  # exact: a vote, 2-2, the first answer's


def test_text_takes_the_most_common_normalized_value_in_its_first_form():
    out = result(
        form(title="Red  Chair"),
        form(title="blue chair"),
        form(title="red chair"),
    )
    assert out["values"]["title"] == "Red  Chair"
    assert out["confidences"]["title"] == pytest.approx(2 / 3)
    assert result(form(title="b"), form(title="a"))["values"]["title"] == "b"


def test_multiple_choices_vote_as_sets():
    out = result(
        form(title="a", tags=["sale"]),
        form(title="a", tags=["new", "sale"]),
        form(title="a", tags=["sale", "new"]),
    )
    assert out["values"]["tags"] == ["new", "sale"]
    assert out["confidences"]["tags"] == pytest.approx(2 / 3)


def test_optional_fields_appear_when_most_answers_give_them():
    out = result(
        form(title="a", colour="green"),
        form(title="a"),
        form(title="a", colour="blue"),
    )
    assert out["values"]["colour"] == "green"  # given 2 to 1, then a 1-1 tie
    assert out["confidences"]["colour"] == pytest.approx(1 / 3)
    left_out = result(form(title="a", price=3), form(title="a"), form(title="a"))
    assert "price" not in left_out["values"]
    assert left_out["confidences"]["price"] == pytest.approx(2 / 3)
    tied = result(form(title="a"), form(title="a", price=3))
    assert "price" not in tied["values"]


def test_confidence_is_the_mean_share_over_all_fields():
    out = result(form(title="a", colour="red"), form(title="A", colour="blue"))
    assert out == {
        "values": {"title": "a", "colour": "red"},
        "confidence": pytest.approx((1 + 0.5 + 5) / 7),
        "confidences": {
            "title": 1.0, "price": 1.0, "colour": 0.5, "tags": 1.0,
            "listed": 1.0, "link": 1.0, "stock": 1.0,
        },
    }  # fmt: skip


def test_gold_compares_required_fields_and_those_the_gold_gives():
    gold = form(title="Red chair", price=0.1 + 0.2)
    assert matches(KIND, PARAMS, {}, form(title=" red  CHAIR", price=0.3, colour="red"), gold)
    assert not matches(KIND, PARAMS, {}, form(title="Red chair", price=0.31), gold)
    assert not matches(KIND, PARAMS, {}, form(title="Red chair"), gold)
    assert not matches(KIND, PARAMS, {}, form(title="Blue chair", price=0.3), gold)
    assert matches(KIND, PARAMS, {}, form(title="Red chair", tags=["new"]), form(title="red chair"))


def test_agreement_is_the_mean_pairwise_share_of_equal_fields():
    items = [
        ({}, [form(title="a", colour="red"), form(title="A ", colour="blue")]),
        ({}, [form(title="a", tags=["new", "sale"]), form(title="a", tags=["sale", "new"])]),
        ({}, [form(title="alone")]),
    ]
    measured = agreement(KIND, PARAMS, items)
    assert measured.measure == "field_agreement"
    assert measured.pairs == 2
    assert measured.value == pytest.approx((6 / 7 + 1) / 2)
    assert agreement(KIND, PARAMS, items[2:]).value is None
