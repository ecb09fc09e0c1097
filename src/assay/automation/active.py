"""Which unlabelled items people should label next, so the model learns most per label.

Uncertainty alone picks near-duplicates: the fifty items the model is least sure of are
often fifty rewordings of one confusing case. So selection is two steps:

1. Uncertainty: rank items by margin, p(best class) - p(second class), smallest first, and
   keep the `pool_factor * batch_size` least certain.
2. Diversity: among those, greedy k-center (farthest-first traversal) over the embeddings:
   start from the least certain item, then repeatedly add the item farthest (Euclidean)
   from everything chosen, so the batch covers the uncertain region instead of one corner
   of it. Pass L2-normalised embeddings (MiniLM's are) to make that cosine distance.

Deterministic given `seed`, which only breaks ties between equal margins.
"""

import numpy as np

POOL_FACTOR = 5


def margins(probabilities: np.ndarray) -> np.ndarray:
    """[n] p(best) - p(second best) of each row of [n, k] class probabilities (k >= 2)."""
    top2 = np.sort(probabilities, axis=1)[:, -2:]
    return top2[:, 1] - top2[:, 0]


def select_for_labelling(
    embeddings: np.ndarray,
    probabilities: np.ndarray,
    batch_size: int,
    pool_factor: int = POOL_FACTOR,
    seed: int = 0,
) -> np.ndarray:
    """Indices (into the rows) of up to `batch_size` items for people to label, in the
    order chosen: uncertain first, spread out over the embedding space."""
    x = np.asarray(embeddings, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if x.ndim != 2 or p.ndim != 2 or x.shape[0] != p.shape[0]:
        raise ValueError("embeddings [n, d] and probabilities [n, k] need the same n rows")
    if p.shape[1] < 2:
        raise ValueError("probabilities need at least two classes")
    if batch_size < 1 or pool_factor < 1:
        raise ValueError("batch_size and pool_factor must be >= 1")
    shuffled = np.random.default_rng(seed).permutation(x.shape[0])
    by_margin = shuffled[np.argsort(margins(p)[shuffled], kind="stable")]
    pool = by_margin[: pool_factor * batch_size]
    return pool[_farthest_first(x[pool], min(batch_size, pool.size))]


def _farthest_first(points: np.ndarray, count: int) -> np.ndarray:
    """Greedy k-center: positions of `count` points, starting from the first, each next one
    the farthest from those already chosen (ties to the earlier position)."""
    if count == 0:
        return np.empty(0, dtype=int)
    chosen = [0]
    nearest = np.linalg.norm(points - points[0], axis=1)
    nearest[0] = -np.inf
    for _ in range(count - 1):
        pick = int(np.argmax(nearest))
        chosen.append(pick)
        nearest = np.minimum(nearest, np.linalg.norm(points - points[pick], axis=1))
        nearest[pick] = -np.inf
    return np.array(chosen)
