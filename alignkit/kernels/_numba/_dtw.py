"""Dynamic time warping kernels: squared Euclidean local cost over channels.

Recurrence (symmetric1): ``D[i, j] = c(i, j) + min(D[i-1, j-1], D[i-1, j], D[i, j-1])``
with ``D[-1, -1] = 0``. Cells outside the window cost ``inf``.
"""

import numpy as np
from numba import njit

from ._bounds import window_bounds
from ._flags import JIT_OPTIONS

_INF = np.inf


@njit(inline="always", **JIT_OPTIONS)
def _sqeuclidean(x, i, y, j):
    total = 0.0
    for k in range(x.shape[1]):
        diff = x[i, k] - y[j, k]
        total += diff * diff
    return total


@njit(inline="always", **JIT_OPTIONS)
def _min3(a, b, c):
    low = a if a < b else b
    return low if low < c else c


@njit(**JIT_OPTIONS)
def dtw_distance_rows(x, y, lo, hi):
    """Summed cost of the best path, keeping two rows of ``len(y) + 1`` values.

    ``lo`` and ``hi`` must be non-decreasing (every band window is): then the
    only stale value a row can read is its left neighbour, reset each row.
    """
    n = x.shape[0]
    m = y.shape[0]
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    univariate = x.shape[1] == 1
    for i in range(n):
        cur[lo[i]] = _INF
        left = _INF
        if univariate:
            xi = x[i, 0]
            for j in range(lo[i], hi[i]):
                diff = xi - y[j, 0]
                left = diff * diff + _min3(prev[j], prev[j + 1], left)
                cur[j + 1] = left
        else:
            for j in range(lo[i], hi[i]):
                left = _sqeuclidean(x, i, y, j) + _min3(prev[j], prev[j + 1], left)
                cur[j + 1] = left
        prev, cur = cur, prev
    return prev[m]


@njit(inline="always", **JIT_OPTIONS)
def _banded_get(acc, offsets, lo, hi, i, j):
    if i < 0 or j < 0:
        return 0.0 if (i < 0 and j < 0) else _INF
    if j < lo[i] or j >= hi[i]:
        return _INF
    return acc[offsets[i] + j - lo[i]]


@njit(**JIT_OPTIONS)
def dtw_banded_matrix(x, y, lo, hi, offsets, cell_ok):
    """Accumulated cost stored row by row over the band only.

    Row ``i`` holds columns ``lo[i] .. hi[i]-1`` at ``acc[offsets[i]:]``. Bounds
    need not be monotone. ``cell_ok`` is a flat mask aligned with ``acc``
    (cells where it is False cost ``inf``), or an empty array for no mask.
    """
    n = x.shape[0]
    acc = np.empty(offsets[n], dtype=np.float64)
    masked = cell_ok.shape[0] > 0
    for i in range(n):
        base = offsets[i] - lo[i]
        for j in range(lo[i], hi[i]):
            if masked and not cell_ok[base + j]:
                acc[base + j] = _INF
                continue
            best = _min3(
                _banded_get(acc, offsets, lo, hi, i - 1, j - 1),
                _banded_get(acc, offsets, lo, hi, i - 1, j),
                _banded_get(acc, offsets, lo, hi, i, j - 1),
            )
            acc[base + j] = _sqeuclidean(x, i, y, j) + best
    return acc


@njit(**JIT_OPTIONS)
def backtrack_banded(acc, offsets, lo, hi, m):
    """Optimal path from the banded accumulated cost.

    Ties prefer the diagonal step, then the step from ``(i-1, j)``, then the
    step from ``(i, j-1)``.
    """
    n = lo.shape[0]
    path = np.empty((n + m - 1, 2), dtype=np.int64)
    i = n - 1
    j = m - 1
    k = 0
    path[0, 0] = i
    path[0, 1] = j
    while i > 0 or j > 0:
        diag = _banded_get(acc, offsets, lo, hi, i - 1, j - 1)
        up = _banded_get(acc, offsets, lo, hi, i - 1, j)
        left = _banded_get(acc, offsets, lo, hi, i, j - 1)
        if diag <= up and diag <= left:
            i -= 1
            j -= 1
        elif up <= left:
            i -= 1
        else:
            j -= 1
        k += 1
        path[k, 0] = i
        path[k, 1] = j
    return path[k::-1].copy()


@njit(**JIT_OPTIONS)
def dtw_distance_pair(x, y, kind, param):
    """Summed cost for one pair under a window spec, in O(min(n, m)) memory."""
    if y.shape[0] > x.shape[0]:
        x, y = y, x
    lo, hi = window_bounds(x.shape[0], y.shape[0], kind, param)
    return dtw_distance_rows(x, y, lo, hi)


@njit(**JIT_OPTIONS)
def dtw_upper_rows(flat, offsets, kind, param, row_start, row_stop):
    """Rows ``row_start:row_stop`` of the upper triangle of the pairwise cost matrix.

    Sequence ``k`` is ``flat[offsets[k]:offsets[k + 1]]``; entries on and below
    the diagonal are left at zero.
    """
    count = offsets.shape[0] - 1
    out = np.zeros((row_stop - row_start, count))
    for a in range(row_start, row_stop):
        x = flat[offsets[a] : offsets[a + 1]]
        for b in range(a + 1, count):
            out[a - row_start, b] = dtw_distance_pair(
                x, flat[offsets[b] : offsets[b + 1]], kind, param
            )
    return out
