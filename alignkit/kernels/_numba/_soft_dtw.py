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

Pairs without a mask first run a scaled pass (:func:`_scaled_forward`) that
needs no ``log`` and one ``exp`` per cell instead of three: it carries
``q = exp(-R / gamma)``, which obeys ``q = exp(-c / gamma) * (q_diag + q_up +
q_left)``, each diagonal scaled by an exact power of 2 and a float offset.
Where float64 cannot hold a diagonal's range to the precision the result
needs (it proves that it can, or hands the pair back), the log-domain pass
below runs instead; both give the same values and weights to ~1e-14.

Windows arrive as per-row column bounds ``[lo, hi)`` that are non-decreasing
(every band is), plus an optional dense boolean mask of shape ``(n, m)``
(shape ``(0, 0)`` for none). On each anti-diagonal the band cells are then one
run of rows ``[start[d], stop[d])`` (:func:`diagonal_ranges`), and the
per-cell weights are stored diagonal by diagonal over the band only.
"""

import math

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
_INF_BITS = 0x7FF0000000000000
# The scaled forward pass: each diagonal's largest q is scaled to [2 ** _TOP, 2 ** (_TOP + 1)),
# and a q below _FLOOR (as bits: _FLOOR_BITS) hands the pair to the log-domain pass.
_TOP = 1000
_FLOOR = 2.0**-1000
_FLOOR_BITS = 103582791429521408
_LOG_FLOOR = -1000 * 0.6931471805599453
_LOG_TOLERANCE = -60 * 0.6931471805599453
_LN3 = 1.0986122886681098
_NORMAL = 2.2250738585072014e-308
_LOG_SUBNORMAL_ERROR = (_TOP + 1 - 1075) * 0.6931471805599453
_PAD = 8


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


@njit(inline="always", **_OPTIONS)
def _diagonal_costs(x_t, y_t, mask, d, first, last, cost):
    """Local costs of the cells ``(i, d - i)``, ``i`` in ``[first, last)``; ``inf`` if masked.

    ``x_t`` is ``x`` channel-major, ``y_t`` is ``y`` reversed and channel-major,
    so that ``y[d - i]`` is column ``m - 1 - d + i`` of it and both inputs are
    read forwards, through slices indexed from 0. The loops over the cells are
    the inner ones, and vectorise; the channels are summed in order.
    """
    shift = y_t.shape[1] - 1 - d
    out = cost[first:last]
    for k in range(x_t.shape[0]):
        xs = x_t[k, first:last]
        ys = y_t[k, shift + first : shift + last]
        if k == 0:
            for t in range(out.shape[0]):
                diff = xs[t] - ys[t]
                out[t] = diff * diff
        else:
            for t in range(out.shape[0]):
                diff = xs[t] - ys[t]
                out[t] += diff * diff
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
    x_t = np.ascontiguousarray(x.T)
    y_t = np.ascontiguousarray(y[::-1].T)
    for d in range(n + m - 1):
        first, last = start[d], stop[d]
        r0[span0_lo:span0_hi] = _INF
        _diagonal_costs(x_t, y_t, mask, d, first, last, cost)
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


@njit(inline="always", **_OPTIONS)
def _as_float(bits):
    return np.int64(bits).view(np.float64)


@njit(inline="always", **_OPTIONS)
def _min_bits(bits):
    """The smallest of non-negative floats given as their bits (an integer reduction vectorises)."""
    low = _INF_BITS
    for t in range(bits.shape[0]):
        low = min(low, bits[t])
    return low


@njit(inline="always", **_OPTIONS)
def _top_and_low(bits):
    """The largest of non-negative floats (as bits), and how many are below :data:`_FLOOR`."""
    top = np.int64(0)
    n_low = 0
    for t in range(bits.shape[0]):
        top = max(top, bits[t])
        n_low += bits[t] < _FLOOR_BITS
    return top, n_low


@njit(inline="always", **_OPTIONS)
def _rescale(q, factor):
    """``q * factor``, the values below :data:`_FLOOR` set to 0 (see :func:`_scaled_forward`)."""
    for t in range(q.shape[0]):
        q[t] = q[t] * factor if q[t] >= _FLOOR else 0.0


@njit(inline="always", **_OPTIONS)
def _scaled_values(q_diag, q_up, q_left, cost, out, a_diag, a_side, low, inv_gamma):
    """One anti-diagonal of the scaled ``exp(-R / gamma)``: one ``exp`` per cell."""
    for t in range(out.shape[0]):
        paths = a_diag * q_diag[t] + a_side * (q_up[t] + q_left[t])
        out[t] = _exp_nonpositive((low - cost[t]) * inv_gamma) * paths


@njit(inline="always", **_OPTIONS)
def _scaled_weights(q_diag, q_up, q_left, a_diag, a_side, w_diag, w_up, w_left):
    """The soft-min weights of one anti-diagonal: each predecessor's share of the paths."""
    for t in range(w_diag.shape[0]):
        p_diag = a_diag * q_diag[t]
        p_up = a_side * q_up[t]
        p_left = a_side * q_left[t]
        paths = p_diag + a_side * (q_up[t] + q_left[t])
        # A cell without paths above _FLOOR is set to 0 and no successor weighs it.
        scale = 1.0 / paths if paths >= _FLOOR else 0.0
        w_diag[t] = p_diag * scale
        w_up[t] = p_up * scale
        w_left[t] = p_left * scale


