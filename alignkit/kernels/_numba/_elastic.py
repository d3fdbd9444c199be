"""Dynamic programmes of the elastic distances: ERP, EDR, LCSS, MSM, TWE and ADTW.

Every kernel runs over the padded matrix ``D`` of shape ``(n + 1, m + 1)``:
``D[i + 1, j + 1]`` is the cost of the best alignment of ``x[: i + 1]`` with
``y[: j + 1]``; row 0 and column 0 are the boundary (the empty prefix). A
distance is chosen by its kind code (:data:`ERP` ...), with the same
arguments everywhere: ``g`` ERP's reference per channel, ``p0`` the squared
threshold (EDR, LCSS), ``c`` (MSM), ``nu`` (TWE) or the warping penalty
(ADTW), ``p1`` TWE's ``lmbda``. Cells outside the window are ``inf`` (``0``
for LCSS, a count that is maximised).

:func:`rows` sweeps rows, over per-row bounds ``[lo[i], hi[i])`` and, where
``mask`` is not None (shape ``(n, m)``), the cells it allows; where
``moves`` is not None (shape ``(n, m)``, uint8) it also writes which
neighbour each cell's value came from (:data:`DIAG`, :data:`UP`,
:data:`LEFT`; :data:`STOP` outside the window), the first of the three in
that order among equals, and :func:`backtrack` follows them to the path.
:func:`sweep` computes the distance alone over a band, anti-diagonal by
anti-diagonal, with the same operations in the same order (the same value
to the last bit); :func:`elastic_pairs` fills matrices with it.
"""

import numpy as np
from numba import njit, prange, types
from numba.core.errors import TypingError
from numba.extending import overload

from ._bounds import window_bounds
from ._flags import JIT_OPTIONS

_INF = np.inf

DIAG = 0
UP = 1
LEFT = 2
STOP = 3

ERP = 0
EDR = 1
LCSS = 2
MSM = 3
TWE = 4
ADTW = 5
MSM_DEPENDENT = 6


@njit(inline="always", **JIT_OPTIONS)
def _pick(diag, up, left):
    """The smallest of three values and its move, the first one among equals."""
    if diag <= up and diag <= left:
        return diag, DIAG
    if up <= left:
        return up, UP
    return left, LEFT


def _relax(moves, i, j, diag, up, left):
    """The smallest of three values; with ``moves``, also record which one it was.

    Without moves (None, compiled apart) the minimum has no branch to mispredict.
    """


@overload(_relax, inline="always")
def _relax_overload(moves, i, j, diag, up, left):
    if isinstance(moves, types.NoneType):
        return lambda moves, i, j, diag, up, left: min(diag, up, left)

    def relax(moves, i, j, diag, up, left):
        value, move = _pick(diag, up, left)
        moves[i, j] = move
        return value

    return relax


@njit(inline="always", **JIT_OPTIONS)
def _padded(x, reverse):
    """``x`` channel-major behind a zero point: column ``i + 1`` is ``x[i]``.

    Reversed (column ``i`` is ``x[n - 1 - i]``), the zero point comes last,
    so that column ``m - 1 - j`` is ``y[j]`` and column ``m - j`` its
    predecessor (zero for ``j = 0``, as TWE defines it).
    """
    n, channels = x.shape
    out = np.zeros((channels, n + 1))
    for i in range(n):
        for k in range(channels):
            if reverse:
                out[k, n - 1 - i] = x[i, k]
            else:
                out[k, i + 1] = x[i, k]
    return out


@njit(inline="always", **JIT_OPTIONS)
def _steps(points, reference, reverse):
    """Per point of :func:`_padded` ``points``: its distance to ``reference`` or to its predecessor.

    ERP's gap costs (``reference`` one value per channel) or TWE's steps
    (``reference`` None), in the order of the columns.
    """
    count = points.shape[1] - 1
    out = np.empty(count)
    for p in range(count):
        column, previous = (p, p + 1) if reverse else (p + 1, p)
        total = 0.0
        for k in range(points.shape[0]):
            other = points[k, previous] if reference is None else reference[k]
            diff = points[k, column] - other
            total += diff * diff
        out[p] = np.sqrt(total)
    return out


