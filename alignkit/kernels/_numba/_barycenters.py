"""Barycenter steps over a whole cluster in one call: DBA's paths and sums, soft-DTW's objective.

For every member the kernel finds the DTW path to the average (the same path
as ``dtw_banded_matrix`` then ``backtrack_banded``: ties prefer the diagonal
step, then ``(i-1, j)``, then ``(i, j-1)``) and adds the member's frames to
the sums of the average's frames they match, in the order of ``np.bincount``
over the path, member after member: the sums are the same numbers as a
Python loop over members gives.

The DP sweeps anti-diagonals as ``dtw_distance_diagonals`` does (each cell is
the same operations in the same order) and skips the cells above an upper
bound ``U`` of the member's DTW: the cost of the member's previous path under
the new average, or of the path through the band's diagonal cells. Each
diagonal computes the rows fed by a kept cell and keeps them from its first
to its last cell ``<= U``: cells outside that run read as ``inf``, those
inside it above ``U`` keep their (then possibly too high) cost. Why the path
cannot change: by induction a computed cost is never below the full DP's, and equals
it whenever the full DP's is ``<= U`` (its cheapest predecessor is then
``<= U`` too, so kept and exact). Every cell of an optimal path costs at most
the total, hence at most ``U``, and so does every predecessor that ties with
the cheapest: each cell's choice among its three predecessors, made in the
sweep, is the full DP's on every cell of the path. When rounding put the
total above ``U`` (the end cell is not kept) the member runs again without a
bound.

The soft-DTW barycenter's objective and gradient over all members, and the
soft-DTW values of every sequence to every centre, are single calls too, over
the kernels of :mod:`._soft_dtw`.
"""

import numpy as np
from numba import njit

from ._bounds import diagonal_bounds
from ._flags import JIT_OPTIONS
from ._flags import VECTOR_JIT_OPTIONS as SOFT_OPTIONS
from ._soft_dtw import soft_dtw_forward_into, soft_dtw_grad_x, soft_dtw_value, weights_workspace

_INF = np.inf
# Relative margin on the upper bound: a path's cost and the DP's total are the same
# additions in different groupings, so rounding may put the total a few ulps above.
SLACK = 1.0 + 1e-9
# Moves of a path, one byte each: to (i+1, j+1), to (i+1, j), to (i, j+1). Read
# backwards they are the backtrack's choices: the diagonal, (i-1, j), (i, j-1).
DIAGONAL, DOWN, RIGHT = 0, 1, 2


@njit(inline="always", **JIT_OPTIONS)
def _min3(a, b, c):
    low = a if a < b else b
    return low if low < c else c


@njit(inline="always", **JIT_OPTIONS)
def _choice(diag, up, left):
    """The backtrack's step into a cell, ties broken as in ``backtrack_banded``."""
    if diag <= up and diag <= left:
        return DIAGONAL
    return DOWN if up <= left else RIGHT


@njit(inline="always", **JIT_OPTIONS)
def _cost(x, i, y, j):
    total = 0.0
    for k in range(x.shape[1]):
        diff = x[i, k] - y[j, k]
        total += diff * diff
    return total


@njit(**JIT_OPTIONS)
def _steps_cost(x, y, steps, n_steps):
    """Summed local cost of the path whose moves are ``steps[:n_steps]``, last move first.

    Summed from the end cell back; the DP adds from the start, which rounds
    differently by far less than :data:`SLACK`.
    """
    i = x.shape[0] - 1
    j = y.shape[0] - 1
    total = _cost(x, i, y, j)
    for t in range(n_steps):
        i -= steps[t] != RIGHT
        j -= steps[t] != DOWN
        total += _cost(x, i, y, j)
    return total


@njit(**JIT_OPTIONS)
def _diagonal_path_cost(x, y):
    """Cost of the path through the diagonal cells, row after row (inside every window)."""
    lo, hi = diagonal_bounds(x.shape[0], y.shape[0])
    total = 0.0
    for i in range(x.shape[0]):
        for j in range(lo[i], hi[i]):
            total += _cost(x, i, y, j)
    return total