@njit(inline="always", **_OPTIONS)
def _coefficients(c_side, s_side, c_diag, s_diag, inv_gamma):
    """Offset and the two factors of a diagonal's predecessors, the larger near 1.

    Diagonal ``d - 1`` (both side predecessors) has offset ``c_side`` and
    exponent ``s_side``, diagonal ``d - 2`` ``c_diag`` and ``s_diag``; the
    factors carry both to the shared offset and the returned exponent. The
    factor ``exp(gap) * 2 ** k`` of the higher offset is ``exp(r) * 2 ** (k + j)``
    with ``gap = j ln 2 + r``, ``|r| <= ln(2) / 2``: exact in the power of 2. The
    exponent is chosen so that the larger diagonal's terms reach ``2 ** _TOP``;
    the other factor may then underflow (its diagonal is ``2 ** 1022`` times
    smaller or more), which :func:`_scaled_forward` bounds.
    """
    if c_side == _INF:  # diagonal d - 1 is empty (d = 0)
        return c_diag, s_diag, 0.0, 1.0
    if c_diag == _INF:  # diagonal d - 2 is (d = 1)
        return c_side, s_side, 1.0, 0.0
    shared = min(c_side, c_diag)
    gap = -abs(c_side - c_diag) * inv_gamma  # (shared - the other offset) / gamma
    if gap < -1e5:  # the higher diagonal's factor is 0 (and bounded), as if it were empty
        return (c_diag, s_diag, 0.0, 1.0) if c_side > c_diag else (c_side, s_side, 1.0, 0.0)
    whole = np.floor(gap * _LOG2E + 0.5)
    reduced = _exp_nonpositive(gap - whole * _LN2_HI - whole * _LN2_LO)
    if c_side > c_diag:
        exponent = -max(whole - s_side, -s_diag)
        a_side = math.ldexp(reduced, np.int64(exponent + whole) - s_side)
        a_diag = math.ldexp(1.0, np.int64(exponent) - s_diag)
    else:
        exponent = -max(-s_side, whole - s_diag)
        a_side = math.ldexp(1.0, np.int64(exponent) - s_side)
        a_diag = math.ldexp(reduced, np.int64(exponent + whole) - s_diag)
    return shared, np.int64(exponent), a_side, a_diag


