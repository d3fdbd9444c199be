"""Soft-DTW kernels (Cuturi & Blondel, 2017): squared Euclidean local cost over channels.

Forward recurrence (Algorithm 1 of the paper), with ``R[-1, -1] = 0`` and
``inf`` on the other borders and outside the window::

    R[i, j] = c(i, j) + softmin(R[i-1, j-1], R[i-1, j], R[i, j-1])
    softmin(r) = -gamma * log(sum_k exp(-r_k / gamma))

The expected alignment ``E = dR[n-1, m-1] / dC`` (Algorithm 2) satisfies
``E[i, j] = sum over successors s of (i, j) of E[s] * P(s <- (i, j))``, where
``P(s <- p) = exp((softmin_s - R[p]) / gamma)`` is the weight the soft-min of
cell ``s`` gives its predecessor ``p``. The forward pass stores those three
weights per cell, so the backward pass calls no transcendental function
(Algorithm 2 recomputes three ``exp`` per cell).

Why anti-diagonals: the cells of one anti-diagonal ``i + j = d`` do not depend
on each other, so the inner loops have no loop-carried dependency and LLVM
vectorises them. That needs an ``exp`` and a ``log`` it can inline, hence
:func:`_exp_nonpositive` and :func:`_log_1_to_3` below (the soft-min only ever
takes ``exp`` of a non-positive number and ``log`` of a sum in ``[1, 3]``), and
``error_model="numpy"``: Python's error model branches on every division to
raise ``ZeroDivisionError``, which blocks vectorisation (no division here can
be by zero).

Windows arrive as per-row column bounds ``[lo, hi)`` that are non-decreasing
(every band is), plus an optional dense boolean mask of shape ``(n, m)``
(shape ``(0, 0)`` for none). On each anti-diagonal the band cells are then one
run of rows ``[start[d], stop[d])`` (:func:`diagonal_ranges`), and the
per-cell weights are stored diagonal by diagonal over the band only.
"""

import numpy as np
from numba import njit

from ._flags import VECTOR_JIT_OPTIONS as _OPTIONS

_INF = np.inf
_LOG2E = 1.4426950408889634
# ln 2 split in two so that ``k * _LN2_HI`` is exact for |k| < 2 ** 11 (Cody-Waite).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453
_SQRT2 = 1.4142135623730951
_EXP_FLOOR = -708.0


@njit(inline="always", **_OPTIONS)
def _exp_nonpositive(x):
    """``exp(x)`` for ``x <= 0`` (``-inf`` included), within 2 ulp; 0 below -708.

    ``x = k ln 2 + r`` with ``|r| <= ln(2) / 2``; a degree-13 Taylor polynomial
    of ``exp(r)`` has a truncation error under 1e-17, and ``2 ** k`` is built
    from its exponent bits. Results under ``exp(-708) ~ 3e-308`` are flushed
    to 0: they are soft-min weights far below any float64 resolution of a sum.
    """
    clipped = max(x, _EXP_FLOOR)
    k = np.floor(clipped * _LOG2E + 0.5)
    r = clipped - k * _LN2_HI - k * _LN2_LO
    p = 1.0 / 6227020800.0
    p = 1.0 / 479001600.0 + r * p
    p = 1.0 / 39916800.0 + r * p
    p = 1.0 / 3628800.0 + r * p
    p = 1.0 / 362880.0 + r * p
    p = 1.0 / 40320.0 + r * p
    p = 1.0 / 5040.0 + r * p
    p = 1.0 / 720.0 + r * p
    p = 1.0 / 120.0 + r * p
    p = 1.0 / 24.0 + r * p
    p = 1.0 / 6.0 + r * p
    p = 0.5 + r * p
    p = 1.0 + r * p
    p = 1.0 + r * p
    scale = np.int64((np.int64(k) + 1023) << 52).view(np.float64)
    return 0.0 if x < _EXP_FLOOR else p * scale


