"""Model plugins against real local HTTP servers and registered Python functions, and the
spec factory."""

import subprocess
import sys

import pytest
from automation_helpers import fake_openai, fake_predictor, serve

from assay.automation.models import (
    FineTunedTextClassifier,
    HttpModel,
    ModelError,
    OpenAIChatModel,
    PluginError,
    Prediction,
    PythonModel,
    TextClassifier,
    Trainable,
    load_model,
    refit_growth,
    register_plugins,
)
from assay.errors import Invalid
from assay.outbound import OutboundPolicy

ITEMS = [{"text": t} for t in ("a great film", "dull and long", "great cast", "a mess")]
EXPECTED = ["pos", "neg", "pos", "neg"]
PROMPT = "What is the sentiment of this review?\n{text}"
LOCAL = OutboundPolicy(allow_private=True)
"""The endpoints here are local servers."""
PLUGINS = [
    "keyword=automation_helpers:keyword_model",
    "broken=automation_helpers:broken_model",
    "failing=automation_helpers:failing_model",
]


@pytest.fixture(autouse=True, scope="module")
def _plugins():
    register_plugins(PLUGINS, entry_points=False)


def openai_model(url: str, **options) -> OpenAIChatModel:
    return OpenAIChatModel(f"{url}/v1", "fake-1", PROMPT, ["pos", "neg"], outbound=LOCAL, **options)


def test_openai_logprobs_give_the_confidence_and_label_probabilities():
    with serve(fake_openai("logprobs")) as (url, received):
        predictions = openai_model(url, api_key="sk-test", concurrency=3).predict(ITEMS)
    assert [p.response for p in predictions] == [{"label": x} for x in EXPECTED]
    first = predictions[0]
    assert first.confidence == pytest.approx(0.9)
    assert first.probabilities == pytest.approx({"pos": 0.9, "neg": 0.08})
    assert len(received) == len(ITEMS)
    request = received[0]
    assert request["headers"]["authorization"] == "Bearer sk-test"
    assert request["body"]["logprobs"] is True and request["body"]["top_logprobs"] == 5
    assert request["body"]["temperature"] == 0 and request["body"]["model"] == "fake-1"
    prompts = [r["body"]["messages"][0]["content"] for r in received]  # any order: concurrent
    for item in ITEMS:
        assert any(p.startswith(PROMPT.format(**item)) and "pos, neg" in p for p in prompts)


def test_openai_without_logprobs_falls_back_to_a_self_reported_confidence():
    with serve(fake_openai("plain")) as (url, received):
        model = openai_model(url, concurrency=1)
        predictions = model.predict(ITEMS)
    assert [p.response["label"] for p in predictions] == EXPECTED
    assert all(p.confidence == 0.7 and p.probabilities is None for p in predictions)
    # One try with logprobs, then JSON for every item: the endpoint is not asked again.
    assert [r["body"].get("logprobs", False) for r in received] == [True] + [False] * 4
    assert "JSON" in received[-1]["body"]["messages"][0]["content"]
    assert model.use_logprobs is False


@pytest.mark.parametrize(
    ("mode", "options", "message"),
    [
        ("off_label", {}, "'maybe', not a label"),
        ("not_json", {}, "expected JSON"),
        ("error", {}, "answered 500"),
        ("slow", {"timeout": 0.3}, "no reply within the timeout"),
    ],
)
def test_openai_failures_are_clear(mode, options, message):
    with serve(fake_openai(mode)) as (url, _), pytest.raises(ModelError, match=message):
        openai_model(url, **options).predict(ITEMS[:1])


def test_openai_unreachable_and_bad_templates():
    with serve(fake_openai("logprobs")) as (url, _):
        pass  # closed again: nothing listens there now
    with pytest.raises(ModelError, match="ConnectError"):
        openai_model(url).predict(ITEMS[:1])
    with pytest.raises(ModelError, match=r"items\[0\].*'title'"):
        OpenAIChatModel(url, "m", "{title}", ["pos", "neg"], outbound=LOCAL).predict(ITEMS[:1])


def test_http_model_batches_and_keeps_order():
    with serve(fake_predictor()) as (url, received):
        model = HttpModel(f"{url}/predict", {"X-Key": "k"}, batch_size=3, outbound=LOCAL)
        predictions = model.predict(ITEMS)
    assert [p.response["label"] for p in predictions] == EXPECTED
    assert predictions[0] == Prediction({"label": "pos"}, 0.8, {"pos": 0.8, "neg": 0.2})
    assert [len(r["body"]["items"]) for r in received] == [3, 1]
    assert received[0]["headers"]["x-key"] == "k" and received[0]["path"] == "/predict"


