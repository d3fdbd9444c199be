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


@njit(inline="always", **JIT_OPTIONS)
def _relax_univariate(out, diag, up, left, xs, ys):
    # Cells of one anti-diagonal are independent: this loop vectorises.
    for t in range(out.shape[0]):
        diff = xs[t] - ys[t]
        out[t] = diff * diff + _min3(diag[t], up[t], left[t])


@njit(inline="always", **JIT_OPTIONS)
def _relax_channels(out, diag, up, left, xt, yt, row, col):
    # Channel-major passes keep unit strides; sums run over channels in order,
    # as in _sqeuclidean, so the values are the same.
    width = out.shape[0]
    out[:] = 0.0
    for k in range(xt.shape[0]):
        xs = xt[k, row : row + width]
        ys = yt[k, col : col + width]
        for t in range(width):
            diff = xs[t] - ys[t]
            out[t] += diff * diff
    for t in range(width):
        out[t] += _min3(diag[t], up[t], left[t])


@njit(**JIT_OPTIONS)
def dtw_distance_diagonals(x, y, lo, hi):
    """Summed cost of the best path, sweeping anti-diagonals ``i + j = const``.

    Cells on one anti-diagonal depend only on the two before it, so each sweep
    is a data-parallel loop; a row sweep instead chains every cell to its left
    neighbour. Three buffers of ``len(x) + 2`` values are kept (slot ``i + 1``
    holds row ``i``, slot 0 the virtual row -1) plus channel-major copies of
    ``x`` and of ``y`` reversed, so that both operands are contiguous in ``i``.

    ``lo`` and ``hi`` must be non-decreasing (every band window is): then the
    rows of a band on an anti-diagonal form one interval ``[first, stop)``
    whose ends only move forward, and only the two slots around it can be
    read by the next two diagonals; they are reset to ``inf``.
    """
    n = x.shape[0]
    m = y.shape[0]
    xt = np.ascontiguousarray(x.T)
    yt = np.ascontiguousarray(y[::-1].T)
    before = np.full(n + 2, _INF)
    last = np.full(n + 2, _INF)
    cur = np.full(n + 2, _INF)
    before[0] = 0.0
    first = 0
    stop = 0
    for diagonal in range(n + m - 1):
        while stop < n and diagonal - stop >= lo[stop]:
            stop += 1
        while first < stop and diagonal - first >= hi[first]:
            first += 1
        # Cell (i, diagonal - i) reads y[diagonal - i] = yt[:, m - 1 - diagonal + i].
        col = m - 1 - diagonal + first
        out = cur[first + 1 : stop + 1]
        diag = before[first:stop]
        up = last[first:stop]
        left = last[first + 1 : stop + 1]
        if xt.shape[0] == 1:
            _relax_univariate(
                out, diag, up, left, xt[0, first:stop], yt[0, col : col + stop - first]
            )
        else:
            _relax_channels(out, diag, up, left, xt, yt, first, col)
        cur[first] = _INF
        cur[stop + 1] = _INF
        before, last, cur = last, cur, before
    return last[n]


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
    m = y.shape[0]
    acc = np.empty(offsets[n], dtype=np.float64)
    masked = cell_ok.shape[0] > 0
    univariate = x.shape[1] == 1
    # Dense copies of the last two rows (slot j + 1 holds column j, slot 0
    # column -1) give branch-free neighbour reads; only the slots a row wrote
    # are reset before the buffer is reused, so a row costs O(its width).
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    stale_lo = 0
    stale_hi = 0
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = _INF
        base = offsets[i] - lo[i]
        left = _INF
        for j in range(lo[i], hi[i]):
            if masked and not cell_ok[base + j]:
                left = _INF
            elif univariate:
                # Skips the channel loop: about 15% faster in this common case.
                diff = x[i, 0] - y[j, 0]
                left = diff * diff + _min3(prev[j], prev[j + 1], left)
            else:
                left = _sqeuclidean(x, i, y, j) + _min3(prev[j], prev[j + 1], left)
            acc[base + j] = left
            cur[j + 1] = left
        stale_lo = lo[i - 1] + 1 if i > 0 else 0
        stale_hi = hi[i - 1] if i > 0 else 0
        prev, cur = cur, prev
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
def dtw_distance_pair(x, y, kind, radius, value):
    """Summed cost for one pair under a window spec, in O(n + m) memory."""
    # Buffers follow the rows: put the shorter sequence there.
    if x.shape[0] > y.shape[0]:
        x, y = y, x
    lo, hi = window_bounds(x.shape[0], y.shape[0], kind, radius, value)
    return dtw_distance_diagonals(x, y, lo, hi)
