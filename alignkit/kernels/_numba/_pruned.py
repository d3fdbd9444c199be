"""PrunedDTW, exact k-NN search with lower bounds, pairwise blocks, banded subsequence costs.

Costs are summed squared Euclidean costs, as in :mod:`._dtw`. A collection is
packed as one ``(total_timepoints, n_channels)`` array plus ``offsets``:
sequence ``k`` is ``flat[offsets[k]:offsets[k + 1]]``.

Floating-point safety: a bound and a DP total are sums rounded in different
orders, so a bound that is mathematically <= the distance can exceed the
computed distance by a few ulps. Comparisons against the best-so-far use
``threshold * SLACK`` (a relative margin far above the rounding error of any
sum of under 10**6 terms), so pruning never changes a neighbour, ties included.
"""

import numpy as np
from numba import njit

from ._bounds import window_bounds
from ._dtw import dtw_distance_pair
from ._flags import JIT_OPTIONS
from ._lower_bounds import envelope, lb_keogh_terms, lb_kim
from ._steps import steps_matrix

_INF = np.inf
SLACK = 1.0 + 1e-9

# Mean band width (cells per row) from which the anti-diagonal sweep of
# _dtw.py beats a row sweep (measured at 150 and 500 timepoints).
DIAGONAL_SWEEP_WIDTH = 16

# Layout of the statistics vector filled by knn_search.
STAT_PAIRS, STAT_KIM, STAT_KEOGH, STAT_ABANDONED, STAT_CELLS, STAT_ALL_CELLS = range(6)


@njit(inline="always", **JIT_OPTIONS)
def _min3(a, b, c):
    low = a if a < b else b
    return low if low < c else c


@njit(inline="always", **JIT_OPTIONS)
def _cost(x, i, y, j, univariate):
    if univariate:
        diff = x[i, 0] - y[j, 0]
        return diff * diff
    total = 0.0
    for k in range(x.shape[1]):
        diff = x[i, k] - y[j, k]
        total += diff * diff
    return total


@njit(**JIT_OPTIONS)
def dtw_pruned(x, y, lo, hi, upper_bound, remainder):
    """PrunedDTW (Silva & Batista 2016): DTW that skips the cells above an upper bound.

    A cell ``(i, j)`` whose accumulated cost plus ``remainder[i + 1]`` (a
    lower bound of what rows ``i + 1 ..`` must still add; pass an empty array
    for none) exceeds ``upper_bound`` lies on no path of total
    ``<= upper_bound``, and is read as ``inf``. Each row starts at the first
    column where the previous row kept a cell (the cells to its left only
    descend from pruned cells) and, past the previous row's last kept column,
    where only the left neighbour can feed a cell, stops at the first pruned
    cell. A row without a kept cell ends the DP (early abandoning).

    Returns ``(total, cells)``: the DTW when it is ``<= upper_bound`` and
    ``inf`` otherwise, and the number of DP cells computed. ``lo`` and ``hi``
    must be non-decreasing. Each cell is the same operations in the same order
    as in ``dtw_distance_diagonals``, and every cell of cost ``<= upper_bound``
    (remainder included) reads exact predecessors, so a total within the bound
    is the same number as the full DP's.
    """
    n = x.shape[0]
    m = y.shape[0]
    # Slot j + 1 holds column j, slot 0 the virtual column -1, slot m + 1 a
    # sentinel for column m.
    prev = np.full(m + 2, _INF)
    cur = np.full(m + 2, _INF)
    prev[0] = 0.0
    kept_lo = -1
    kept_hi = -1
    with_remainder = remainder.shape[0] > 0
    univariate = x.shape[1] == 1
    cells = 0
    for i in range(n):
        bound = upper_bound - remainder[i + 1] if with_remainder else upper_bound
        # The previous row is read on columns kept_lo - 1 .. kept_hi + 1 only:
        # its pruned cells at both ends become inf.
        if kept_lo >= 0:
            prev[kept_lo] = _INF
        prev[kept_hi + 2] = _INF
        start = max(kept_lo, lo[i])
        stop = min(kept_hi + 2, hi[i])
        left = _INF
        j = start
        # Leading cells above the bound: the row's kept range starts after them.
        while j < stop:
            left = _cost(x, i, y, j, univariate) + _min3(prev[j], prev[j + 1], left)
            cur[j + 1] = left
            j += 1
            if left <= bound:
                break
        first = j - 1 if left <= bound else -1
        while j < stop:
            left = _cost(x, i, y, j, univariate) + _min3(prev[j], prev[j + 1], left)
            cur[j + 1] = left
            j += 1
        # Past the previous row's kept cells only the left neighbour feeds a
        # cell: the row ends at its first pruned cell.
        while j < hi[i] and left <= bound:
            left = _cost(x, i, y, j, univariate) + left
            cur[j + 1] = left
            j += 1
        cells += j - start
        if first < 0:
            return _INF, cells
        # The last kept cell, found once per row rather than tested per cell.
        last = j - 1
        while cur[last + 1] > bound:
            last -= 1
        kept_lo = first
        kept_hi = last
        prev, cur = cur, prev
    if kept_hi < m - 1:
        return _INF, cells
    return prev[m], cells


