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
the new average, a bound the caller gives (k-means: its assignment's cost), or
the cost of the path through the band's diagonal cells. Each diagonal computes
the rows fed by a kept cell and keeps them from its first to its last cell
``<= U``: cells outside that run read as ``inf``, those inside it above ``U``
keep their (then possibly too high) cost. Why the path cannot change: by
induction a computed cost is never below the full DP's, and equals it
whenever the full DP's is ``<= U`` (its cheapest predecessor is then ``<= U``
too, so kept and exact). Every cell of an optimal path costs at most the
total, hence at most ``U``, and so does every predecessor that ties with the
cheapest: each cell's choice among its three predecessors, made in the
sweep, is the full DP's on every cell of the path. When rounding put the
total above ``U`` (the end cell is not kept) the member runs again without a
bound.

Members of one length (one band) are swept :data:`LANES` at a time in
lockstep, their cells of one row side by side, so that a diagonal is one
loop over rows and lanes that vectorises. A row is computed for every lane
or none, and kept while some lane keeps its cell: a lane then also computes
cells it would have skipped, with costs never below the full DP's (the same
induction), and still every cell its own sweep keeps, so nothing above
changes. Members are grouped by the tilt of their previous path (members
leaning alike keep alike rows); the paths are written first and the sums
added afterwards in member order.

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
# Members swept in lockstep by dba_step: one AVX-512 vector (two AVX ones) of float64.
LANES = 8


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
    differently by far less than :data:`SLACK`. Also returns the path's tilt:
    the mean of ``i * (m - 1) - j * (n - 1)`` over its cells (how far and
    which way it leans off the diagonal).
    """
    i = x.shape[0] - 1
    j = y.shape[0] - 1
    n_last = x.shape[0] - 1
    m_last = y.shape[0] - 1
    total = _cost(x, i, y, j)
    tilt = 0
    if x.shape[1] == 1:  # one channel: no loop over channels per cell
        xs = x[:, 0]
        ys = y[:, 0]
        for t in range(n_steps):
            i -= steps[t] != RIGHT
            j -= steps[t] != DOWN
            diff = xs[i] - ys[j]
            total += diff * diff
            tilt += i * m_last - j * n_last
        return total, tilt / (n_steps + 1)
    for t in range(n_steps):
        i -= steps[t] != RIGHT
        j -= steps[t] != DOWN
        total += _cost(x, i, y, j)
        tilt += i * m_last - j * n_last
    return total, tilt / (n_steps + 1)


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
def _relax(cur, before, last, xl, yl, start, end, shift, moves, offset):
    """Cells ``(i, d - i)`` of rows ``[start, end)`` of every lane into slot ``i + 1``.

    Slot ``s`` of member (lane) ``l`` is ``buffer[s * LANES + l]``; its row
    ``i`` of channel ``k`` is ``xl[k, i * LANES + l]`` and meets
    ``yl[k, (i + shift) * LANES + l]`` (the average reversed, each frame
    repeated for every lane); the backtrack choice goes to
    ``moves[(offset + i) * LANES + l]``. The rows of every lane are then one
    contiguous loop, which vectorises. Indices are unsigned (``shift`` and
    ``offset`` may be negative: the sums wrap to the right index): numba then
    adds no wrap-around test for negative ones.
    """
    width = np.uint64(LANES)
    low = np.uint64(start * LANES)
    high = np.uint64(end * LANES)
    y_gap = np.uint64(shift * LANES)
    code = np.uint64(offset * LANES)
    if xl.shape[0] == 1:
        xs = xl[0]
        ys = yl[0]
        for u in range(low, high):
            diag, up, left = before[u], last[u], last[u + width]
            diff = xs[u] - ys[u + y_gap]
            cur[u + width] = diff * diff + _min3(diag, up, left)
            moves[code + u] = _choice(diag, up, left)
        return
    # Channel-major passes, summed over channels in order as _dtw._relax_channels does.
    for u in range(low, high):
        cur[u + width] = 0.0
    for k in range(xl.shape[0]):
        xs = xl[k]
        ys = yl[k]
        for u in range(low, high):
            diff = xs[u] - ys[u + y_gap]
            cur[u + width] += diff * diff
    for u in range(low, high):
        diag, up, left = before[u], last[u], last[u + width]
        cur[u + width] += _min3(diag, up, left)
        moves[code + u] = _choice(diag, up, left)


@njit(inline="always", **JIT_OPTIONS)
def _dropped(cur, slot, bounds):
    """Whether every lane's cell in ``slot`` is above its bound; then set them inf."""
    kept = 0
    for lane in range(LANES):
        kept += cur[slot * LANES + lane] <= bounds[lane]
    if kept:
        return False
    for lane in range(LANES):
        cur[slot * LANES + lane] = _INF
    return True


