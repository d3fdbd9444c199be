"""Batched DTW in torch, by anti-diagonal wavefronts, on any device.

A batch holds pairs of different lengths, padded to ``(batch, n_rows, n_channels)``
and ``(batch, n_cols, n_channels)``. The cells of one anti-diagonal ``i + j = d``
depend only on the two diagonals before it, so each diagonal is one vectorised
step over the whole batch: ``n_rows + n_cols - 1`` steps in all, whatever the
batch size. Per-diagonal slices read the predecessors from three rotating
buffers indexed by row + 1 (slot 0 is the virtual row -1), exactly as the Numba
diagonal kernel does.

Cells a pair does not have (padding) or its window excludes are ``inf`` in every
buffer, and the DP only reads predecessors, so a padded pair sees the same
numbers as the unpadded one: no padding artefact is possible. The local cost is
summed over channels in order and added to the minimum of the three
predecessors, the same float operations as the Numba kernels, so on the CPU in
float64 the distances are bit-identical and the paths identical.

Band cells are stored diagonal by diagonal ("flat" layout): diagonal ``d``
holds rows ``[start[d], stop[d])`` (the union over the batch of each pair's run
of band rows) at ``offsets[d]``. Only the cells some pair's window contains are
computed or stored. Every per-cell tensor is ``(cells, batch)`` with the batch
innermost, so that each diagonal's slice is one contiguous block: contiguous
vector loops on a CPU, coalesced loads on a GPU.
"""

import numpy as np

from ...exceptions import InvalidInputError
from .._numba._bounds import band_bounds
from . import import_torch

__all__ = ["DiagonalCosts", "DiagonalPlan", "diagonal_plan", "dtw_batch", "paths_to_list"]

# Traceback codes, in the order ties are broken (as the Numba backtrack does).
_DIAGONAL, _UP, _LEFT = 0, 1, 2


class DiagonalPlan:
    """Static description of a batch's band cells, diagonal by diagonal.

    Built by :func:`diagonal_plan`. ``start``, ``stop`` and ``offsets`` are
    Python lists (the sweep slices with them without touching the device);
    ``lo`` and ``hi`` the ``(n_rows, batch)`` column bounds of every row (empty
    for padded rows); ``mask`` an optional ``(n_rows, n_cols, batch)`` cell mask;
    :meth:`cells` the row and column of each flat cell (built on demand: they
    are as large as the band, and the sweeps never need them); ``ends[d]``
    the pairs whose last cell ``(n_b - 1, m_b - 1)`` lies on diagonal ``d``,
    as ``(row offsets, batch indices)`` tensors.
    """

    __slots__ = (
        "n_rows", "n_cols", "n_diagonals", "start", "stop", "offsets", "lo", "hi", "mask",
        "everywhere", "row_index", "device", "ends", "x_lengths", "y_lengths",
    )  # fmt: skip

    def valid(self, d):
        """Bool ``(width, batch)``: which cells of diagonal ``d`` a path may visit, or None.

        None means every cell (equal lengths, no window, no mask): no test needed.
        """
        if self.everywhere:
            return None
        s, t = self.start[d], self.stop[d]
        cols = d - self.row_index[s:t]
        valid = (cols[:, None] >= self.lo[s:t]) & (cols[:, None] < self.hi[s:t])
        if self.mask is not None:
            valid &= self.mask[self.row_index[s:t], cols]
        return valid

    def cells(self):
        """Row and column of every flat cell, two int64 tensors of shape ``(n_cells,)``."""
        torch = import_torch("the torch DTW kernels")
        start, offsets = np.asarray(self.start), np.asarray(self.offsets)
        widths = np.diff(offsets)
        rows = np.arange(offsets[-1]) - np.repeat(offsets[:-1] - start, widths)
        cols = np.repeat(np.arange(self.n_diagonals), widths) - rows
        return torch.as_tensor(rows, device=self.device), torch.as_tensor(cols, device=self.device)


def _pair_bounds(window, n, m, n_rows):
    """Row bounds of one pair, padded to ``n_rows`` with empty rows."""
    lo = np.zeros(n_rows, dtype=np.int64)
    hi = np.zeros(n_rows, dtype=np.int64)
    pair_lo, pair_hi, _ = band_bounds(window, n, m)
    lo[:n], hi[:n] = pair_lo, pair_hi
    return lo, hi


