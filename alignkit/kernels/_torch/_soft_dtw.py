"""Batched soft-DTW in torch with an analytic backward pass, on any device.

Forward (Algorithm 1 of Cuturi & Blondel, 2017), one anti-diagonal per step over
the whole batch, with ``R[-1, -1] = 0`` and ``inf`` elsewhere outside the band::

    R[i, j] = C[i, j] + softmin(R[i-1, j-1], R[i-1, j], R[i, j-1])

Backward (Algorithm 2): the expected alignment ``E = dR[n-1, m-1] / dC``
satisfies ``E[p] = sum over successors s of p of E[s] * P(s <- p)`` with
``E[n-1, m-1] = 1``, where ``P(s <- p)`` is the weight the soft-min of ``s``
gives its predecessor ``p``. The forward pass stores the three normalised
weights of every band cell (as the Numba kernels do: the backward pass then
calls no ``exp``, and the weights are exact to rounding, where recomputing them
from ``R`` loses ``|R| * eps / gamma`` in the exponent, which matters in
float32); the backward pass runs anti-diagonal by anti-diagonal, last to
first. Cells no path reaches get weight 0, so they carry no probability.

Memory: storing the weights of every band cell costs ``3 * cells`` numbers per
pair (quadratic in the lengths). When that would pass :data:`STORE_LIMIT` bytes
(or when asked, ``recompute=True``), the forward pass keeps only the two
diagonals before every ``K``-th diagonal (``K`` about ``sqrt(2 (n + m) / 3)``)
and the backward pass recomputes the weights of one segment of ``K`` diagonals
at a time, from its checkpoint, last segment first (checkpointing). The
recomputed weights are the same float operations on the same numbers, so
values and gradients are bit-identical to the stored ones; the price is one
more forward sweep, and the memory per pair is ``O(width * sqrt(n + m))``
(``width`` the longest diagonal of the band) instead of ``O(cells)``.

Gradients come from this backward pass, never from autograd through the loop:
with respect to the sequences ``2 * E[i, j] * (x[i] - y[j])`` is accumulated
diagonal by diagonal (``E`` is never stored), and with respect to a given cost
matrix the gradient is ``E`` itself. The layout is that of :mod:`._dtw`:
band cells diagonal by diagonal, ``(cells, batch)``.
"""

import math
from functools import cache

from ...exceptions import InvalidInputError
from . import import_torch
from ._dtw import DiagonalCosts, _with_invalid, check_batch, check_mask, diagonal_plan

__all__ = ["STORE_LIMIT", "soft_dtw_batch", "soft_dtw_batch_cost"]

#: Bytes of soft-min weights above which the backward pass recomputes them (64 MiB).
STORE_LIMIT = 64 * 2**20


def _soft_step(costs, plan, d, before, last, gamma, values=None, stored=None):
    """Diagonal ``d`` of the forward DP from the buffers of ``d - 2`` and ``d - 1``.

    Returns the buffer of diagonal ``d`` (indexed by row + 1, ``inf`` outside its
    cells); writes the values of the pairs that end on ``d`` into ``values`` and
    the normalised weights ``(diag, up, left)`` of its cells into ``stored``.
    """
    torch = import_torch("the torch soft-DTW kernels")
    inf = float("inf")
    s, t = plan.start[d], plan.stop[d]
    predecessors = (before[s:t], last[s:t], last[s + 1 : t + 1])
    low = torch.minimum(torch.minimum(predecessors[0], predecessors[1]), predecessors[2])
    finite = low < inf
    # Shift by the minimum (log-sum-exp); an unreachable cell shifts by 0.
    shift = torch.where(finite, low, 0.0)
    terms = [torch.exp((shift - r) * (1.0 / gamma)) for r in predecessors]
    total = terms[0] + terms[1] + terms[2]
    soft = torch.where(finite, shift - gamma * torch.log(total), inf)
    out = _with_invalid(costs(d) + soft, plan.valid(d), inf)
    if stored is not None:
        scale = torch.where(out < inf, 1.0 / total, 0.0)
        for weights, term in zip(stored, terms):
            torch.mul(term, scale, out=weights)
    current = last.new_full(last.shape, inf)
    current[s + 1 : t + 1] = out
    if values is not None and d in plan.ends:
        rows, pairs = plan.ends[d]
        values[pairs] = out[rows, pairs]
    return current


