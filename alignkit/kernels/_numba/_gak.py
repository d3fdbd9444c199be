"""The global alignment kernel (Cuturi et al. 2007), exact at any length.

``R[i + 1, j + 1]`` is the log of the sum, over every alignment of ``x[: i + 1]``
with ``y[: j + 1]``, of the product of the local kernels of the aligned cells::

    R[i + 1, j + 1] = log_kappa(x[i], y[j]) + logsumexp(R[i, j], R[i, j + 1], R[i + 1, j])

with ``R[0, 0] = 0`` and ``-inf`` elsewhere on the boundary. The local kernel
is Cuturi's (2011) ``kappa = g / (2 - g)`` of the Gaussian
``g = exp(-|x[i] - y[j]| ** 2 / (2 sigma ** 2))``, whose ``kappa / (1 + kappa)
= g / 2`` is positive definite, so the whole kernel is. The kernel itself
grows like the Delannoy numbers and leaves float64 beyond a few hundred
timepoints; its log never does. :func:`gak_log` first runs the recursion in
linear space with every row scaled by its maximum (one exponential a cell),
which is exact while no cell falls below the smallest normal float, and
otherwise the log-space recursion (five transcendental calls a cell). Two
rows are kept; row ``i`` holds the columns ``[lo[i], hi[i])`` (and, where
``cell_ok`` is not empty, the cells of the flat mask it flags); every other
cell is ``-inf`` (0 in linear space)."""

import numpy as np
from numba import njit

from ._bounds import window_bounds
from ._flags import JIT_OPTIONS

_NEG_INF = -np.inf
# The smallest normal float64: below it a value loses digits (or flushes to 0).
_TINY = np.finfo(np.float64).tiny


@njit(inline="always", **JIT_OPTIONS)
def _log_local(x, i, y, j, scale):
    """``log(g / (2 - g))`` with ``log(g) = -|x[i] - y[j]| ** 2 * scale``."""
    total = 0.0
    for k in range(x.shape[1]):
        diff = x[i, k] - y[j, k]
        total += diff * diff
    log_g = -total * scale
    return log_g - np.log(2.0 - np.exp(log_g))


@njit(inline="always", **JIT_OPTIONS)
def _log_sum3(a, b, c):
    """``log(exp(a) + exp(b) + exp(c))`` with the largest factored out; ``-inf`` if all are."""
    if a >= b and a >= c:
        top, rest = a, np.exp(b - a) + np.exp(c - a)
    elif b >= c:
        top, rest = b, np.exp(a - b) + np.exp(c - b)
    else:
        top, rest = c, np.exp(a - c) + np.exp(b - c)
    if top == _NEG_INF:
        return _NEG_INF
    return top + np.log1p(rest)


@njit(**JIT_OPTIONS)
def gak_log_space(x, y, lo, hi, cell_ok, sigma):
    """:func:`gak_log` with every cell in log space: exact whatever the magnitudes."""
    n, m = x.shape[0], y.shape[0]
    scale = 1.0 / (2.0 * sigma * sigma)
    use_mask = cell_ok.shape[0] > 0
    prev = np.full(m + 1, _NEG_INF)
    cur = np.full(m + 1, _NEG_INF)
    prev[0] = 0.0
    # Buffer columns [stale_lo, stale_hi) of ``cur`` hold values of two rows ago.
    stale_lo, stale_hi = 0, 0
    prev_lo, prev_hi = 0, 1
    offset = 0
    for i in range(n):
        for t in range(stale_lo, stale_hi):
            cur[t] = _NEG_INF
        for j in range(lo[i], hi[i]):
            if use_mask and not cell_ok[offset + j - lo[i]]:
                continue
            best = _log_sum3(prev[j], prev[j + 1], cur[j])
            if best != _NEG_INF:
                cur[j + 1] = best + _log_local(x, i, y, j, scale)
        offset += hi[i] - lo[i]
        stale_lo, stale_hi = prev_lo, prev_hi
        prev_lo, prev_hi = lo[i] + 1, hi[i] + 1
        prev, cur = cur, prev
    return prev[m]