def _runs(lo, hi, n, n_diagonals):
    """Rows ``[first, last)`` of one pair's band on each diagonal (non-decreasing bounds)."""
    rows = np.arange(n)
    diagonals = np.arange(n_diagonals)
    first = np.searchsorted(rows + hi[:n], diagonals, side="right")
    last = np.searchsorted(rows + lo[:n], diagonals, side="right")
    return first, np.maximum(first, last)


def _band_runs(x_lengths, y_lengths, n_rows, n_cols, window):
    """Per-pair bounds and the union over the batch of each diagonal's run of rows."""
    n_diagonals = n_rows + n_cols - 1
    batch = len(x_lengths)
    lo = np.zeros((batch, n_rows), dtype=np.int64)
    hi = np.zeros((batch, n_rows), dtype=np.int64)
    start = np.full(n_diagonals, n_rows, dtype=np.int64)
    stop = np.zeros(n_diagonals, dtype=np.int64)
    shapes = {}
    for b, (n, m) in enumerate(zip(x_lengths.tolist(), y_lengths.tolist())):
        if (n, m) not in shapes:
            pair_lo, pair_hi = _pair_bounds(window, n, m, n_rows)
            shapes[n, m] = (pair_lo, pair_hi, *_runs(pair_lo, pair_hi, n, n_diagonals))
        lo[b], hi[b], first, last = shapes[n, m]
        busy = first < last
        start[busy] = np.minimum(start[busy], first[busy])
        stop[busy] = np.maximum(stop[busy], last[busy])
    return lo, hi, np.minimum(start, stop), stop


def diagonal_plan(x_lengths, y_lengths, n_rows, n_cols, *, window=None, mask=None, device=None):
    """Band cells of a batch of pairs, laid out diagonal by diagonal.

    Parameters
    ----------
    x_lengths, y_lengths : ndarray of int of shape (batch,)
        Lengths of the first and second sequence of every pair.
    n_rows, n_cols : int
        Padded lengths (at least the largest lengths).
    window : Window or None, default=None
        Parsed window of every pair (:func:`alignkit.validation.check_window`;
        no mask; each pair gets the band of its own lengths). None is the full
        window.
    mask : torch.Tensor of bool of shape (batch, n_rows, n_cols), default=None
        Cells a path may visit, on top of ``window``.
    device : torch.device, default=None
        Where the tensors of the plan live.

    Returns
    -------
    plan : DiagonalPlan

    Examples
    --------
    >>> import numpy as np
    >>> from alignkit.kernels._torch._dtw import diagonal_plan
    >>> plan = diagonal_plan(np.array([2, 3]), np.array([2, 2]), 3, 2)
    >>> plan.start, plan.stop
    ([0, 0, 1, 2], [1, 2, 3, 3])
    """
    torch = import_torch("the torch DTW kernels")
    x_lengths = np.asarray(x_lengths, dtype=np.int64)
    y_lengths = np.asarray(y_lengths, dtype=np.int64)
    if window is not None and window.mask is not None:
        raise InvalidInputError("window cannot be a mask here; pass the mask as mask=")
    lo, hi, start, stop = _band_runs(x_lengths, y_lengths, n_rows, n_cols, window)
    n_diagonals = n_rows + n_cols - 1
    widths = stop - start
    offsets = np.zeros(n_diagonals + 1, dtype=np.int64)
    np.cumsum(widths, out=offsets[1:])
    plan = DiagonalPlan()
    plan.n_rows, plan.n_cols, plan.n_diagonals = n_rows, n_cols, n_diagonals
    plan.start, plan.stop, plan.offsets = start.tolist(), stop.tolist(), offsets.tolist()
    plan.lo = torch.as_tensor(lo.T.copy(), device=device)
    plan.hi = torch.as_tensor(hi.T.copy(), device=device)
    plan.mask = None if mask is None else mask.permute(1, 2, 0)
    plan.everywhere = (
        mask is None
        and bool(np.all(x_lengths == n_rows) and np.all(y_lengths == n_cols))
        and bool(np.all(lo[:, 0] == 0) and np.all(hi == n_cols))
    )
    plan.row_index = torch.arange(n_rows, device=device)
    plan.device = device
    end_diagonal = x_lengths + y_lengths - 2
    plan.ends = {}
    for d in np.unique(end_diagonal).tolist():
        pairs = np.flatnonzero(end_diagonal == d)
        plan.ends[d] = (
            torch.as_tensor(x_lengths[pairs] - 1 - start[d], device=device),
            torch.as_tensor(pairs, device=device),
        )
    plan.x_lengths, plan.y_lengths = x_lengths, y_lengths
    return plan


