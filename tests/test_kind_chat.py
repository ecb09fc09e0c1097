"""The chat kind: multi-turn conversations for SFT (pure, no server)."""

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

KIND = "chat"
RATED = {"rate_turns": True, "min_turns": 2, "max_turns": 3, "system": "Be kind."}


def user(content: str, **extra) -> dict:
    return {"role": "user", "content": content, **extra}


def bot(content: str, **extra) -> dict:
    return {"role": "assistant", "content": content, **extra}


def chat(*messages: dict) -> dict:
    return {"messages": list(messages)}


def bad_response(params: dict, response: dict) -> dict[str, str]:
    with pytest.raises(Invalid) as exc:
        validate_response(KIND, params, {}, response)
    return fields(exc)


def done(params: dict, answer: dict) -> dict:
    return completed(params, {**answer, "confidence": 1.0})


def test_params_turn_bounds_and_model_endpoint():
    with pytest.raises(Invalid) as exc:
        validate_params(KIND, {"min_turns": 3, "max_turns": 2})
    assert "min_turns (3)" in fields(exc)["params.max_turns"]
    with pytest.raises(Invalid) as exc:
        validate_params(KIND, {"model": {"base_url": "http://localhost:8000/v1"}})
    assert "params.model.model" in fields(exc)
    endpoint = {"model": "llama", "base_url": "http://localhost:8000/v1"}
    assert validate_params(KIND, {"model": endpoint})["model"] == endpoint


def test_seed_messages_start_with_the_user_and_alternate():
    with pytest.raises(Invalid) as exc:
        validate_task(KIND, {}, {"seed_messages": [bot("Hi"), user("Hello")]})
    assert set(fields(exc)) == {"params.seed_messages[0].role", "params.seed_messages[1].role"}
    task = {"seed_messages": [user("Hi")], "topic": "travel"}
    assert validate_task(KIND, {}, task) == task


def test_messages_start_with_user_alternate_and_end_with_assistant():
    assert "must be user" in bad_response({}, chat(bot("a"), bot("b")))["response.messages[0].role"]
    errors = bad_response({}, chat(user("a"), bot("b"), bot("c"), user("d")))
    assert set(errors) == {"response.messages[2].role", "response.messages[3].role"}
    assert "must be user" in errors["response.messages[2].role"]
    assert (
        "end with an assistant"
        in bad_response({}, chat(user("a"), bot("b"), user("c")))["response.messages[2].role"]
    )
    assert "response.messages" in bad_response({}, chat(user("a")))
    assert "blank" in bad_response({}, chat(user(" "), bot("b")))["response.messages[0].content"]


def test_user_turns_within_bounds():
    one = chat(user("a"), bot("b", rating=3))
    assert "at least 2" in bad_response(RATED, one)["response.messages"]
    four = chat(*[m for _ in range(4) for m in (user("a"), bot("b", rating=3))])
    assert "at most 3" in bad_response(RATED, four)["response.messages"]


def test_ratings_follow_the_project():
    errors = bad_response(RATED, chat(user("a", rating=2), bot("b"), user("c"), bot("d", rating=5)))
    assert "only assistant" in errors["response.messages[0].rating"]
    assert "rate this reply" in errors["response.messages[1].rating"]
    assert "response.messages[3].rating" not in errors
    assert (
        "does not rate"
        in bad_response({}, chat(user("a"), bot("b", rating=4)))["response.messages[1].rating"]
    )
    assert "response.messages[1].rating" in bad_response(RATED, chat(user("a"), bot("b", rating=6)))
    good = chat(user("a"), bot("b", rating=4, source="edited"), user("c"), bot("d", rating=1))
    assert validate_response(KIND, RATED, {}, good) == good


def test_result_is_the_first_conversation():
    first = chat(user("Hi"), bot("Hello!"))
    same = chat(user(" Hi "), bot("Hello!", source="model"))
    other = chat(user("Hi"), bot("Hey."))
    assert consolidate(KIND, {}, {}, [first, same, other]) == {**first, "confidence": 0.5}
    assert consolidate(KIND, {}, {}, [first]) == {**first, "confidence": 1}


def test_matches_on_roles_and_contents_only():
    gold = chat(user("Hi"), bot("Hello!"))
    assert matches(KIND, {}, {}, chat(user("Hi "), bot("Hello!", rating=2, source="human")), gold)
    assert not matches(KIND, {}, {}, chat(user("Hi"), bot("Hello")), gold)
    assert not matches(KIND, {}, {}, chat(user("Hi"), bot("Hello!"), user("x"), bot("y")), gold)
    assert not is_categorical(KIND)


def test_agreement_is_similarity_of_the_conversation_texts():
    # "user: a\nassistant: b" vs "...: c": 20 characters each, Indel distance 2 -> 0.95.
    answers = [chat(user("a"), bot("b")), chat(user("a"), bot("c")), chat(user("a"), bot("b"))]
    result = agreement(KIND, {}, [({}, answers)])
    assert result.measure == "text_similarity"
    assert result.pairs == 3
    assert result.value == pytest.approx((0.95 + 1 + 0.95) / 3)
    assert agreement(KIND, {}, [({}, answers[:1])]).value is None


def test_messages_export_keeps_ratings_and_adds_the_system_prompt(tmp_path, load_json):
    answer = chat(user("Hi"), bot("Hello!", rating=5, source="edited"))
    tasks = [done({}, answer), done({"system": "Be terse."}, answer)]
    rows = load_json(write_export(tmp_path, KIND, "messages", RATED, tasks))
    assert rows.column_names == ["messages"]
    first, second = rows["messages"]
    assert [(m["role"], m["content"]) for m in first] == [
        ("system", "Be kind."),
        ("user", "Hi"),
        ("assistant", "Hello!"),
    ]
    assert (first[2]["rating"], first[2]["source"]) == (5, "edited")
    assert (second[0]["role"], second[0]["content"]) == ("system", "Be terse.")


def test_openai_export_drops_ratings(tmp_path, load_json):
    answer = chat(user("Hi"), bot("Hello!", rating=5, source="model"))
    path = write_export(tmp_path, KIND, "openai", {"rate_turns": True}, [done({}, answer)])
    assert [json.loads(line) for line in path.read_text().splitlines()] == [
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
            ]
        }
    ]
    assert load_json(path).column_names == ["messages"]
