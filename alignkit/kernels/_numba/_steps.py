"""Table-driven DTW for any step pattern, in dtw-python's ``mx`` convention.

A step pattern is a list of *patterns*; pattern ``p`` is the table rows
``starts[p] .. starts[p + 1] - 1``, each a cell ``(i - di, j - dj)`` relative to
the cell ``(i, j)`` being filled. The first row is the origin; every later row
adds ``weight * c(i - di, j - dj)``:

``D[i, j] = min_p (D[origin_p] + sum of weighted local costs of p's other cells)``

with ``D[0, 0] = c(0, 0)`` (dtw-python's seed, whatever the weights). With an
open begin a virtual row ``-1`` of zeros sits above row 0, so a path may start
in any column of row 0. Ties go to the pattern listed first. A pattern whose
cells leave the window is not taken, so every cell of the path lies inside it.

Accumulated costs are stored row by row over the band, as in ``_dtw.py``: row
``i`` holds columns ``lo[i] .. hi[i] - 1`` at ``acc[offsets[i]:]``.
"""

import numpy as np
from numba import njit

from ._dtw import _sqeuclidean
from ._flags import JIT_OPTIONS

_INF = np.inf


# The helpers are left to LLVM to inline: Numba's own inlining (inline="always") of
# them made steps_matrix three times slower (240 ns a cell against 80).
@njit(**JIT_OPTIONS)
def _inside(lo, hi, offsets, cell_ok, i, j):
    if j < lo[i] or j >= hi[i]:
        return False
    if cell_ok.shape[0] > 0:
        return cell_ok[offsets[i] + j - lo[i]]
    return True


@njit(**JIT_OPTIONS)
def _pattern_cost(
    x, y, di, dj, weight, starts, p, i, j, here, acc, lo, hi, offsets, cell_ok, open_begin
):
    first = starts[p]
    origin_i = i - di[first]
    origin_j = j - dj[first]
    if origin_j < 0 or origin_i < -1 or (origin_i == -1 and not open_begin):
        return _INF
    if origin_i == -1:
        total = 0.0
    else:
        if not _inside(lo, hi, offsets, cell_ok, origin_i, origin_j):
            return _INF
        total = acc[offsets[origin_i] + origin_j - lo[origin_i]]
        if total == _INF:
            return _INF
    for t in range(first + 1, starts[p + 1]):
        cell_i = i - di[t]
        cell_j = j - dj[t]
        if cell_i < 0:
            # A cell of the virtual open-begin row: zero cost, no window.
            continue
        if cell_i == i and cell_j == j:
            total += weight[t] * here
            continue
        if not _inside(lo, hi, offsets, cell_ok, cell_i, cell_j):
            return _INF
        total += weight[t] * _sqeuclidean(x, cell_i, y, cell_j)
    return total


@njit(**JIT_OPTIONS)
def steps_matrix(x, y, di, dj, weight, starts, lo, hi, offsets, cell_ok, open_begin):
    """Banded accumulated cost and the pattern chosen at each cell (-1: none).

    ``cell_ok`` is a flat mask aligned with the band, or empty for no mask.
    """
    n = x.shape[0]
    acc = np.full(offsets[n], _INF)
    move = np.full(offsets[n], -1, dtype=np.int8)
    n_patterns = starts.shape[0] - 1
    for i in range(n):
        base = offsets[i] - lo[i]
        for j in range(lo[i], hi[i]):
            if not _inside(lo, hi, offsets, cell_ok, i, j):
                continue
            # The filled cell's cost, shared by every pattern that ends on it.
            here = _sqeuclidean(x, i, y, j)
            if i == 0 and j == 0 and not open_begin:
                acc[base] = here
                continue
            best = _INF
            chosen = -1
            for p in range(n_patterns):
                total = _pattern_cost(
                    x,
                    y,
                    di,
                    dj,
                    weight,
                    starts,
                    p,
                    i,
                    j,
                    here,
                    acc,
                    lo,
                    hi,
                    offsets,
                    cell_ok,
                    open_begin,
                )
                if total < best:
                    best = total
                    chosen = p
            acc[base + j] = best
            move[base + j] = chosen
    return acc, move


