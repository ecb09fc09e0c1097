"""Pure logic, tested directly: ids, cursor tokens, import row checks, file reshaping."""

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from assay.engine.pagination import decode_token, encode_token
from assay.errors import Invalid, field_path
from assay.exchange.task_readers import task_object
from assay.exchange.task_rows import parse_body, simple_fields
from assay.ids import new_ids, utc_now
from assay.kinds import validate_params
from assay.schemas import TaskFields


def test_ids_are_unique_and_ascending_across_calls():
    ids = new_ids(5000) + new_ids(5000)
    assert len(set(ids)) == 10_000
    assert ids == sorted(ids)
    assert all(len(i) == 24 for i in ids)


def test_utc_now_is_sortable_iso_text():
    a, b = utc_now(), utc_now()
    assert a.endswith("Z") and len(a) == 27 and a <= b


def test_tokens_round_trip_and_garbage_is_invalid():
    assert decode_token(encode_token("abc123")) == "abc123"
    assert decode_token(None) is None
    for bad in ("x", "!!!", encode_token("a")[:-2] + "zz", "dGhpcyBpcyBub3Q"):
        with pytest.raises(Invalid) as info:
            decode_token(bad)
        assert info.value.errors[0].field == "next_token"


def test_field_paths():
    assert field_path(("params", "labels", 2)) == "params.labels[2]"
    assert field_path((0, "a")) == "[0].a"


def test_categorization_params():
    assert validate_params("categorization", {"labels": ["a", "b"]}) == {
        "labels": ["a", "b"],
        "multi": False,
    }
    with pytest.raises(Invalid) as info:
        validate_params("categorization", {"labels": ["a", "b", "a", "b"]})
    assert [e.field for e in info.value.errors] == ["params.labels[2]", "params.labels[3]"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)
row_values = st.fixed_dictionaries(
    {},
    optional={
        "params": json_values | st.dictionaries(st.text(), json_values, max_size=3),
        "unique_id": json_values | st.text(max_size=300),
        "metadata": json_values | st.dictionaries(st.text(), json_values, max_size=2),
        "priority": json_values | st.integers(min_value=-(2**40), max_value=2**40),
        "callback_url": st.none() | st.just("https://example.com/cb") | st.text(),
        "colour": json_values,
    },
)


@settings(max_examples=600, deadline=None)
@given(row_values)
def test_fast_row_check_never_accepts_what_the_model_rejects(row):
    fast = simple_fields(row)
    try:
        model = TaskFields.model_validate(row).model_dump(exclude_unset=True)
    except ValidationError:
        model = None
    if fast is not None:
        assert model == fast


def test_parse_body_numbers_lines_and_skips_blanks():
    body = b'{"params": {}}\n\n{"params": 1}\n  \n{"params": {"a": 1}, "priority": 2}\n'
    parsed = list(parse_body(body))
    assert [line for line, _ in parsed] == [1, 3, 5]
    assert parsed[0][1] == {"params": {}}
    assert parsed[1][1][0].field == "params"
    assert parsed[2][1] == {"params": {"a": 1}, "priority": 2}


def test_task_object_reshapes_flat_records():
    record = {
        "text": "hi",
        "unique_id": "u1",
        "priority": "4",
        "metadata": '{"a": 1}',
        "params": '{"lang": "en"}',
        "id": "exported-id",
        "status": "completed",
        "empty": "",
    }
    assert task_object(record) == {
        "unique_id": "u1",
        "priority": 4,
        "metadata": {"a": 1},
        "params": {"lang": "en", "text": "hi"},
    }
    assert orjson.loads(orjson.dumps(task_object({"text": "x"}))) == {"params": {"text": "x"}}
