"""Early-abandoning DTW, exact k-nearest-neighbour search with lower bounds, pairwise blocks.

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

_INF = np.inf
SLACK = 1.0 + 1e-9

# Layout of the statistics vector filled by knn_search.
STAT_PAIRS, STAT_KIM, STAT_KEOGH, STAT_ABANDONED, STAT_CELLS, STAT_ALL_CELLS = range(6)


@njit(inline="always", **JIT_OPTIONS)
def _min3(a, b, c):
    low = a if a < b else b
    return low if low < c else c


@njit(**JIT_OPTIONS)
def dtw_abandon_rows(x, y, lo, hi, threshold, remainder):
    """Row-by-row DTW that gives up once no path can cost ``threshold`` or less.

    After row ``i`` the cheapest cell of the row plus ``remainder[i + 1]`` (a
    lower bound of what rows ``i + 1 ..`` must still add; pass an empty array
    for none) is a lower bound of the total: when it exceeds ``threshold`` the
    result is ``inf``. Returns ``(total, cells)``, ``cells`` being the number
    of DP cells computed. Each cell is the same operations in the same order
    as in ``dtw_distance_diagonals``, so a completed total is the same number.
    """
    n = x.shape[0]
    m = y.shape[0]
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    with_remainder = remainder.shape[0] > 0
    univariate = x.shape[1] == 1
    cells = 0
    for i in range(n):
        cur[lo[i]] = _INF
        left = _INF
        row_min = _INF
        for j in range(lo[i], hi[i]):
            if univariate:
                diff = x[i, 0] - y[j, 0]
                cost = diff * diff
            else:
                cost = 0.0
                for k in range(x.shape[1]):
                    diff = x[i, k] - y[j, k]
                    cost += diff * diff
            left = cost + _min3(prev[j], prev[j + 1], left)
            cur[j + 1] = left
            if left < row_min:
                row_min = left
        cells += hi[i] - lo[i]
        if with_remainder:
            row_min += remainder[i + 1]
        if row_min > threshold:
            return _INF, cells
        prev, cur = cur, prev
    return prev[m], cells


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
def _first_bounds(q, t_flat, t_off, t_lower, t_upper, kind, param, use_bounds, stats):
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
            lo, hi = window_bounds(q.shape[0], last_length, kind, param)
            band_cells = np.sum(hi - lo)
        stats[STAT_ALL_CELLS] += band_cells
        if use_bounds:
            kim[c] = lb_kim(q, t_flat[start:stop])
            if last_length == q.shape[0]:
                keogh[c] = lb_keogh_terms(q, t_lower[start:stop], t_upper[start:stop], terms)
    return kim, keogh


@njit(**JIT_OPTIONS)
def _candidate(q, c, q_lower, q_upper, c_lower, c_upper, kind, param, threshold, use_bounds):
    """Pruned distance of one candidate: ``(total or inf, cells, pruned_by_keogh)``."""
    n = q.shape[0]
    lo, hi = window_bounds(n, c.shape[0], kind, param)
    if not use_bounds:
        total, cells = dtw_abandon_rows(q, c, lo, hi, _INF, np.empty(0))
        return total, cells, False
    if c.shape[0] != n:
        total, cells = dtw_abandon_rows(q, c, lo, hi, threshold, np.empty(0))
        return total, cells, False
    terms_q = np.empty(n)
    terms_c = np.empty(n)
    total_q = lb_keogh_terms(q, c_lower, c_upper, terms_q)
    total_c = lb_keogh_terms(c, q_lower, q_upper, terms_c)
    if total_c > threshold:
        return _INF, 0, True
    # Equal lengths: the band is symmetric, so the DP may run along either
    # sequence; run it along the one whose bound is tighter.
    remainder = np.empty(n + 1)
    if total_q >= total_c:
        total, cells = dtw_abandon_rows(q, c, lo, hi, threshold, _suffix_sums(terms_q, remainder))
    else:
        total, cells = dtw_abandon_rows(c, q, lo, hi, threshold, _suffix_sums(terms_c, remainder))
    return total, cells, False


@njit(**JIT_OPTIONS)
def _search_one(
    q, t_flat, t_off, t_lower, t_upper, kind, param, use_bounds, dist_row, idx_row, stats
):
    n_train = t_off.shape[0] - 1
    dist_row[:] = _INF
    idx_row[:] = n_train
    lo, hi = window_bounds(q.shape[0], q.shape[0], kind, param)
    q_lower, q_upper = envelope(q, lo, hi)
    kim, keogh = _first_bounds(q, t_flat, t_off, t_lower, t_upper, kind, param, use_bounds, stats)
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
            param,
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
def knn_search(q_flat, q_off, t_flat, t_off, t_lower, t_upper, kind, param, k, use_bounds):
    """The ``k`` nearest training sequences of every query, exactly.

    ``t_lower`` / ``t_upper`` hold each training sequence's envelope along its
    own length (packed like ``t_flat``). With ``use_bounds`` the search prunes
    with LB_Kim, LB_Keogh in both directions (equal lengths only) and
    early-abandoning DTW with the LB_Keogh remainder; without, every pair runs
    the full DP. Returns ``(distances, indices, stats)``: summed costs and
    training indices of shape ``(n_queries, k)``, sorted by (cost, index), and
    the counters indexed by the ``STAT_*`` constants.
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
            param,
            use_bounds,
            distances[a],
            indices[a],
            stats,
        )
    return distances, indices, stats


@njit(**JIT_OPTIONS)
def dtw_block(x_flat, x_off, y_flat, y_off, kind, param, row_start, row_stop, upper):
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
                x, y_flat[y_off[b] : y_off[b + 1]], kind, param
            )
    return out
