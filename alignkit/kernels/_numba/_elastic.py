"""Dynamic programmes of the elastic distances: ERP, EDR, LCSS, MSM, TWE and ADTW.

Every kernel runs over the padded matrix ``D`` of shape ``(n + 1, m + 1)``:
``D[i + 1, j + 1]`` is the cost of the best alignment of ``x[: i + 1]`` with
``y[: j + 1]``; row 0 and column 0 are the boundary (the empty prefix). Only
two rows are kept; the cells of row ``i`` are the columns ``[lo[i], hi[i])``
and, where ``mask`` is not None (shape ``(n, m)``), the cells it allows.
Cells outside the window are ``inf`` (``0`` for LCSS, a count that is
maximised).

Where ``moves`` is not None (shape ``(n, m)``, uint8) a kernel also writes
which neighbour each cell's value came from (:data:`DIAG`, :data:`UP`,
:data:`LEFT`; :data:`STOP` outside the window), the first of the three in that
order among equal values, and :func:`backtrack` follows them to the path.
``mask`` and ``moves`` are None or arrays so that Numba compiles the distance
alone (both None) without the tests of each cell.
"""

import numpy as np
from numba import njit

from ._flags import JIT_OPTIONS

_INF = np.inf

DIAG = 0
UP = 1
LEFT = 2
STOP = 3


@njit(inline="always", **JIT_OPTIONS)
def _sqdist(x, i, y, j):
    total = 0.0
    for k in range(x.shape[1]):
        diff = x[i, k] - y[j, k]
        total += diff * diff
    return total


@njit(inline="always", **JIT_OPTIONS)
def _pick(diag, up, left):
    """The smallest of three values and its move, the first one among equals."""
    if diag <= up and diag <= left:
        return diag, DIAG
    if up <= left:
        return up, UP
    return left, LEFT


@njit(inline="always", **JIT_OPTIONS)
def _relax(moves, i, j, diag, up, left):
    """The smallest of three values; with ``moves``, also record which one it was.

    Without moves (None, compiled apart) the minimum has no branch to mispredict.
    """
    if moves is None:
        return min(diag, up, left)
    value, move = _pick(diag, up, left)
    moves[i, j] = move
    return value


@njit(inline="always", **JIT_OPTIONS)
def _written(lo, hi, i, first, m):
    """The slots padded row ``i`` wrote, to reset before its buffer holds row ``i + 2``.

    Row 0 is the boundary: all of it from slot ``first`` on where the boundary
    is finite (``first=1``: ERP, EDR, LCSS), or slot 0 alone (``first=0``).
    """
    if i > 0:
        return lo[i - 1] + 1, hi[i - 1]
    return first, m if first == 1 else 0


@njit(**JIT_OPTIONS)
def erp(x, y, g, lo, hi, mask, moves):
    """ERP: a gap costs the Euclidean distance of its point to ``g`` (one value per channel)."""
    n, m = x.shape[0], y.shape[0]
    reference = g.reshape(1, -1)
    gx = np.empty(n)
    for i in range(n):
        gx[i] = np.sqrt(_sqdist(x, i, reference, 0))
    gy = np.empty(m)
    for j in range(m):
        gy[j] = np.sqrt(_sqdist(y, j, reference, 0))
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    for j in range(m):
        prev[j + 1] = prev[j] + gy[j]
    stale_lo, stale_hi, first = 1, 0, 1
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = _INF
        cur[0] = prev[0] + gx[i]
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = _INF
                continue
            left = _relax(
                moves,
                i,
                j,
                prev[j] + np.sqrt(_sqdist(x, i, y, j)),
                prev[j + 1] + gx[i],
                left + gy[j],
            )
            cur[j + 1] = left
        stale_lo, stale_hi = _written(lo, hi, i, first, m)
        prev, cur = cur, prev
    return prev[m]