def _initial_buffer(plan, d, like, batch, saved=None):
    """The buffer of diagonal ``d`` in ``{-2, -1}`` (the virtual ``R[-1, -1] = 0``), or saved."""
    buffer = like.new_full((plan.n_rows + 1, batch), float("inf"))
    if d == -2:
        buffer[0] = 0.0
    elif d >= 0:
        buffer[plan.start[d] + 1 : plan.stop[d] + 1] = saved[d]
    return buffer


def _segment_length(n_diagonals):
    """Diagonals per recomputed segment: balances checkpoints (2 each) and weights (3 each)."""
    return max(1, round(math.sqrt(2.0 * n_diagonals / 3.0)))


def _soft_forward(costs, plan, batch, gamma, like, mode):
    """Soft-DTW value of every pair, and what the backward pass needs.

    ``mode`` is None (no gradient: nothing kept), ``"store"`` (the weights of
    every cell, a tuple of three ``(cells, batch)`` tensors) or ``"recompute"``
    (a dict from diagonal to its ``(width, batch)`` values, for the two
    diagonals before every segment start).
    """
    values = like.new_empty(batch)
    before = _initial_buffer(plan, -2, like, batch)
    last = _initial_buffer(plan, -1, like, batch)
    n_cells = plan.offsets[-1] if mode == "store" else 0
    weights = tuple(like.new_empty((n_cells, batch)) for _ in range(3))
    every = _segment_length(plan.n_diagonals)
    saved = {}
    for d in range(plan.n_diagonals):
        stored = None
        if mode == "store":
            o, p = plan.offsets[d], plan.offsets[d + 1]
            stored = tuple(w[o:p] for w in weights)
        current = _soft_step(costs, plan, d, before, last, gamma, values, stored)
        # Diagonals c - 2 and c - 1 of every segment start c > 0 (the last start is below D).
        if mode == "recompute" and (d + 2) % every in (0, 1) and d < plan.n_diagonals - 1:
            saved[d] = current[plan.start[d] + 1 : plan.stop[d] + 1].clone()
        before, last = last, current
    return values, (weights if mode == "store" else saved)


def _backward_diagonals(weights, base, plan, first, stop, state, visit):
    """Expected alignment on diagonals ``stop - 1`` down to ``first``; ``visit(d, E_d)``.

    ``weights`` hold the cells of these diagonals from flat offset ``base`` on.
    ``E`` of a cell is the sum of its successors' products ``E[s] * P(s <- p)``:
    the left product of row ``i`` and the up product of row ``i + 1`` on the
    next diagonal, and the diagonal product of row ``i + 1`` two diagonals on.
    Product buffers (``state``: left, up, diagonal one and two on) are indexed by
    row and hold 0 outside their diagonal's cells; the updated state is returned.
    """
    w_diag, w_up, w_left = weights
    p_left, p_up, p_diag1, p_diag2 = state
    for d in range(stop - 1, first - 1, -1):
        s, t, o = plan.start[d], plan.stop[d], plan.offsets[d] - base
        expected = p_left[s:t] + p_up[s + 1 : t + 1] + p_diag2[s + 1 : t + 1]
        if d in plan.ends:
            rows, pairs = plan.ends[d]
            expected[rows, pairs] = 1.0
        visit(d, expected)
        p_left, p_up, p_diag0 = (p_left.new_zeros(p_left.shape) for _ in range(3))
        p_left[s:t] = expected * w_left[o : o + t - s]
        p_up[s:t] = expected * w_up[o : o + t - s]
        p_diag0[s:t] = expected * w_diag[o : o + t - s]
        p_diag2, p_diag1 = p_diag1, p_diag0
    return p_left, p_up, p_diag1, p_diag2


