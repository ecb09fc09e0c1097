"""Form: fill in the project's structured fields about an item (free data collection).

Params: `fields`, each {name (an identifier, unique), type, required (default false), ...}
with type "text" (optional `max_length`), "number" (optional `min` / `max`; `exact: true`
for values compared exactly, such as counts or codes), "choice" (`options`, at least 2,
distinct; `multiple: true` to pick several), "date" (ISO 8601 YYYY-MM-DD) or "url" (http or
https with a host). A task carries the item as given (any JSON object).

An answer is {"values": {field: value}}: no unknown fields, every required field given
(null counts as not given; a required text must not be blank, a required multiple choice
must pick one option or more), every value of its field's type.

Values compare "normalized": text after Unicode NFC, casefolding and collapsing
whitespace; a multiple choice as the set of options picked; numbers within 1e-9; dates,
urls and single choices as written.

Consolidation, field by field: first whether the field is given at all, by plurality of
given / not given (ties to the first answer); a field left out is left out of the result.
Then among the answers that give it: a number (unless `exact`) takes the median (the
middle two averaged); every other field takes the value most answers give (normalized),
ties to the earliest answer, and keeps that answer's form. Result: {"values",
"confidence", "confidences": {field: share}}: a field's share is the share of all answers
whose value equals the result's (not given counts as a value), the confidence their mean.

Gold: an answer matches when every required field, and every optional field the gold
answer gives, equals the gold value.

Agreement: "field_agreement", the mean over every pair of answers to the same task of the
share of the project's fields on which the two are equal (both not giving a field counts as
equal).
"""

import datetime
import math
import re
import statistics
from collections.abc import Hashable, Sequence
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from assay.errors import FieldError
from assay.kinds.base import Agreement, AnyItem, Kind, pairwise_agreement
from assay.kinds.labels import repeats
from assay.kinds.rubric_votes import part_errors, plurality, share, vote_parts
from assay.kinds.text_align import normalized
from assay.text import Text

Option = Annotated[Text, Field(min_length=1, max_length=200)]
NUMBER_TOLERANCE = 1e-9
MAX_URL_LENGTH = 2048
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=64)]
    type: Literal["text", "number", "choice", "date", "url"]
    required: bool = False
    options: Annotated[list[Option], Field(max_length=1000)] | None = None
    min: float | None = None
    max: float | None = None
    max_length: Annotated[int, Field(ge=1)] | None = None
    multiple: bool = False
    exact: bool = False


OWN_SETTINGS = {
    "options": "choice",
    "multiple": "choice",
    "min": "number",
    "max": "number",
    "exact": "number",
    "max_length": "text",
}
"""Field settings that only one type takes."""


class FormParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    fields: Annotated[list[FormField], Field(min_length=1, max_length=500)]


def check_params(params: FormParams) -> list[FieldError]:
    return part_errors("fields", params.fields, check_field)


def check_field(form_field: FormField, path: str) -> list[FieldError]:
    given = form_field.model_dump(exclude_defaults=True)
    errors = [
        FieldError(f"{path}.{setting}", f"only a {owner} field takes {setting}")
        for setting, owner in OWN_SETTINGS.items()
        if setting in given and form_field.type != owner
    ]
    if form_field.type == "choice":
        options = form_field.options or []
        if len(options) < 2:
            errors.append(FieldError(f"{path}.options", "a choice field needs 2 options or more"))
        errors.extend(repeats(options, f"{path}.options", "option"))
    low, high = form_field.min, form_field.max
    if low is not None and high is not None and low > high:
        errors.append(FieldError(f"{path}.max", "must be at least min"))
    return errors


class FormResponse(BaseModel):
    model_config = ConfigDict(extra="forbid")

    values: dict[str, Any]


def check_response(params: FormParams, task: AnyItem, response: FormResponse) -> list[FieldError]:
    known = {f.name for f in params.fields}
    errors = [
        FieldError(f"values.{name}", f"not a field of this form; fields: {sorted(known)}")
        for name in response.values
        if name not in known
    ]
    for form_field in params.fields:
        value = response.values.get(form_field.name)
        path = f"values.{form_field.name}"
        if value is None:
            problems = [(path, "this field is required")] if form_field.required else []
        else:
            problems = value_problems(form_field, value, path)
        errors.extend(FieldError(where, message) for where, message in problems)
    return errors


