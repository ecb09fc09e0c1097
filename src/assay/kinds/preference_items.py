"""What the preference kinds (comparison, ranking) share: a task shows one prompt and k >= 2
model responses to it, optionally naming the model behind each response."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.text import Text

MAX_RESPONSES = 100

ModelName = Annotated[Text, Field(min_length=1, max_length=200)]


class PreferenceTask(BaseModel):
    """{prompt, responses: [at least 2], models?: [one name per response]}; extra keys kept."""

    model_config = ConfigDict(extra="allow")

    prompt: Annotated[Text, Field(min_length=1)]
    responses: Annotated[list[Text], Field(min_length=2, max_length=MAX_RESPONSES)]
    models: list[ModelName] | None = None


def check_task(params: BaseModel, task: PreferenceTask) -> list[FieldError]:
    """`models`, when given, names one model per response."""
    if task.models is not None and len(task.models) != len(task.responses):
        return [
            FieldError(
                "models",
                f"give one model per response: {len(task.responses)} responses, "
                f"{len(task.models)} models",
            )
        ]
    return []


def index_error(path: str, index: int, task: PreferenceTask) -> list[FieldError]:
    """An error unless `index` points at one of the task's responses."""
    if 0 <= index < len(task.responses):
        return []
    return [FieldError(path, f"{index} is not a response index; 0..{len(task.responses) - 1}")]