@njit(inline="always", **JIT_OPTIONS)
def _relax(cur, before, last, xt, first_row, yt, start, end, shift, moves, offset):
    """Cells ``(i, d - i)`` of rows ``[start, end)`` into slot ``i + 1`` of ``cur``.

    Row ``i`` is ``xt[:, first_row + i]`` and meets ``yt[:, i + shift]``; its
    backtrack choice goes to ``moves[offset + i]``. Indices are cast to unsigned: numba then adds no
    wrap-around test for negative ones and the loop vectorises (slices would
    too, but making several per diagonal costs more than the few dozen cells
    kept on one).
    """
    one = np.uint64(1)
    if xt.shape[0] == 1:
        xs = xt[0]
        ys = yt[0]
        for i in range(start, end):
            u = np.uint64(i)
            diag, up, left = before[u], last[u], last[u + one]
            diff = xs[np.uint64(first_row + i)] - ys[np.uint64(i + shift)]
            cur[u + one] = diff * diff + _min3(diag, up, left)
            moves[np.uint64(offset + i)] = _choice(diag, up, left)
        return
    # Channel-major passes, summed over channels in order as _dtw._relax_channels does.
    for i in range(start, end):
        cur[np.uint64(i) + one] = 0.0
    for k in range(xt.shape[0]):
        xs = xt[k]
        ys = yt[k]
        for i in range(start, end):
            diff = xs[np.uint64(first_row + i)] - ys[np.uint64(i + shift)]
            cur[np.uint64(i) + one] += diff * diff
    for i in range(start, end):
        u = np.uint64(i)
        diag, up, left = before[u], last[u], last[u + one]
        cur[u + one] += _min3(diag, up, left)
        moves[np.uint64(offset + i)] = _choice(diag, up, left)


@njit(inline="always", **JIT_OPTIONS)
def _trim(cur, start, stop, bound):
    """Drop the cells above ``bound`` at both ends of rows ``[start, stop)``; set them inf."""
    while start < stop and cur[start + 1] > bound:
        cur[start + 1] = _INF
        start += 1
    while stop > start and cur[stop] > bound:
        cur[stop] = _INF
        stop -= 1
    return start, stop


@njit(**JIT_OPTIONS)
def _sweep(xt, first_row, n, yt, lo, hi, bound, buffers, moves, offsets):
    """Anti-diagonal DP keeping the cells ``<= bound``; the total, ``inf`` if not kept.

    The rows are ``xt[:, first_row:first_row + n]`` (channel-major), the
    columns ``yt`` (channel-major, reversed). ``buffers`` is three arrays of
    ``n + 2`` (slot ``i + 1`` holds row ``i``), inf outside the kept cells of
    the diagonal they hold. The choice of cell ``(i, d - i)`` goes to
    ``moves[offsets[d] + i]`` (for every computed cell; those of a path are
    always computed). Returns ``(total, computed cells)``.
    """
    m = yt.shape[1]
    before, last, cur = buffers
    before[:] = _INF
    last[:] = _INF
    cur[:] = _INF
    before[0] = 0.0  # the virtual cell (-1, -1)
    a2, b2, a1, b1, a3, b3 = -1, 0, 0, 0, 0, 0  # kept rows of diagonals d-2, d-1, d-3
    first = 0
    stop = 0
    used = 0
    for d in range(n + m - 1):
        while stop < n and d - stop >= lo[stop]:
            stop += 1
        while first < stop and d - first >= hi[first]:
            first += 1
        # Rows fed by a kept predecessor: (i, .) and (i + 1, .) from d-1, (i + 1, .) from d-2.
        start, end = (a1, b1 + 1) if a1 < b1 else (n, 0)
        if a2 < b2:
            start, end = min(start, a2 + 1), max(end, b2 + 1)
        start, end = max(start, first), min(end, stop)
        if start >= end:
            start = end = first
        # The buffer held diagonal d-3: clear its kept slots that this one does not write.
        for slot in range(a3 + 1, min(b3, start) + 1):
            cur[slot] = _INF
        for slot in range(max(a3, end) + 1, b3 + 1):
            cur[slot] = _INF
        offsets[d] = used - start
        _relax(cur, before, last, xt, first_row, yt, start, end, m - 1 - d, moves, used - start)
        used += end - start
        start, end = _trim(cur, start, end, bound)
        if end == start and a1 >= b1:
            return _INF, used  # two empty diagonals: no kept cell can follow
        a3, b3, a2, b2, a1, b1 = a2, b2, a1, b1, start, end
        before, last, cur = last, cur, before
    return last[n], used


