"""A model that is a Python function the operator registered at start (see `plugins`):
items in, one {"response", "confidence", "probabilities"?} per item out. The quickest way
to plug in a local model, a rule, or a wrapper around another library."""

from assay.automation.models.base import Item, ModelError, Prediction, predictions_from
from assay.automation.models.plugins import plugin


class PythonModel:
    def __init__(self, name: str):
        self.name = name
        self._function = plugin(name)

    def predict(self, items: list[Item]) -> list[Prediction]:
        try:
            result = self._function(items)
        except Exception as exc:
            raise ModelError(f"plugin {self.name} failed: {type(exc).__name__}: {exc}") from exc
        return predictions_from(result, len(items), f"plugin {self.name}", "result")