@njit(inline="always", **_OPTIONS)
def _log_1_to_3(s):
    """``log(s)`` for ``s`` in ``[1, 3]``, within a few ulp.

    Halving ``s`` above sqrt(2) leaves ``f`` in ``[0.7, 1.5]``; then
    ``log f = 2 atanh(t)`` with ``t = (f - 1) / (f + 1)``, ``|t| <= 0.2``, whose
    odd series converges by a factor 25 per term (12 terms reach 1e-18).
    """
    big = np.float64(s > _SQRT2)
    f = s - 0.5 * big * s
    t = (f - 1.0) / (f + 1.0)
    t2 = t * t
    q = 1.0 / 25.0
    q = 1.0 / 23.0 + t2 * q
    q = 1.0 / 21.0 + t2 * q
    q = 1.0 / 19.0 + t2 * q
    q = 1.0 / 17.0 + t2 * q
    q = 1.0 / 15.0 + t2 * q
    q = 1.0 / 13.0 + t2 * q
    q = 1.0 / 11.0 + t2 * q
    q = 1.0 / 9.0 + t2 * q
    q = 1.0 / 7.0 + t2 * q
    q = 1.0 / 5.0 + t2 * q
    q = 1.0 / 3.0 + t2 * q
    q = 1.0 + t2 * q
    return 2.0 * t * q + _LN2 * big


@njit(inline="always", **_OPTIONS)
def _softmin_terms(diag, up, left, inv_gamma):
    """Minimum and ``exp((min - r) / gamma)`` of each predecessor (log-sum-exp shift).

    Shifting by the minimum keeps every term in ``[0, 1]`` with one equal to 1,
    so nothing overflows for any gamma. When all three are ``inf`` the cell is
    unreachable: the minimum is ``inf`` and the terms are 0.
    """
    low = min(min(diag, up), left)
    finite = low < _INF
    shift = low if finite else 0.0
    e_diag = _exp_nonpositive((shift - diag) * inv_gamma)
    e_up = _exp_nonpositive((shift - up) * inv_gamma)
    e_left = _exp_nonpositive((shift - left) * inv_gamma)
    return low, e_diag, e_up, e_left


@njit(**_OPTIONS)
def diagonal_ranges(n, m, lo, hi):
    """Rows ``[start[d], stop[d])`` of the band cells on each anti-diagonal, and offsets.

    Cell ``(i, d - i)`` is in the band when ``i + lo[i] <= d < i + hi[i]``; both
    sides increase strictly with ``i`` for non-decreasing bounds, so the rows
    form one run. ``offsets[d]`` is the number of band cells before diagonal ``d``.
    """
    n_diagonals = n + m - 1
    start = np.empty(n_diagonals, dtype=np.int64)
    stop = np.empty(n_diagonals, dtype=np.int64)
    offsets = np.zeros(n_diagonals + 1, dtype=np.int64)
    first = 0
    last = 0
    for d in range(n_diagonals):
        while first < n and first + hi[first] <= d:
            first += 1
        while last < n and last + lo[last] <= d:
            last += 1
        start[d] = first
        stop[d] = max(first, last)
        offsets[d + 1] = offsets[d] + stop[d] - start[d]
    return start, stop, offsets


@njit(**_OPTIONS)
def _diagonal_costs(x, y_rev, mask, d, first, last, cost):
    """Local costs of the cells ``(i, d - i)``, ``i`` in ``[first, last)``; ``inf`` if masked.

    ``y_rev`` is ``y`` reversed, so that ``y[d - i]`` is row ``m - 1 - d + i`` of
    it and both inputs are read forwards, through slices indexed from 0.
    """
    shift = y_rev.shape[0] - 1 - d
    xs = x[first:last]
    ys = y_rev[shift + first : shift + last]
    out = cost[first:last]
    for t in range(out.shape[0]):
        total = 0.0
        for k in range(xs.shape[1]):
            diff = xs[t, k] - ys[t, k]
            total += diff * diff
        out[t] = total
    if mask.shape[0] > 0:
        for i in range(first, last):
            if not mask[i, d - i]:
                cost[i] = _INF


@njit(**_OPTIONS)
def _forward_values(diag, up, left, cost, out, gamma, inv_gamma):
    """One anti-diagonal of ``R`` from the slices of its three predecessors."""
    for t in range(out.shape[0]):
        low, e_diag, e_up, e_left = _softmin_terms(diag[t], up[t], left[t], inv_gamma)
        total = e_diag + e_up + e_left
        soft = low - gamma * _log_1_to_3(total) if low < _INF else _INF
        out[t] = cost[t] + soft


