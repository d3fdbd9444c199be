"""Soft dynamic time warping: value, expected alignment, gradient and divergence."""

import numpy as np
from numpy.typing import ArrayLike

from ..core.params import Interval, Real, validate_params
from ..core.window import Window
from ..exceptions import WindowError
from ..validation import WindowLike, check_memory, check_pair, check_window

__all__ = ["soft_dtw", "soft_dtw_alignment", "soft_dtw_grad", "soft_dtw_divergence"]

_DEFINITION = """
    With the squared Euclidean local cost ``C[i, j] = sum_k (a[i, k] -
    b[j, k]) ** 2``, soft-DTW replaces the minimum of the DTW recursion by the
    soft minimum ``min_gamma(r) = -gamma * log(sum_k exp(-r_k / gamma))``::

        R[i, j] = C[i, j] + min_gamma(R[i-1, j-1], R[i-1, j], R[i, j-1])

    with ``R[-1, -1] = 0``, and the value is ``R[n-1, m-1]``: ``-gamma`` times
    the log of the sum of ``exp(-cost / gamma)`` over every warping path. It is
    not a distance: it may be negative, and ``soft_dtw(a, a) < 0``. As
    ``gamma -> 0`` it tends to the summed squared DTW cost,
    ``dtw_distance(a, b, squared=True)``. tslearn's ``soft_dtw`` returns the
    same value; aeon 1.6's ``soft_dtw_distance`` returns its absolute value
    (and plain DTW when the inputs are equal), which is wrong for negative
    values. Cells outside ``window`` cost ``inf``.
"""


# The entries of the docstrings here that several functions share, documented once.
_A = """a : array-like of shape (n,) or (n, n_channels)
        First sequence."""
_B = """b : array-like of shape (m,) or (m, n_channels)
        Second sequence, with the same channels as ``a``."""
_GAMMA_DOC = """gamma : float, default=1.0
        Smoothing of the soft minimum, ``> 0``; smaller is closer to DTW."""
_WINDOW = """window : None, int, float, tuple or ndarray of bool, default=None
        Constraint on the paths, as in :func:`alignkit.dtw`."""
_INVALID_INPUT = """InvalidInputError
        If a sequence is invalid, the channels differ, ``gamma`` is not a
        finite positive number, or the summed squared cost overflows float64
        (values around 1e154 and beyond)."""
_BACKEND = """backend : {"numba", "torch", "auto"}, default="numba"
        Compute backend (see :func:`alignkit.kernels.dispatch.resolve_backend`):
        the Numba kernels, or the torch kernels on ``device`` (NumPy in and
        out either way; the same values to rounding).
    device : str or None, default=None
        Torch device for ``backend="torch"`` (``"cpu"``, ``"cuda"``, ``"auto"``...);
        ``None`` reads :func:`alignkit.get_config`."""

_GAMMA = {"gamma": [Interval(Real, 0, np.inf, closed="neither")]}

# Bytes a call allocates per cell of the window and per entry of the n x m
# matrix, by backend and call: the peak resident growth measured at n = m =
# 1500, checked against max_memory once per call, before the first of them.
_MEMORY = {
    ("numba", "value"): (0, 0),  # three anti-diagonals: O(n)
    ("numba", "grad"): (24, 0),  # the three soft-min weights of every cell
    ("numba", "alignment"): (24, 8),  # the weights and the dense expected alignment
    ("torch", "value"): (24, 0),  # the diagonal plan's cell indices (and their temporaries)
    ("torch", "grad"): (40, 0),  # the plan and the weights
    # The dense cost matrix and its gradient; the gathered cells, the plan, the
    # weights and the expected alignment with its scaled copy.
    ("torch", "alignment"): (64, 16),
}


