"""Stream kernels: SPRING's subsequence matching and on-line time warping.

Both keep their dynamic programme in arrays owned by the caller and process a
whole chunk of points per call, so that a Python loop never runs per point.
Costs are squared Euclidean over channels, as in :mod:`._dtw`.
"""

import numpy as np
from numba import njit

from ._dtw import _sqeuclidean
from ._flags import JIT_OPTIONS

_INF = np.inf

# Layout of SPRING's integer state: the stream time of the next point, and the
# pending candidate's start and end.
SPRING_TIME, SPRING_START, SPRING_END = 0, 1, 2

# Layout of on-line time warping's integer state.
OLTW_ROW, OLTW_COLUMN, OLTW_PREVIOUS, OLTW_RUN, OLTW_PENDING = 0, 1, 2, 3, 4
# Increments, as Dixon names them: a row is a live frame, a column a reference frame
# (0 is "none yet").
ROW, COLUMN, BOTH = 1, 2, 3


@njit(**JIT_OPTIONS)
def _report_ready(cost, start, best, end):
    """SPRING's rule: no cell of the column can still become a better overlapping match."""
    for i in range(cost.shape[0]):
        if cost[i] < best and start[i] <= end:
            return False
    return True


@njit(**JIT_OPTIONS)
def spring_chunk(query, points, threshold, root, cost, start, best, state, found):
    """Advance SPRING over ``points``; return the number of matches written to ``found``.

    ``cost[i]`` and ``start[i]`` hold the star-padded DP's last column (the
    cheapest summed cost of aligning ``query[:i + 1]`` with a stream
    subsequence ending at the last point, and that subsequence's start);
    ``best[0]`` is the pending candidate's cost, ``state`` its start and end
    and the next stream time. ``threshold`` applies to ``sqrt(cost)`` when
    ``root``. Each row of ``found`` (at least ``len(points)`` rows) gets
    ``start, end, cost`` of one reported match, in the order of reporting.
    """
    n = query.shape[0]
    n_found = 0
    for p in range(points.shape[0]):
        time = state[SPRING_TIME]
        # Row -1 is the star row: cost 0 at every time, so row 0 starts here.
        diag, diag_start = 0.0, time
        below, below_start = 0.0, time
        for i in range(n):
            local = _sqeuclidean(query, i, points, p)
            left, left_start = cost[i], start[i]
            low, low_start = diag, diag_start
            if below < low:
                low, low_start = below, below_start
            if left < low:
                low, low_start = left, left_start
            diag, diag_start = left, left_start
            cost[i] = local + low
            start[i] = low_start
            below, below_start = cost[i], start[i]
        pending = best[0]
        scale = np.sqrt(pending) if root else pending
        if scale <= threshold and _report_ready(cost, start, pending, state[SPRING_END]):
            found[n_found, 0] = state[SPRING_START]
            found[n_found, 1] = state[SPRING_END]
            found[n_found, 2] = pending
            n_found += 1
            for i in range(n):
                if start[i] <= state[SPRING_END]:
                    cost[i] = _INF
            best[0] = _INF
        last = cost[n - 1]
        scale = np.sqrt(last) if root else last
        if scale <= threshold and last < best[0]:
            best[0] = last
            state[SPRING_START] = start[n - 1]
            state[SPRING_END] = time
        state[SPRING_TIME] = time + 1
    return n_found


@njit(**JIT_OPTIONS)
def earliest_start(cost, start, best, state):
    """The earliest stream time a future match can start at (``state`` time if none)."""
    first = state[SPRING_TIME]
    if best[0] < _INF:
        first = min(first, state[SPRING_START])
    for i in range(cost.shape[0]):
        if cost[i] < _INF:
            first = min(first, start[i])
    return first


@njit(inline="always", **JIT_OPTIONS)
def _cell(acc, row_lo, row, col, top_row, top_col, width):
    """Accumulated cost of cell ``(row, col)``; ``inf`` outside the band kept in ``acc``."""
    if row < 0 or col < 0 or row <= top_row - width or col <= top_col - width:
        return _INF
    if row > top_row or col > top_col or col < row_lo[row % width]:
        return _INF
    return acc[row % width, col % width]


@njit(**JIT_OPTIONS)
def _evaluate(acc, row_lo, live, reference, row, col, top_row, top_col, width):
    """Dixon's recurrence, weights 1 (horizontal, vertical) and 2 (diagonal)."""
    local = _sqeuclidean(live, row % width, reference, col)
    if row == 0 and col == 0:
        acc[0, 0] = local
        return
    diag = _cell(acc, row_lo, row - 1, col - 1, top_row, top_col, width) + 2.0 * local
    up = _cell(acc, row_lo, row - 1, col, top_row, top_col, width) + local
    left = _cell(acc, row_lo, row, col - 1, top_row, top_col, width) + local
    low = diag if diag < up else up
    acc[row % width, col % width] = low if low < left else left