@njit(**_OPTIONS)
def _forward_weights(diag, up, left, cost, out, gamma, inv_gamma, w_diag, w_up, w_left):
    """As :func:`_forward_values`, also storing each cell's normalised soft-min weights.

    Two loops, because LLVM gives up vectorising a loop that stores to four
    arrays it cannot prove distinct. The second recovers the soft-min from the
    weights: the minimum's weight is ``1 / total`` (in ``[1/3, 1]``).
    """
    for t in range(out.shape[0]):
        low, e_diag, e_up, e_left = _softmin_terms(diag[t], up[t], left[t], inv_gamma)
        total = e_diag + e_up + e_left
        scale = 1.0 / total if low < _INF else 0.0
        w_diag[t] = e_diag * scale
        w_up[t] = e_up * scale
        w_left[t] = e_left * scale
    for t in range(out.shape[0]):
        low = min(min(diag[t], up[t]), left[t])
        top = max(max(w_diag[t], w_up[t]), w_left[t])
        soft = low - gamma * _log_1_to_3(1.0 / top) if low < _INF else _INF
        out[t] = cost[t] + soft


@njit(**_OPTIONS)
def _forward(x, y, lo, hi, mask, gamma, keep_weights):
    n = x.shape[0]
    m = y.shape[0]
    inv_gamma = 1.0 / gamma
    start, stop, offsets = diagonal_ranges(n, m, lo, hi)
    n_cells = offsets[-1] if keep_weights else 0
    w_diag = np.empty(n_cells)
    w_up = np.empty(n_cells)
    w_left = np.empty(n_cells)
    # Three rotating anti-diagonals of R, indexed by row + 1 (index 0 is row -1).
    # A buffer is reset to inf over the span it last held before it is reused,
    # so reads outside the band see inf.
    r2 = np.full(n + 1, _INF)
    r1 = np.full(n + 1, _INF)
    r0 = np.full(n + 1, _INF)
    r2[0] = 0.0
    span2_lo, span2_hi = 0, 1
    span1_lo, span1_hi = 0, 0
    span0_lo, span0_hi = 0, 0
    cost = np.empty(n)
    y_rev = np.ascontiguousarray(y[::-1])
    for d in range(n + m - 1):
        first, last = start[d], stop[d]
        r0[span0_lo:span0_hi] = _INF
        _diagonal_costs(x, y_rev, mask, d, first, last, cost)
        # Slices, not row indices: an index that LLVM cannot prove non-negative
        # gets numba's wraparound select, and the loop is then vectorised with
        # gathers and a scatter, 3-6x slower depending on process state.
        cells = (
            r2[first:last], r1[first:last], r1[first + 1 : last + 1],
            cost[first:last], r0[first + 1 : last + 1], gamma, inv_gamma,
        )  # fmt: skip
        if keep_weights:
            base = offsets[d]
            width = last - first
            _forward_weights(
                *cells, w_diag[base : base + width], w_up[base : base + width],
                w_left[base : base + width],
            )  # fmt: skip
        else:
            _forward_values(*cells)
        span0_lo, span0_hi = first + 1, last + 1
        r2, r1, r0 = r1, r0, r2
        span2_lo, span2_hi, span1_lo, span1_hi, span0_lo, span0_hi = (
            span1_lo, span1_hi, span0_lo, span0_hi, span2_lo, span2_hi,
        )  # fmt: skip
    weights = (w_diag, w_up, w_left)
    return r1[n], weights, (start, stop, offsets)


@njit(**_OPTIONS)
def soft_dtw_value(x, y, lo, hi, mask, gamma):
    """``R[n-1, m-1]`` in O(n) memory (three anti-diagonals)."""
    value, _, _ = _forward(x, y, lo, hi, mask, gamma, False)
    return value


@njit(**_OPTIONS)
def soft_dtw_forward(x, y, lo, hi, mask, gamma):
    """``R[n-1, m-1]`` and the soft-min weights of every band cell.

    Returns ``(value, (w_diag, w_up, w_left), (start, stop, offsets))``: the
    weights of cell ``(i, d - i)`` sit at ``offsets[d] + i - start[d]``.
    """
    return _forward(x, y, lo, hi, mask, gamma, True)


@njit(**_OPTIONS)
def _expected_diagonal(p_left, p_up, p_diag2, expected, first, last):
    """``E`` on one anti-diagonal from the products ``E[s] * P(s <- .)`` of its successors.

    Successor ``(i, j+1)`` is row ``i`` of diagonal ``d+1``, ``(i+1, j)`` row
    ``i+1`` of ``d+1``, ``(i+1, j+1)`` row ``i+1`` of ``d+2``; product buffers
    hold 0 outside their diagonal's band, so no bound is checked here.
    """
    left = p_left[first:last]
    up = p_up[first + 1 : last + 1]
    diag = p_diag2[first + 1 : last + 1]
    out = expected[first:last]
    for t in range(out.shape[0]):
        out[t] = left[t] + up[t] + diag[t]