def _soft_backward(saved, costs, plan, gamma, like, visit):
    """The backward pass from what :func:`_soft_forward` kept (stored or recomputed weights)."""
    batch = like.shape[-1]
    state = tuple(like.new_zeros((plan.n_rows + 1, batch)) for _ in range(4))
    if isinstance(saved, tuple):
        _backward_diagonals(saved, 0, plan, 0, plan.n_diagonals, state, visit)
        return
    every = _segment_length(plan.n_diagonals)
    firsts = list(range(0, plan.n_diagonals, every))
    widest = max(plan.offsets[min(c + every, plan.n_diagonals)] - plan.offsets[c] for c in firsts)
    buffers = tuple(like.new_empty((widest, batch)) for _ in range(3))
    for first in reversed(firsts):
        stop = min(first + every, plan.n_diagonals)
        before = _initial_buffer(plan, first - 2, like, batch, saved)
        last = _initial_buffer(plan, first - 1, like, batch, saved)
        base = plan.offsets[first]
        for d in range(first, stop):
            o, p = plan.offsets[d] - base, plan.offsets[d + 1] - base
            stored = tuple(w[o:p] for w in buffers)
            before, last = last, _soft_step(costs, plan, d, before, last, gamma, stored=stored)
        state = _backward_diagonals(buffers, base, plan, first, stop, state, visit)


def _mode(needs_grad, plan, batch, like, recompute):
    """None, "store" or "recompute" (see :func:`_soft_forward`)."""
    if not needs_grad:
        return None
    if recompute is None:
        recompute = 3 * plan.offsets[-1] * batch * like.element_size() > STORE_LIMIT
    return "recompute" if recompute else "store"


def _save(ctx, inputs, saved, plan, gamma):
    """Keep the inputs and the forward's tensors (stored weights or checkpoints) on ``ctx``."""
    keys = None if isinstance(saved, tuple) else sorted(saved)
    tensors = saved if keys is None else tuple(saved[d] for d in keys)
    ctx.save_for_backward(*inputs, *tensors)
    ctx.n_inputs, ctx.keys, ctx.plan, ctx.gamma = len(inputs), keys, plan, gamma


def _restore(ctx):
    """``(inputs, saved)`` as :func:`_save` kept them."""
    tensors = ctx.saved_tensors
    inputs, rest = tensors[: ctx.n_inputs], tensors[ctx.n_inputs :]
    return inputs, (tuple(rest) if ctx.keys is None else dict(zip(ctx.keys, rest)))