@njit(**JIT_OPTIONS)
def symmetric1_matrix(x, y, lo, hi, offsets, cell_ok, open_begin):
    """:func:`steps_matrix` for ``symmetric1``: the same numbers, without the table.

    Pattern 0 comes from ``(i-1, j-1)``, 1 from ``(i-1, j)``, 2 from ``(i, j-1)``,
    each adding the cell's cost once (weight 1), ties to the first: the operations
    of the table-driven kernel on symmetric1's table, at a fraction of its cost.
    """
    n = x.shape[0]
    acc = np.full(offsets[n], _INF)
    move = np.full(offsets[n], -1, dtype=np.int8)
    for i in range(n):
        base = offsets[i] - lo[i]
        for j in range(lo[i], hi[i]):
            if not _inside(lo, hi, offsets, cell_ok, i, j):
                continue
            here = _sqeuclidean(x, i, y, j)
            if i == 0 and j == 0 and not open_begin:
                acc[base] = here
                continue
            best = _INF
            chosen = -1
            for p in range(3):
                origin_i = i - 1 if p < 2 else i
                origin_j = j if p == 1 else j - 1
                if origin_j < 0 or (origin_i == -1 and not open_begin):
                    continue
                if origin_i == -1:
                    previous = 0.0
                else:
                    if not _inside(lo, hi, offsets, cell_ok, origin_i, origin_j):
                        continue
                    previous = acc[offsets[origin_i] + origin_j - lo[origin_i]]
                    if previous == _INF:
                        continue
                total = previous + here  # the table kernel's weight-1 step: the same sum
                if total < best:
                    best = total
                    chosen = p
            acc[base + j] = best
            move[base + j] = chosen
    return acc, move


@njit(**JIT_OPTIONS)
def steps_backtrack(move, offsets, lo, di, dj, starts, i_end, j_end, open_begin):
    """Path ending at ``(i_end, j_end)``, expanded to every cell of each pattern.

    The cells listed are the table's rows (origin and intermediate cells), as
    dtw-python's ``index1``/``index2``; cells of the virtual row are dropped.
    """
    path = np.empty((i_end + j_end + 1, 2), dtype=np.int64)
    i = i_end
    j = j_end
    k = 0
    path[0, 0] = i
    path[0, 1] = j
    while open_begin or i > 0 or j > 0:
        p = move[offsets[i] + j - lo[i]]
        first = starts[p]
        for t in range(starts[p + 1] - 1, first - 1, -1):
            cell_i = i - di[t]
            if cell_i < 0 or (di[t] == 0 and dj[t] == 0):
                continue
            k += 1
            path[k, 0] = cell_i
            path[k, 1] = j - dj[t]
        i -= di[first]
        j -= dj[first]
        if i < 0:
            break
    return path[k::-1].copy()


@njit(**JIT_OPTIONS)
def subsequence_profile(x, y, di, dj, weight, starts):
    """Open-begin, open-end DP over the full matrix, keeping a ring of rows.

    Returns, for every end column ``j`` of the last row, the summed cost
    ``D[n-1, j]`` of the best path ending there and the column where that path
    starts in row 0. Memory: ``max(di) + 1`` rows of ``len(y)`` values.
    """
    n = x.shape[0]
    m = y.shape[0]
    depth = np.max(di) + 1
    acc = np.full((depth, m), _INF)
    origin = np.zeros((depth, m), dtype=np.int64)
    n_patterns = starts.shape[0] - 1
    for i in range(n):
        row = i % depth
        for j in range(m):
            best = _INF
            best_start = -1
            for p in range(n_patterns):
                first = starts[p]
                origin_i = i - di[first]
                origin_j = j - dj[first]
                if origin_j < 0 or origin_i < -1:
                    continue
                start = -1
                total = 0.0
                if origin_i >= 0:
                    total = acc[origin_i % depth, origin_j]
                    start = origin[origin_i % depth, origin_j]
                for t in range(first + 1, starts[p + 1]):
                    cell_i = i - di[t]
                    if cell_i < 0:
                        continue
                    if start < 0:
                        # First cell below the virtual row: where this path starts.
                        start = j - dj[t]
                    total += weight[t] * _sqeuclidean(x, cell_i, y, j - dj[t])
                if start < 0:
                    # A pattern without a (0, 0) row still ends on cell (0, j).
                    start = j
                if total < best:
                    best = total
                    best_start = start
            acc[row, j] = best
            origin[row, j] = best_start
    last = (n - 1) % depth
    return acc[last].copy(), origin[last].copy()
