"""Lower bounds of DTW with the squared Euclidean local cost: LB_Kim, LB_Keogh, LB_Improved.

Every bound here is in the units of the summed squared cost (``dtw_distance(...,
squared=True)``). Windows enter as per-row column bounds ``[lo[i], hi[i])`` that
must be non-decreasing (every band window is; a mask is widened to its monotone
hull by the caller), so envelopes are sliding minima and maxima computed in
O(n + m) with monotone deques (Lemire 2009).
"""

import numpy as np
from numba import njit

from ._flags import JIT_OPTIONS

# Depth of the LB_Kim hierarchy: the first and last three "L-shaped" layers.
KIM_DEPTH = 3


@njit(inline="always", **JIT_OPTIONS)
def _sqdist(x, i, y, j):
    total = 0.0
    for k in range(x.shape[1]):
        diff = x[i, k] - y[j, k]
        total += diff * diff
    return total


@njit(**JIT_OPTIONS)
def envelope(y, lo, hi):
    """Per-row minimum and maximum of ``y[lo[i]:hi[i]]``, channel by channel.

    Returns ``(lower, upper)`` of shape ``(len(lo), n_channels)``. ``lo`` and
    ``hi`` must be non-decreasing with ``lo[i] < hi[i]``.
    """
    n = lo.shape[0]
    channels = y.shape[1]
    lower = np.empty((n, channels))
    upper = np.empty((n, channels))
    max_queue = np.empty(y.shape[0], dtype=np.int64)
    min_queue = np.empty(y.shape[0], dtype=np.int64)
    for k in range(channels):
        max_head = max_tail = min_head = min_tail = 0
        pushed = 0
        for i in range(n):
            while pushed < hi[i]:
                value = y[pushed, k]
                while max_tail > max_head and y[max_queue[max_tail - 1], k] <= value:
                    max_tail -= 1
                max_queue[max_tail] = pushed
                max_tail += 1
                while min_tail > min_head and y[min_queue[min_tail - 1], k] >= value:
                    min_tail -= 1
                min_queue[min_tail] = pushed
                min_tail += 1
                pushed += 1
            while max_queue[max_head] < lo[i]:
                max_head += 1
            while min_queue[min_head] < lo[i]:
                min_head += 1
            upper[i, k] = y[max_queue[max_head], k]
            lower[i, k] = y[min_queue[min_head], k]
    return lower, upper


@njit(**JIT_OPTIONS)
def _layer_min(x, y, layer, from_end):
    """Smallest cost on the cells with ``max(i, j) == layer`` (counted from the end if asked)."""
    n = x.shape[0]
    m = y.shape[0]
    best = np.inf
    for step in range(layer + 1):
        # The layer is the row ``layer`` up to column ``layer`` and the column ``layer``
        # up to row ``layer``, clipped to the matrix.
        for i, j in ((layer, step), (step, layer)):
            if i < n and j < m:
                row = n - 1 - i if from_end else i
                col = m - 1 - j if from_end else j
                cost = _sqdist(x, row, y, col)
                if cost < best:
                    best = cost
    return best


@njit(**JIT_OPTIONS)
def lb_kim(x, y):
    """LB_Kim hierarchy: the cheapest cell of each of the first and last layers.

    Every path crosses each layer ``{(i, j): max(i, j) == k}`` because
    ``max(i, j)`` grows by at most one per step; layers counted from the start
    and from the end are disjoint while ``2 * depth <= max(n, m)``, so the sum
    of their minima is at most the cost of any path.
    """
    depth = min(KIM_DEPTH, max(x.shape[0], y.shape[0]) // 2)
    if depth == 0:
        return _sqdist(x, 0, y, 0)
    total = 0.0
    for layer in range(depth):
        total += _layer_min(x, y, layer, False) + _layer_min(x, y, layer, True)
    return total


@njit(**JIT_OPTIONS)
def lb_keogh_terms(x, lower, upper, terms):
    """Per-row LB_Keogh contributions of ``x`` against an envelope; returns their sum.

    ``terms[i]`` is the squared distance from ``x[i]`` to the box
    ``[lower[i], upper[i]]``, summed over channels.
    """
    total = 0.0
    for i in range(x.shape[0]):
        term = 0.0
        for k in range(x.shape[1]):
            value = x[i, k]
            if value > upper[i, k]:
                diff = value - upper[i, k]
                term += diff * diff
            elif value < lower[i, k]:
                diff = lower[i, k] - value
                term += diff * diff
        terms[i] = term
        total += term
    return total


@njit(**JIT_OPTIONS)
def lb_keogh(x, lower, upper):
    """Sum of :func:`lb_keogh_terms` (LB_Keogh of ``x`` against the envelope)."""
    return lb_keogh_terms(x, lower, upper, np.empty(x.shape[0]))


@njit(**JIT_OPTIONS)
def lb_improved(x, y, lower, upper, lo_t, hi_t):
    """LB_Improved (Lemire 2009): LB_Keogh plus the bound of ``y`` against the projection.

    ``lower`` and ``upper`` are the envelope of ``y`` along the rows of ``x``;
    ``lo_t`` and ``hi_t`` are the transposed window (rows of ``y``).
    """
    first = lb_keogh(x, lower, upper)
    projection = np.minimum(np.maximum(x, lower), upper)
    h_lower, h_upper = envelope(projection, lo_t, hi_t)
    return first + lb_keogh(y, h_lower, h_upper)


def monotone_hull(lo, hi):
    """Widen per-row bounds to non-decreasing ones (for masks); wider bounds stay valid."""
    lo = np.minimum.accumulate(np.asarray(lo, dtype=np.int64)[::-1])[::-1]
    hi = np.maximum.accumulate(np.asarray(hi, dtype=np.int64))
    return np.ascontiguousarray(lo), np.ascontiguousarray(hi)
