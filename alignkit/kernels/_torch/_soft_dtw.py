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

Gradients come from this backward pass, never from autograd through the loop:
with respect to the sequences ``2 * E[i, j] * (x[i] - y[j])`` is accumulated
diagonal by diagonal (``E`` is never stored), and with respect to a given cost
matrix the gradient is ``E`` itself. The layout is that of :mod:`._dtw`:
band cells diagonal by diagonal, ``(cells, batch)``.
"""

from functools import cache

from ...exceptions import InvalidInputError
from . import import_torch
from ._dtw import DiagonalCosts, _with_invalid, check_batch, check_mask, diagonal_plan

__all__ = ["soft_dtw_batch", "soft_dtw_batch_cost"]


def _soft_forward(costs, plan, batch, gamma, like, keep_weights=True):
    """Soft-DTW value of every pair and the soft-min weights ``(diag, up, left)`` of each cell."""
    torch = import_torch("the torch soft-DTW kernels")
    inf = float("inf")
    inv_gamma = 1.0 / gamma
    n_cells = plan.offsets[-1] if keep_weights else 0
    weights = tuple(like.new_empty((n_cells, batch)) for _ in range(3))
    before = like.new_full((plan.n_rows + 1, batch), inf)
    before[0] = 0.0
    last = like.new_full((plan.n_rows + 1, batch), inf)
    values = like.new_empty(batch)
    for d in range(plan.n_diagonals):
        s, t, o = plan.start[d], plan.stop[d], plan.offsets[d]
        predecessors = (before[s:t], last[s:t], last[s + 1 : t + 1])
        low = torch.minimum(torch.minimum(predecessors[0], predecessors[1]), predecessors[2])
        finite = low < inf
        # Shift by the minimum (log-sum-exp); an unreachable cell shifts by 0.
        shift = torch.where(finite, low, 0.0)
        terms = [torch.exp((shift - r) * inv_gamma) for r in predecessors]
        total = terms[0] + terms[1] + terms[2]
        soft = torch.where(finite, shift - gamma * torch.log(total), inf)
        out = _with_invalid(costs(d) + soft, plan.valid(d), inf)
        if keep_weights:
            scale = torch.where(out < inf, 1.0 / total, 0.0)
            for stored, term in zip(weights, terms):
                torch.mul(term, scale, out=stored[o : o + t - s])
        current = like.new_full((plan.n_rows + 1, batch), inf)
        current[s + 1 : t + 1] = out
        if d in plan.ends:
            rows, pairs = plan.ends[d]
            values[pairs] = out[rows, pairs]
        before, last = last, current
    return values, weights


def _soft_backward(weights, plan, visit):
    """Expected alignment diagonal by diagonal, last to first; ``visit(d, E_d)`` consumes it.

    ``E`` of a cell is the sum of its successors' products ``E[s] * P(s <- p)``:
    the left product of row ``i`` and the up product of row ``i + 1`` on the
    next diagonal, and the diagonal product of row ``i + 1`` two diagonals on.
    Product buffers are indexed by row and hold 0 outside their diagonal's cells.
    """
    w_diag, w_up, w_left = weights
    batch = w_diag.shape[1]
    shape = (plan.n_rows + 1, batch)
    p_left, p_up = w_diag.new_zeros(shape), w_diag.new_zeros(shape)
    p_diag1, p_diag2 = w_diag.new_zeros(shape), w_diag.new_zeros(shape)
    for d in range(plan.n_diagonals - 1, -1, -1):
        s, t, o = plan.start[d], plan.stop[d], plan.offsets[d]
        expected = p_left[s:t] + p_up[s + 1 : t + 1] + p_diag2[s + 1 : t + 1]
        if d in plan.ends:
            rows, pairs = plan.ends[d]
            expected[rows, pairs] = 1.0
        visit(d, expected)
        p_left, p_up, p_diag0 = (w_diag.new_zeros(shape) for _ in range(3))
        p_left[s:t] = expected * w_left[o : o + t - s]
        p_up[s:t] = expected * w_up[o : o + t - s]
        p_diag0[s:t] = expected * w_diag[o : o + t - s]
        p_diag2, p_diag1 = p_diag1, p_diag0


@cache
def _functions():
    """The autograd Functions, built on first use so that importing this module needs no torch."""
    torch = import_torch("the torch soft-DTW kernels")

    class SoftDTWSequences(torch.autograd.Function):
        """Soft-DTW of padded sequence pairs; gradients with respect to both sequences."""

        @staticmethod
        def forward(ctx, x, y, plan, gamma):
            costs = DiagonalCosts(x, y, plan)
            keep = any(ctx.needs_input_grad[:2])
            values, weights = _soft_forward(costs, plan, x.shape[0], gamma, x, keep)
            ctx.save_for_backward(x, y, *weights)
            ctx.plan = plan
            return values

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_values):
            x, y, *weights = ctx.saved_tensors
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

            _soft_backward(weights, plan, visit)
            scale = grad_values[:, None, None]
            grad_y = None
            if need_x:
                grad_x = grad_x.permute(2, 1, 0) * scale
            if need_y:
                grad_y = grad_y_reversed.flip(1).permute(2, 1, 0) * scale
            return grad_x, grad_y, None, None

    class SoftDTWCells(torch.autograd.Function):
        """Soft-DTW from the local costs of the band cells, ``(cells, batch)``; gradient ``E``."""

        @staticmethod
        def forward(ctx, cells, plan, gamma):
            def costs(d):
                return cells[plan.offsets[d] : plan.offsets[d + 1]]

            keep = ctx.needs_input_grad[0]
            values, weights = _soft_forward(costs, plan, cells.shape[1], gamma, cells, keep)
            ctx.save_for_backward(*weights)
            ctx.plan = plan
            return values

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad_values):
            weights = ctx.saved_tensors
            plan = ctx.plan
            expected = torch.zeros_like(weights[0])

            def visit(d, values):
                expected[plan.offsets[d] : plan.offsets[d + 1]] = values

            _soft_backward(weights, plan, visit)
            return expected * grad_values, None, None

    return SoftDTWSequences, SoftDTWCells


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


def soft_dtw_batch(x, y, x_lengths=None, y_lengths=None, *, gamma=1.0, window=None, mask=None):
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
    gamma : float, default=1.0
        Smoothing of the soft minimum, ``> 0`` (checked by the caller).
    window : Window or None, default=None
        Parsed window of every pair (:func:`alignkit.validation.check_window`),
        computed from each pair's own lengths; None is the full window.
    mask : torch.Tensor of bool of shape (batch, n_rows, n_cols), default=None
        Cells a path may visit, on top of ``window``.

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
    return sequences.apply(_zero_padding(x, x_lengths), _zero_padding(y, y_lengths), plan, gamma)


def soft_dtw_batch_cost(cost, x_lengths=None, y_lengths=None, *, gamma=1.0, window=None, mask=None):
    """Soft-DTW value of every pair from a padded batch of local cost matrices.

    Parameters
    ----------
    cost : torch.Tensor of shape (batch, n_rows, n_cols)
        ``cost[b, i, j]`` is the local cost of matching frame ``i`` of the
        first sequence of pair ``b`` with frame ``j`` of the second; float32
        or float64, any device. Entries outside the lengths are ignored.
    x_lengths, y_lengths : array-like or torch.Tensor of int of shape (batch,), default=None
        True lengths; ``None`` means the padded size.
    gamma : float, default=1.0
        Smoothing of the soft minimum, ``> 0`` (checked by the caller).
    window : Window or None, default=None
        Parsed window of every pair (:func:`alignkit.validation.check_window`),
        computed from each pair's own lengths; None is the full window.
    mask : torch.Tensor of bool of shape (batch, n_rows, n_cols), default=None
        Cells a path may visit, on top of ``window``.

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
    return cells.apply(cost.permute(1, 2, 0)[plan.rows, plan.cols], plan, gamma)