@cache
def _functions():
    """The autograd Functions, built on first use so that importing this module needs no torch."""
    torch = import_torch("the torch soft-DTW kernels")

    class SoftDTWSequences(torch.autograd.Function):
        """Soft-DTW of padded sequence pairs; gradients with respect to both sequences."""

        @staticmethod
        def forward(ctx, x, y, plan, gamma, recompute):
            costs = DiagonalCosts(x, y, plan)
            batch = x.shape[0]
            mode = _mode(any(ctx.needs_input_grad[:2]), plan, batch, x, recompute)
            values, saved = _soft_forward(costs, plan, batch, gamma, x, mode)
            _save(ctx, (x, y), saved, plan, gamma)
            return values

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_values):
            (x, y), saved = _restore(ctx)
            plan = ctx.plan
            costs = DiagonalCosts(x, y, plan)
            need_x, need_y = ctx.needs_input_grad[:2]
            grad_x = torch.zeros_like(costs.x) if need_x else None
            grad_y_reversed = torch.zeros_like(costs.y_reversed) if need_y else None

            def visit(d, expected):
                s, t = plan.start[d], plan.stop[d]
                shift = plan.n_cols - 1 - d
                term = 2.0 * expected * costs.differences(d)
                if need_x:
                    grad_x[:, s:t] += term
                if need_y:
                    grad_y_reversed[:, shift + s : shift + t] -= term

            like = x.new_empty((0, x.shape[0]))
            _soft_backward(saved, costs, plan, ctx.gamma, like, visit)
            scale = grad_values[:, None, None]
            grad_y = None
            if need_x:
                grad_x = grad_x.permute(2, 1, 0) * scale
            if need_y:
                grad_y = grad_y_reversed.flip(1).permute(2, 1, 0) * scale
            return grad_x, grad_y, None, None, None

    class SoftDTWCells(torch.autograd.Function):
        """Soft-DTW from the local costs of the band cells, ``(cells, batch)``; gradient ``E``."""

        @staticmethod
        def forward(ctx, cells, plan, gamma, recompute):
            batch = cells.shape[1]
            mode = _mode(ctx.needs_input_grad[0], plan, batch, cells, recompute)
            values, saved = _soft_forward(_cell_costs(cells, plan), plan, batch, gamma, cells, mode)
            # The stored weights need no costs; recomputing them does.
            _save(ctx, (cells,) if mode == "recompute" else (), saved, plan, gamma)
            return values

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_values):
            inputs, saved = _restore(ctx)
            plan = ctx.plan
            like = grad_values.new_empty((0, grad_values.shape[0]))
            costs = _cell_costs(inputs[0], plan) if inputs else None
            expected = like.new_zeros((plan.offsets[-1], like.shape[1]))

            def visit(d, values):
                expected[plan.offsets[d] : plan.offsets[d + 1]] = values

            _soft_backward(saved, costs, plan, ctx.gamma, like, visit)
            return expected * grad_values, None, None, None

    return SoftDTWSequences, SoftDTWCells


def _cell_costs(cells, plan):
    """``costs(d)``: the ``(width, batch)`` block of diagonal ``d`` of flat band cells."""

    def costs(d):
        return cells[plan.offsets[d] : plan.offsets[d + 1]]

    return costs


def _zero_padding(values, lengths):
    """Padding set to 0, so that garbage there (NaN) cannot reach a gradient."""
    torch = import_torch("soft_dtw_batch")
    if (lengths == values.shape[1]).all():
        return values
    keep = (
        torch.arange(values.shape[1], device=values.device)[None, :]
        < torch.as_tensor(lengths, device=values.device)[:, None]
    )
    return values.masked_fill(~keep[:, :, None], 0.0)


# The keyword parameters of the two public functions, documented once.
_OPTIONS_DOC = """gamma : float, default=1.0
        Smoothing of the soft minimum, ``> 0`` (checked by the caller).
    window : Window or None, default=None
        Parsed window of every pair (:func:`alignkit.validation.check_window`),
        computed from each pair's own lengths; None is the full window.
    mask : torch.Tensor of bool of shape (batch, n_rows, n_cols), default=None
        Cells a path may visit, on top of ``window``.
    recompute : bool or None, default=None
        Keep only checkpoints and recompute the soft-min weights in the
        backward pass (memory ``O(width * sqrt(n_rows + n_cols))`` per pair)
        rather than store them for every cell; the gradients are the same
        to the last bit. None recomputes when the stored weights would pass
        :data:`STORE_LIMIT` bytes."""