def value_problems(form_field: FormField, value: Any, path: str) -> list[tuple[str, str]]:
    """(path, message) for each way the value breaks its field's rules."""
    if form_field.type == "choice":
        return choice_problems(form_field, value, path)
    check = {"text": text_problem, "number": number_problem, "date": date_problem}
    problem = check.get(form_field.type, url_problem)(form_field, value)
    return [(path, problem)] if problem else []


def text_problem(form_field: FormField, value: Any) -> str | None:
    if not isinstance(value, str) or "\x00" in value:
        return "give a text (without NUL characters)"
    if form_field.required and not value.strip():
        return "this field is required; the text is blank"
    if form_field.max_length is not None and len(value) > form_field.max_length:
        return f"{len(value)} characters; at most {form_field.max_length} allowed"
    return None


def number_problem(form_field: FormField, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return "give a number"
    if form_field.min is not None and value < form_field.min:
        return f"must be at least {form_field.min:g}"
    if form_field.max is not None and value > form_field.max:
        return f"must be at most {form_field.max:g}"
    return None


def date_problem(form_field: FormField, value: Any) -> str | None:
    if isinstance(value, str) and ISO_DATE.fullmatch(value):
        try:
            datetime.date.fromisoformat(value)
            return None
        except ValueError:
            return f"{value!r} is no calendar date"
    return "give a date as YYYY-MM-DD"


def url_problem(form_field: FormField, value: Any) -> str | None:
    message = "give an http(s) URL with a host"
    if not isinstance(value, str) or len(value) > MAX_URL_LENGTH or re.search(r"[\s\x00]", value):
        return f"{message}, at most {MAX_URL_LENGTH} characters, without spaces"
    try:
        parts = urlsplit(value)
    except ValueError:
        return message
    return None if parts.scheme in ("http", "https") and parts.hostname else message


def choice_problems(form_field: FormField, value: Any, path: str) -> list[tuple[str, str]]:
    options = form_field.options or []
    if not form_field.multiple:
        return [] if value in options else [(path, f"give one of the options {options}")]
    if not isinstance(value, list):
        return [(path, f"give a list of options from {options}")]
    if form_field.required and not value:
        return [(path, "this field is required; pick one option or more")]
    return [
        (f"{path}[{i}]", f"{picked!r} is not an option" if picked in options else "repeated")
        for i, picked in enumerate(value)
        if picked not in options or picked in value[:i]
    ]


def comparable(form_field: FormField, value: Any) -> Hashable:
    """The value as equality sees it (see "normalized" in the module doc); None if not given."""
    if value is None:
        return None
    if form_field.type == "text":
        return normalized(value)
    if form_field.type == "choice" and form_field.multiple:
        return frozenset(value)
    return value


def same(form_field: FormField, a: Any, b: Any) -> bool:
    if form_field.type == "number" and a is not None and b is not None:
        return abs(a - b) <= NUMBER_TOLERANCE
    return comparable(form_field, a) == comparable(form_field, b)


def consolidated_value(form_field: FormField, values: list[Any]) -> Any:
    """The field's result from every answer's value (None where not given)."""
    if not plurality([value is not None for value in values]):
        return None
    given = [value for value in values if value is not None]
    if form_field.type == "number" and not form_field.exact:
        return statistics.median(given)
    return plurality(given, key=lambda value: comparable(form_field, value))


def consolidate(
    params: FormParams, task: AnyItem, answers: Sequence[dict[str, Any]]
) -> dict[str, Any]:
    return vote_parts("values", params.fields, answers, consolidated_value, same)


def matches(
    params: FormParams, task: AnyItem, answer: dict[str, Any], gold: dict[str, Any]
) -> bool:
    return all(
        same(f, answer["values"].get(f.name), gold["values"].get(f.name))
        for f in params.fields
        if f.required or gold["values"].get(f.name) is not None
    )


def agreement(
    params: FormParams, items: Sequence[tuple[AnyItem, Sequence[dict[str, Any]]]]
) -> Agreement:
    def field_share(task: AnyItem, a: dict[str, Any], b: dict[str, Any]) -> float:
        return share(
            params.fields, lambda f: same(f, a["values"].get(f.name), b["values"].get(f.name))
        )

    return pairwise_agreement("field_agreement", items, field_share)


KIND = Kind(
    name="form",
    summary="fill in the project's structured fields (text, number, choice, date, url)",
    widget="form",
    params_model=FormParams,
    task_model=AnyItem,
    check_params=check_params,
    response_model=FormResponse,
    check_response=check_response,
    consolidate=consolidate,
    matches=matches,
    agreement=agreement,
)