def window_arrays(window: Window, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Non-decreasing row bounds and a dense mask (shape (0, 0) when there is none)."""
    from ..kernels._numba._bounds import band_bounds

    if window.mask is None:
        lo, hi, _ = band_bounds(window, n, m)
        return lo, hi, np.zeros((0, 0), dtype=np.bool_)
    # Mask bounds need not be monotone: run the full window and let the mask cut cells.
    lo = np.zeros(n, dtype=np.int64)
    hi = np.full(n, m, dtype=np.int64)
    return lo, hi, np.ascontiguousarray(window.mask, dtype=np.bool_)


def check_soft_memory(call: str, backend: str, n_cells: int, n: int, m: int) -> None:
    """Refuse a soft-DTW call whose whole allocation would exceed ``max_memory``.

    ``call`` is ``"value"``, ``"grad"`` or ``"alignment"``, ``n_cells`` the
    number of cells of the window, ``n`` and ``m`` the lengths.
    """
    per_cell, per_entry = _MEMORY[backend, call]
    n_bytes = per_cell * n_cells + per_entry * n * m
    if n_bytes:
        check_memory(
            n_bytes,
            f"soft-DTW ({call}, {backend} backend) of sequences of lengths {n} and {m}",
        )


def _n_cells(bounds):
    lo, hi, _ = bounds
    return int(np.sum(hi - lo))


def _prepare(a, b, window):
    a, b = check_pair(a, b)
    return a, b, check_window(window, shape=(len(a), len(b)))


def _finite(value, a, b, mask=None, names=("a", "b")):
    """``value`` as a float; ``inf`` means a mask without a path, or an overflowing cost.

    A band always holds a path, so an infinite value there (or under a mask
    that admits one) is a summed squared cost beyond float64: the error names
    ``names`` and the magnitude of their values.
    """
    if np.isfinite(value):
        return float(value)
    if mask is not None and mask.size and not _mask_admits_path(mask):
        n, m = mask.shape
        raise WindowError(
            f"the window admits no continuous warping path from (0, 0) to ({n - 1}, {m - 1})"
        )
    from ._dtw import check_cost_finite

    check_cost_finite(value, *names, a, b)
    return float(value)


def _mask_admits_path(mask):
    """Whether a dense mask holds a continuous path: soft-DTW of zeros is finite exactly then."""
    from ..kernels._numba import _soft_dtw

    n, m = mask.shape
    lo, hi = np.zeros(n, dtype=np.int64), np.full(n, m, dtype=np.int64)
    mask = np.ascontiguousarray(mask, dtype=np.bool_)
    zeros_a, zeros_b = np.zeros((n, 1)), np.zeros((m, 1))
    return bool(np.isfinite(_soft_dtw.soft_dtw_value(zeros_a, zeros_b, lo, hi, mask, 1.0)))


def soft_value_and_weights(
    a: np.ndarray,
    b: np.ndarray,
    gamma: float,
    lo: np.ndarray,
    hi: np.ndarray,
    mask: np.ndarray,
    call: str = "grad",
    names: tuple[str, str] = ("a", "b"),
) -> tuple[float, np.ndarray, np.ndarray]:
    """Forward pass on validated inputs: ``(value, weights, ranges)`` for the backward kernels.

    Private driver shared with :mod:`alignkit.distances`; inputs are not
    checked again. The memory of the whole ``call`` (``"grad"``, or
    ``"alignment"`` when the dense expected alignment follows) is checked
    first; ``names`` name ``a`` and ``b`` if their cost overflows.
    """
    from ..kernels._numba import _soft_dtw

    check_soft_memory(call, "numba", int(np.sum(hi - lo)), len(a), len(b))
    value, weights, ranges = _soft_dtw.soft_dtw_forward(a, b, lo, hi, mask, gamma)
    return _finite(value, a, b, mask, names), weights, ranges


def _backend(backend, device, a, b, what):
    """``(backend, device)`` for one pair, as :func:`alignkit.kernels.dispatch.resolve_backend`."""
    from ..kernels.dispatch import resolve_backend

    return resolve_backend(backend, device, n_pairs=1, length=max(len(a), len(b)), what=what)


def _torch_pair(a, b, window, device):
    """One pair as float64 tensors of shape (1, n, d) on ``device``, its band and mask."""
    from ..kernels._torch import import_torch

    torch = import_torch("the torch soft-DTW backend")
    x = torch.as_tensor(a, device=device)[None]
    y = torch.as_tensor(b, device=device)[None]
    if window.mask is None:
        return torch, x, y, window, None
    return torch, x, y, Window(), torch.as_tensor(window.mask, device=device)[None]


def _torch_value(a, b, gamma, window, device):
    from ..kernels._torch._soft_dtw import soft_dtw_batch

    torch, x, y, window, mask = _torch_pair(a, b, window, device)
    with torch.no_grad():
        value = soft_dtw_batch(x, y, gamma=gamma, window=window, mask=mask)
    return _finite(value.item(), a, b, _host_mask(mask))


def _host_mask(mask):
    return None if mask is None else mask[0].cpu().numpy()


def _torch_backward(call, a, b, gamma, window, device):
    """The value and, by autograd, its gradient in ``a`` (``"grad"``) or in the local cost.

    The gradient in the local cost (``call="alignment"``) is the expected alignment.
    """
    from ..kernels._torch._soft_dtw import soft_dtw_batch, soft_dtw_batch_cost

    torch, x, y, window, mask = _torch_pair(a, b, window, device)
    if call == "grad":
        leaf = x.requires_grad_(True)
        value = soft_dtw_batch(x, y, gamma=gamma, window=window, mask=mask)
    else:
        leaf = None
        for k in range(x.shape[2]):
            diff = x[:, :, None, k] - y[:, None, :, k]
            leaf = diff * diff if leaf is None else leaf + diff * diff
        leaf.requires_grad_(True)
        value = soft_dtw_batch_cost(leaf, gamma=gamma, window=window, mask=mask)
    _finite(value.item(), a, b, _host_mask(mask))
    (grad,) = torch.autograd.grad(value.sum(), leaf)
    return float(value.item()), grad[0].cpu().numpy()


def _value_and_backward(call, a, b, gamma, window, backend, device):
    """Validate, dispatch and run the backward pass of :func:`soft_dtw_alignment` or ``_grad``.

    ``call`` is ``"alignment"`` (the expected alignment) or ``"grad"`` (the
    gradient with respect to ``a``).
    """
    from ..kernels._numba import _soft_dtw

    a, b, window = _prepare(a, b, window)
    bounds = window_arrays(window, len(a), len(b))
    backend, device = _backend(backend, device, a, b, f"soft_dtw_{call}")
    gamma = float(gamma)
    if backend == "torch":
        check_soft_memory(call, "torch", _n_cells(bounds), len(a), len(b))
        return _torch_backward(call, a, b, gamma, window, device)
    value, weights, ranges = soft_value_and_weights(a, b, gamma, *bounds, call=call)
    if call == "alignment":
        return value, _soft_dtw.soft_dtw_expected_alignment(a, b, weights, ranges)
    return value, _soft_dtw.soft_dtw_grad_x(a, b, weights, ranges)


@validate_params(_GAMMA)
def soft_dtw(
    a: ArrayLike,
    b: ArrayLike,
    *,
    gamma: float = 1.0,
    window: WindowLike = None,
    backend: str = "numba",
    device: str | None = None,
) -> float:
    """Soft-DTW value between two sequences (Cuturi & Blondel, 2017).

    Parameters
    ----------
    {a}
    {b}
    {gamma}
    {window}
    {backend}

    Returns
    -------
    value : float
        ``R[n-1, m-1]``; may be negative.

    Raises
    ------
    {invalid_input}
    WindowError
        If the window is malformed or admits no path.
    AlignkitMemoryError
        With ``backend="torch"``, if the cell indices would need more than
        ``max_memory`` bytes (24 bytes per cell of the window; the Numba
        backend needs O(n) memory).

    See Also
    --------
    soft_dtw_alignment : The value and the expected alignment matrix.
    soft_dtw_grad : The value and its gradient with respect to ``a``.
    soft_dtw_divergence : A non-negative variant that is zero only for ``a == b``.

    Notes
    -----
    {definition}
    The value is computed over anti-diagonals in O(n) memory.

    References
    ----------
    .. [1] M. Cuturi and M. Blondel, "Soft-DTW: a differentiable loss function
       for time-series", ICML 2017.

    Examples
    --------
    >>> from alignkit.distances import soft_dtw
    >>> round(soft_dtw([0.0, 1.0, 2.0], [0.0, 2.0], gamma=1.0), 4)
    0.1227

    Two paths cost 1 (the middle frame matches 0 or 2), so for a small
    ``gamma`` the value is close to ``1 - gamma * log(2)``:

    >>> round(soft_dtw([0.0, 1.0, 2.0], [0.0, 2.0], gamma=1e-3), 4)
    0.9993

    The torch backend gives the same value (NumPy in, a float out):

    >>> round(soft_dtw([0.0, 1.0, 2.0], [0.0, 2.0], gamma=1.0, backend="torch"), 4)
    0.1227
    """
    a, b, parsed = _prepare(a, b, window)
    backend, device = _backend(backend, device, a, b, "soft_dtw")
    return soft_dtw_value(a, b, float(gamma), parsed, backend, device)


def soft_dtw_value(
    a: np.ndarray,
    b: np.ndarray,
    gamma: float,
    window: Window,
    backend: str = "numba",
    device: str | None = None,
) -> float:
    """The driver of :func:`soft_dtw`: validated inputs, a parsed window, a resolved backend."""
    from ..kernels._numba import _soft_dtw

    lo, hi, mask = window_arrays(window, len(a), len(b))
    if backend == "torch":
        check_soft_memory("value", "torch", int(np.sum(hi - lo)), len(a), len(b))
        return _torch_value(a, b, gamma, window, device)
    value = _soft_dtw.soft_dtw_value(a, b, lo, hi, mask, gamma)
    return _finite(value, a, b, mask)


@validate_params(_GAMMA)
def soft_dtw_alignment(
    a: ArrayLike,
    b: ArrayLike,
    *,
    gamma: float = 1.0,
    window: WindowLike = None,
    backend: str = "numba",
    device: str | None = None,
) -> tuple[float, np.ndarray]:
    """Soft-DTW value and expected alignment matrix.

    Parameters
    ----------
    {a}
    {b}
    {gamma}
    {window}
    {backend}

    Returns
    -------
    value : float
        The soft-DTW value, as :func:`soft_dtw`.
    alignment : ndarray of shape (n, m)
        ``E[i, j]``, the probability that ``a[i]`` is matched with ``b[j]``
        under the Gibbs distribution over paths ``p(path) ~ exp(-cost(path) /
        gamma)``: the gradient of the value with respect to the local cost
        matrix. ``E[0, 0] = E[n-1, m-1] = 1``, every entry is in ``[0, 1]``,
        every row and column sums to at least 1, and cells outside the window
        are 0. As ``gamma -> 0`` it tends to the indicator of the DTW path
        (when that path is unique).

    Raises
    ------
    {invalid_input}
    WindowError
        If the window is malformed or admits no path.
    AlignkitMemoryError
        If the whole call would need more than ``max_memory`` bytes: with
        Numba 24 bytes per cell of the window plus 8 per entry of the
        ``(n, m)`` matrix, with torch 64 and 16; checked before any allocation.

    Notes
    -----
    {definition}
    The backward pass is Algorithm 2 of [1]_, written with the soft-min
    weights stored by the forward pass.

    References
    ----------
    .. [1] M. Cuturi and M. Blondel, "Soft-DTW: a differentiable loss function
       for time-series", ICML 2017.

    Examples
    --------
    >>> from alignkit.distances import soft_dtw_alignment

    The middle frame of ``a`` matches either frame of ``b`` on the two best
    paths, each with probability one half:

    >>> value, alignment = soft_dtw_alignment([0.0, 1.0, 2.0], [0.0, 2.0], gamma=0.01)
    >>> alignment.round(3)
    array([[1. , 0. ],
           [0.5, 0.5],
           [0. , 1. ]])
    """
    return _value_and_backward("alignment", a, b, gamma, window, backend, device)


@validate_params(_GAMMA)
def soft_dtw_grad(
    a: ArrayLike,
    b: ArrayLike,
    *,
    gamma: float = 1.0,
    window: WindowLike = None,
    backend: str = "numba",
    device: str | None = None,
) -> tuple[float, np.ndarray]:
    """Soft-DTW value and its gradient with respect to the first sequence.

    Parameters
    ----------
    a : array-like of shape (n,) or (n, n_channels)
        The sequence to differentiate with respect to.
    {b}
    {gamma}
    {window}
    {backend}

    Returns
    -------
    value : float
        The soft-DTW value, as :func:`soft_dtw`.
    grad_a : ndarray of shape (n, n_channels)
        ``d value / d a``. By symmetry, ``soft_dtw_grad(b, a)`` gives the
        gradient with respect to ``b``.

    Raises
    ------
    {invalid_input}
    WindowError
        If the window is malformed or admits no path.
    AlignkitMemoryError
        If the whole call would need more than ``max_memory`` bytes (24 bytes
        per cell of the window with Numba, 40 with torch); checked before any
        allocation.

    Notes
    -----
    {definition}
    By the chain rule through the local cost,
    ``grad_a[i] = sum_j E[i, j] * 2 * (a[i] - b[j])`` with ``E`` the expected
    alignment of :func:`soft_dtw_alignment`; ``E`` itself is never stored.

    Examples
    --------
    >>> from alignkit.distances import soft_dtw_grad

    Moving ``a[1]`` from 3 towards 2 lowers the cost ``(a[1] - 2) ** 2``:

    >>> value, grad = soft_dtw_grad([0.0, 3.0], [0.0, 2.0], gamma=0.01)
    >>> round(value, 6), (grad.round(3) + 0.0).ravel().tolist()
    (1.0, [0.0, 2.0])
    """
    return _value_and_backward("grad", a, b, gamma, window, backend, device)


@validate_params(_GAMMA)
def soft_dtw_divergence(
    a: ArrayLike,
    b: ArrayLike,
    *,
    gamma: float = 1.0,
    window: WindowLike = None,
    backend: str = "numba",
    device: str | None = None,
) -> float:
    """Soft-DTW divergence: ``sdtw(a, b) - (sdtw(a, a) + sdtw(b, b)) / 2``.

    Parameters
    ----------
    {a}
    {b}
    {gamma}
    window : None, int, float or tuple, default=None
        Constraint on the paths of all three terms, as in :func:`alignkit.dtw`.
        A mask is refused: it fits one shape, and the three terms have three.
    {backend}

    Returns
    -------
    divergence : float
        Symmetric; zero when ``a`` and ``b`` are equal.

    Raises
    ------
    {invalid_input}
    WindowError
        If the window is malformed or a mask.
    AlignkitMemoryError
        With ``backend="torch"``, if the largest of the three terms would need
        more than ``max_memory`` bytes (24 bytes per cell of its window).

    Notes
    -----
    Blondel, Mensch and Vert [1]_ prove that with the squared Euclidean cost
    and no window the divergence is non-negative and zero if and only if
    ``a == b``, which :func:`soft_dtw` itself is not (``soft_dtw(a, a) < 0``).
    It tends to the squared DTW cost minus the two self terms (zero) as
    ``gamma -> 0``.

    References
    ----------
    .. [1] M. Blondel, A. Mensch and J.-P. Vert, "Differentiable divergences
       between time series", AISTATS 2021.

    Examples
    --------
    >>> from alignkit.distances import soft_dtw_divergence
    >>> soft_dtw_divergence([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    0.0
    >>> soft_dtw_divergence([0.0, 1.0, 2.0], [0.0, 2.0]) > 0
    True
    """
    a, b = check_pair(a, b)
    if isinstance(window, np.ndarray) and window.ndim == 2:
        raise WindowError(
            "soft_dtw_divergence window cannot be a mask (the three terms have different "
            "shapes); use a radius, a fraction or ('itakura', max_slope)"
        )
    parsed = check_window(window)
    backend, device = _backend(backend, device, a, b, "soft_dtw_divergence")
    if backend == "torch":  # the three terms run one after the other: the largest counts
        n_cells, n, m = max(
            (_n_cells(window_arrays(parsed, len(x), len(y))), len(x), len(y))
            for x, y in ((a, b), (a, a), (b, b))
        )
        check_soft_memory("value", "torch", n_cells, n, m)
    options = {"gamma": float(gamma), "window": parsed, "backend": backend, "device": device}
    cross = soft_dtw_value(a, b, **options)
    return cross - 0.5 * (soft_dtw_value(a, a, **options) + soft_dtw_value(b, b, **options))


_FRAGMENTS = {
    "{definition}": _DEFINITION,
    "{a}": _A,
    "{b}": _B,
    "{gamma}": _GAMMA_DOC,
    "{window}": _WINDOW,
    "{invalid_input}": _INVALID_INPUT,
    "{backend}": _BACKEND,
}
for _function in (soft_dtw, soft_dtw_alignment, soft_dtw_grad, soft_dtw_divergence):
    for _placeholder, _fragment in _FRAGMENTS.items():
        _function.__doc__ = _function.__doc__.replace(_placeholder, _fragment)