@njit(**_OPTIONS)
def _scaled_forward(x, y, lo, hi, gamma, keep_weights, work):
    """The forward pass on ``q = exp(-R / gamma)``, scaled per diagonal; ``ok`` False if unsafe.

    Returns ``(value, ok, weights, ranges)`` as :func:`_forward` does, the
    weights in the first ``n_cells + _PAD`` entries of the three arrays
    ``work`` (unused without ``keep_weights``). Cell
    ``(i, d - i)`` holds ``q`` with ``R = c_d - gamma * (log q - s_d log 2)``:
    a float offset ``c_d`` (``c_d = min(c_{d-1}, c_{d-2})`` plus the smallest
    local cost of the diagonal, so every ``exp`` is of a non-positive number)
    and an integer exponent ``s_d`` per diagonal, so that scaling is exact.
    A ``q`` below :data:`_FLOOR` would lose precision: it is set to 0, and
    the paths through it are bounded above by ``_FLOOR`` times the number of
    paths from its diagonal to the end (at most ``3 ** steps``) times their
    largest weight, 1 (local costs are non-negative). ``ok`` is False (the
    caller then runs :func:`_forward`) unless that bound on everything set to
    0 is below ``2 ** -60`` of the total ``exp(-value / gamma)``: the value is
    then exact to ``gamma * 2 ** -60``, and so is every entry of ``E``.
    """
    n = x.shape[0]
    m = y.shape[0]
    inv_gamma = 1.0 / gamma
    start, stop, offsets = diagonal_ranges(n, m, lo, hi)
    size = offsets[-1] + _PAD if keep_weights else 0
    weights = (work[0][:size], work[1][:size], work[2][:size])
    ranges = (start, stop, offsets)
    # Three rotating diagonals indexed by row + 1, 0 outside the band; each diagonal is
    # computed over a multiple of _PAD rows (cost inf, hence q = 0, past its band).
    q2 = np.zeros(n + 2 + _PAD)
    q1 = np.zeros(n + 2 + _PAD)
    q0 = np.zeros(n + 2 + _PAD)
    q2[0] = 2.0**_TOP  # the virtual cell (-1, -1): R = 0; diagonal -1 is empty
    c2, c1, s2, s1 = 0.0, _INF, np.int64(_TOP), np.int64(0)
    span1_lo, span1_hi, span0_lo, span0_hi = 0, 0, 0, 0
    span2_lo, span2_hi = 0, 1
    cost = np.empty(n + _PAD)
    x_t = np.ascontiguousarray(x.T)
    y_t = np.ascontiguousarray(y[::-1].T)
    no_mask = np.zeros((0, 0), dtype=np.bool_)
    lost = -_INF  # log of the bound on the paths through the cells set to 0
    for d in range(n + m - 1):
        first, last = start[d], stop[d]
        width = last - first
        padded = (width + _PAD - 1) // _PAD * _PAD
        q0[span0_lo:span0_hi] = 0.0
        _diagonal_costs(x_t, y_t, no_mask, d, first, last, cost)
        cost[last : first + padded] = _INF
        low = _as_float(_min_bits(cost[first : first + padded].view(np.int64)))
        shared, exponent, a_side, a_diag = _coefficients(c1, s1, c2, s2, inv_gamma)
        out = q0[first + 1 : first + 1 + padded]
        q_diag = q2[first : first + padded]
        q_up = q1[first : first + padded]
        q_left = q1[first + 1 : first + 1 + padded]
        costs = cost[first : first + padded]
        _scaled_values(q_diag, q_up, q_left, costs, out, a_diag, a_side, low, inv_gamma)
        top, n_low = _top_and_low(out.view(np.int64))
        c0 = shared + low
        if not (low < _INF and top >= _FLOOR_BITS):
            return _INF, False, weights, ranges
        steps = n + m - 2 - d
        if n_low > padded - width:
            bound = np.log(n_low - padded + width) + _LOG_FLOOR + steps * _LN3
            lost = max(lost, bound - exponent * _LN2 - c0 * inv_gamma)
        if min(a_side, a_diag) < _NORMAL and d > 1:
            # A factor below the normal range: each of its terms is off by at most
            # 2 ** -1075 * 2 ** (_TOP + 1), counted as the cells set to 0 are.
            bound = np.log(3.0 * width) + _LOG_SUBNORMAL_ERROR + steps * _LN3
            lost = max(lost, bound - exponent * _LN2 - c0 * inv_gamma)
        if keep_weights:
            base = offsets[d]
            _scaled_weights(
                q_diag, q_up, q_left, a_diag, a_side, weights[0][base : base + padded],
                weights[1][base : base + padded], weights[2][base : base + padded],
            )  # fmt: skip
        scale = _TOP - ((top >> 52) - 1023)
        _rescale(out, math.ldexp(1.0, scale))
        s0 = exponent + scale
        span0_lo, span0_hi = first + 1, first + 1 + padded
        q2, q1, q0 = q1, q0, q2
        c2, c1, s2, s1 = c1, c0, s1, s0
        span2_lo, span2_hi, span1_lo, span1_hi, span0_lo, span0_hi = (
            span1_lo, span1_hi, span0_lo, span0_hi, span2_lo, span2_hi,
        )  # fmt: skip
    mantissa, power = math.frexp(q1[n])
    value = c1 - gamma * (np.log(mantissa) + (power - s1) * _LN2)
    # The total is exp(-value / gamma); everything set to 0, summed over at most n + m
    # diagonals, stays below 2 ** -60 of it.
    ok = np.isfinite(value) and lost + np.log(n + m) + value * inv_gamma < _LOG_TOLERANCE
    return value, ok, weights, ranges


@njit(**_OPTIONS)
def weights_workspace(n_cells):
    """Three arrays that hold the weights of :func:`soft_dtw_forward_into` for ``n_cells`` cells."""
    return (np.empty(n_cells + _PAD), np.empty(n_cells + _PAD), np.empty(n_cells + _PAD))


