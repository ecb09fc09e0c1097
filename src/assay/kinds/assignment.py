"""Linear sum assignment (the Hungarian problem) on a rectangular cost matrix, in NumPy.

Ours rather than `scipy.optimize.linear_sum_assignment` to keep the base install small
(SciPy is about 144 MB). It is the same algorithm, the shortest augmenting path method of
Jonker and Volgenant as laid out by Crouse (2016, "On implementing 2D rectangular assignment
algorithms", IEEE TAES 52(4)), with the same order of scanning and the same choice among
equal candidates, so it returns the very assignment SciPy does, exact ties included (the
image kinds rely on ties going to the lower column index). Each augmenting step is
vectorised over the columns, so a row costs a few NumPy calls per column it visits.
"""

import numpy as np
from numpy.typing import ArrayLike


def _augment(
    cost: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    row4col: np.ndarray,
    path: np.ndarray,
    row: int,
) -> tuple[int, float, np.ndarray, np.ndarray, np.ndarray]:
    """Shortest augmenting path (Dijkstra on reduced costs) from the free `row`: the free
    column it ends in, its length, the rows and columns it settled, and the path lengths."""
    n_rows, n_cols = cost.shape
    # Columns still to settle, scanned in this order; a settled one is swapped with the last.
    remaining = np.arange(n_cols - 1, -1, -1)
    shortest = np.full(n_cols, np.inf)
    rows_done = np.zeros(n_rows, dtype=bool)
    cols_done = np.zeros(n_cols, dtype=bool)
    length, i = 0.0, row
    while True:
        rows_done[i] = True
        reduced = length + cost[i, remaining] - u[i] - v[remaining]
        closer = reduced < shortest[remaining]
        path[remaining[closer]] = i
        shortest[remaining[closer]] = reduced[closer]
        lengths = shortest[remaining]
        length = float(lengths.min())
        if length == np.inf:
            raise ValueError("cost matrix is infeasible")
        # Among the nearest columns: the last free one in scan order, else the first.
        nearest = np.flatnonzero(lengths == length)
        free = nearest[row4col[remaining[nearest]] < 0]
        index = int(free[-1] if free.size else nearest[0])
        j = int(remaining[index])
        cols_done[j] = True
        if row4col[j] < 0:
            return j, length, rows_done, cols_done, shortest
        i = int(row4col[j])
        remaining[index] = remaining[-1]
        remaining = remaining[:-1]


def linear_sum_assignment(cost: ArrayLike, maximize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(rows, columns) of the assignment with the least (or, with `maximize`, the most)
    total cost: min(n_rows, n_cols) pairs, rows ascending. As SciPy's: NaN or -inf entries
    (+inf when maximising) are a ValueError, and so is a matrix with no finite assignment."""
    cost = np.asarray(cost, dtype=float)
    if cost.ndim != 2:
        raise ValueError("cost must be a 2-d matrix")
    transpose = cost.shape[1] < cost.shape[0]
    work = cost.T if transpose else cost
    work = -work if maximize else work
    if np.isnan(work).any() or np.isneginf(work).any():
        raise ValueError("cost matrix contains invalid numeric entries")
    n_rows, n_cols = work.shape
    u, v = np.zeros(n_rows), np.zeros(n_cols)
    path = np.full(n_cols, -1)
    col4row = np.full(n_rows, -1)
    row4col = np.full(n_cols, -1)
    for row in range(n_rows):
        sink, length, rows_done, cols_done, shortest = _augment(work, u, v, row4col, path, row)
        u[row] += length
        others = rows_done.copy()
        others[row] = False
        u[others] += length - shortest[col4row[others]]
        v[cols_done] -= length - shortest[cols_done]
        j = sink
        while True:
            i = path[j]
            row4col[j] = i
            col4row[i], j = j, col4row[i]
            if i == row:
                break
    if transpose:
        order = np.argsort(col4row)
        return col4row[order], order
    return np.arange(n_rows), col4row