class DiagonalCosts:
    """Squared Euclidean costs of one diagonal at a time, from slices (no gathers).

    Copies of ``x`` and of ``y`` reversed, laid out ``(n_channels, n_timepoints,
    batch)``, make both operands of diagonal ``d`` contiguous slices: cell
    ``(i, d - i)`` reads ``y[d - i]``, row ``n_cols - 1 - d + i`` of the reversed
    ``y``. Channels are summed in order, the same float operations as the Numba
    kernels.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from alignkit.kernels._torch._dtw import DiagonalCosts, diagonal_plan
    >>> plan = diagonal_plan(np.array([2]), np.array([1]), 2, 1)
    >>> costs = DiagonalCosts(torch.tensor([[[0.0], [3.0]]]), torch.tensor([[[1.0]]]), plan)
    >>> costs(0), costs(1)
    (tensor([[1.]]), tensor([[4.]]))
    """

    def __init__(self, x, y, plan):
        self.x = x.permute(2, 1, 0).contiguous()
        self.y_reversed = y.flip(1).permute(2, 1, 0).contiguous()
        self.plan = plan

    def __call__(self, d):
        s, t = self.plan.start[d], self.plan.stop[d]
        shift = self.plan.n_cols - 1 - d
        total = None
        for k in range(self.x.shape[0]):
            diff = self.x[k, s:t] - self.y_reversed[k, shift + s : shift + t]
            total = diff * diff if total is None else total + diff * diff
        return total

    def differences(self, d):
        """``x[i] - y[d - i]`` on diagonal ``d``, shape ``(n_channels, width, batch)``."""
        s, t = self.plan.start[d], self.plan.stop[d]
        shift = self.plan.n_cols - 1 - d
        return self.x[:, s:t] - self.y_reversed[:, shift + s : shift + t]


def check_batch(x, y, x_lengths, y_lengths, what):
    """Validate a padded batch; return ``(x, y, x_lengths, y_lengths)`` (lengths as ndarrays).

    ``x`` and ``y`` of shape ``(batch, n)`` are taken as univariate.
    """
    torch = import_torch(what)
    for name, value in (("x", x), ("y", y)):
        if not isinstance(value, torch.Tensor):
            raise InvalidInputError(f"{what}: {name} must be a torch.Tensor, got {type(value)}")
        if value.dim() not in (2, 3) or value.shape[1] == 0:
            raise InvalidInputError(
                f"{what}: {name} must have shape (batch, n_timepoints[, n_channels]) with "
                f"n_timepoints >= 1, got {tuple(value.shape)}"
            )
        if value.dtype not in (torch.float32, torch.float64):
            raise InvalidInputError(f"{what}: {name} must be float32 or float64, got {value.dtype}")
    x = x if x.dim() == 3 else x.unsqueeze(-1)
    y = y if y.dim() == 3 else y.unsqueeze(-1)
    if x.shape[0] != y.shape[0] or x.shape[2] != y.shape[2]:
        raise InvalidInputError(
            f"{what}: x {tuple(x.shape)} and y {tuple(y.shape)} must have the same batch size "
            "and number of channels"
        )
    if x.dtype != y.dtype or x.device != y.device:
        raise InvalidInputError(
            f"{what}: x and y must share dtype and device, got {x.dtype} on {x.device} and "
            f"{y.dtype} on {y.device}"
        )
    return (
        x,
        y,
        _lengths(x_lengths, x, "x_lengths", what),
        _lengths(y_lengths, y, "y_lengths", what),
    )


