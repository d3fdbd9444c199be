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

# Window kind codes of :func:`window_bounds` (see :func:`window_spec`).
FULL = 0
RADIUS = 1
FRACTION = 2
ITAKURA = 3


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
    # A radius of max(n, m) covers every cell; more would overflow ``hi + radius``.
    radius = min(radius, max(n, m))
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
def window_bounds(n, m, kind, radius, value):
    """Bounds for a window given by an explicit kind code.

    ``radius`` (int) is read for ``RADIUS``, ``value`` (float) for
    ``FRACTION`` (the fraction of the longer length) and ``ITAKURA`` (the
    maximum slope); the other argument is ignored. A radius beyond the problem
    is clamped to ``max(n, m)``, which covers every cell.
    """
    if kind == RADIUS:
        return sakoe_chiba_bounds(n, m, min(radius, max(n, m)))
    if kind == FRACTION:
        return sakoe_chiba_bounds(n, m, fraction_to_radius(value, n, m))
    if kind == ITAKURA:
        return itakura_bounds(n, m, value)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, m, dtype=np.int64)
    return lo, hi


def window_spec(window, n, m):
    """``(kind, radius, value)`` of a parsed window for problems of at most ``n`` by ``m``.

    ``window`` is an :class:`alignkit.core.window.Window` without a mask (read
    by its fields; kernels import no other layer), or None for the full
    window. The radius is clamped to ``max(n, m)``, so it always fits an int64.
    """
    if window is None:
        return FULL, 0, 0.0
    if window.slope is not None:
        return ITAKURA, 0, float(window.slope)
    if window.fraction is not None:
        return FRACTION, 0, float(window.fraction)
    if window.radius is not None and window.radius < max(n, m):
        return RADIUS, int(window.radius), 0.0
    return FULL, 0, 0.0


def band_bounds(window, n, m):
    """Per-row bounds ``(lo, hi)`` and the flat cell mask of a parsed window for ``n`` by ``m``.

    The cell mask is empty unless the window is a mask of shape ``(n, m)``;
    then it holds the allowed flags of the cells ``[lo[i], hi[i])`` row after row.
    None is the full window.
    """
    if window is None or window.mask is None:
        lo, hi = window_bounds(n, m, *window_spec(window, n, m))
        return lo, hi, np.zeros(0, dtype=np.bool_)
    rows = window.mask
    lo = np.argmax(rows, axis=1).astype(np.int64)
    hi = (m - np.argmax(rows[:, ::-1], axis=1)).astype(np.int64)
    cell_ok = np.concatenate([rows[i, lo[i] : hi[i]] for i in range(n)])
    return lo, hi, cell_ok