@njit(inline="always", **JIT_OPTIONS)
def _gaps(kind, xt, yt, g, reverse_y):
    """Per point of ``x`` and of ``y``: ERP's gap costs, TWE's steps, or zeros."""
    if kind == ERP:
        return _steps(xt, g, False), _steps(yt, g, reverse_y)
    if kind == TWE:
        return _steps(xt, None, False), _steps(yt, None, reverse_y)
    return np.zeros(xt.shape[1] - 1), np.zeros(yt.shape[1] - 1)


@njit(inline="always", **JIT_OPTIONS)
def _boundaries(kind, gx, gy):
    """Column -1 (``left[i]`` is ``D(i, -1)``), row -1 (``top[j]``), the value outside the band.

    ``gy`` is in the order of ``y``. ERP's boundary is the cumulative gap
    cost, EDR's the number of points, LCSS's zero; the others' is ``inf``
    (``D(-1, -1) = 0`` for all).
    """
    n, m = gx.shape[0], gy.shape[0]
    fill = 0.0 if kind == LCSS else _INF
    left = np.full(n, fill)
    top = np.full(m, fill)
    if kind == ERP:
        total = 0.0
        for i in range(n):
            total = total + gx[i]
            left[i] = total
        total = 0.0
        for j in range(m):
            total = total + gy[j]
            top[j] = total
    elif kind == EDR:
        for i in range(n):
            left[i] = float(i + 1)
        for j in range(m):
            top[j] = float(j + 1)
    return left, top, fill


@njit(inline="always", **JIT_OPTIONS)
def _msm_cost(new, before, other, c):
    """MSM's split or merge cost of the point ``new`` between ``before`` and ``other``."""
    inside = (before <= new and new <= other) or (before >= new and new >= other)
    return c if inside else c + min(abs(new - before), abs(new - other))


@njit(inline="always", **JIT_OPTIONS)
def _msm_cost_channels(at, i, bt, k, zt, q, c):
    """Multivariate MSM split cost of ``at[:, i]`` between ``bt[:, k]`` and ``zt[:, q]``.

    Squared distances, the split test on the ball whose diameter joins the
    two neighbours (aeon's dependent MSM).
    """
    diameter = 0.0
    to_mid = 0.0
    to_before = 0.0
    to_other = 0.0
    for ch in range(at.shape[0]):
        span = bt[ch, k] - zt[ch, q]
        diameter += span * span
        off = (bt[ch, k] + zt[ch, q]) / 2.0 - at[ch, i]
        to_mid += off * off
        d_before = bt[ch, k] - at[ch, i]
        to_before += d_before * d_before
        d_other = zt[ch, q] - at[ch, i]
        to_other += d_other * d_other
    if to_mid <= diameter / 4.0:
        return c
    return c + min(to_before, to_other)


@njit(inline="always", **JIT_OPTIONS)
def _square(xt, i, yt, j):
    """Squared distance of columns ``i`` of ``xt`` and ``j`` of ``yt``, channel after channel."""
    total = 0.0
    for k in range(xt.shape[0]):
        diff = xt[k, i] - yt[k, j]
        total += diff * diff
    return total


def _lcss_cell(moves, i, j, diag, up, left, match):
    """LCSS's cell: :data:`DIAG` a match, else the larger neighbour (:data:`LEFT` among equals).

    :data:`STOP` marks a count of 0, where no match remains to collect, as
    aeon's path does.
    """


@overload(_lcss_cell, inline="always")
def _lcss_cell_overload(moves, i, j, diag, up, left, match):
    if isinstance(moves, types.NoneType):
        return lambda moves, i, j, diag, up, left, match: diag + 1.0 if match else max(up, left)

    def lcss_cell(moves, i, j, diag, up, left, match):
        value, move = left, LEFT
        if match:
            value, move = diag + 1.0, DIAG
        elif up > left:
            value, move = up, UP
        moves[i, j] = move if value > 0.0 else STOP
        return value

    return lcss_cell