@njit(**JIT_OPTIONS)
def _add_row(acc, row_lo, live, reference, state, width):
    row = state[OLTW_ROW] + 1
    col = state[OLTW_COLUMN]
    first = max(0, col - width + 1)
    row_lo[row % width] = first
    state[OLTW_ROW] = row
    for k in range(first, col + 1):
        _evaluate(acc, row_lo, live, reference, row, k, row, col, width)


@njit(**JIT_OPTIONS)
def _add_column(acc, row_lo, live, reference, state, width):
    row = state[OLTW_ROW]
    col = state[OLTW_COLUMN] + 1
    state[OLTW_COLUMN] = col
    for r in range(max(0, row - width + 1), row + 1):
        _evaluate(acc, row_lo, live, reference, r, col, row, col, width)


@njit(**JIT_OPTIONS)
def _best_on_row(acc, row_lo, state, width):
    """Column of the cheapest cell of the last row, its cost normalised by the path weight."""
    row = state[OLTW_ROW]
    col = state[OLTW_COLUMN]
    best, best_col = _INF, col
    for k in range(max(row_lo[row % width], col - width + 1), col + 1):
        value = acc[row % width, k % width] / (row + k + 1)
        if value < best:
            best, best_col = value, k
    return best, best_col


@njit(**JIT_OPTIONS)
def _increment(acc, row_lo, state, width, max_run_count, n_reference):
    """Dixon's GetInc, without its diagonal start: which way the band grows next."""
    row = state[OLTW_ROW]
    col = state[OLTW_COLUMN]
    if col == n_reference - 1:
        return ROW
    if state[OLTW_RUN] > max_run_count:
        return COLUMN if state[OLTW_PREVIOUS] == ROW else ROW
    best, best_col = _best_on_row(acc, row_lo, state, width)
    best_row = row
    for r in range(max(0, row - width + 1), row):
        if row_lo[r % width] <= col:
            value = acc[r % width, col % width] / (r + col + 1)
            if value < best:
                best, best_row, best_col = value, r, col
    if best_row < row:
        return COLUMN
    if best_col < col:
        return ROW
    return BOTH


@njit(**JIT_OPTIONS)
def _count_run(state, increment):
    if increment == state[OLTW_PREVIOUS]:
        state[OLTW_RUN] += 1
    else:
        state[OLTW_RUN] = 1
    if increment != BOTH:
        state[OLTW_PREVIOUS] = increment


@njit(**JIT_OPTIONS)
def oltw_chunk(frames, reference, acc, row_lo, live, state, width, max_run_count, path, positions):
    """Consume live ``frames``; return the number of path points written to ``path``.

    ``acc`` (``width`` by ``width``) holds the band of accumulated costs,
    rows (live frames) and columns (reference frames) indexed modulo
    ``width``; ``row_lo`` the first column computed on each kept row;
    ``live`` the last ``width`` live frames. ``positions[f]`` gets the
    reference frame of the band's corner once live frame ``f`` is added and
    the band has grown towards its cheapest cell.
    """
    n_reference = reference.shape[0]
    n_path = 0
    for f in range(frames.shape[0]):
        row = state[OLTW_ROW] + 1
        live[row % width] = frames[f]
        if row == 0:
            state[OLTW_ROW] = 0
            _evaluate(acc, row_lo, live, reference, 0, 0, 0, 0, width)
            row_lo[0] = 0
            state[OLTW_PENDING] = _increment(acc, row_lo, state, width, max_run_count, n_reference)
        else:
            increment = state[OLTW_PENDING]
            _add_row(acc, row_lo, live, reference, state, width)
            if increment == BOTH:
                _add_column(acc, row_lo, live, reference, state, width)
            _count_run(state, increment)
            increment = _increment(acc, row_lo, state, width, max_run_count, n_reference)
            while increment == COLUMN:
                path[n_path, 0] = state[OLTW_ROW]
                path[n_path, 1] = state[OLTW_COLUMN]
                n_path += 1
                _add_column(acc, row_lo, live, reference, state, width)
                _count_run(state, increment)
                increment = _increment(acc, row_lo, state, width, max_run_count, n_reference)
            state[OLTW_PENDING] = increment
        path[n_path, 0] = state[OLTW_ROW]
        path[n_path, 1] = state[OLTW_COLUMN]
        n_path += 1
        positions[f] = state[OLTW_COLUMN]
    return n_path