@pytest.mark.parametrize(
    ("mode", "message"),
    [("bad_confidence", r"predictions\[0\]\.confidence"), ("short", "3 predictions for 4")],
)
def test_http_model_refuses_bad_replies(mode, message):
    with serve(fake_predictor(mode)) as (url, _), pytest.raises(ModelError, match=message):
        HttpModel(url, outbound=LOCAL).predict(ITEMS)


def test_python_model():
    model = PythonModel("keyword")
    assert [p.response["label"] for p in model.predict(ITEMS)] == EXPECTED
    with pytest.raises(ModelError, match=r"result\[0\]\.response"):
        PythonModel("broken").predict(ITEMS)
    with pytest.raises(ModelError, match="RuntimeError: weights not found"):
        PythonModel("failing").predict(ITEMS)
    with pytest.raises(ValueError, match=r"registered: .*keyword"):
        PythonModel("automation_helpers:keyword_model")  # a name, never an import


def test_a_plugin_that_cannot_be_registered_says_why_and_registers_nothing():
    for entry, message in [
        ("automation_helpers", "NAME=module:function"),
        ("two words=automation_helpers:keyword_model", "NAME=module:function"),
        ("x=automation_helpers", "module:function"),
        ("x=no_such_module_here:f", "cannot import"),
        ("x=automation_helpers:nope", "no attribute"),
        ("x=automation_helpers:NOT_CALLABLE", "not callable"),
        ("keyword=automation_helpers:broken_model", "already registered"),
    ]:
        with pytest.raises(PluginError, match=message):
            register_plugins(["y=automation_helpers:keyword_model", entry], entry_points=False)
    assert "x" not in register_plugins(entry_points=False)
    assert "y" not in register_plugins(entry_points=False)
    assert "keyword" in register_plugins(PLUGINS[:1], entry_points=False)  # again: same function


def test_installed_packages_register_plugins_by_entry_point(tmp_path, monkeypatch):
    dist = tmp_path / "sentiment_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sentiment-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[assay.models]\nsentiment = automation_helpers:keyword_model\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "sentiment" in register_plugins()
    predictions = load_model({"type": "python", "name": "sentiment"}).predict(ITEMS)
    assert [p.response["label"] for p in predictions] == EXPECTED


def test_load_model_builds_each_plugin():
    labels = ["pos", "neg"]
    specs = {
        TextClassifier: {"type": "text_classifier", "labels": labels, "fields": ["a", "b"]},
        FineTunedTextClassifier: {
            "type": "text_classifier",
            "labels": labels,
            "method": "fine_tune",
        },
        OpenAIChatModel: {
            "type": "openai",
            "base_url": "http://127.0.0.1:1/v1",
            "model": "m",
            "prompt_template": PROMPT,
            "labels": labels,
        },
        HttpModel: {"type": "http", "url": "http://127.0.0.1:1/predict"},
        PythonModel: {"type": "python", "name": "keyword"},
    }
    for cls, spec in specs.items():
        model = load_model(spec)
        assert type(model) is cls
        assert isinstance(model, Trainable) == (cls in (TextClassifier, FineTunedTextClassifier))
    python = load_model(specs[PythonModel])
    assert python.predict(ITEMS[:1])[0].response == {"label": "pos"}


@pytest.mark.parametrize(
    ("spec", "fields"),
    [
        ({"type": "text_classifier", "labels": ["only"]}, ["labels"]),
        ({"type": "text_classifier", "labels": ["a", ""]}, ["labels[1]"]),
        (
            {"type": "text_classifier", "labels": ["a", "b"], "method": "svm", "refit_growth": 0.5},
            ["method", "refit_growth"],
        ),
        (
            {"type": "openai", "base_url": "ftp://x", "model": "m", "labels": ["a", "b"]},
            ["base_url", "prompt_template"],
        ),
        (
            {"type": "http", "url": "http://x", "batch_size": 0, "retries": 2},
            ["batch_size", "retries"],
        ),
        ({"type": "python", "name": "automation_helpers:keyword_model"}, ["name"]),
        ({"type": "python", "function": "automation_helpers:keyword_model"}, ["name", "function"]),
        ({"type": "onnx"}, ["type"]),
        ({}, ["type"]),
    ],
)
def test_load_model_names_the_bad_fields(spec, fields):
    with pytest.raises(Invalid) as caught:
        load_model(spec)
    assert [e.field for e in caught.value.errors] == fields


def test_importing_automation_does_not_import_torch():
    code = (
        "import sys, assay.automation, assay.automation.models; "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_fine_tuned_model_waits_for_more_labels_before_it_is_refitted():
    spec = {"type": "text_classifier", "labels": ["a", "b"]}
    assert refit_growth(spec) == 1.0  # logistic regression refits on every change
    assert refit_growth(spec | {"method": "fine_tune"}) == 1.5
    assert refit_growth(spec | {"method": "fine_tune", "refit_growth": 3}) == 3
    assert refit_growth({"type": "python", "name": "keyword"}) == 1