@njit(**JIT_OPTIONS)
def edr(x, y, threshold, lo, hi, mask, moves):
    """EDR: the number of edits; points match when their squared distance is ``<= threshold``."""
    n, m = x.shape[0], y.shape[0]
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    for j in range(m + 1):
        prev[j] = float(j)
    stale_lo, stale_hi, first = 1, 0, 1
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = _INF
        cur[0] = float(i + 1)
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = _INF
                continue
            cost = 0.0 if _sqdist(x, i, y, j) <= threshold else 1.0
            left = _relax(moves, i, j, prev[j] + cost, prev[j + 1] + 1.0, left + 1.0)
            cur[j + 1] = left
        stale_lo, stale_hi = _written(lo, hi, i, first, m)
        prev, cur = cur, prev
    return prev[m]


@njit(**JIT_OPTIONS)
def lcss(x, y, threshold, lo, hi, mask, moves):
    """LCSS: the longest common subsequence; points match at squared distance ``<= threshold``.

    Moves: :data:`DIAG` marks a matched pair; :data:`UP` and :data:`LEFT` the
    larger neighbour (:data:`LEFT` among equals, as aeon's path does);
    :data:`STOP` a cell whose count is 0, where no match remains to collect.
    """
    n, m = x.shape[0], y.shape[0]
    prev = np.zeros(m + 1)
    cur = np.zeros(m + 1)
    stale_lo, stale_hi, first = 1, 0, 1
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = 0.0
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = 0.0
                continue
            match = _sqdist(x, i, y, j) <= threshold
            if moves is None:
                left = prev[j] + 1.0 if match else max(prev[j + 1], left)
            elif match:
                left = prev[j] + 1.0
                move = DIAG
            elif prev[j + 1] > left:
                left = prev[j + 1]
                move = UP
            else:
                move = LEFT
            cur[j + 1] = left
            if moves is not None:
                moves[i, j] = move if left > 0.0 else STOP
        stale_lo, stale_hi = _written(lo, hi, i, first, m)
        prev, cur = cur, prev
    return prev[m]


@njit(inline="always", **JIT_OPTIONS)
def _msm_split(new, before, other, c):
    """MSM's split or merge cost of the point ``new`` between ``before`` and ``other``."""
    if before <= new <= other or before >= new >= other:
        return c
    return c + min(abs(new - before), abs(new - other))


@njit(**JIT_OPTIONS)
def msm_univariate(x, y, c, lo, hi, mask, moves):
    """MSM of two univariate sequences, given as 1-D arrays."""
    n, m = x.shape[0], y.shape[0]
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    stale_lo, stale_hi, first = 1, 0, 0
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = _INF
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = _INF
                continue
            up = prev[j + 1] + _msm_split(x[i], x[i - 1], y[j], c) if i > 0 else _INF
            side = left + _msm_split(y[j], x[i], y[j - 1], c) if j > 0 else _INF
            left = _relax(moves, i, j, prev[j] + abs(x[i] - y[j]), up, side)
            cur[j + 1] = left
        stale_lo, stale_hi = _written(lo, hi, i, first, m)
        prev, cur = cur, prev
    return prev[m]


@njit(inline="always", **JIT_OPTIONS)
def _msm_split_dependent(a, i, b, k, z, q, c):
    """Multivariate MSM split cost of ``a[i]`` between ``b[k]`` and ``z[q]`` (squared distances)."""
    diameter = 0.0
    to_mid = 0.0
    to_before = 0.0
    to_other = 0.0
    for ch in range(a.shape[1]):
        span = b[k, ch] - z[q, ch]
        diameter += span * span
        off = (b[k, ch] + z[q, ch]) / 2.0 - a[i, ch]
        to_mid += off * off
        d_before = b[k, ch] - a[i, ch]
        to_before += d_before * d_before
        d_other = z[q, ch] - a[i, ch]
        to_other += d_other * d_other
    if to_mid <= diameter / 4.0:
        return c
    return c + min(to_before, to_other)


