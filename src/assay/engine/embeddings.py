"""Sentence embeddings kept in the database: each text is embedded once, ever, whichever
server process or cycle asks (the `EmbeddingCache` of `assay.automation.models`)."""

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import insert, select

from assay.store.db import Store
from assay.store.tables import embeddings

LOOKUP_CHUNK = 500


class DatabaseEmbeddings:
    def __init__(self, store: Store):
        self.store = store

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self.store.read() as conn:
            for start in range(0, len(keys), LOOKUP_CHUNK):
                chunk = list(keys[start : start + LOOKUP_CHUNK])
                rows = conn.execute(
                    select(embeddings.c.key, embeddings.c.vector).where(embeddings.c.key.in_(chunk))
                )
                found.update({k: np.frombuffer(v, dtype=np.float32) for k, v in rows})
        return found

    def put_many(self, vectors: Mapping[str, np.ndarray]) -> None:
        if not vectors:
            return
        rows = [
            {"key": k, "vector": np.asarray(v, dtype=np.float32).tobytes()}
            for k, v in vectors.items()
        ]
        with self.store.write() as conn:
            known = set(
                conn.execute(
                    select(embeddings.c.key).where(embeddings.c.key.in_(list(vectors)))
                ).scalars()
            )
            fresh = [r for r in rows if r["key"] not in known]
            if fresh:
                conn.execute(insert(embeddings), fresh)