@njit(inline="always", **JIT_OPTIONS)
def _trim(cur, start, stop, bounds):
    """Drop the rows of ``[start, stop)`` above every lane's bound at both ends."""
    while start < stop and _dropped(cur, start + 1, bounds):
        start += 1
    while stop > start and _dropped(cur, stop, bounds):
        stop -= 1
    return start, stop


@njit(inline="always", **JIT_OPTIONS)
def _clear(cur, first, last):
    """Set the slots ``[first, last)`` of every lane to inf."""
    for slot in range(first * LANES, last * LANES):
        cur[slot] = _INF


@njit(**JIT_OPTIONS)
def _sweep(xl, n, yl, lo, hi, bounds, buffers, moves, offsets, totals):
    """Anti-diagonal DP of :data:`LANES` members of length ``n`` (one band) at once.

    A row of a diagonal is computed for every member (lane) or none, and
    kept from the first to the last row where some lane's cell is ``<=`` its
    bound (``inf`` outside; a lane of bound -1 never keeps one). ``xl``,
    ``yl`` and the layouts are those of :func:`_relax`; ``buffers`` is three
    arrays of ``(n + 2) * LANES``; the choice of cell ``(i, d - i)`` goes to
    ``moves[(offsets[d] + i) * LANES + lane]`` (for every computed cell;
    those of a path are always computed). The totals (``inf`` when the end
    cell is not kept) go to ``totals``. Returns the number of rows computed.
    """
    m = yl.shape[1] // LANES
    before, last, cur = buffers
    before[:] = _INF
    last[:] = _INF
    cur[:] = _INF
    before[:LANES] = 0.0  # the virtual cell (-1, -1)
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
        _clear(cur, a3 + 1, min(b3, start) + 1)
        _clear(cur, max(a3, end) + 1, b3 + 1)
        offsets[d] = used - start
        _relax(cur, before, last, xl, yl, start, end, m - 1 - d, moves, used - start)
        used += end - start
        start, end = _trim(cur, start, end, bounds)
        if end == start and a1 >= b1:
            totals[:] = _INF  # two empty diagonals: no kept cell can follow
            return used
        a3, b3, a2, b2, a1, b1 = a2, b2, a1, b1, start, end
        before, last, cur = last, cur, before
    for lane in range(LANES):
        totals[lane] = last[n * LANES + lane]
    return used


@njit(**JIT_OPTIONS)
def _walk(moves, offsets, n, m, group, walked, steps, n_steps):
    """Walk the paths of the lanes ``walked`` back from ``(n-1, m-1)``, all at once.

    Lane ``l``'s moves go to ``steps[group[l]]`` (last first) and their
    number to ``n_steps[group[l]]``; the choice of its cell ``(i, j)`` is
    ``moves[(offsets[i + j] + i) * LANES + l]``. Each walk is a chain of
    dependent loads: interleaving the lanes overlaps them.
    """
    row = np.full(LANES, n - 1)
    diagonal = np.zeros(LANES, dtype=np.int64)
    count = np.zeros(LANES, dtype=np.int64)
    for lane in range(LANES):
        if walked[lane]:
            diagonal[lane] = n + m - 2
    busy = True
    while busy:
        busy = False
        for lane in range(LANES):
            d = diagonal[lane]
            if d <= 0:
                continue
            i = row[lane]
            move = moves[np.uint64((offsets[d] + i) * LANES + lane)]
            steps[group[lane], count[lane]] = move
            count[lane] += 1
            row[lane] = i - (move != RIGHT)
            diagonal[lane] = d - 1 - (move == DIAGONAL)
            busy = True
    for lane in range(LANES):
        if walked[lane]:
            n_steps[group[lane]] = count[lane]


