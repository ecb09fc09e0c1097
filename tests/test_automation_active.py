"""Active learning picks items the model is unsure of, spread over the embedding space."""

import numpy as np
import pytest

from assay.automation.active import margins, select_for_labelling


def test_margin_is_best_minus_second_best():
    probs = np.array([[0.7, 0.2, 0.1], [0.4, 0.35, 0.25], [0.5, 0.5, 0.0]])
    np.testing.assert_allclose(margins(probs), [0.5, 0.05, 0.0])


def clusters() -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Three tight clusters of uncertain items (A least certain, then B, then C) and a cloud
    of confident ones."""
    rng = np.random.default_rng(0)
    centres = {"A": [10.0, 0.0], "B": [0.0, 10.0], "C": [-10.0, 0.0]}
    margin_of = {"A": 0.01, "B": 0.03, "C": 0.05}
    x, m, where, start = [], [], {}, 0
    for name, centre in centres.items():
        x.append(rng.normal(centre, 0.1, (20, 2)))
        m.append(margin_of[name] + rng.uniform(0, 0.001, 20))
        where[name] = np.arange(start, start + 20)
        start += 20
    x.append(rng.normal(0, 3, (100, 2)))
    m.append(rng.uniform(0.5, 0.9, 100))
    p_best = (1 + np.concatenate(m)) / 2  # two classes: margin = 2 * p_best - 1
    return np.vstack(x), np.column_stack([p_best, 1 - p_best]), where


def test_a_batch_covers_every_uncertain_cluster():
    x, probs, where = clusters()
    picked = select_for_labelling(x, probs, batch_size=3, pool_factor=20)
    assert picked[0] in where["A"]  # the least certain item starts the batch
    assert {name for name, idx in where.items() for i in picked if i in idx} == {"A", "B", "C"}
    # Uncertainty alone would spend the whole batch on near-duplicates in cluster A.
    assert set(np.argsort(margins(probs))[:3]) <= set(where["A"])


def test_only_uncertain_items_are_picked():
    x, probs, where = clusters()
    picked = select_for_labelling(x, probs, batch_size=10, pool_factor=6)
    uncertain = np.concatenate(list(where.values()))
    assert set(picked) <= set(uncertain)
    assert len(set(picked)) == 10


def test_deterministic_given_the_seed_which_only_breaks_ties():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 8))
    probs = np.full((200, 2), 0.5)  # every margin ties
    runs = {s: select_for_labelling(x, probs, 5, seed=s).tolist() for s in range(4)}
    assert runs[0] == select_for_labelling(x, probs, 5, seed=0).tolist()
    assert len({tuple(r) for r in runs.values()}) > 1


def test_a_batch_larger_than_the_pool_takes_every_item_once():
    x = np.eye(4)
    probs = np.array([[0.9, 0.1], [0.6, 0.4], [0.5, 0.5], [0.8, 0.2]])
    picked = select_for_labelling(x, probs, batch_size=10)
    assert picked[0] == 2
    assert sorted(picked.tolist()) == [0, 1, 2, 3]
    assert select_for_labelling(np.empty((0, 3)), np.empty((0, 2)), 5).size == 0


@pytest.mark.parametrize(
    ("x", "probs", "b"),
    [
        (np.zeros((3, 2)), np.zeros((2, 2)), 1),
        (np.zeros((3, 2)), np.zeros((3, 1)), 1),
        (np.zeros((3, 2)), np.zeros((3, 2)), 0),
    ],
)
def test_bad_input_is_refused(x, probs, b):
    with pytest.raises(ValueError):
        select_for_labelling(x, probs, b)
