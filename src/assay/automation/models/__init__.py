"""Model plugins: one small interface (`Model.predict`, optionally `Trainable.fit`) and a
factory from stored specs. Importing this package loads no torch: only the text
classifier's default embedding function does, lazily."""

from assay.automation.models.base import Item, Model, ModelError, Prediction, Trainable
from assay.automation.models.embeddings import (
    CachedEmbedder,
    EmbeddingCache,
    MemoryCache,
    cache_key,
    embed_texts,
)
from assay.automation.models.fine_tuned import FineTunedTextClassifier
from assay.automation.models.http_model import HttpModel
from assay.automation.models.openai_chat import OpenAIChatModel
from assay.automation.models.plugins import PluginError, register_plugins
from assay.automation.models.python_model import PythonModel
from assay.automation.models.spec import check_spec, load_model, refit_growth
from assay.automation.models.text_classifier import TextClassifier

__all__ = [
    "CachedEmbedder",
    "EmbeddingCache",
    "FineTunedTextClassifier",
    "HttpModel",
    "Item",
    "MemoryCache",
    "Model",
    "ModelError",
    "OpenAIChatModel",
    "PluginError",
    "Prediction",
    "PythonModel",
    "TextClassifier",
    "Trainable",
    "cache_key",
    "check_spec",
    "embed_texts",
    "load_model",
    "register_plugins",
    "refit_growth",
]