@njit(**_OPTIONS)
def _products(expected, w_diag, w_up, w_left, p_left, p_up, p_diag):
    for t in range(expected.shape[0]):
        e = expected[t]
        p_left[t] = e * w_left[t]
        p_up[t] = e * w_up[t]
        p_diag[t] = e * w_diag[t]


@njit(**_OPTIONS)
def _accumulate_gradient(y_rev, d, expected, first, last, mass, weighted_y):
    """Add row ``d`` of ``E`` to ``sum_j E[i, j]`` and ``sum_j E[i, j] * y[j]``."""
    shift = y_rev.shape[0] - 1 - d
    e = expected[first:last]
    ys = y_rev[shift + first : shift + last]
    total = mass[first:last]
    acc = weighted_y[first:last]
    for t in range(e.shape[0]):
        total[t] += e[t]
    for t in range(e.shape[0]):
        for k in range(ys.shape[1]):
            acc[t, k] += e[t] * ys[t, k]


@njit(**_OPTIONS)
def _backward(x, y, weights, ranges, dense):
    """Backward pass over anti-diagonals, last to first.

    With ``dense`` it returns the expected alignment ``E`` of shape ``(n, m)``
    (0 outside the band); otherwise the gradient with respect to ``x``, using
    ``d c(i, j) / d x[i] = 2 (x[i] - y[j])``: row ``i`` of the gradient is
    ``2 * (sum_j E[i, j] * x[i] - sum_j E[i, j] * y[j])``.
    """
    n = x.shape[0]
    m = y.shape[0]
    w_diag, w_up, w_left = weights
    start, stop, offsets = ranges
    alignment = np.zeros((n, m) if dense else (0, 0))
    mass = np.zeros(n)
    weighted_y = np.zeros((n, y.shape[1]))
    expected = np.zeros(n + 1)
    p_left = np.zeros(n + 1)
    p_up = np.zeros(n + 1)
    p_diag1 = np.zeros(n + 1)
    p_diag2 = np.zeros(n + 1)
    y_rev = np.ascontiguousarray(y[::-1])
    # A virtual successor (n, m) with E = 1 and weight 1 seeds E[n-1, m-1] = 1.
    p_diag2[n] = 1.0
    span1_lo, span1_hi = n, n
    span2_lo, span2_hi = n, n + 1
    for d in range(n + m - 2, -1, -1):
        first, last = start[d], stop[d]
        _expected_diagonal(p_left, p_up, p_diag2, expected, first, last)
        p_left[span1_lo:span1_hi] = 0.0
        p_up[span1_lo:span1_hi] = 0.0
        p_diag2[span2_lo:span2_hi] = 0.0
        base = offsets[d]
        width = last - first
        _products(
            expected[first:last], w_diag[base : base + width], w_up[base : base + width],
            w_left[base : base + width], p_left[first:last], p_up[first:last],
            p_diag2[first:last],
        )  # fmt: skip
        p_diag1, p_diag2 = p_diag2, p_diag1
        span2_lo, span2_hi = span1_lo, span1_hi
        span1_lo, span1_hi = first, last
        if dense:
            for i in range(first, last):
                alignment[i, d - i] = expected[i]
        else:
            _accumulate_gradient(y_rev, d, expected, first, last, mass, weighted_y)
    if dense:
        return alignment
    grad = np.empty(x.shape)
    for i in range(n):
        for k in range(x.shape[1]):
            grad[i, k] = 2.0 * (mass[i] * x[i, k] - weighted_y[i, k])
    return grad


@njit(**_OPTIONS)
def soft_dtw_expected_alignment(x, y, weights, ranges):
    """Dense expected alignment ``E`` of shape ``(n, m)``, 0 outside the band."""
    return _backward(x, y, weights, ranges, True)


@njit(**_OPTIONS)
def soft_dtw_grad_x(x, y, weights, ranges):
    """Gradient of ``R[n-1, m-1]`` with respect to ``x``, shape ``(n, n_channels)``."""
    return _backward(x, y, weights, ranges, False)