def _cell(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    """The value of cell ``(i, j)`` from its neighbours; ``x[i]`` is padded column ``i + 1``.

    ``kind`` must be a compile-time constant: the overload below types the
    call with the constant's own cell alone, so that a row loop compiles one
    kind's code, not the seven behind tests of a constant (which Numba types
    and lowers before LLVM drops them: seconds of compiling per loop).
    """


def _cell_msm_dependent(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    up = up + _msm_cost_channels(xt, i + 1, xt, i, yt, j + 1, p0)
    left = left + _msm_cost_channels(yt, j + 1, xt, i + 1, yt, j, p0)
    return _relax(moves, i, j, diag + _square(xt, i + 1, yt, j + 1), up, left)


def _cell_msm(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    xs, ys = xt[0], yt[0]
    up = up + _msm_cost(xs[i + 1], xs[i], ys[j + 1], p0)
    left = left + _msm_cost(ys[j + 1], xs[i + 1], ys[j], p0)
    return _relax(moves, i, j, diag + abs(xs[i + 1] - ys[j + 1]), up, left)


def _cell_lcss(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    return _lcss_cell(moves, i, j, diag, up, left, _square(xt, i + 1, yt, j + 1) <= p0)


def _cell_edr(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    cost = 0.0 if _square(xt, i + 1, yt, j + 1) <= p0 else 1.0
    return _relax(moves, i, j, diag + cost, up + 1.0, left + 1.0)


def _cell_adtw(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    return _square(xt, i + 1, yt, j + 1) + _relax(moves, i, j, diag, up + p0, left + p0)


def _cell_twe(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    square = _square(xt, i + 1, yt, j + 1)
    edit = p0 + p1
    match = diag + np.sqrt(square) + np.sqrt(_square(xt, i, yt, j)) + p0 * (2 * abs(i - j))
    return _relax(moves, i, j, match, up + gx[i] + edit, left + gy[j] + edit)


def _cell_erp(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    square = _square(xt, i + 1, yt, j + 1)
    return _relax(moves, i, j, diag + np.sqrt(square), up + gx[i], left + gy[j])


_CELLS = {
    ERP: _cell_erp,
    EDR: _cell_edr,
    LCSS: _cell_lcss,
    MSM: _cell_msm,
    TWE: _cell_twe,
    ADTW: _cell_adtw,
    MSM_DEPENDENT: _cell_msm_dependent,
}


@overload(_cell, inline="always", prefer_literal=True)
def _cell_overload(kind, moves, i, j, diag, up, left, xt, yt, gx, gy, p0, p1):
    if not isinstance(kind, types.IntegerLiteral):
        raise TypingError("the kind of an elastic cell must be a compile-time constant")
    return _CELLS[kind.literal_value]


@njit(inline="always", **JIT_OPTIONS)
def _rows(kind, x, y, g, p0, p1, lo, hi, mask, moves):
    """:func:`rows` of one ``kind``, inlined where ``kind`` is a constant (see :func:`rows`)."""
    n, m = x.shape[0], y.shape[0]
    xt, yt = _padded(x, False), _padded(y, False)
    gx, gy = _gaps(kind, xt, yt, g, False)
    left_edge, top_edge, fill = _boundaries(kind, gx, gy)
    prev = np.full(m + 1, fill)
    cur = np.full(m + 1, fill)
    prev[0] = 0.0
    prev[1:] = top_edge
    stale_lo, stale_hi = 1, 0
    for i in range(n):
        cur[stale_lo : stale_hi + 1] = fill
        cur[0] = left_edge[i]
        left = cur[lo[i]]
        for j in range(lo[i], hi[i]):
            if mask is not None and not mask[i, j]:
                left = fill
                continue
            left = _cell(kind, moves, i, j, prev[j], prev[j + 1], left, xt, yt, gx, gy, p0, p1)
            cur[j + 1] = left
        # Row i - 1 (the boundary row for i = 0) wrote these slots of the buffer cur becomes.
        stale_lo, stale_hi = (lo[i - 1] + 1, hi[i - 1]) if i > 0 else (1, m)
        prev, cur = cur, prev
    return prev[m]


@njit(**JIT_OPTIONS)
def _rows_erp(x, y, g, p0, p1, lo, hi, mask, moves):
    return _rows(ERP, x, y, g, p0, p1, lo, hi, mask, moves)


@njit(**JIT_OPTIONS)
def _rows_edr(x, y, g, p0, p1, lo, hi, mask, moves):
    return _rows(EDR, x, y, g, p0, p1, lo, hi, mask, moves)


@njit(**JIT_OPTIONS)
def _rows_lcss(x, y, g, p0, p1, lo, hi, mask, moves):
    return _rows(LCSS, x, y, g, p0, p1, lo, hi, mask, moves)


@njit(**JIT_OPTIONS)
def _rows_msm(x, y, g, p0, p1, lo, hi, mask, moves):
    return _rows(MSM, x, y, g, p0, p1, lo, hi, mask, moves)


@njit(**JIT_OPTIONS)
def _rows_twe(x, y, g, p0, p1, lo, hi, mask, moves):
    return _rows(TWE, x, y, g, p0, p1, lo, hi, mask, moves)


@njit(**JIT_OPTIONS)
def _rows_adtw(x, y, g, p0, p1, lo, hi, mask, moves):
    return _rows(ADTW, x, y, g, p0, p1, lo, hi, mask, moves)


@njit(**JIT_OPTIONS)
def _rows_msm_dependent(x, y, g, p0, p1, lo, hi, mask, moves):
    return _rows(MSM_DEPENDENT, x, y, g, p0, p1, lo, hi, mask, moves)


_ROWS = {
    ERP: _rows_erp,
    EDR: _rows_edr,
    LCSS: _rows_lcss,
    MSM: _rows_msm,
    TWE: _rows_twe,
    ADTW: _rows_adtw,
    MSM_DEPENDENT: _rows_msm_dependent,
}


def rows(kind, x, y, g, p0, p1, lo, hi, mask, moves):
    """The padded ``D(n, m)`` of any kind, row by row; with ``moves``, the path's moves too.

    ``mask`` and ``moves`` are None or arrays so that Numba compiles the
    variants apart, without the tests of each cell where they are None. Two
    rows are kept; only the slots a row wrote are reset before its buffer
    holds the row two below. Each kind runs its own compiled loop, in which
    the kind is a constant: a test of it in every cell costs three times the
    cell (``numba.literally`` does not fold those tests).

    The kind is picked here, in Python, so that a call compiles only its own
    kind's loop: a compiled dispatcher over the kinds would compile all seven
    for each signature (about a minute in all).
    """
    return _ROWS[kind](x, y, g, p0, p1, lo, hi, mask, moves)


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


# The distance alone, sweeping anti-diagonals -------------------------------------------
#
# Cells of one anti-diagonal ``i + j = d`` read only the two diagonals before it, so each
# sweep is a data-parallel loop (a row sweep chains every cell to its left neighbour).
# Each cell is computed with the very operations of :func:`_cell`, in the same order, so
# the values are the same to the last bit.


@njit(inline="always", **JIT_OPTIONS)
def _squares(out, xt, yt, row, col):
    """Squared distances of ``xt[:, row + t]`` and ``yt[:, col + t]``, summed as :func:`_square`."""
    width = out.shape[0]
    if xt.shape[0] == 1:
        xs = xt[0, row : row + width]
        ys = yt[0, col : col + width]
        for t in range(width):
            diff = xs[t] - ys[t]
            out[t] = diff * diff
        return
    out[:] = 0.0
    for k in range(xt.shape[0]):
        xs = xt[k, row : row + width]
        ys = yt[k, col : col + width]
        for t in range(width):
            diff = xs[t] - ys[t]
            out[t] += diff * diff


@njit(inline="always", **JIT_OPTIONS)
def _diagonal(kind, out, diag, up, left, xt, yt, gx, gy, row, col, d, p0, p1, sq, sq_prev):
    """The cells ``(row + t, d - row - t)`` of one anti-diagonal into ``out``.

    Operands are slices indexed by ``t`` alone: an index that might be
    negative (wrapped around) would keep the loops from vectorising.
    """
    width = out.shape[0]
    sq = sq[:width]
    _squares(sq, xt, yt, row + 1, col)
    gx = gx[row : row + width]
    gy = gy[col : col + width]
    if kind == ERP:
        for t in range(width):
            out[t] = min(diag[t] + np.sqrt(sq[t]), up[t] + gx[t], left[t] + gy[t])
    elif kind == EDR:
        for t in range(width):
            cost = 0.0 if sq[t] <= p0 else 1.0
            out[t] = min(diag[t] + cost, up[t] + 1.0, left[t] + 1.0)
    elif kind == LCSS:
        for t in range(width):
            out[t] = diag[t] + 1.0 if sq[t] <= p0 else max(up[t], left[t])
    elif kind == ADTW:
        for t in range(width):
            out[t] = sq[t] + min(diag[t], up[t] + p0, left[t] + p0)
    elif kind == TWE:
        sq_prev = sq_prev[:width]
        _squares(sq_prev, xt, yt, row, col + 1)
        edit = p0 + p1
        for t in range(width):
            shift = 2 * abs(2 * (row + t) - d)
            match = diag[t] + np.sqrt(sq[t]) + np.sqrt(sq_prev[t]) + p0 * shift
            out[t] = min(match, up[t] + gx[t] + edit, left[t] + gy[t] + edit)
    else:
        xs, x_before = xt[0, row + 1 : row + 1 + width], xt[0, row : row + width]
        ys, y_before = yt[0, col : col + width], yt[0, col + 1 : col + 1 + width]
        for t in range(width):
            out[t] = min(
                diag[t] + abs(xs[t] - ys[t]),
                up[t] + _msm_cost(xs[t], x_before[t], ys[t], p0),
                left[t] + _msm_cost(ys[t], xs[t], y_before[t], p0),
            )


@njit(**JIT_OPTIONS)
def sweep(kind, x, y, g, p0, p1, lo, hi):
    """The padded ``D(n, m)`` of ERP, EDR (edits), LCSS (matches), MSM, TWE or ADTW.

    ``x`` and ``y`` are ``(n, n_channels)`` and ``(m, n_channels)`` (one
    channel for MSM), ``g`` ERP's reference per channel, ``p0`` the threshold
    (EDR, LCSS: see :func:`squared_threshold` in the distances),
    ``c`` (MSM), ``nu`` (TWE) or the warping penalty (ADTW), ``p1`` TWE's
    ``lmbda``. ``lo`` and ``hi`` must be non-decreasing (every band window
    is): the rows of a diagonal form one interval ``[first, stop)`` whose ends
    only move forward, and the two slots around it hold the boundary or the
    value outside the band. Slot ``i + 1`` of a buffer holds row ``i``.
    """
    n, m = x.shape[0], y.shape[0]
    xt = _padded(x, False)
    yt = _padded(y, True)
    gx, gy = _gaps(kind, xt, yt, g, True)
    left_edge, top_edge, fill = _boundaries(kind, gx, gy[::-1])
    before = np.full(n + 2, fill)
    last = np.full(n + 2, fill)
    cur = np.full(n + 2, fill)
    before[0] = 0.0
    last[0] = top_edge[0]
    last[1] = left_edge[0]
    sq = np.empty(n)
    sq_prev = np.empty(n)
    first = 0
    stop = 0
    for d in range(n + m - 1):
        while stop < n and d - stop >= lo[stop]:
            stop += 1
        while first < stop and d - first >= hi[first]:
            first += 1
        # Cell (i, d - i) reads y[d - i], column m - 1 - d + i of yt.
        _diagonal(
            kind, cur[first + 1 : stop + 1], before[first:stop], last[first:stop],
            last[first + 1 : stop + 1], xt, yt, gx, gy, first, m - 1 - d + first, d, p0, p1,
            sq, sq_prev,
        )  # fmt: skip
        cur[first] = top_edge[d + 1] if first == 0 and d + 1 < m else fill
        cur[stop + 1] = left_edge[d + 1] if stop == d + 1 and d + 1 < n else fill
        before, last, cur = last, cur, before
    return last[n]


# Matrices: one kernel call over packed collections --------------------------------------


@njit(**JIT_OPTIONS)
def pair_value(kind, x, y, g, p0, p1, lo, hi):
    """The distance of one pair as ``alignkit.distances.<name>_distance`` returns it.

    EDR's edits are divided by ``max(n, m)`` and LCSS's matches turned into
    ``max(1 - L / min(n, m), 0)``; :data:`MSM` adds up the univariate MSM of
    each channel, :data:`MSM_DEPENDENT` aligns them at once.
    """
    n, m = x.shape[0], y.shape[0]
    if kind == MSM_DEPENDENT:
        return _rows_msm_dependent(x, y, g, p0, p1, lo, hi, None, None)
    if kind == MSM:
        total = 0.0
        for k in range(x.shape[1]):
            column_x = np.ascontiguousarray(x[:, k : k + 1])
            column_y = np.ascontiguousarray(y[:, k : k + 1])
            total += sweep(MSM, column_x, column_y, g, p0, p1, lo, hi)
        return total
    value = sweep(kind, x, y, g, p0, p1, lo, hi)
    if kind == EDR:
        return value / max(n, m)
    if kind == LCSS:
        return max(1.0 - value / min(n, m), 0.0)
    return value


@njit(inline="always", **JIT_OPTIONS)
def _fill(kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, upper, row0, cut, out):
    """The pairs from ``cut[0]`` to ``cut[1]`` (see :func:`elastic_pairs`) into ``out[a - row0]``.

    A pair's ``p0`` is that of the sequence with the larger scale
    (``*_par[:, 0]``: EDR's default threshold follows the larger std).
    """
    n_y = y_off.shape[0] - 1
    first_row, first_col, last_row, last_col = cut[0, 0], cut[0, 1], cut[1, 0], cut[1, 1]
    for a in range(first_row, min(last_row + 1, x_off.shape[0] - 1)):
        x = x_flat[x_off[a] : x_off[a + 1]]
        start = first_col if a == first_row else (a + 1 if upper else 0)
        stop = last_col if a == last_row else n_y
        for b in range(start, stop):
            y = y_flat[y_off[b] : y_off[b + 1]]
            lo, hi = window_bounds(x.shape[0], y.shape[0], spec[0], spec[1], spec[2])
            p0 = x_par[a, 1] if x_par[a, 0] >= y_par[b, 0] else y_par[b, 1]
            out[a - row0, b] = pair_value(kind, x, y, g, p0, p1, lo, hi)


@njit(**JIT_OPTIONS)
def elastic_pairs(
    kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, upper, row0, cuts, out
):
    """Entries of an elastic distance matrix between consecutive ``cuts``, in this thread.

    The collections are packed (sequence ``a`` is ``x_flat[x_off[a]:x_off[a + 1]]``);
    ``*_par`` hold per sequence a scale and ``p0`` (see :func:`_fill`), ``g``
    and ``p1`` are as in :func:`sweep`, ``spec`` the window's ``(kind, radius,
    value)``. The pairs are taken in row-major order (with ``upper``, ``x`` and
    ``y`` the same collection, only those right of the diagonal);
    ``cuts[c] = (row, column)`` is the first pair of chunk ``c``, ``(row,
    n_y)`` meaning the start of row ``row + 1``, as in
    :func:`~alignkit.kernels._numba._threaded.dtw_pairs_threads`.
    """
    for chunk in range(cuts.shape[0] - 1):
        _fill(kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, upper, row0,
              cuts[chunk : chunk + 2], out)  # fmt: skip


@njit(parallel=True, **JIT_OPTIONS)
def elastic_pairs_threads(
    kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, upper, row0, cuts, out
):
    """:func:`elastic_pairs` with one thread of numba's pool per chunk."""
    for chunk in prange(cuts.shape[0] - 1):
        _fill(kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, upper, row0,
              cuts[chunk : chunk + 2], out)  # fmt: skip


def elastic_block(kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, upper, block):
    """Rows ``[start, stop)`` of the matrix of :func:`elastic_pairs`, as a joblib task.

    A plain function, pickled by reference: a worker imports this module and
    loads the kernel from Numba's disk cache instead of compiling a copy.
    ``block`` is ``(start, stop)``; returns ``(start, values)``.
    """
    start, stop = block
    n_y = len(y_off) - 1
    cuts = np.array([[start, start + 1 if upper else 0], [stop - 1, n_y]], dtype=np.int64)
    values = np.zeros((stop - start, n_y))
    elastic_pairs(kind, x_flat, x_off, y_flat, y_off, x_par, y_par, g, p1, spec, upper, start,
                  cuts, values)  # fmt: skip
    return start, values
