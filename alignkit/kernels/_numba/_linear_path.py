"""Exact DTW warping path in linear memory: Hirschberg's divide and conquer.

A subproblem is the rectangle of rows ``r0..r1`` and columns ``c0..c1`` (both
inclusive) whose corners ``(r0, c0)`` and ``(r1, c1)`` lie on an optimal path;
its window is the parent's ``[lo, hi)`` bounds clipped to the rectangle, still
non-decreasing. With ``mid = (r0 + r1) // 2``, the forward cost ``F`` from
``(r0, c0)`` to row ``mid`` and the cost-to-go ``G`` from row ``mid + 1`` to
``(r1, c1)`` (both ends' local costs included) each take two rows of memory.
A path leaves row ``mid`` from its last cell ``(mid, j)`` by a vertical step
to ``(mid + 1, j)`` or a diagonal one to ``(mid + 1, j + 1)``, so the optimum is
``min_j F[j] + min(G[j], G[j + 1])`` and the two halves are solved alone.
Small rectangles fall back to a banded matrix and a backtrack that breaks ties
as :func:`~alignkit.kernels._numba._dtw.backtrack_banded` does.

The kernels allocate nothing that grows with the input: the driver passes
every buffer in, so the memory is visible to (and bounded by) the caller.
"""

import numpy as np
from numba import njit

from ._dtw import _min3, _sqeuclidean
from ._flags import JIT_OPTIONS

_INF = np.inf

STACK_ROWS = 128
"""Depth of the explicit recursion stack: rows halve at each split, so 2 * 64 is ample."""


@njit(**JIT_OPTIONS)
def _forward_rows(x, y, lo, hi, r0, r1, c0, c1, prev, cur):
    """Accumulated cost from ``(r0, c0)``; returns the buffer holding row ``r1``.

    Column ``j`` of a row sits at index ``j - c0 + 1``; index 0 is the virtual
    cell ``(r0 - 1, c0 - 1)`` of cost 0. Monotone bounds mean the only stale
    value a row could read is its left neighbour, which is reset before the
    row is written.
    """
    width = c1 - c0 + 2
    prev[:width] = _INF
    cur[:width] = _INF
    prev[0] = 0.0
    univariate = x.shape[1] == 1
    for i in range(r0, r1 + 1):
        start = max(lo[i], c0)
        stop = min(hi[i], c1 + 1)
        cur[start - c0] = _INF
        left = _INF
        if univariate:
            xi = x[i, 0]
            for j in range(start, stop):
                diff = xi - y[j, 0]
                left = diff * diff + _min3(prev[j - c0], prev[j - c0 + 1], left)
                cur[j - c0 + 1] = left
        else:
            for j in range(start, stop):
                left = _sqeuclidean(x, i, y, j) + _min3(prev[j - c0], prev[j - c0 + 1], left)
                cur[j - c0 + 1] = left
        prev, cur = cur, prev
    return prev


@njit(**JIT_OPTIONS)
def _backward_rows(x, y, lo, hi, r0, r1, c0, c1, below, cur):
    """Cost-to-go to ``(r1, c1)``, rows walked upwards; returns the buffer holding row ``r0``.

    Column ``j`` sits at index ``j - c0``; index ``c1 + 1 - c0`` starts as the
    virtual cell ``(r1 + 1, c1 + 1)`` of cost 0. The mirror image of
    :func:`_forward_rows`: walking upwards the bounds never grow, so the only
    stale value is the right neighbour, reset before each row.
    """
    width = c1 - c0 + 2
    below[:width] = _INF
    cur[:width] = _INF
    below[c1 + 1 - c0] = 0.0
    univariate = x.shape[1] == 1
    for i in range(r1, r0 - 1, -1):
        start = max(lo[i], c0)
        stop = min(hi[i], c1 + 1)
        cur[stop - c0] = _INF
        right = _INF
        if univariate:
            xi = x[i, 0]
            for j in range(stop - 1, start - 1, -1):
                diff = xi - y[j, 0]
                right = diff * diff + _min3(below[j + 1 - c0], below[j - c0], right)
                cur[j - c0] = right
        else:
            for j in range(stop - 1, start - 1, -1):
                right = _sqeuclidean(x, i, y, j) + _min3(below[j + 1 - c0], below[j - c0], right)
                cur[j - c0] = right
        below, cur = cur, below
    return below


@njit(**JIT_OPTIONS)
def _split(x, y, lo, hi, r0, r1, c0, c1, rows):
    """Column ``j`` where an optimal path leaves row ``mid`` and the step (0 or 1) it takes.

    ``rows`` is four buffers of ``len(y) + 2`` values. Returns ``(-1, 0)`` when
    no path joins the corners inside the window. Ties go to the smallest
    column, diagonal step first.
    """
    mid = (r0 + r1) // 2
    forward = _forward_rows(x, y, lo, hi, r0, mid, c0, c1, rows[0], rows[1])
    backward = _backward_rows(x, y, lo, hi, mid + 1, r1, c0, c1, rows[2], rows[3])
    best = _INF
    best_j = -1
    best_step = 0
    for j in range(max(lo[mid], c0), min(hi[mid], c1 + 1)):
        reach = forward[j - c0 + 1]
        diagonal = reach + backward[j + 1 - c0]
        vertical = reach + backward[j - c0]
        if diagonal < best:
            best, best_j, best_step = diagonal, j, 1
        if vertical < best:
            best, best_j, best_step = vertical, j, 0
    return best_j, best_step


