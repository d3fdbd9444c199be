"""Independent truths for the DTW tests, written from the textbook definitions.

Nothing here imports alignkit: these functions are the yardstick that the
Numba kernels, the window bounds and the estimators are measured against.

- :func:`reference_dtw` is the O(nm) dynamic programme over a dense matrix with
  an explicit cell mask, in plain Python loops.
- :func:`all_paths` enumerates every monotone, continuous path, so
  :func:`brute_force_dtw` is a truth that does not share the recurrence.
- :func:`diagonal_cells`, :func:`band_cells` and :func:`itakura_cells` build
  window cell sets geometrically with exact rational arithmetic.
"""

import math
from fractions import Fraction
from functools import cache

import numpy as np

STEPS = {(0, 1), (1, 0), (1, 1)}


def as_2d(sequence):
    """A sequence as a float64 array of shape (n_timepoints, n_channels)."""
    array = np.asarray(sequence, dtype=np.float64)
    return array[:, None] if array.ndim == 1 else array


def local_cost(a, b):
    """Squared Euclidean distance over channels between every pair of frames."""
    a, b = as_2d(a), as_2d(b)
    cost = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            cost[i, j] = sum((a[i, k] - b[j, k]) ** 2 for k in range(a.shape[1]))
    return cost


def reference_dtw(a, b, mask=None):
    """Accumulated cost matrix of symmetric1 DTW (``inf`` where ``mask`` is False)."""
    cost = local_cost(a, b)
    n, m = cost.shape
    allowed = np.ones((n, m), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    acc = np.full((n, m), np.inf)
    for i in range(n):
        for j in range(m):
            if not allowed[i, j]:
                continue
            if i == 0 and j == 0:
                acc[i, j] = cost[i, j]
                continue
            best = min(
                acc[i - 1, j - 1] if i > 0 and j > 0 else np.inf,
                acc[i - 1, j] if i > 0 else np.inf,
                acc[i, j - 1] if j > 0 else np.inf,
            )
            acc[i, j] = cost[i, j] + best
    return acc


def reference_backtrack(acc):
    """Optimal path from a dense accumulated matrix.

    Ties prefer the diagonal step, then (i-1, j), then (i, j-1): the order
    alignkit documents, so that tied optima can be compared cell by cell.
    """
    i, j = acc.shape[0] - 1, acc.shape[1] - 1
    path = [(i, j)]
    while i > 0 or j > 0:
        diag = acc[i - 1, j - 1] if i > 0 and j > 0 else np.inf
        up = acc[i - 1, j] if i > 0 else np.inf
        left = acc[i, j - 1] if j > 0 else np.inf
        if diag <= up and diag <= left:
            i, j = i - 1, j - 1
        elif up <= left:
            i -= 1
        else:
            j -= 1
        path.append((i, j))
    return np.array(path[::-1], dtype=np.int64)


def count_optimal_paths(a, b, tol=1e-9):
    """Number of distinct paths that reach the optimal summed cost (within ``tol``)."""
    cost = local_cost(a, b)
    acc = reference_dtw(a, b)
    n, m = cost.shape
    count = np.zeros((n, m), dtype=object)
    count[0, 0] = 1
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                continue
            total = 0
            for pi, pj in ((i - 1, j - 1), (i - 1, j), (i, j - 1)):
                if pi >= 0 and pj >= 0 and abs(acc[pi, pj] + cost[i, j] - acc[i, j]) <= tol:
                    total += count[pi, pj]
            count[i, j] = total
    return int(count[n - 1, m - 1])


@cache
def all_paths(n, m):
    """Every monotone continuous path from (0, 0) to (n-1, m-1), as index arrays."""
    paths = []

    def extend(path):
        i, j = path[-1]
        if (i, j) == (n - 1, m - 1):
            paths.append(np.array(path, dtype=np.int64))
            return
        for di, dj in ((1, 1), (1, 0), (0, 1)):
            if i + di < n and j + dj < m:
                extend(path + [(i + di, j + dj)])

    extend([(0, 0)])
    return tuple(paths)


def brute_force_dtw(a, b, mask=None):
    """Minimum summed local cost over all paths that stay inside ``mask``."""
    cost = local_cost(a, b)
    n, m = cost.shape
    best = np.inf
    for path in all_paths(n, m):
        if mask is not None and not np.all(mask[path[:, 0], path[:, 1]]):
            continue
        best = min(best, cost[path[:, 0], path[:, 1]].sum())
    return best


def path_cost(a, b, path):
    """Summed local cost along ``path``."""
    cost = local_cost(a, b)
    path = np.asarray(path)
    return float(cost[path[:, 0], path[:, 1]].sum())


def assert_valid_path(path, n, m):
    """Check dtype, shape, endpoints, monotonicity and continuity of a warping path."""
    path = np.asarray(path)
    assert path.dtype == np.int64
    assert path.ndim == 2 and path.shape[1] == 2
    assert tuple(path[0]) == (0, 0)
    assert tuple(path[-1]) == (n - 1, m - 1)
    steps = {tuple(step) for step in np.diff(path, axis=0).tolist()}
    assert steps <= STEPS, f"illegal steps {steps - STEPS}"


def _open_interval_hits(centre, extent):
    """Parameters t with |t * extent - centre| < 1/2, as an open interval (or None)."""
    half = Fraction(1, 2)
    if extent == 0:
        return (Fraction(-1), Fraction(2)) if abs(centre) < half else None
    return ((centre - half) / extent, (centre + half) / extent)


def diagonal_cells(n, m):
    """Cells whose open square the segment from (0, 0) to (n-1, m-1) passes through.

    Cell (i, j) is the open square (i - 1/2, i + 1/2) x (j - 1/2, j + 1/2); the
    segment is (t (n-1), t (m-1)) for t in [0, 1]. Exact rational arithmetic.
    """
    cells = np.zeros((n, m), dtype=bool)
    for i in range(n):
        rows = _open_interval_hits(i, n - 1)
        if rows is None:
            continue
        for j in range(m):
            cols = _open_interval_hits(j, m - 1)
            if cols is None:
                continue
            low, high = max(rows[0], cols[0]), min(rows[1], cols[1])
            cells[i, j] = low < high and low < 1 and high > 0
    return cells


def band_cells(n, m, radius):
    """Sakoe-Chiba band: cells within ``radius`` of a diagonal cell along the longer axis.

    With m >= n, cell (i, j) is inside when a diagonal cell (i, j') has
    |j - j'| <= radius; with n > m, when a diagonal cell (i', j) has
    |i - i'| <= radius. For equal lengths this is exactly |i - j| <= radius, and
    the set of the transposed problem is the transposed set.
    """
    diagonal = diagonal_cells(n, m)
    out = np.zeros_like(diagonal)
    for i, j in zip(*np.nonzero(diagonal)):
        if m >= n:
            out[i, max(j - radius, 0) : j + radius + 1] = True
        else:
            out[max(i - radius, 0) : i + radius + 1, j] = True
    return out


def itakura_cells(n, m, max_slope):
    """Itakura parallelogram in normalised coordinates, boundary included, plus the diagonal.

    With u = i / (n-1) and v = j / (m-1), a cell is inside when
    u / s <= v <= s u and (1 - u) / s <= 1 - v <= s (1 - u), compared exactly.
    """
    slope = Fraction(max_slope)
    cells = diagonal_cells(n, m)
    if n == 1 or m == 1:
        return cells
    for i in range(n):
        for j in range(m):
            u, v = Fraction(i, n - 1), Fraction(j, m - 1)
            inside = u / slope <= v <= slope * u and (1 - u) / slope <= 1 - v <= slope * (1 - u)
            cells[i, j] |= inside
    return cells


def straight_path(n, m):
    """The uniform path: ``L = max(n, m)`` points on the straight line, halves rounded up."""
    length = max(n, m)
    if length == 1:
        return np.zeros((1, 2), dtype=np.int64)
    rows = []
    for t in range(length):
        rows.append(
            [
                math.floor(Fraction(t * (n - 1), length - 1) + Fraction(1, 2)),
                math.floor(Fraction(t * (m - 1), length - 1) + Fraction(1, 2)),
            ]
        )
    return np.array(rows, dtype=np.int64)


def cells_from_bounds(lo, hi, m, cell_ok=None):
    """Dense boolean cell set from per-row ``[lo, hi)`` bounds (and an optional flat mask)."""
    n = len(lo)
    cells = np.zeros((n, m), dtype=bool)
    position = 0
    for i in range(n):
        width = hi[i] - lo[i]
        if cell_ok is not None and len(cell_ok):
            cells[i, lo[i] : hi[i]] = cell_ok[position : position + width]
        else:
            cells[i, lo[i] : hi[i]] = True
        position += width
    return cells
