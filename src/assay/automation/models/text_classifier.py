"""A text classifier people can train by labelling: sentence embeddings of the item's text
fields, then multinomial logistic regression. Fits in a second on a few thousand labels
on CPU, so the engine can refit it as answers arrive."""

from collections.abc import Sequence
from typing import Any

import numpy as np

from assay.automation.models.base import (
    Item,
    ModelError,
    Prediction,
    check_training_labels,
    texts_of,
)
from assay.automation.models.embeddings import CachedEmbedder, EmbedFn


class TextClassifier:
    """Predicts {"label": L} for categorization tasks from the text in `fields` (several are
    joined with " [SEP] "). `embed` maps texts to vectors; by default MiniLM behind an
    in-memory cache."""

    def __init__(
        self,
        labels: Sequence[str],
        fields: Sequence[str] = ("text",),
        embed: EmbedFn | None = None,
        regularization: float = 1.0,
    ):
        if len(set(labels)) < 2:
            raise ValueError("need at least two distinct labels")
        self.labels = list(labels)
        self.fields = tuple(fields)
        self.embed = embed if embed is not None else CachedEmbedder()
        self.regularization = regularization
        self._classifier: Any = None  # a fitted sklearn LogisticRegression

    def fit(self, items: list[Item], labels: list[str]) -> None:
        check_training_labels(self.labels, items, labels)
        x = self.embed(texts_of(items, self.fields))
        from sklearn.linear_model import LogisticRegression  # the automation extra

        classifier = LogisticRegression(C=self.regularization, max_iter=1000)
        self._classifier = classifier.fit(x, np.asarray(labels))

    def predict(self, items: list[Item]) -> list[Prediction]:
        if self._classifier is None:
            raise ModelError("the text classifier has not been fitted yet")
        if not items:
            return []
        probs = self._classifier.predict_proba(self.embed(texts_of(items, self.fields)))
        classes = [str(c) for c in self._classifier.classes_]
        out = []
        for row in probs:
            by_label = dict.fromkeys(self.labels, 0.0) | {
                c: float(p) for c, p in zip(classes, row, strict=True)
            }
            best = int(np.argmax(row))
            out.append(Prediction({"label": classes[best]}, float(row[best]), by_label))
        return out