@njit(**JIT_OPTIONS)
def _add_path(x, steps, n_steps, sums, counts, partial):
    """Add the frames of ``x`` along the path ``steps[:n_steps]`` (last move first) to ``sums``.

    Walked from ``(0, 0)``: the rows matched to frame ``j`` are consecutive,
    summed from 0 in row order into ``partial`` (one per channel), then
    ``sums[j] +=`` that sum: the same numbers in the same order as
    ``np.bincount`` over the path.
    """
    i = 0
    j = 0
    run = 1
    if x.shape[1] == 1:  # one channel: the partial sum stays in a register
        total = 0.0 + x[0, 0]
        for t in range(n_steps - 1, -1, -1):
            move = steps[t]
            i += move != RIGHT
            if move != DOWN:  # on to frame j + 1
                sums[j, 0] += total
                counts[j] += run
                j += 1
                total = 0.0
                run = 0
            total += x[i, 0]
            run += 1
        sums[j, 0] += total
        counts[j] += run
        return
    for c in range(x.shape[1]):
        partial[c] = 0.0 + x[0, c]
    for t in range(n_steps - 1, -1, -1):
        move = steps[t]
        i += move != RIGHT
        if move != DOWN:
            for c in range(x.shape[1]):
                sums[j, c] += partial[c]
                partial[c] = 0.0
            counts[j] += run
            j += 1
            run = 0
        for c in range(x.shape[1]):
            partial[c] += x[i, c]
        run += 1
    for c in range(x.shape[1]):
        sums[j, c] += partial[c]
    counts[j] += run


@njit(**JIT_OPTIONS)
def _sweep_group(flat_t, offsets, group, size, n, lo, hi, limits, work):
    """:func:`_sweep` of the members ``group[:size]`` (of length ``n``) under ``limits``.

    The lanes past ``size`` repeat the last member under bound -1 (they keep
    nothing). ``work`` is ``(xl, yl, buffers, moves, diagonals, bounds,
    totals)``, ``yl`` filled. Returns the number of cells computed.
    """
    xl, yl, buffers, moves, diagonals, bounds, totals = work
    for lane in range(LANES):
        first_row = offsets[group[min(lane, size - 1)]]
        for c in range(flat_t.shape[0]):
            for i in range(n):
                xl[c, i * LANES + lane] = flat_t[c, first_row + i]
        bounds[lane] = limits[lane] if lane < size else -1.0
    return size * _sweep(xl, n, yl, lo, hi, bounds, buffers, moves, diagonals, totals)


@njit(**JIT_OPTIONS)
def _align_group(flat_t, offsets, group, size, n, lo, hi, limits, work, out):
    """The paths of the members ``group[:size]`` (of length ``n``) into ``out``.

    Members whose total is above their limit (``limits[lane]``) run again
    without one. ``out`` is ``(costs, steps, n_steps)``; ``n_steps`` is -1
    where the total overflows. Returns the number of cells computed.
    """
    costs, steps, n_steps = out
    moves, diagonals, totals = work[3], work[4], work[6]
    m = work[1].shape[1] // LANES
    cells = _sweep_group(flat_t, offsets, group, size, n, lo, hi, limits, work)
    walked = np.zeros(LANES, dtype=np.bool_)
    again = np.empty(LANES, dtype=np.int64)
    n_again = 0
    for lane in range(size):
        if totals[lane] <= limits[lane]:  # an overflow (both inf) has no path to walk
            costs[group[lane]] = totals[lane]
            walked[lane] = totals[lane] != _INF
            if not walked[lane]:
                n_steps[group[lane]] = -1
        else:
            again[n_again] = group[lane]
            n_again += 1
    _walk(moves, diagonals, n, m, group, walked, steps, n_steps)
    if n_again:
        unbounded = np.full(LANES, _INF)
        cells += _sweep_group(flat_t, offsets, again, n_again, n, lo, hi, unbounded, work)
        walked[:] = False
        for lane in range(n_again):
            costs[again[lane]] = totals[lane]
            walked[lane] = totals[lane] != _INF
            n_steps[again[lane]] = -1  # overflow, unless walked
        _walk(moves, diagonals, n, m, again, walked, steps, n_steps)
    return cells


