"""Per-row column bounds ``[lo, hi)`` of the windows that constrain a DTW path.

Every window here contains the *diagonal*: the cells whose interior the straight
line from cell (0, 0) to cell (n-1, m-1) passes through. That set is 8-connected
and monotone, so every window admits at least one warping path, and a
Sakoe-Chiba radius of 0 keeps the path on the cells the straight line crosses
(for equal lengths, the main diagonal). The construction is geometric, so
the bounds of the transposed problem are the transposed bounds.
"""

import numpy as np
from numba import njit

from ._flags import JIT_OPTIONS

FULL = 0
SAKOE_CHIBA = 1
ITAKURA = 2


@njit(**JIT_OPTIONS)
def diagonal_bounds(n, m):
    lo = np.zeros(n, dtype=np.int64)
    hi = np.empty(n, dtype=np.int64)
    if n == 1:
        hi[0] = m
        return lo, hi
    if m == 1:
        hi[:] = 1
        return lo, hi
    den = 2 * (n - 1)
    for i in range(n):
        # Twice the row's x extent, clipped to the segment [0, n-1].
        x_lo2 = max(2 * i - 1, 0)
        x_hi2 = min(2 * i + 1, 2 * (n - 1))
        # Columns j whose open interval (j-0.5, j+0.5) meets the line's y range.
        lo[i] = (x_lo2 * (m - 1) - (n - 1)) // den + 1
        hi[i] = -((-(x_hi2 * (m - 1) + (n - 1))) // den)
    return lo, hi


@njit(**JIT_OPTIONS)
def sakoe_chiba_bounds(n, m, radius):
    """The diagonal widened by ``radius`` cells along the longer sequence's axis.

    For equal lengths this is ``|i - j| <= radius``. Widening along the longer
    axis (the one a fraction of the longer length is measured on) keeps the
    band symmetric under transposition.
    """
    lo, hi = diagonal_bounds(n, m)
    if radius == 0:
        return lo, hi
    out_lo = np.empty(n, dtype=np.int64)
    out_hi = np.empty(n, dtype=np.int64)
    for i in range(n):
        if m >= n:
            out_lo[i] = max(lo[i] - radius, 0)
            out_hi[i] = min(hi[i] + radius, m)
        else:
            # Widening along rows: union of the rows within ``radius``, which is
            # contiguous because the diagonal is monotone and connected.
            out_lo[i] = lo[max(i - radius, 0)]
            out_hi[i] = hi[min(i + radius, n - 1)]
    return out_lo, out_hi


@njit(**JIT_OPTIONS)
def itakura_bounds(n, m, max_slope):
    lo, hi = diagonal_bounds(n, m)
    if n == 1 or m == 1:
        return lo, hi
    eps = 1e-9
    for i in range(n):
        u = i / (n - 1)
        v_min = max(u / max_slope, 1.0 - max_slope * (1.0 - u))
        v_max = min(max_slope * u, 1.0 - (1.0 - u) / max_slope)
        j_lo = int(np.ceil(v_min * (m - 1) - eps))
        j_hi = int(np.floor(v_max * (m - 1) + eps)) + 1
        if j_lo < j_hi:
            lo[i] = min(lo[i], max(j_lo, 0))
            hi[i] = max(hi[i], min(j_hi, m))
    return lo, hi


@njit(**JIT_OPTIONS)
def fraction_to_radius(fraction, n, m):
    return int(np.floor(fraction * max(n, m) + 0.5))


@njit(**JIT_OPTIONS)
def window_bounds(n, m, kind, param):
    """Bounds for a window given as ``(kind, param)``.

    ``param`` is the integer radius for Sakoe-Chiba when >= 0 and a fraction
    of the longer length encoded as ``-1 - fraction`` when negative; for
    Itakura it is the maximum slope.
    """
    if kind == SAKOE_CHIBA:
        if param >= 0:
            radius = int(param)
        else:
            radius = fraction_to_radius(-1.0 - param, n, m)
        return sakoe_chiba_bounds(n, m, radius)
    if kind == ITAKURA:
        return itakura_bounds(n, m, param)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, m, dtype=np.int64)
    return lo, hi