@njit(**JIT_OPTIONS)
def diagonal_cost(x, y, limit):
    """Cost of the diagonal path of two equal-length sequences, ``inf`` once above ``limit``.

    Summed in the DP's order, so it is never below the computed DTW under
    any window (every window contains the diagonal). Returns ``(cost, cells)``.
    """
    univariate = x.shape[1] == 1
    total = 0.0
    for i in range(x.shape[0]):
        total += _cost(x, i, y, i, univariate)
        if total > limit:
            return _INF, i + 1
    return total, x.shape[0]


@njit(**JIT_OPTIONS)
def _suffix_sums(terms, out):
    """``out[i] = sum(terms[i:])`` with ``out[len(terms)] = 0``."""
    out[terms.shape[0]] = 0.0
    for i in range(terms.shape[0] - 1, -1, -1):
        out[i] = out[i + 1] + terms[i]
    return out


@njit(inline="always", **JIT_OPTIONS)
def _before(d1, i1, d2, i2):
    return d1 < d2 or (d1 == d2 and i1 < i2)


@njit(**JIT_OPTIONS)
def _insert(dist_row, idx_row, distance, index):
    """Insert into the sorted k best, ordered by (distance, index) like a stable sort."""
    k = dist_row.shape[0]
    if not _before(distance, index, dist_row[k - 1], idx_row[k - 1]):
        return
    p = k - 1
    while p > 0 and _before(distance, index, dist_row[p - 1], idx_row[p - 1]):
        dist_row[p] = dist_row[p - 1]
        idx_row[p] = idx_row[p - 1]
        p -= 1
    dist_row[p] = distance
    idx_row[p] = index


@njit(**JIT_OPTIONS)
def _first_bounds(q, t_flat, t_off, t_lower, t_upper, kind, radius, value, use_bounds, stats):
    """LB_Kim and forward LB_Keogh (equal lengths) of every candidate; counts band cells."""
    n_train = t_off.shape[0] - 1
    kim = np.zeros(n_train)
    keogh = np.zeros(n_train)
    terms = np.empty(q.shape[0])
    last_length = -1
    band_cells = 0
    for c in range(n_train):
        start, stop = t_off[c], t_off[c + 1]
        if stop - start != last_length:
            last_length = stop - start
            lo, hi = window_bounds(q.shape[0], last_length, kind, radius, value)
            band_cells = np.sum(hi - lo)
        stats[STAT_ALL_CELLS] += band_cells
        if use_bounds:
            kim[c] = lb_kim(q, t_flat[start:stop])
            if last_length == q.shape[0]:
                keogh[c] = lb_keogh_terms(q, t_lower[start:stop], t_upper[start:stop], terms)
    return kim, keogh


@njit(**JIT_OPTIONS)
def _candidate(
    q, c, q_lower, q_upper, c_lower, c_upper, kind, radius, value, threshold, use_bounds
):
    """Pruned distance of one candidate: ``(total or inf, cells, pruned_by_keogh)``."""
    n = q.shape[0]
    lo, hi = window_bounds(n, c.shape[0], kind, radius, value)
    band_cells = np.sum(hi - lo)
    if c.shape[0] == n and band_cells == n:
        # The band is the diagonal (radius 0): the DTW is the diagonal cost.
        total, cells = diagonal_cost(q, c, threshold if use_bounds else _INF)
        return total, cells, False
    if not use_bounds or (threshold == _INF and c.shape[0] != n):
        # Nothing to prune with.
        if band_cells >= DIAGONAL_SWEEP_WIDTH * n:
            return dtw_distance_pair(q, c, kind, radius, value), band_cells, False
        total, cells = dtw_pruned(q, c, lo, hi, _INF, np.empty(0))
        return total, cells, False
    if c.shape[0] != n:
        total, cells = dtw_pruned(q, c, lo, hi, threshold, np.empty(0))
        return total, cells, False
    terms_q = np.empty(n)
    terms_c = np.empty(n)
    total_q = lb_keogh_terms(q, c_lower, c_upper, terms_q)
    total_c = lb_keogh_terms(c, q_lower, q_upper, terms_c)
    if total_c > threshold:
        return _INF, 0, True
    # The diagonal path's cost bounds the DTW from above: with it PrunedDTW
    # prunes even before k neighbours are known.
    diagonal, cells = diagonal_cost(q, c, threshold)
    upper_bound = min(threshold, diagonal * SLACK)
    # Equal lengths: the band is symmetric, so the DP may run along either
    # sequence; run it along the one whose bound is tighter.
    remainder = np.empty(n + 1)
    if total_q >= total_c:
        total, dp_cells = dtw_pruned(q, c, lo, hi, upper_bound, _suffix_sums(terms_q, remainder))
    else:
        total, dp_cells = dtw_pruned(c, q, lo, hi, upper_bound, _suffix_sums(terms_c, remainder))
    return total, cells + dp_cells, False