@njit(inline="always", **JIT_OPTIONS)
def _add_column(x, first, last, j, sums, counts):
    """Rows ``first..last`` of ``x`` matched to frame ``j``: summed from 0 in row order."""
    for c in range(x.shape[1]):
        partial = 0.0
        for r in range(first, last + 1):
            partial += x[r, c]
        sums[j, c] += partial
    counts[j] += last - first + 1


@njit(**JIT_OPTIONS)
def _backtrack(moves, offsets, x, m, steps, sums, counts):
    """Walk the path back from ``(n-1, m-1)``: its moves into ``steps`` (last first), its
    matches into ``sums`` / ``counts``; returns the number of moves.

    A path meets each frame ``j`` of the average on consecutive rows, so
    summing them in row order adds the same numbers in the same order as
    ``np.bincount`` over the path, then ``sums[j] +=`` that sum.
    """
    i = x.shape[0] - 1
    j = m - 1
    k = 0
    last = i  # the last row matched to frame j
    while i > 0 or j > 0:
        move = moves[offsets[i + j] + i]
        steps[k] = move
        k += 1
        if move != DOWN:  # the step into (i, j) comes from frame j - 1
            _add_column(x, i, last, j, sums, counts)
            last = i - (move != RIGHT)
        i -= move != RIGHT
        j -= move != DOWN
    _add_column(x, 0, last, 0, sums, counts)
    return k


@njit(**JIT_OPTIONS)
def dba_step(
    flat, flat_t, offsets, lo_flat, hi_flat, row_starts, average, steps, n_steps, bounds, sums,
    counts,
):  # fmt: skip
    """Align every member to ``average``; add its frames to ``sums`` / ``counts``.

    Member ``k`` is ``flat[offsets[k]:offsets[k + 1]]`` (``flat_t`` is
    ``flat.T`` made contiguous) with row bounds
    ``lo_flat`` / ``hi_flat`` from ``row_starts[k]`` on (non-decreasing;
    members of one length share one table). Its path
    is read from and written to ``steps[k, :n_steps[k]]`` (its moves, last
    first, of shape ``(n_members, longest + len(average) - 2)``; ``n_steps[k] = -1``
    for none): a previous path bounds the DTW from above, as does
    ``bounds[k]`` (``inf`` for none); with neither, the path through the
    diagonal cells does. ``sums`` (``(len(average), n_channels)``) and
    ``counts`` must start at zero. Returns the members' DTW costs (summed
    squared; ``inf`` on overflow, the member then adds nothing) and the
    number of DP cells computed.
    """
    n_members = offsets.shape[0] - 1
    m = average.shape[0]
    longest = np.max(offsets[1:] - offsets[:-1])
    band = 0
    for k in range(n_members):
        start, stop = row_starts[k], row_starts[k] + offsets[k + 1] - offsets[k]
        band = max(band, np.sum(hi_flat[start:stop] - lo_flat[start:stop]))
    moves = np.empty(band, dtype=np.uint8)
    diagonals = np.empty(longest + m - 1, dtype=np.int64)
    buffers = (np.empty(longest + 2), np.empty(longest + 2), np.empty(longest + 2))
    yt = np.ascontiguousarray(average[::-1].T)
    costs = np.empty(n_members)
    n_cells = 0
    for k in range(n_members):
        x = flat[offsets[k] : offsets[k + 1]]
        lo = lo_flat[row_starts[k] : row_starts[k] + x.shape[0]]
        hi = hi_flat[row_starts[k] : row_starts[k] + x.shape[0]]
        bound = bounds[k]
        if n_steps[k] >= 0:
            bound = min(bound, _steps_cost(x, average, steps[k], n_steps[k]))
        elif bound == _INF:
            bound = _diagonal_path_cost(x, average)
        n = x.shape[0]
        total, cells = _sweep(
            flat_t, offsets[k], n, yt, lo, hi, bound * SLACK, buffers, moves, diagonals
        )
        if not total <= bound * SLACK:
            total, more = _sweep(flat_t, offsets[k], n, yt, lo, hi, _INF, buffers, moves, diagonals)
            cells += more
        costs[k] = total
        n_cells += cells
        if total == _INF:
            n_steps[k] = -1  # overflow: the caller raises
            continue
        n_steps[k] = _backtrack(moves, diagonals, x, m, steps[k], sums, counts)
    return costs, n_cells