def check_mask(mask, shape, what):
    """``mask`` if it is None or a bool tensor of ``shape``; a named error otherwise."""
    if mask is None:
        return None
    torch = import_torch(what)
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool or mask.shape != shape:
        raise InvalidInputError(
            f"{what}: mask must be a bool tensor of shape {tuple(shape)}, got "
            f"{getattr(mask, 'dtype', type(mask))} of shape {tuple(getattr(mask, 'shape', ()))}"
        )
    return mask


def _lengths(lengths, padded, name, what):
    batch, n_max = padded.shape[0], padded.shape[1]
    if lengths is None:
        return np.full(batch, n_max, dtype=np.int64)
    torch = import_torch(what)
    if isinstance(lengths, torch.Tensor):
        lengths = lengths.detach().cpu().numpy()
    values = np.asarray(lengths)
    if values.shape != (batch,) or not np.issubdtype(values.dtype, np.integer):
        raise InvalidInputError(
            f"{what}: {name} must hold {batch} integers, got {values.dtype} of shape {values.shape}"
        )
    bad = np.flatnonzero((values < 1) | (values > n_max))
    if bad.size:
        raise InvalidInputError(
            f"{what}: {name}[{bad[0]}] = {values[bad[0]]} is outside [1, {n_max}], "
            "the padded length"
        )
    return values.astype(np.int64)


def _with_invalid(values, valid, fill):
    """``values`` where ``valid`` (None: everywhere), ``fill`` elsewhere."""
    import torch

    return values if valid is None else torch.where(valid, values, fill)


def _sweep_min(costs, plan, batch, keep_directions):
    """Forward DP over the diagonals; summed cost per pair and the traceback codes.

    ``costs(d)`` gives the local costs of diagonal ``d``'s rows, ``(width, batch)``.
    """
    torch = import_torch("the torch DTW kernels")
    inf = float("inf")
    like = costs.x
    before = like.new_full((plan.n_rows + 1, batch), inf)
    before[0] = 0.0
    last = like.new_full((plan.n_rows + 1, batch), inf)
    totals = like.new_empty(batch)
    directions = None
    if keep_directions:
        directions = torch.empty((plan.offsets[-1], batch), dtype=torch.uint8, device=like.device)
    for d in range(plan.n_diagonals):
        s, t, o = plan.start[d], plan.stop[d], plan.offsets[d]
        diag, up, left = before[s:t], last[s:t], last[s + 1 : t + 1]
        best = torch.minimum(torch.minimum(diag, up), left)
        out = _with_invalid(costs(d) + best, plan.valid(d), inf)
        if keep_directions:
            code = torch.where(up <= left, _UP, _LEFT)
            directions[o : o + t - s] = torch.where((diag <= up) & (diag <= left), _DIAGONAL, code)
        current = like.new_full((plan.n_rows + 1, batch), inf)
        current[s + 1 : t + 1] = out
        if d in plan.ends:
            rows, pairs = plan.ends[d]
            totals[pairs] = out[rows, pairs]
        before, last = last, current
    return totals, directions


def _traceback(directions, plan):
    """Paths from the stored codes, all pairs at once, one step per iteration."""
    torch = import_torch("the torch DTW kernels")
    device = directions.device
    batch = directions.shape[1]
    start = torch.as_tensor(plan.start, device=device)
    offsets = torch.as_tensor(plan.offsets[:-1], device=device)
    i = torch.as_tensor(plan.x_lengths - 1, device=device)
    j = torch.as_tensor(plan.y_lengths - 1, device=device)
    n_steps = int(np.max(plan.x_lengths + plan.y_lengths - 1))
    backward = torch.empty((batch, n_steps, 2), dtype=torch.int64, device=device)
    lengths = torch.ones(batch, dtype=torch.int64, device=device)
    pair = torch.arange(batch, device=device)
    for step in range(n_steps):
        backward[:, step, 0], backward[:, step, 1] = i, j
        moving = (i > 0) | (j > 0)
        d = i + j
        code = directions[offsets[d] + i - start[d], pair]
        i = i - (moving & (code != _LEFT)).long()
        j = j - (moving & (code != _UP)).long()
        lengths += moving.long()
    # Reverse each pair's prefix: forward step k is backward step length - 1 - k.
    k = torch.arange(n_steps, device=device)
    source = (lengths[:, None] - 1 - k).clamp(min=0)
    paths = torch.gather(backward, 1, source[:, :, None].expand(-1, -1, 2))
    paths[k[None, :].expand(batch, -1) >= lengths[:, None]] = -1
    return paths, lengths