@njit(**_OPTIONS)
def soft_dtw_value(x, y, lo, hi, mask, gamma):
    """``R[n-1, m-1]`` in O(n) memory (three anti-diagonals)."""
    if mask.shape[0] == 0:
        none = np.empty(0)
        value, ok, _, _ = _scaled_forward(x, y, lo, hi, gamma, False, (none, none, none))
        if ok:
            return value
    value, _, _ = _forward(x, y, lo, hi, mask, gamma, False)
    return value


@njit(**_OPTIONS)
def soft_dtw_forward_into(x, y, lo, hi, mask, gamma, work):
    """As :func:`soft_dtw_forward`, the weights in ``work`` (see :func:`weights_workspace`).

    Reusing ``work`` over many pairs saves allocating (and faulting in) the
    weights for each; they are fresh arrays where the log-domain pass runs.
    """
    if mask.shape[0] == 0:
        value, ok, weights, ranges = _scaled_forward(x, y, lo, hi, gamma, True, work)
        if ok:
            return value, weights, ranges
    return _forward(x, y, lo, hi, mask, gamma, True)


@njit(**_OPTIONS)
def soft_dtw_forward(x, y, lo, hi, mask, gamma):
    """``R[n-1, m-1]`` and the soft-min weights of every band cell.

    Returns ``(value, (w_diag, w_up, w_left), (start, stop, offsets))``: the
    weights of cell ``(i, d - i)`` sit at ``offsets[d] + i - start[d]``.
    Pairs without a mask run the scaled pass (:func:`_scaled_forward`), the
    others, and those it hands back, the log-domain pass.
    """
    if mask.shape[0] == 0:
        # No name holds the workspace past the test of ok: where the log-domain pass
        # runs, it is freed before that pass allocates its weights.
        scaled = _scaled_forward(x, y, lo, hi, gamma, True, weights_workspace(np.sum(hi - lo)))
        if scaled[1]:
            return scaled[0], scaled[2], scaled[3]
    return _forward(x, y, lo, hi, mask, gamma, True)


@njit(inline="always", **_OPTIONS)
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


@njit(inline="always", **_OPTIONS)
def _products(expected, w_diag, w_up, w_left, p_left, p_up, p_diag):
    for t in range(expected.shape[0]):
        e = expected[t]
        p_left[t] = e * w_left[t]
        p_up[t] = e * w_up[t]
        p_diag[t] = e * w_diag[t]


@njit(inline="always", **_OPTIONS)
def _accumulate_gradient(y_t, d, expected, first, last, mass, weighted_y):
    """Add row ``d`` of ``E`` to ``sum_j E[i, j]`` and ``sum_j E[i, j] * y[j]``.

    ``y_t`` is ``y`` reversed and channel-major, ``weighted_y`` channel-major:
    the loops over the cells are the inner ones, and vectorise.
    """
    shift = y_t.shape[1] - 1 - d
    e = expected[first:last]
    total = mass[first:last]
    for t in range(e.shape[0]):
        total[t] += e[t]
    for k in range(y_t.shape[0]):
        ys = y_t[k, shift + first : shift + last]
        acc = weighted_y[k, first:last]
        for t in range(e.shape[0]):
            acc[t] += e[t] * ys[t]


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
    weighted_y = np.zeros((y.shape[1], n))
    expected = np.zeros(n + 1)
    p_left = np.zeros(n + 1)
    p_up = np.zeros(n + 1)
    p_diag1 = np.zeros(n + 1)
    p_diag2 = np.zeros(n + 1)
    y_t = np.ascontiguousarray(y[::-1].T)
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
            _accumulate_gradient(y_t, d, expected, first, last, mass, weighted_y)
    if dense:
        return alignment
    grad = np.empty(x.shape)
    for i in range(n):
        for k in range(x.shape[1]):
            grad[i, k] = 2.0 * (mass[i] * x[i, k] - weighted_y[k, i])
    return grad


@njit(**_OPTIONS)
def soft_dtw_expected_alignment(x, y, weights, ranges):
    """Dense expected alignment ``E`` of shape ``(n, m)``, 0 outside the band."""
    return _backward(x, y, weights, ranges, True)


@njit(**_OPTIONS)
def soft_dtw_grad_x(x, y, weights, ranges):
    """Gradient of ``R[n-1, m-1]`` with respect to ``x``, shape ``(n, n_channels)``."""
    return _backward(x, y, weights, ranges, False)