def soft_dtw_batch(
    x, y, x_lengths=None, y_lengths=None, *, gamma=1.0, window=None, mask=None, recompute=None
):
    """Soft-DTW value of every pair of a padded batch, differentiable in ``x`` and ``y``.

    Parameters
    ----------
    x : torch.Tensor of shape (batch, n_rows, n_channels) or (batch, n_rows)
        First sequences, padded at the end; float32 or float64, any device.
    y : torch.Tensor of shape (batch, n_cols, n_channels) or (batch, n_cols)
        Second sequences, on the same device and dtype.
    x_lengths, y_lengths : array-like or torch.Tensor of int of shape (batch,), default=None
        True lengths; ``None`` means the padded length. Padding never changes
        a value or a gradient (the gradient is 0 on padding).
    {options}

    Returns
    -------
    values : torch.Tensor of shape (batch,)
        :func:`alignkit.distances.soft_dtw` of every pair; ``backward`` runs the
        expected-alignment recursion, not autograd through the loop.

    Examples
    --------
    >>> import torch
    >>> from alignkit.kernels._torch._soft_dtw import soft_dtw_batch
    >>> x = torch.tensor([[0.0, 1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    >>> y = torch.tensor([[0.0, 2.0]], dtype=torch.float64)
    >>> value = soft_dtw_batch(x, y, gamma=1.0)
    >>> round(value.item(), 4)
    0.1227
    >>> value.sum().backward()
    >>> x.grad.shape
    torch.Size([1, 3])
    """
    x, y, x_lengths, y_lengths = check_batch(x, y, x_lengths, y_lengths, "soft_dtw_batch")
    mask = check_mask(mask, (x.shape[0], x.shape[1], y.shape[1]), "soft_dtw_batch")
    plan = diagonal_plan(
        x_lengths, y_lengths, x.shape[1], y.shape[1], window=window, mask=mask, device=x.device
    )
    sequences, _ = _functions()
    x, y = _zero_padding(x, x_lengths), _zero_padding(y, y_lengths)
    return sequences.apply(x, y, plan, gamma, recompute)


def soft_dtw_batch_cost(
    cost, x_lengths=None, y_lengths=None, *, gamma=1.0, window=None, mask=None, recompute=None
):
    """Soft-DTW value of every pair from a padded batch of local cost matrices.

    Parameters
    ----------
    cost : torch.Tensor of shape (batch, n_rows, n_cols)
        ``cost[b, i, j]`` is the local cost of matching frame ``i`` of the
        first sequence of pair ``b`` with frame ``j`` of the second; float32
        or float64, any device. Entries outside the lengths are ignored.
    x_lengths, y_lengths : array-like or torch.Tensor of int of shape (batch,), default=None
        True lengths; ``None`` means the padded size.
    {options}

    Returns
    -------
    values : torch.Tensor of shape (batch,)
        Differentiable in ``cost``: the gradient of ``values[b]`` is the
        expected alignment of pair ``b`` (0 outside its band and lengths).

    Examples
    --------
    >>> import torch
    >>> from alignkit.kernels._torch._soft_dtw import soft_dtw_batch_cost
    >>> cost = torch.tensor([[[0.0, 4.0], [1.0, 1.0], [4.0, 0.0]]], requires_grad=True)
    >>> value = soft_dtw_batch_cost(cost, gamma=0.01)
    >>> value.backward()
    >>> cost.grad.round(decimals=3)
    tensor([[[1.0000, 0.0000],
             [0.5000, 0.5000],
             [0.0000, 1.0000]]])
    """
    torch = import_torch("soft_dtw_batch_cost")
    if not isinstance(cost, torch.Tensor) or cost.dim() != 3:
        raise InvalidInputError(
            "soft_dtw_batch_cost: cost must be a torch.Tensor of shape (batch, n_rows, n_cols), "
            f"got {getattr(cost, 'shape', type(cost))}"
        )
    rows, cols = cost[:, :, :1], cost[:, :1, :].transpose(1, 2)
    _, _, x_lengths, y_lengths = check_batch(
        rows, cols, x_lengths, y_lengths, "soft_dtw_batch_cost"
    )
    mask = check_mask(mask, tuple(cost.shape), "soft_dtw_batch_cost")
    plan = diagonal_plan(
        x_lengths, y_lengths, cost.shape[1], cost.shape[2], window=window, mask=mask,
        device=cost.device,
    )  # fmt: skip
    _, cells = _functions()
    rows, cols = plan.cells()
    return cells.apply(cost.permute(1, 2, 0)[rows, cols], plan, gamma, recompute)


for _function in (soft_dtw_batch, soft_dtw_batch_cost):
    _function.__doc__ = _function.__doc__.replace("{options}", _OPTIONS_DOC)