@njit(**JIT_OPTIONS)
def _search_one(
    q, t_flat, t_off, t_lower, t_upper, kind, radius, value, use_bounds, dist_row, idx_row, stats
):
    n_train = t_off.shape[0] - 1
    dist_row[:] = _INF
    idx_row[:] = n_train
    lo, hi = window_bounds(q.shape[0], q.shape[0], kind, radius, value)
    q_lower, q_upper = envelope(q, lo, hi)
    kim, keogh = _first_bounds(
        q, t_flat, t_off, t_lower, t_upper, kind, radius, value, use_bounds, stats
    )
    stats[STAT_PAIRS] += n_train
    # Visiting candidates by increasing bound lowers the best-so-far early and
    # lets the first bound above it end the search.
    order = np.argsort(np.maximum(kim, keogh), kind="mergesort")
    for position in range(n_train):
        c = order[position]
        threshold = dist_row[-1] * SLACK
        if kim[c] > threshold or keogh[c] > threshold:
            for rest in order[position:]:
                stats[STAT_KIM if kim[rest] > threshold else STAT_KEOGH] += 1
            return
        start, stop = t_off[c], t_off[c + 1]
        total, cells, by_keogh = _candidate(
            q,
            t_flat[start:stop],
            q_lower,
            q_upper,
            t_lower[start:stop],
            t_upper[start:stop],
            kind,
            radius,
            value,
            threshold,
            use_bounds,
        )
        stats[STAT_CELLS] += cells
        if by_keogh:
            stats[STAT_KEOGH] += 1
        elif total == _INF:
            stats[STAT_ABANDONED] += 1
        else:
            _insert(dist_row, idx_row, total, c)


@njit(**JIT_OPTIONS)
def knn_search(q_flat, q_off, t_flat, t_off, t_lower, t_upper, kind, radius, value, k, use_bounds):
    """The ``k`` nearest training sequences of every query, exactly.

    ``t_lower`` / ``t_upper`` hold each training sequence's envelope along its
    own length (packed like ``t_flat``). With ``use_bounds`` the search prunes
    with LB_Kim, LB_Keogh in both directions (equal lengths only) and runs
    PrunedDTW under the best-so-far (and, for equal lengths, the diagonal
    path's cost) with the LB_Keogh remainder; without, every pair runs the
    full DP (the anti-diagonal sweep where the band is wide).
    ``stats[STAT_CELLS]`` counts the DP cells computed and the local costs of
    the diagonal paths. Returns ``(distances, indices, stats)``: summed costs
    and training indices of shape ``(n_queries, k)``, sorted by (cost, index),
    and the counters indexed by the ``STAT_*`` constants.
    """
    n_queries = q_off.shape[0] - 1
    distances = np.empty((n_queries, k))
    indices = np.empty((n_queries, k), dtype=np.int64)
    stats = np.zeros(6)
    for a in range(n_queries):
        _search_one(
            q_flat[q_off[a] : q_off[a + 1]],
            t_flat,
            t_off,
            t_lower,
            t_upper,
            kind,
            radius,
            value,
            use_bounds,
            distances[a],
            indices[a],
            stats,
        )
    return distances, indices, stats