@njit(**JIT_OPTIONS)
def _limits(flat, offsets, average, steps, n_steps, bounds):
    """Every member's upper bound times :data:`SLACK` (see :func:`dba_step`) and tilt.

    The tilt is that of the member's previous path (0 for none, ``inf``
    without a finite bound).
    """
    limits = np.empty(offsets.shape[0] - 1)
    tilts = np.zeros(offsets.shape[0] - 1)
    for k in range(limits.shape[0]):
        x = flat[offsets[k] : offsets[k + 1]]
        bound = bounds[k]
        if n_steps[k] >= 0:
            cost, tilts[k] = _steps_cost(x, average, steps[k], n_steps[k])
            bound = min(bound, cost)
        elif bound == _INF:
            bound = _diagonal_path_cost(x, average)
        limits[k] = bound * SLACK
        if not limits[k] < _INF:
            tilts[k] = _INF
    return limits, tilts


@njit(**JIT_OPTIONS)
def _lockstep_order(row_starts, tilts):
    """The members by table, then by tilt: members whose paths lean alike keep alike
    rows, so that a group of lanes computes fewer rows only one of them needs."""
    by_tilt = np.argsort(tilts, kind="mergesort")
    return by_tilt[np.argsort(row_starts[by_tilt], kind="mergesort")]


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
    ``counts`` must start at zero. The members of one table are swept
    :data:`LANES` at a time; the sums are added afterwards, member after
    member. Returns the members' DTW costs (summed squared; ``inf`` on
    overflow, the member then adds nothing) and the number of DP cells
    computed.
    """
    n_members = offsets.shape[0] - 1
    m = average.shape[0]
    longest = np.max(offsets[1:] - offsets[:-1])
    band = 0
    for k in range(n_members):
        if k and row_starts[k] == row_starts[k - 1]:
            continue  # the same table as the member before
        cells = 0
        for row in range(row_starts[k], row_starts[k] + offsets[k + 1] - offsets[k]):
            cells += hi_flat[row] - lo_flat[row]
        band = max(band, cells)
    limits, tilts = _limits(flat, offsets, average, steps, n_steps, bounds)
    order = _lockstep_order(row_starts, tilts)
    yt = np.ascontiguousarray(average[::-1].T)
    slots = (longest + 2) * LANES
    work = (
        np.empty((flat.shape[1], longest * LANES)),
        np.repeat(yt, LANES).reshape(yt.shape[0], m * LANES),
        (np.empty(slots), np.empty(slots), np.empty(slots)),
        np.empty(band * LANES, dtype=np.uint8),
        np.empty(longest + m - 1, dtype=np.int64),
        np.empty(LANES),
        np.empty(LANES),
    )
    costs = np.empty(n_members)
    out = (costs, steps, n_steps)
    group = np.empty(LANES, dtype=np.int64)
    group_limits = np.empty(LANES)
    n_cells = 0
    size = 0
    for p in range(n_members):
        k = order[p]
        group[size] = k
        group_limits[size] = limits[k]
        size += 1
        if size == LANES or p + 1 == n_members or row_starts[order[p + 1]] != row_starts[k]:
            n = offsets[k + 1] - offsets[k]
            lo = lo_flat[row_starts[k] : row_starts[k] + n]
            hi = hi_flat[row_starts[k] : row_starts[k] + n]
            n_cells += _align_group(
                flat_t, offsets, group, size, n, lo, hi, group_limits, work, out
            )
            size = 0
    partial = np.empty(flat.shape[1])
    for k in range(n_members):  # in member order, as a loop over the members adds
        if n_steps[k] >= 0:
            x = flat[offsets[k] : offsets[k + 1]]
            _add_path(x, steps[k], n_steps[k], sums, counts, partial)
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