@njit(**JIT_OPTIONS)
def gak_log_pair(x, y, kind, radius, value, sigma):
    """:func:`gak_log` under a band given by its kind code (see ``_bounds.window_bounds``)."""
    lo, hi = window_bounds(x.shape[0], y.shape[0], kind, radius, value)
    return gak_log(x, y, lo, hi, np.zeros(0, dtype=np.bool_), sigma)


@njit(**JIT_OPTIONS)
def gak_log_rows(x_flat, x_off, y_flat, y_off, start, stop, upper, kind, radius, value, sigma):
    """Log kernels of rows ``[start, stop)`` of the matrix between two packed collections.

    Sequence ``k`` of a collection is ``flat[off[k]:off[k + 1]]``. Returns an
    array of shape ``(stop - start, n_y)``; with ``upper`` (``x`` and ``y``
    the same collection) only the entries on and right of the diagonal are
    computed, the others are left at 0.
    """
    n_y = y_off.shape[0] - 1
    out = np.zeros((stop - start, n_y))
    for a in range(start, stop):
        x = x_flat[x_off[a] : x_off[a + 1]]
        for b in range(a if upper else 0, n_y):
            y = y_flat[y_off[b] : y_off[b + 1]]
            out[a - start, b] = gak_log_pair(x, y, kind, radius, value, sigma)
    return out


@njit(**JIT_OPTIONS)
def gak_log_scaled(x, y, lo, hi, cell_ok, sigma):
    """``(log k, exact)``: the recursion in linear space, each row scaled by its maximum.

    Additions and products of positive normal floats lose at most a few ulps
    each, so the result is exact to about ``(n + m) * 1e-16`` relative, unless
    some cell falls below the smallest normal float (a local kernel that
    underflows, a cell far below its row's maximum, an unreachable cell of a
    mask): then ``exact`` is False and the value must come from
    :func:`gak_log_space`.
    """
    n, m = x.shape[0], y.shape[0]
    scale = 1.0 / (2.0 * sigma * sigma)
    use_mask = cell_ok.shape[0] > 0
    prev = np.zeros(m + 1)
    cur = np.zeros(m + 1)
    prev[0] = 1.0
    log_scale = 0.0
    stale_lo, stale_hi = 0, 0
    prev_lo, prev_hi = 0, 1
    offset = 0
    for i in range(n):
        for t in range(stale_lo, stale_hi):
            cur[t] = 0.0
        top = 0.0
        for j in range(lo[i], hi[i]):
            if use_mask and not cell_ok[offset + j - lo[i]]:
                continue
            total = 0.0
            for k in range(x.shape[1]):
                diff = x[i, k] - y[j, k]
                total += diff * diff
            gauss = np.exp(-total * scale)
            value = (prev[j] + prev[j + 1] + cur[j]) * (gauss / (2.0 - gauss))
            if not value >= _TINY:
                return 0.0, False
            cur[j + 1] = value
            top = max(top, value)
        inverse = 1.0 / top
        for j in range(lo[i] + 1, hi[i] + 1):
            if cur[j] != 0.0:
                cur[j] *= inverse
                if cur[j] < _TINY:
                    return 0.0, False
        log_scale += np.log(top)
        offset += hi[i] - lo[i]
        stale_lo, stale_hi = prev_lo, prev_hi
        prev_lo, prev_hi = lo[i] + 1, hi[i] + 1
        prev, cur = cur, prev
    return np.log(prev[m]) + log_scale, True


@njit(**JIT_OPTIONS)
def gak_log(x, y, lo, hi, cell_ok, sigma):
    """Log of the unnormalised global alignment kernel of ``x`` and ``y`` within the bounds.

    ``x`` and ``y`` are float64 arrays of shape ``(n, d)`` and ``(m, d)``;
    ``lo``, ``hi`` the per-row column bounds; ``cell_ok`` empty or the flat
    allowed flags of the cells ``[lo[i], hi[i])`` row after row. Returns
    ``-inf`` when no alignment stays in the window. The scaled linear
    recursion runs first (one exponential a cell); where a cell underflows,
    the log-space one (five a cell).
    """
    value, exact = gak_log_scaled(x, y, lo, hi, cell_ok, sigma)
    if exact:
        return value
    return gak_log_space(x, y, lo, hi, cell_ok, sigma)