@njit(**JIT_OPTIONS)
def msm_dependent(x, y, c, lo, hi, mask, moves):
    """MSM over all channels at once, with squared Euclidean costs (aeon's dependent MSM)."""
    n, m = x.shape[0], y.shape[0]
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    stale_lo, stale_hi, first = 1, 0, 0
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = _INF
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = _INF
                continue
            up = prev[j + 1] + _msm_split_dependent(x, i, x, i - 1, y, j, c) if i > 0 else _INF
            side = left + _msm_split_dependent(y, j, x, i, y, j - 1, c) if j > 0 else _INF
            left = _relax(moves, i, j, prev[j] + _sqdist(x, i, y, j), up, side)
            cur[j + 1] = left
        stale_lo, stale_hi = _written(lo, hi, i, first, m)
        prev, cur = cur, prev
    return prev[m]


@njit(**JIT_OPTIONS)
def twe(xp, yp, nu, lmbda, lo, hi, mask, moves):
    """TWE over sequences padded with a zero point in front (``xp[i + 1]`` is ``x[i]``)."""
    n, m = xp.shape[0] - 1, yp.shape[0] - 1
    edit = nu + lmbda
    step_y = np.empty(m)
    for j in range(m):
        step_y[j] = np.sqrt(_sqdist(yp, j, yp, j + 1))
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    stale_lo, stale_hi, first = 1, 0, 0
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = _INF
        step_x = np.sqrt(_sqdist(xp, i, xp, i + 1))
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = _INF
                continue
            match = (
                prev[j]
                + np.sqrt(_sqdist(xp, i + 1, yp, j + 1))
                + np.sqrt(_sqdist(xp, i, yp, j))
                + nu * (2 * abs(i - j))
            )
            left = _relax(moves, i, j, match, prev[j + 1] + step_x + edit, left + step_y[j] + edit)
            cur[j + 1] = left
        stale_lo, stale_hi = _written(lo, hi, i, first, m)
        prev, cur = cur, prev
    return prev[m]


@njit(**JIT_OPTIONS)
def adtw(x, y, warp_penalty, lo, hi, mask, moves):
    """Amerced DTW: DTW with the squared Euclidean cost and a penalty on every warping step."""
    n, m = x.shape[0], y.shape[0]
    prev = np.full(m + 1, _INF)
    cur = np.full(m + 1, _INF)
    prev[0] = 0.0
    stale_lo, stale_hi, first = 1, 0, 0
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = _INF
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = _INF
                continue
            best = _relax(moves, i, j, prev[j], prev[j + 1] + warp_penalty, left + warp_penalty)
            left = _sqdist(x, i, y, j) + best
            cur[j + 1] = left
        stale_lo, stale_hi = _written(lo, hi, i, first, m)
        prev, cur = cur, prev
    return prev[m]


@njit(**JIT_OPTIONS)
def backtrack(moves):
    """The path of the moves from cell ``(n-1, m-1)`` back to the start, in order.

    A move into row -1 or column -1 (a gap before the first point, in ERP and
    EDR) stays on row 0 or column 0, so the path is continuous from ``(0, 0)``.
    """
    n, m = moves.shape
    path = np.empty((n + m, 2), dtype=np.int64)
    i, j = n, m
    k = 0
    while i > 0 or j > 0:
        row, col = max(i - 1, 0), max(j - 1, 0)
        if k == 0 or path[k - 1, 0] != row or path[k - 1, 1] != col:
            path[k, 0] = row
            path[k, 1] = col
            k += 1
        if i == 0:
            j -= 1
        elif j == 0:
            i -= 1
        else:
            move = moves[i - 1, j - 1]
            if move == DIAG:
                i -= 1
                j -= 1
            elif move == UP:
                i -= 1
            else:
                j -= 1
    return path[:k][::-1].copy()


@njit(**JIT_OPTIONS)
def lcss_matches(moves):
    """The matched pairs of an LCSS backtrack, in order (not a continuous path)."""
    n, m = moves.shape
    pairs = np.empty((min(n, m), 2), dtype=np.int64)
    i, j = n - 1, m - 1
    k = 0
    while i >= 0 and j >= 0:
        move = moves[i, j]
        if move == STOP:
            break
        if move == DIAG:
            pairs[k, 0] = i
            pairs[k, 1] = j
            k += 1
            i -= 1
            j -= 1
        elif move == UP:
            i -= 1
        else:
            j -= 1
    return pairs[:k][::-1].copy()