@njit(**JIT_OPTIONS)
def dtw_block(x_flat, x_off, y_flat, y_off, kind, radius, value, row_start, row_stop, upper):
    """Rows ``row_start:row_stop`` of the summed-cost matrix between two packed collections.

    With ``upper`` (``x`` and ``y`` the same collection) only entries right
    of the diagonal are computed; the others stay zero.
    """
    n_y = y_off.shape[0] - 1
    out = np.zeros((row_stop - row_start, n_y))
    for a in range(row_start, row_stop):
        x = x_flat[x_off[a] : x_off[a + 1]]
        for b in range(a + 1 if upper else 0, n_y):
            out[a - row_start, b] = dtw_distance_pair(
                x, y_flat[y_off[b] : y_off[b + 1]], kind, radius, value
            )
    return out


@njit(**JIT_OPTIONS)
def _banded_last_row(x, y, lo, hi, cell_ok, prev, cur):
    """Symmetric1 DP over per-row bounds (any shape), rows kept in two dense buffers.

    Slot ``j + 1`` holds column ``j``, slot 0 the virtual column -1. Both
    buffers are reset on entry (O(their length), less than one DP row per
    column); within the DP a buffer is reset only on the slots it was last
    written on. Returns the buffer holding the last row.
    """
    masked = cell_ok.shape[0] > 0
    univariate = x.shape[1] == 1
    prev[:] = _INF
    cur[:] = _INF
    prev[0] = 0.0
    # Slots written in the buffers about to be reused (cur) and read (prev).
    stale_lo, stale_hi = 0, 0
    prev_lo, prev_hi = 0, 1
    position = 0
    for i in range(x.shape[0]):
        cur[stale_lo:stale_hi] = _INF
        left = _INF
        for j in range(lo[i], hi[i]):
            if masked and not cell_ok[position + j - lo[i]]:
                left = _INF
            else:
                left = _cost(x, i, y, j, univariate) + _min3(prev[j], prev[j + 1], left)
            cur[j + 1] = left
        position += hi[i] - lo[i]
        stale_lo, stale_hi = prev_lo, prev_hi
        prev_lo, prev_hi = lo[i] + 1, hi[i] + 1
        prev, cur = cur, prev
    return prev


@njit(**JIT_OPTIONS)
def banded_subsequence_costs(x, y, di, dj, weight, starts, lo, hi, cell_ok, symmetric1):
    """Best windowed match of ``x`` ending at each column of ``y``, over every start.

    For a start ``s`` the window is the per-row bounds ``[lo[i], hi[i])`` (and
    the flat mask ``cell_ok`` aligned with them, or an empty array) in columns
    relative to ``s``, clipped to the end of ``y``; a DP from ``(0, s)`` gives,
    in its last row, the cost of every end: ``steps_matrix`` for the step
    pattern given as a table, or a two-row loop when ``symmetric1``. Returns
    ``(cost, first)``: for each end column the smallest cost (``inf`` if none)
    and the earliest start reaching it.
    """
    n = x.shape[0]
    m = y.shape[0]
    cost = np.full(m, _INF)
    first = np.full(m, -1, dtype=np.int64)
    masked = cell_ok.shape[0] > 0
    clipped_hi = np.empty(n, dtype=np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    prev = np.full(np.max(hi) + 1, _INF)
    cur = np.full(np.max(hi) + 1, _INF)
    for s in range(m):
        for i in range(n):
            clipped_hi[i] = max(min(hi[i], m - s), lo[i])
            offsets[i + 1] = offsets[i] + clipped_hi[i] - lo[i]
        if clipped_hi[n - 1] == lo[n - 1]:
            # The last row has no column left: no longer start can end a match.
            break
        ok = np.empty(offsets[n] if masked else 0, dtype=np.bool_)
        if masked:
            source = 0
            for i in range(n):
                width = clipped_hi[i] - lo[i]
                ok[offsets[i] : offsets[i] + width] = cell_ok[source : source + width]
                source += hi[i] - lo[i]
        if symmetric1:
            last = _banded_last_row(x, y[s:], lo, clipped_hi, ok, prev, cur)
            for j in range(lo[n - 1], clipped_hi[n - 1]):
                _keep(cost, first, s, j, last[j + 1])
            continue
        acc, _ = steps_matrix(x, y[s:], di, dj, weight, starts, lo, clipped_hi, offsets, ok, False)
        for j in range(lo[n - 1], clipped_hi[n - 1]):
            _keep(cost, first, s, j, acc[offsets[n - 1] + j - lo[n - 1]])
    return cost, first


@njit(inline="always", **JIT_OPTIONS)
def _keep(cost, first, start, j, total):
    if total < cost[start + j]:
        cost[start + j] = total
        first[start + j] = start