@njit(**SOFT_OPTIONS)
def soft_dtw_objective(flat, offsets, z, gamma, weights):
    """``sum_k weights[k] * soft_dtw(z, X[k])`` and its gradient in ``z``, in one call.

    Member ``k`` is ``flat[offsets[k]:offsets[k + 1]]``, under the full
    window; members of weight 0 are skipped. Summed in member order with the
    operations of a Python loop over the members (``total += w * value``,
    ``grad += w * grad_k``). Returns ``(total, grad, values)``, ``values[k]``
    the member's soft-DTW (``inf`` where it overflows; the sums then are too).
    """
    n_members = offsets.shape[0] - 1
    n = z.shape[0]
    lo = np.zeros(n, dtype=np.int64)
    no_mask = np.zeros((0, 0), dtype=np.bool_)
    total = 0.0
    grad = np.zeros(z.shape)
    values = np.zeros(n_members)
    work = weights_workspace(n * np.max(offsets[1:] - offsets[:-1]))
    for k in range(n_members):
        if weights[k] == 0.0:
            continue
        # A copy: a slice of a 2-D array is typed as non-contiguous, and the kernel's
        # loops over it would not vectorise.
        x = np.ascontiguousarray(flat[offsets[k] : offsets[k + 1]])
        hi = np.full(n, x.shape[0], dtype=np.int64)
        value, soft_weights, ranges = soft_dtw_forward_into(z, x, lo, hi, no_mask, gamma, work)
        values[k] = value
        total += weights[k] * value
        grad += weights[k] * soft_dtw_grad_x(z, x, soft_weights, ranges)
    return total, grad, values


@njit(**SOFT_OPTIONS)
def soft_dtw_cross(q_flat, q_off, c_flat, c_off, gamma):
    """Soft-DTW values under the full window from every query to every centre (packed)."""
    n_queries = q_off.shape[0] - 1
    n_centres = c_off.shape[0] - 1
    out = np.empty((n_queries, n_centres))
    no_mask = np.zeros((0, 0), dtype=np.bool_)
    for a in range(n_queries):
        x = np.ascontiguousarray(q_flat[q_off[a] : q_off[a + 1]])  # see soft_dtw_objective
        lo = np.zeros(x.shape[0], dtype=np.int64)
        for b in range(n_centres):
            y = np.ascontiguousarray(c_flat[c_off[b] : c_off[b + 1]])
            hi = np.full(x.shape[0], y.shape[0], dtype=np.int64)
            out[a, b] = soft_dtw_value(x, y, lo, hi, no_mask, gamma)
    return out
