"""A model that is a Python function: "package.module:function" takes a list of items and
returns one {"response": ..., "confidence": ..., "probabilities"?: ...} per item. The
quickest way to plug in a local model, a rule, or a wrapper around another library."""

import importlib
from collections.abc import Callable
from typing import Any

from assay.automation.models.base import Item, ModelError, Prediction, predictions_from


def resolve_callable(target: str) -> Callable[[list[Item]], Any]:
    """The callable named by "module:attribute" (attribute may be dotted); ValueError with the
    reason when the module or attribute is missing or not callable."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected 'module:function', got {target!r}")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import {module_name!r}: {exc}") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ValueError(f"{module_name!r} has no attribute {attribute!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise ValueError(f"{target!r} is not callable")
    return obj


class PythonModel:
    def __init__(self, target: str):
        self.target = target
        self._function = resolve_callable(target)

    def predict(self, items: list[Item]) -> list[Prediction]:
        try:
            result = self._function(items)
        except Exception as exc:
            raise ModelError(f"{self.target} failed: {type(exc).__name__}: {exc}") from exc
        return predictions_from(result, len(items), self.target, "result")
