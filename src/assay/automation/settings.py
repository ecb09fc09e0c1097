"""A project's model-in-the-loop settings: what the API accepts and the engine stores."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assay.automation.models import check_spec
from assay.automation.models.spec import takes_labels
from assay.errors import FieldError, Invalid, field_path
from assay.extras import missing


class AutomationSettings(BaseModel):
    """A project's model-in-the-loop settings, as stored (JSON) and accepted by the API."""

    model_config = ConfigDict(extra="forbid")

    model: dict[str, Any] = Field(
        default_factory=lambda: {"type": "text_classifier"},
        description='A model plugin: {"type": "text_classifier", "fields": ["text"]}, '
        '{"type": "openai", ...}, {"type": "http", "url"} or {"type": "python", "name"} '
        "(a plugin registered when the server started)",
    )
    target_accuracy: Annotated[float, Field(gt=0.5, lt=1)] = Field(
        description="Accuracy the model's answers must reach to be delivered without people"
    )
    confidence_level: Annotated[float, Field(gt=0.5, lt=1)] = Field(
        0.95, description="Probability with which the certified threshold meets the target"
    )
    calibration_share: Annotated[float, Field(gt=0, le=1)] = Field(
        0.1, description="Share of each batch's tasks always labelled by people (random)"
    )
    calibration_overlap: Annotated[int, Field(ge=1, le=100)] | None = Field(
        None,
        description="Answers each calibration task gets, when more than the project's overlap:"
        " the model is certified against people's labels there, so nearer-truth labels let"
        " a good model show it",
    )
    active_learning: bool = Field(
        True, description="Put the tasks that teach the model most first in people's queue"
    )
    min_training_labels: Annotated[int, Field(ge=2)] = Field(
        20, description="Human results needed before the model is fitted"
    )
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = Field(
        50, description="Tasks active learning raises in the queue per cycle"
    )


def checked_settings(settings: Any, labels: list[str] | None) -> dict[str, Any]:
    """Settings validated (errors under `automation`); the model spec gets the project's
    `labels` unless it names its own."""
    if reason := missing("sklearn", "automation", "model-in-the-loop"):
        raise Invalid([FieldError("automation", reason)])
    try:
        checked = AutomationSettings.model_validate(settings).model_dump()
    except ValidationError as exc:
        raise Invalid(
            [
                FieldError(field_path(("automation", *e["loc"])), e["msg"])
                for e in exc.errors(include_url=False)
            ]
        ) from None
    if takes_labels(checked["model"]):
        checked["model"] = {"labels": labels} | checked["model"]
    try:
        check_spec(checked["model"])
    except Invalid as exc:
        raise Invalid(
            [FieldError(f"automation.model.{e.field}", e.message) for e in exc.errors]
        ) from None
    return checked