def dtw_batch(
    x,
    y,
    x_lengths=None,
    y_lengths=None,
    *,
    window=None,
    mask=None,
    squared=False,
    return_paths=False,
):
    """DTW distance (and optimal path) of every pair of a padded batch.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_rows, n_channels) or (batch, n_rows)
        First sequences, padded at the end; float32 or float64, any device.
    y : torch.Tensor of shape (batch, n_cols, n_channels) or (batch, n_cols)
        Second sequences, on the same device and dtype.
    x_lengths, y_lengths : array-like or torch.Tensor of int of shape (batch,), default=None
        True lengths; ``None`` means the padded length. Padding never changes
        a result.
    window : Window or None, default=None
        Parsed window of every pair (:func:`alignkit.validation.check_window`),
        computed from each pair's own lengths; None is the full window.
    mask : torch.Tensor of bool of shape (batch, n_rows, n_cols), default=None
        Cells a path may visit, on top of ``window`` (a mask window of
        :func:`alignkit.dtw`, one per pair).
    squared : bool, default=False
        Return the summed squared cost instead of its square root.
    return_paths : bool, default=False
        Also return the optimal paths.

    Returns
    -------
    distances : torch.Tensor of shape (batch,)
    paths : torch.Tensor of int64 of shape (batch, n_rows + n_cols - 1, 2)
        Only with ``return_paths``: pair ``b``'s path in its first
        ``path_lengths[b]`` rows, ``-1`` after. Ties prefer the diagonal step,
        then the step that advances ``x`` alone, then ``y`` alone, as
        :func:`alignkit.dtw` does.
    path_lengths : torch.Tensor of int64 of shape (batch,)
        Only with ``return_paths``.

    Examples
    --------
    >>> import torch
    >>> from alignkit.kernels._torch._dtw import dtw_batch, paths_to_list
    >>> x = torch.tensor([[0.0, 1.0, 2.0], [0.0, 2.0, 0.0]], dtype=torch.float64)
    >>> y = torch.tensor([[0.0, 2.0], [0.0, 2.0]], dtype=torch.float64)
    >>> distances, paths, lengths = dtw_batch(x, y, x_lengths=[3, 2], squared=True,
    ...                                       return_paths=True)
    >>> distances.tolist()
    [1.0, 0.0]
    >>> [path.tolist() for path in paths_to_list(paths, lengths)]
    [[[0, 0], [1, 0], [2, 1]], [[0, 0], [1, 1]]]
    """
    torch = import_torch("dtw_batch")
    x, y, x_lengths, y_lengths = check_batch(x, y, x_lengths, y_lengths, "dtw_batch")
    mask = check_mask(mask, (x.shape[0], x.shape[1], y.shape[1]), "dtw_batch")
    plan = diagonal_plan(
        x_lengths, y_lengths, x.shape[1], y.shape[1], window=window, mask=mask, device=x.device
    )
    with torch.no_grad():
        totals, directions = _sweep_min(DiagonalCosts(x, y, plan), plan, x.shape[0], return_paths)
    distances = totals if squared else torch.sqrt(totals)
    if not return_paths:
        return distances
    return (distances, *_traceback(directions, plan))


def paths_to_list(paths, path_lengths):
    """Padded paths as a list of int64 arrays of shape ``(path_length, 2)``.

    Examples
    --------
    >>> import torch
    >>> from alignkit.kernels._torch._dtw import paths_to_list
    >>> paths_to_list(torch.tensor([[[0, 0], [-1, -1]]]), torch.tensor([1]))[0].tolist()
    [[0, 0]]
    """
    paths = paths.cpu().numpy()
    return [paths[b, :length].copy() for b, length in enumerate(path_lengths.tolist())]