@njit(**JIT_OPTIONS)
def _band_cells(lo, hi, r0, r1, c0, c1):
    total = 0
    for i in range(r0, r1 + 1):
        total += max(min(hi[i], c1 + 1) - max(lo[i], c0), 0)
    return total


@njit(inline="always", **JIT_OPTIONS)
def _cell(acc, offsets, lo, hi, r0, c0, c1, i, j):
    """Accumulated cost of ``(i, j)`` in the clipped band; ``(r0 - 1, c0 - 1)`` costs 0."""
    if i < r0:
        return 0.0 if j == c0 - 1 else _INF
    start = max(lo[i], c0)
    if j < start or j >= min(hi[i], c1 + 1):
        return _INF
    return acc[offsets[i - r0] + j - start]


@njit(**JIT_OPTIONS)
def _matrix_path(x, y, lo, hi, r0, r1, c0, c1, acc, offsets, path, k):
    """Banded matrix DP and backtrack on a small rectangle; path cells written from ``path[k]``.

    Returns the index after the last cell written, or -1 without a path.
    """
    offsets[0] = 0
    for i in range(r0, r1 + 1):
        start = max(lo[i], c0)
        stop = min(hi[i], c1 + 1)
        offsets[i - r0 + 1] = offsets[i - r0] + max(stop - start, 0)
        for j in range(start, stop):
            best = _min3(
                _cell(acc, offsets, lo, hi, r0, c0, c1, i - 1, j - 1),
                _cell(acc, offsets, lo, hi, r0, c0, c1, i - 1, j),
                _cell(acc, offsets, lo, hi, r0, c0, c1, i, j - 1),
            )
            acc[offsets[i - r0] + j - start] = _sqeuclidean(x, i, y, j) + best
    if _cell(acc, offsets, lo, hi, r0, c0, c1, r1, c1) == _INF:
        return -1
    first = k
    i, j = r1, c1
    path[k, 0], path[k, 1] = i, j
    while i > r0 or j > c0:
        diagonal = _cell(acc, offsets, lo, hi, r0, c0, c1, i - 1, j - 1)
        up = _cell(acc, offsets, lo, hi, r0, c0, c1, i - 1, j)
        left = _cell(acc, offsets, lo, hi, r0, c0, c1, i, j - 1)
        if diagonal <= up and diagonal <= left:
            i, j = i - 1, j - 1
        elif up <= left:
            i -= 1
        else:
            j -= 1
        k += 1
        path[k, 0], path[k, 1] = i, j
    _reverse(path, first, k)
    return k + 1


@njit(**JIT_OPTIONS)
def _reverse(path, first, last):
    while first < last:
        for axis in range(2):
            path[first, axis], path[last, axis] = path[last, axis], path[first, axis]
        first += 1
        last -= 1


@njit(**JIT_OPTIONS)
def _straight(path, k, r0, r1, c0, c1):
    """Write the only path of a one-row or one-column rectangle."""
    for step in range(max(r1 - r0, c1 - c0) + 1):
        path[k, 0] = r0 + min(step, r1 - r0)
        path[k, 1] = c0 + min(step, c1 - c0)
        k += 1
    return k


@njit(**JIT_OPTIONS)
def linear_path(x, y, lo, hi, base_cells, rows, acc, offsets, stack, path):
    """Optimal path from ``(0, 0)`` to ``(n-1, m-1)`` written into ``path``; returns its length.

    ``lo`` and ``hi`` are non-decreasing per-row bounds. Buffers: ``rows`` of
    shape ``(4, m + 2)``, ``acc`` of ``base_cells`` values, ``offsets`` of
    ``min(n, base_cells) + 1``, ``stack`` of shape ``(STACK_ROWS, 4)``, ``path``
    of shape ``(n + m - 1, 2)``. Rectangles are taken depth first, left half
    first, so their paths arrive in order. Returns -1 when no path exists.
    """
    stack[0, 0], stack[0, 1], stack[0, 2], stack[0, 3] = 0, x.shape[0] - 1, 0, y.shape[0] - 1
    top = 0
    k = 0
    while top >= 0:
        r0, r1, c0, c1 = stack[top, 0], stack[top, 1], stack[top, 2], stack[top, 3]
        top -= 1
        cells = _band_cells(lo, hi, r0, r1, c0, c1)
        if cells < r1 - r0 + 1:
            return -1  # a row without a cell: no path, and too few offsets for the matrix
        if r0 == r1 or c0 == c1:
            k = _straight(path, k, r0, r1, c0, c1)
        elif cells <= base_cells:
            k = _matrix_path(x, y, lo, hi, r0, r1, c0, c1, acc, offsets, path, k)
            if k < 0:
                return -1
        else:
            j, step = _split(x, y, lo, hi, r0, r1, c0, c1, rows)
            if j < 0:
                return -1
            mid = (r0 + r1) // 2
            stack[top + 1, 0], stack[top + 1, 1] = mid + 1, r1
            stack[top + 1, 2], stack[top + 1, 3] = j + step, c1
            stack[top + 2, 0], stack[top + 2, 1] = r0, mid
            stack[top + 2, 2], stack[top + 2, 3] = c0, j
            top += 2
    return k


@njit(**JIT_OPTIONS)
def non_decreasing(values):
    """Whether ``values`` never decreases (the forward and backward passes rely on it)."""
    for i in range(1, values.shape[0]):
        if values[i] < values[i - 1]:
            return False
    return True


@njit(**JIT_OPTIONS)
def path_cost(x, y, path):
    """Summed local cost along ``path``, added in path order (as the forward DP adds)."""
    total = 0.0
    for step in range(path.shape[0]):
        total += _sqeuclidean(x, path[step, 0], y, path[step, 1])
    return total
